//! Posts and votes as the domain sees them, and the rules a new post must pass.

use crate::error::FieldError;
use crate::geo::Point;
use unicode_normalization::UnicodeNormalization;

pub const TITLE_MAX_CHARS: usize = 20;
pub const BODY_MAX_CHARS: usize = 150;

/// A vote on a post; stored as `1` (helpful) or `-1` (not helpful).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    Helpful,
    NotHelpful,
}

impl Vote {
    pub fn as_i64(self) -> i64 {
        match self {
            Self::Helpful => 1,
            Self::NotHelpful => -1,
        }
    }

    /// `None` for "no vote" (0) or anything else the column cannot hold.
    pub fn from_i64(value: i64) -> Option<Self> {
        match value {
            1 => Some(Self::Helpful),
            -1 => Some(Self::NotHelpful),
            _ => None,
        }
    }
}

/// How the helpful and not-helpful counters move when a user's vote goes from `before` to
/// `after` (either may be "no vote").
pub fn count_deltas(before: Option<Vote>, after: Option<Vote>) -> (i64, i64) {
    let helpful = |vote: Option<Vote>| i64::from(vote == Some(Vote::Helpful));
    let not_helpful = |vote: Option<Vote>| i64::from(vote == Some(Vote::NotHelpful));
    (helpful(after) - helpful(before), not_helpful(after) - not_helpful(before))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub id: String,
    /// `None` once the author deleted their account: the post stays, anonymised.
    pub author_id: Option<String>,
    pub author_nickname: Option<String>,
    pub title: String,
    pub body: String,
    pub location: Point,
    pub helpful: i64,
    pub not_helpful: i64,
    /// The viewer's own vote.
    pub my_vote: Option<Vote>,
    pub created_at: i64,
}

/// A post that passed validation, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPost {
    pub author_id: String,
    pub title: String,
    pub body: String,
    pub location: Point,
}

impl NewPost {
    /// Applies every rule and reports every broken one at once. Texts are NFC-normalised and
    /// trimmed, then counted in characters (Korean text is three bytes a character).
    pub fn parse(
        author_id: &str,
        title: &str,
        body: &str,
        lat: f64,
        lon: f64,
        coarse_location: bool,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut complain = |field: &str, message: String| {
            errors.push(FieldError { field: field.into(), message });
        };
        let title = clean_text(title, 1, TITLE_MAX_CHARS, false).map_err(|m| complain("title", m)).ok();
        let body = clean_text(body, 1, BODY_MAX_CHARS, true).map_err(|m| complain("body", m)).ok();
        let location = Point::new(lat, lon).map_err(|(field, m)| complain(field, m.into())).ok();
        match (title, body, location) {
            (Some(title), Some(body), Some(location)) if errors.is_empty() => Ok(Self {
                author_id: author_id.to_owned(),
                title,
                body,
                location: if coarse_location { location.coarse() } else { location },
            }),
            _ => Err(errors),
        }
    }
}

/// NFC, trimmed, `min..=max` characters, no control characters (line breaks allowed in
/// multi-line text).
fn clean_text(raw: &str, min: usize, max: usize, multiline: bool) -> Result<String, String> {
    let text: String = raw.trim().nfc().collect();
    let length = text.chars().count();
    if !(min..=max).contains(&length) {
        return Err(format!("must be {min} to {max} characters (found {length})"));
    }
    let allowed = |c: char| multiline && (c == '\n' || c == '\r' || c == '\t');
    if let Some(bad) = text.chars().find(|&c| (c.is_control() && !allowed(c)) || is_bidi_control(c)) {
        return Err(format!("must not contain control characters (found {bad:?})"));
    }
    Ok(text)
}

/// Bidirectional overrides and isolates can disguise what a text says.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(title: &str, body: &str, lat: f64, lon: f64) -> Result<NewPost, Vec<String>> {
        NewPost::parse("u", title, body, lat, lon, false)
            .map_err(|errors| errors.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let title = "가".repeat(20);
        let body = "나".repeat(150);
        assert!(parse(&title, &body, 37.5, 127.0).is_ok());
        assert_eq!(parse(&"가".repeat(21), "b", 37.5, 127.0), Err(vec!["title".to_string()]));
        assert_eq!(parse("t", &"나".repeat(151), 37.5, 127.0), Err(vec!["body".to_string()]));
        assert_eq!(parse("   ", "", 37.5, 127.0), Err(vec!["title".to_string(), "body".to_string()]));
        // A decomposed syllable counts as one character after NFC.
        assert_eq!(parse("\u{1112}\u{1161}\u{11AB}", "b", 0.0, 0.0).expect("valid").title, "한");
    }

    #[test]
    fn every_broken_rule_is_reported() {
        assert_eq!(
            parse("", "b", f64::NAN, 200.0),
            Err(vec!["title".to_string(), "lat".to_string()]),
            "one coordinate complaint at a time"
        );
        assert_eq!(parse("t", "b", 0.0, 200.0), Err(vec!["lon".to_string()]));
        assert!(parse("evil\u{202e}x", "b", 0.0, 0.0).is_err());
        assert!(parse("t", "line one\nline two", 0.0, 0.0).is_ok());
        assert!(parse("t\nt", "b", 0.0, 0.0).is_err());
    }

    #[test]
    fn coarse_locations_are_rounded() {
        let post = NewPost::parse("u", "t", "b", 37.56654, 126.97801, true).expect("valid");
        assert_eq!(post.location, Point { lat: 37.57, lon: 126.98 });
    }

    #[test]
    fn deltas_follow_the_change() {
        use Vote::*;
        assert_eq!(count_deltas(None, Some(Helpful)), (1, 0));
        assert_eq!(count_deltas(Some(Helpful), Some(NotHelpful)), (-1, 1));
        assert_eq!(count_deltas(Some(NotHelpful), None), (0, -1));
        assert_eq!(count_deltas(Some(Helpful), Some(Helpful)), (0, 0));
        assert_eq!(count_deltas(None, None), (0, 0));
    }
}
