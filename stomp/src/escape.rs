//! STOMP 1.2 header escapes.
//!
//! A header line is `name:value` ended by a line feed, so a name or value containing a carriage
//! return, line feed or colon must escape it; the backslash that introduces escapes escapes
//! itself. The same rules apply to names and values, in every frame except CONNECT and
//! CONNECTED.

use std::borrow::Cow;

use crate::DecodeError;

/// Escapes a header name or value: `\` → `\\`, CR → `\r`, LF → `\n`, `:` → `\c`.
///
/// Borrows when there is nothing to escape, which is the common case.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_with(s, |c| matches!(c, '\\' | '\r' | '\n' | ':'))
}

/// Reverses [`escape`]. Any other backslash sequence, or a backslash ending the text, is
/// [`DecodeError::BadEscape`]: the specification makes undefined escapes a protocol error.
pub fn unescape(s: &str) -> Result<Cow<'_, str>, DecodeError> {
    if !s.contains('\\') {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('\\') => '\\',
            Some('r') => '\r',
            Some('n') => '\n',
            Some('c') => ':',
            _ => return Err(DecodeError::BadEscape),
        });
    }
    Ok(Cow::Owned(out))
}

/// Writes a header name or value of a CONNECT or CONNECTED frame, which the peer reads
/// literally. Line endings (and a colon in a name) cannot be represented there at all; they are
/// escaped anyway so that the frame stays well formed (the peer reads `\n` as two characters)
/// rather than letting a value inject header lines. Backslashes are written as they are.
pub(crate) fn escape_literal(s: &str, is_name: bool) -> Cow<'_, str> {
    escape_with(s, |c| matches!(c, '\r' | '\n') || (is_name && c == ':'))
}

fn escape_with(s: &str, needs_escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs_escape(c) {
            out.push(c);
            continue;
        }
        out.push_str(match c {
            '\\' => "\\\\",
            '\r' => "\\r",
            '\n' => "\\n",
            ':' => "\\c",
            _ => unreachable!("only the four escapable characters are selected"),
        });
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_four_special_characters() {
        assert_eq!(escape("a\\b\rc\nd:e"), "a\\\\b\\rc\\nd\\ce");
        assert!(matches!(escape("plain /topic/chat é"), Cow::Borrowed(_)));
    }

    #[test]
    fn unescapes_the_four_sequences() {
        assert_eq!(unescape("a\\\\b\\rc\\nd\\ce").ok().as_deref(), Some("a\\b\rc\nd:e"));
        assert_eq!(unescape("\\\\n").ok().as_deref(), Some("\\n"));
        assert!(matches!(unescape("no escapes"), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn refuses_undefined_and_truncated_escapes() {
        for bad in ["\\t", "tab\\t", "\\", "end\\", "\\C", "\\\\\\", "\\é"] {
            assert_eq!(unescape(bad), Err(DecodeError::BadEscape), "{bad:?}");
        }
    }

    #[test]
    fn round_trips() {
        for s in ["", ":", "\\", "\\c", "a:b\nc\rd\\e", "日本:語\n", "\\\\::\r\n"] {
            assert_eq!(unescape(&escape(s)).ok().as_deref(), Some(s));
        }
    }

    #[test]
    fn literal_mode_keeps_colons_in_values_and_backslashes() {
        assert_eq!(escape_literal("Bearer a:b\\c", false), "Bearer a:b\\c");
        assert_eq!(escape_literal("a:b\nc", true), "a\\cb\\nc");
    }
}
