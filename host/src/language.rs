//! The languages the product writes in for its users, and how a request picks one.
//!
//! The product's users are in Korea: Korean is the default. A user reads English when they
//! chose it on their profile (`PATCH /me` `{"language": "en"}`), or, with no choice on the
//! profile, when their client's `Accept-Language` prefers English to Korean. The profile wins
//! because it is an explicit choice, while `Accept-Language` is often a device default that a
//! client sends on every request.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Korean.
    #[default]
    Ko,
    /// English.
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Ko, Language::En];

    /// The lowercase ISO 639-1 code, as stored and as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ko => "ko",
            Self::En => "en",
        }
    }

    /// A code as written by [`Language::as_str`]; `None` for any other text.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|language| language.as_str() == code)
    }

    /// The supported language an `Accept-Language` value prefers, if it names one: the highest
    /// quality wins, the earlier entry on a tie; `en-US` counts as `en`; `q=0` refuses.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(Self, f32)> = None;
        for entry in header.split(',') {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let primary = tag.split('-').next().unwrap_or_default().to_ascii_lowercase();
            let Some(language) = Self::parse(&primary) else { continue };
            let quality = parts
                .filter_map(|parameter| parameter.trim().strip_prefix("q="))
                .find_map(|value| value.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality > 0.0 && best.is_none_or(|(_, best_quality)| quality > best_quality) {
                best = Some((language, quality));
            }
        }
        best.map(|(language, _)| language)
    }

    /// The language `text` is written in, told by its script: Korean when it has Hangul.
    pub fn of_script(text: &str) -> Self {
        let hangul = text.chars().any(|c| matches!(c, '\u{ac00}'..='\u{d7a3}' | '\u{3131}'..='\u{318e}'));
        if hangul { Self::Ko } else { Self::En }
    }

    /// The language for one request: the profile's choice, else the client's
    /// `Accept-Language`, else Korean.
    pub fn for_request(profile: Option<Self>, accept_language: Option<&str>) -> Self {
        profile.or_else(|| accept_language.and_then(Self::from_accept_language)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(Language::from_accept_language("en-US,en;q=0.9"), Some(Language::En));
        assert_eq!(Language::from_accept_language("ko-KR,ko;q=0.9,en-US;q=0.8"), Some(Language::Ko));
        assert_eq!(Language::from_accept_language("fr-FR, en;q=0.5, ko;q=0.7"), Some(Language::Ko));
        assert_eq!(Language::from_accept_language("EN"), Some(Language::En));
        assert_eq!(Language::from_accept_language("en;q=0, ko;q=0.1"), Some(Language::Ko));
        assert_eq!(Language::from_accept_language("en;q=0"), None);
        assert_eq!(Language::from_accept_language("fr, de;q=0.9"), None);
        assert_eq!(Language::from_accept_language("*"), None);
        assert_eq!(Language::from_accept_language(""), None);
    }

    #[test]
    fn the_script_tells_korean_from_english() {
        assert_eq!(Language::of_script("텀블러를 사용하세요"), Language::Ko);
        assert_eq!(Language::of_script("KF94 마스크"), Language::Ko);
        assert_eq!(Language::of_script("Bring a tumbler"), Language::En);
    }

    #[test]
    fn the_profile_wins_then_the_header_then_korean() {
        assert_eq!(Language::for_request(Some(Language::Ko), Some("en")), Language::Ko);
        assert_eq!(Language::for_request(None, Some("en-GB")), Language::En);
        assert_eq!(Language::for_request(None, Some("fr")), Language::Ko);
        assert_eq!(Language::for_request(None, None), Language::Ko);
    }
}
