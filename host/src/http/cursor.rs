//! Opaque keyset cursors. A cursor names the last item of a page by its sort key, so the next
//! page starts strictly after it whatever was inserted or deleted meanwhile.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longer cursors are refused before decoding (a real one is under 100 characters).
pub const MAX_CURSOR_CHARS: usize = 128;

#[derive(Debug, Clone, PartialEq)]
pub enum Cursor {
    /// Newest first: posts with a smaller id (ids are UUIDv7, ordered by creation time).
    Before { id: String },
    /// Nearest first: posts farther away, or as far and with a greater id.
    After { distance_m: f64, id: String },
    /// Newest first in a numbered sequence (a chat room's offsets): smaller numbers.
    BeforeOffset { offset: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not one this server issued")]
pub struct InvalidCursor;

impl Cursor {
    pub fn encode(&self) -> String {
        let text = match self {
            Self::Before { id } => format!("n:{id}"),
            // `{}` of an f64 prints the shortest text that parses back to the same value.
            Self::After { distance_m, id } => format!("d:{distance_m}:{id}"),
            Self::BeforeOffset { offset } => format!("o:{offset}"),
        };
        URL_SAFE_NO_PAD.encode(text)
    }

    pub fn decode(raw: &str) -> Result<Self, InvalidCursor> {
        if raw.len() > MAX_CURSOR_CHARS {
            return Err(InvalidCursor);
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| InvalidCursor)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| InvalidCursor)?;
        let cursor = if let Some(id) = text.strip_prefix("n:") {
            Self::Before { id: post_id(id)? }
        } else if let Some(offset) = text.strip_prefix("o:") {
            let offset: i64 = offset.parse().map_err(|_| InvalidCursor)?;
            if offset < 1 {
                return Err(InvalidCursor);
            }
            Self::BeforeOffset { offset }
        } else if let Some(rest) = text.strip_prefix("d:") {
            let (distance, id) = rest.split_once(':').ok_or(InvalidCursor)?;
            let distance_m: f64 = distance.parse().map_err(|_| InvalidCursor)?;
            if !distance_m.is_finite() || distance_m < 0.0 {
                return Err(InvalidCursor);
            }
            Self::After { distance_m, id: post_id(id)? }
        } else {
            return Err(InvalidCursor);
        };
        Ok(cursor)
    }
}

/// A post id in the canonical form the server issues.
pub fn post_id(text: &str) -> Result<String, InvalidCursor> {
    let id = uuid::Uuid::parse_str(text).map_err(|_| InvalidCursor)?;
    let canonical = id.hyphenated().to_string();
    if canonical == text { Ok(canonical) } else { Err(InvalidCursor) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let id = uuid::Uuid::now_v7().to_string();
        for cursor in [
            Cursor::Before { id: id.clone() },
            Cursor::After { distance_m: 1_234.567_890_123_4, id: id.clone() },
            Cursor::After { distance_m: 0.0, id },
        ] {
            assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        }
    }

    #[test]
    fn foreign_cursors_are_refused() {
        let id = uuid::Uuid::now_v7().to_string();
        for text in [
            "n:not-a-uuid".to_string(),
            format!("d:NaN:{id}"),
            format!("d:-1:{id}"),
            format!("x:{id}"),
            format!("n:{}", id.to_uppercase()),
        ] {
            assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode(text)), Err(InvalidCursor));
        }
        assert_eq!(Cursor::decode("%%%"), Err(InvalidCursor));
        assert_eq!(Cursor::decode(&"A".repeat(MAX_CURSOR_CHARS + 1)), Err(InvalidCursor));
    }
}
