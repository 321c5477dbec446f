//! The JSON Schema subset a policy may ask answers in, and validation of answers against it.
//!
//! Models are asked for structured output, but their answers are untrusted input all the same:
//! every answer is checked here before a component sees it. The subset is what strict
//! structured output supports in practice: `type`, `properties`, `required`,
//! `additionalProperties: false`, `enum`, `minimum`/`maximum`, `minLength`/`maxLength`,
//! `items`, `minItems`/`maxItems`, `description`/`title`. A schema using anything else is refused
//! rather than half-checked.

use serde_json::Value;

const KNOWN_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "items",
    "minItems",
    "maxItems",
    "description",
    "title",
];
const MAX_DEPTH: usize = 8;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SchemaError {
    #[error("the schema is not JSON: {0}")]
    NotJson(String),
    #[error("the schema uses `{0}`, which is not supported")]
    Unsupported(String),
    #[error("the schema nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// A parsed schema known to use only the supported subset.
#[derive(Debug, Clone)]
pub struct AnswerSchema(Value);

impl AnswerSchema {
    pub fn parse(text: &str) -> Result<Self, SchemaError> {
        let value: Value = serde_json::from_str(text).map_err(|err| SchemaError::NotJson(err.to_string()))?;
        check_supported(&value, 0)?;
        Ok(Self(value))
    }

    pub fn as_json(&self) -> &Value {
        &self.0
    }

    /// Parses `answer` and checks it; the reason names the first mismatch.
    pub fn validate(&self, answer: &str) -> Result<Value, String> {
        let value: Value = serde_json::from_str(answer).map_err(|err| format!("not JSON: {err}"))?;
        check(&self.0, &value, "$")?;
        Ok(value)
    }
}

fn check_supported(schema: &Value, depth: usize) -> Result<(), SchemaError> {
    if depth > MAX_DEPTH {
        return Err(SchemaError::TooDeep);
    }
    let Value::Object(map) = schema else {
        return Err(SchemaError::Unsupported("a non-object schema".into()));
    };
    for (key, value) in map {
        if !KNOWN_KEYWORDS.contains(&key.as_str()) {
            return Err(SchemaError::Unsupported(key.clone()));
        }
        match key.as_str() {
            "properties" => {
                let Value::Object(properties) = value else {
                    return Err(SchemaError::Unsupported("non-object properties".into()));
                };
                for property in properties.values() {
                    check_supported(property, depth + 1)?;
                }
            }
            "items" => check_supported(value, depth + 1)?,
            "additionalProperties" if value != &Value::Bool(false) => {
                return Err(SchemaError::Unsupported("additionalProperties other than false".into()));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check(schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    if let Some(expected) = schema.get("type").and_then(Value::as_str) {
        let matches = match expected {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
            "number" => value.is_number(),
            _ => false,
        };
        if !matches {
            return Err(format!("{path}: expected {expected}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!("{path}: not one of the allowed values"));
    }
    if let Some(n) = value.as_f64() {
        if schema.get("minimum").and_then(Value::as_f64).is_some_and(|min| n < min) {
            return Err(format!("{path}: below the minimum"));
        }
        if schema.get("maximum").and_then(Value::as_f64).is_some_and(|max| n > max) {
            return Err(format!("{path}: above the maximum"));
        }
    }
    if let Some(text) = value.as_str() {
        let chars = text.chars().count() as u64;
        if schema.get("minLength").and_then(Value::as_u64).is_some_and(|min| chars < min) {
            return Err(format!("{path}: too short"));
        }
        if schema.get("maxLength").and_then(Value::as_u64).is_some_and(|max| chars > max) {
            return Err(format!("{path}: too long"));
        }
    }
    if let Some(items) = value.as_array() {
        let count = items.len() as u64;
        if schema.get("minItems").and_then(Value::as_u64).is_some_and(|min| count < min) {
            return Err(format!("{path}: too few items"));
        }
        if schema.get("maxItems").and_then(Value::as_u64).is_some_and(|max| count > max) {
            return Err(format!("{path}: too many items"));
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(item_schema, item, &format!("{path}[{i}]"))?;
            }
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if let Some(name) = required.as_str()
                && !object.contains_key(name)
            {
                return Err(format!("{path}: `{name}` is missing"));
            }
        }
        for (name, field) in object {
            match properties.and_then(|p| p.get(name)) {
                Some(field_schema) => check(field_schema, field, &format!("{path}.{name}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{path}: unexpected `{name}`"));
                }
                None => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{"type":"object","additionalProperties":false,
        "required":["matches","confidence"],
        "properties":{"matches":{"type":"boolean"},"confidence":{"type":"number","minimum":0,"maximum":1},
                      "reason":{"type":"string","maxLength":5}}}"#;

    #[test]
    fn answers_are_checked_field_by_field() {
        let schema = AnswerSchema::parse(SCHEMA).expect("supported");
        assert!(schema.validate(r#"{"matches":true,"confidence":0.9}"#).is_ok());
        assert!(schema.validate(r#"{"matches":"yes","confidence":0.9}"#).is_err());
        assert!(schema.validate(r#"{"matches":true,"confidence":1.5}"#).is_err());
        assert!(schema.validate(r#"{"matches":true}"#).is_err());
        assert!(schema.validate(r#"{"matches":true,"confidence":0.9,"approve":true}"#).is_err());
        assert!(schema.validate(r#"{"matches":true,"confidence":0.9,"reason":"far too long"}"#).is_err());
        assert!(schema.validate("approve").is_err());
    }

    #[test]
    fn unsupported_keywords_are_refused() {
        assert!(matches!(AnswerSchema::parse(r##"{"$ref":"#/x"}"##), Err(SchemaError::Unsupported(_))));
        assert!(matches!(AnswerSchema::parse(r#"{"pattern":"a"}"#), Err(SchemaError::Unsupported(_))));
        assert!(matches!(AnswerSchema::parse("nope"), Err(SchemaError::NotJson(_))));
    }
}
