//! Nickname rules: 2–12 characters after Unicode NFC normalisation; unique after case folding,
//! so "Kim" and "KIM", or a composed and a decomposed "한글", are the same nickname.

use unicode_normalization::UnicodeNormalization;

pub const MIN_CHARS: usize = 2;
pub const MAX_CHARS: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nickname {
    /// As shown: NFC, surrounding whitespace removed.
    pub display: String,
    /// As compared: NFC of the case-folded display form; the unique column.
    pub key: String,
}

impl Nickname {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let display: String = raw.trim().nfc().collect();
        let length = display.chars().count();
        if !(MIN_CHARS..=MAX_CHARS).contains(&length) {
            return Err(format!("must be {MIN_CHARS} to {MAX_CHARS} characters"));
        }
        if let Some(bad) = display.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
            return Err(format!("must use letters, digits, '_', '-' or '.' only (found {bad:?})"));
        }
        Ok(Self { key: fold(&display), display })
    }
}

/// NFC, then full Unicode case folding, then NFC again (folding can denormalise).
pub fn fold(text: &str) -> String {
    let composed: String = text.nfc().collect();
    caseless::default_case_fold_str(&composed).nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_composition_do_not_make_a_new_nickname() {
        let composed = Nickname::parse("한글Kim").expect("valid");
        let decomposed =
            Nickname::parse("\u{1112}\u{1161}\u{11AB}\u{1100}\u{1173}\u{11AF}KIM").expect("valid");
        assert_eq!(composed.key, decomposed.key);
        assert_eq!(decomposed.display, "한글KIM");
        assert_eq!(
            Nickname::parse("Straße").expect("valid").key,
            Nickname::parse("STRASSE").expect("valid").key
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(Nickname::parse("가나다라마바사아자차카타").is_ok());
        assert!(Nickname::parse("가나다라마바사아자차카타파").is_err());
        assert!(Nickname::parse("가").is_err());
        assert!(Nickname::parse("a b").is_err());
        assert!(Nickname::parse("evil\u{202e}x").is_err());
    }
}
