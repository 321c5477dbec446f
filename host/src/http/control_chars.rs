//! Control characters are refused at the edge. No field of the API has a use for them, and
//! some cannot be stored at all (not every database's text holds a NUL), so a request carrying
//! one in its path is answered 404, in its query or JSON body 422 naming the field, before any
//! handler sees it. Tabs and line breaks stay allowed: people write them in posts and appeals.

use crate::error::{ApiError, FieldError};
use axum::http::Uri;
use percent_encoding::percent_decode_str;
use serde_json::Value;

/// A character no text of the API may hold.
pub fn is_refused(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

fn holds_refused(text: &str) -> bool {
    text.chars().any(is_refused)
}

/// Why a request whose decoded path or query holds a control character is refused, if it does.
pub fn refused_in_uri(uri: &Uri) -> Option<ApiError> {
    if holds_refused(&percent_decode_str(uri.path()).decode_utf8_lossy()) {
        return Some(ApiError::NotFound { what: "resource" });
    }
    let query = uri.query()?;
    let fields: Vec<FieldError> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, value)| holds_refused(name) || holds_refused(value))
        .map(|(name, _)| FieldError { field: field_name(&name), message: MESSAGE.into() })
        .collect();
    (!fields.is_empty()).then_some(ApiError::Validation(fields))
}

const MESSAGE: &str = "must not contain control characters";

fn field_name(name: &str) -> String {
    if holds_refused(name) { "query".into() } else { name.to_owned() }
}

/// The field of a JSON body that holds a control character, if any (`body` for the body
/// itself, `items[2].name` for a nested one).
pub fn refused_in_json(body: &[u8]) -> Option<FieldError> {
    // Most bodies cannot hold one: in JSON text a control character is either escaped
    // (`\u0000`), or, from U+007F on, raw. Only those are parsed a second time.
    let suspicious =
        body.windows(2).any(|pair| pair == b"\\u") || body.iter().any(|&b| b == 0x7f || b == 0xc2);
    if !suspicious {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    let mut path = String::new();
    find_in(&value, &mut path).then(|| FieldError {
        field: if path.is_empty() { "body".into() } else { path },
        message: MESSAGE.into(),
    })
}

/// Depth-first; leaves `path` naming the first offending value.
fn find_in(value: &Value, path: &mut String) -> bool {
    match value {
        Value::String(text) => holds_refused(text),
        Value::Array(items) => items.iter().enumerate().any(|(index, item)| {
            let length = path.len();
            path.push_str(&format!("[{index}]"));
            let found = find_in(item, path);
            if !found {
                path.truncate(length);
            }
            found
        }),
        Value::Object(members) => members.iter().any(|(name, member)| {
            let length = path.len();
            if holds_refused(name) {
                return true;
            }
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(name);
            let found = find_in(member, path);
            if !found {
                path.truncate(length);
            }
            found
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(json: &str) -> Option<String> {
        refused_in_json(json.as_bytes()).map(|error| error.field)
    }

    #[test]
    fn names_the_field_holding_a_control_character() {
        assert_eq!(field(r#"{"email":"a\u0000@b.co"}"#).as_deref(), Some("email"));
        assert_eq!(field(r#"{"a":{"b":["ok","x\u001b"]}}"#).as_deref(), Some("a.b[1]"));
        assert_eq!(field("\"\u{85}\"").as_deref(), Some("body"));
        assert_eq!(field(r#"{"text":"line\nbreak\ttab \u000d","n":"\\u0000"}"#), None);
        assert_eq!(field(r#"{"name":"plain"}"#), None);
    }
}
