//! Field access on a raw JSON object with errors that name the field and the rule.

use serde_json::{Map, Value};

use super::event::EventError;

pub(super) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A required, non-empty string field.
pub(super) fn required_str<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
) -> Result<&'a str, EventError> {
    match obj.get(name) {
        None | Some(Value::Null) => Err(EventError::field(name, "is required")),
        Some(Value::String(s)) if s.is_empty() => Err(EventError::field(name, "must not be empty")),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(EventError::field(
            name,
            format!("must be a string, got {}", json_type(other)),
        )),
    }
}

/// An optional string field; present but not a string is still an error.
pub(super) fn optional_str<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, EventError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(EventError::field(
            name,
            format!("must be a string, got {}", json_type(other)),
        )),
    }
}

/// A string field read without judging it, for building an answer to a broken event.
pub(super) fn lenient_str(obj: &Map<String, Value>, name: &str) -> Option<String> {
    match obj.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// An object field (resource properties); absent means empty, anything else is an error.
pub(super) fn object_field(obj: &Map<String, Value>, name: &str) -> Result<Value, EventError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(other) => Err(EventError::field(
            name,
            format!("must be an object, got {}", json_type(other)),
        )),
    }
}
