//! Violations of the property rules, and the wording of JSON Schema errors as such.

use std::fmt;

use serde_json::Value;

use super::schema_check::{type_names, Failure, SchemaError, Segment};

use super::rules::{describe_pattern, forbidden_prefix, forbidden_text};

/// One broken rule: where (`Tags[3].MapKey`) and what (`must not start with "aliyun"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Violation {
    pub path: String,
    pub rule: String,
}

impl Violation {
    pub fn new(path: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.rule)
    }
}

/// Every rule the properties break, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violations(pub Vec<Violation>);

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

/// `/Tags/3/MapKey` → `Tags[3].MapKey`; the document root is `Properties`.
pub(crate) fn property_path(location: &[Segment]) -> String {
    let mut path = String::new();
    for segment in location {
        match segment {
            Segment::Property(name) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
            }
            Segment::Index(i) => {
                path.push_str(&format!("[{i}]"));
            }
        }
    }
    if path.is_empty() {
        path.push_str("Properties");
    }
    path
}

/// Joins a child property onto a path made by [`property_path`].
/// Names that are not plain identifiers are quoted so the path stays readable (`Properties[""]`),
/// and long ones are clipped so that the rule after them still fits in the answer.
pub fn child_path(parent: &str, name: &str) -> String {
    const LONGEST_PLAIN_NAME: usize = 64;
    let plain = !name.is_empty()
        && name.len() <= LONGEST_PLAIN_NAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        let quoted: String = show_value(&Value::String(name.to_string()));
        format!("{parent}[{quoted}]")
    } else if parent == "Properties" {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// A short, bounded rendering of an offending value for messages.
pub fn show_value(value: &Value) -> String {
    const LIMIT: usize = 40;
    let text = value.to_string();
    if text.chars().count() <= LIMIT {
        text
    } else {
        let head: String = text.chars().take(LIMIT).collect();
        format!("{head}…")
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn expected_type(types: &Value) -> String {
    let name = |t: &str| match t {
        "string" => "a string".to_string(),
        "boolean" => "a boolean (true/false)".to_string(),
        "array" => "a list".to_string(),
        "object" => "an object".to_string(),
        "integer" => "an integer".to_string(),
        "number" => "a number".to_string(),
        other => other.to_string(),
    };
    type_names(types).map(name).collect::<Vec<_>>().join(" or ")
}

/// The length bounds declared next to a failing `minLength`/`maxLength`.
fn length_rule(
    sibling_schema: Option<&serde_json::Map<String, Value>>,
    fallback: String,
) -> String {
    let bound = |k: &str| {
        sibling_schema
            .and_then(|s| s.get(k))
            .and_then(Value::as_u64)
    };
    match (bound("minLength"), bound("maxLength")) {
        (Some(min), Some(max)) => format!("must be {min} to {max} characters"),
        _ => fallback,
    }
}

/// Words one failed schema rule. One failure may name several properties.
pub(crate) fn describe(error: &SchemaError<'_, '_>) -> Vec<Violation> {
    let path = property_path(&error.instance_path);
    let instance = error.instance;
    let keyword_parent = Some(error.schema);
    let chars = instance.as_str().map(|s| s.chars().count());
    let rule = match &error.failure {
        Failure::Required(name) => {
            return vec![Violation::new(child_path(&path, name), "is required")];
        }
        Failure::AdditionalProperties(unexpected) => {
            let known: Vec<&str> = keyword_parent
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            return unexpected
                .iter()
                .map(|name| {
                    let hint = known
                        .iter()
                        .find(|k| k.eq_ignore_ascii_case(name))
                        .map(|k| format!("; did you mean {k}?"))
                        .unwrap_or_else(|| format!("; known: {}", known.join(", ")));
                    Violation::new(
                        child_path(&path, name),
                        format!("is not a known property{hint}"),
                    )
                })
                .collect();
        }
        Failure::Type(types) => format!(
            "must be {}, got {} {}",
            expected_type(types),
            json_kind(instance),
            show_value(instance)
        ),
        Failure::MinLength(limit) => {
            let fallback = if *limit == 1 {
                "must not be empty".to_string()
            } else {
                format!("must be at least {limit} characters")
            };
            let got = chars.unwrap_or_default();
            format!("{}, got {got}", length_rule(keyword_parent, fallback))
        }
        Failure::MaxLength(limit) => {
            let fallback = format!("must be at most {limit} characters");
            let got = chars.unwrap_or_default();
            format!("{}, got {got}", length_rule(keyword_parent, fallback))
        }
        Failure::MaxItems(limit) => {
            let got = instance.as_array().map_or(0, Vec::len);
            format!("must have at most {limit} items, got {got}")
        }
        Failure::Pattern(pattern) => {
            if let Some(prefix) = forbidden_prefix(pattern) {
                format!("must not start with \"{prefix}\"")
            } else if let Some(text) = forbidden_text(pattern) {
                format!("must not contain \"{text}\"")
            } else if let Some(words) = describe_pattern(pattern) {
                format!("{words}, got {}", show_value(instance))
            } else {
                format!("must match {pattern}, got {}", show_value(instance))
            }
        }
    };
    vec![Violation::new(path, rule)]
}
