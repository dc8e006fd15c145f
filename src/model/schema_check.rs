//! A draft-07 validator for exactly the keywords the generated schemas use.
//!
//! A general JSON Schema crate (with two regular-expression engines behind it) was the largest
//! block of the deployed binary, while the schemas `schemars` generates for our types use a
//! dozen keywords and our `pattern`s are plain checks anyway. Anything outside this subset is
//! refused by [`supported`], which the schema-walk test runs over every committed schema, so a
//! new keyword can never be ignored silently.
//!
//! Errors come out in the order the previous validator (the `jsonschema` crate) reported them,
//! which the differential test in `schema_check_tests` holds it to: within one schema `type`,
//! `minLength`, `maxLength`, `maxItems`, `required`, `properties` with `additionalProperties`
//! (the instance's members in key order, the unknown ones last; a closed object's only
//! `required` name after them), `items`, `allOf`, `pattern`; a `$ref` replaces its siblings,
//! as draft 7 says.

use serde_json::{Map, Value};

use super::rules::plain_check;

/// Keywords [`check`] evaluates.
const VALIDATION_KEYWORDS: [&str; 12] = [
    "type",
    "properties",
    "required",
    "additionalProperties",
    "pattern",
    "minLength",
    "maxLength",
    "allOf",
    "$ref",
    "items",
    "maxItems",
    "definitions",
];

/// Keywords that say nothing about validity: annotations, and the registry's own keys, whose
/// values are not schemas (their contents are not walked).
const ANNOTATIONS: [&str; 14] = [
    "description",
    "title",
    "insertionOrder",
    "typeName",
    "createOnlyProperties",
    "readOnlyProperties",
    "writeOnlyProperties",
    "deprecatedProperties",
    "primaryIdentifier",
    "tagging",
    "handlers",
    "$schema",
    "$comment",
    "default",
];

/// The registry's `typeConfiguration` holds a schema of its own; it is walked like one.
const NESTED_SCHEMA_KEYS: [&str; 1] = ["typeConfiguration"];

/// One step of an instance path: a member name or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Property(String),
    Index(usize),
}

/// Which rule failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    Required(String),
    /// The unknown member names, in key order.
    AdditionalProperties(Vec<String>),
    /// The schema's `type` value (a name or a list of names).
    Type(Value),
    MinLength(u64),
    MaxLength(u64),
    MaxItems(u64),
    Pattern(String),
}

/// One failed rule: where in the instance, the value there, and the schema object whose
/// keyword failed (its siblings give the bounds and known names for the wording).
#[derive(Debug, Clone)]
pub(crate) struct SchemaError<'s, 'i> {
    pub instance_path: Vec<Segment>,
    pub instance: &'i Value,
    pub schema: &'s Map<String, Value>,
    pub failure: Failure,
}

/// `Ok` if `schema` (with `root` for its `$ref`s) uses only keywords this module evaluates or
/// knows to be annotations, every `$ref` resolves locally and every `pattern` has a plain check.
pub(crate) fn supported(schema: &Value, root: &Value) -> Result<(), String> {
    supported_at(schema, root, "#", 0)
}

fn supported_at(schema: &Value, root: &Value, at: &str, depth: usize) -> Result<(), String> {
    const DEEPEST: usize = 32;
    if depth > DEEPEST {
        return Err(format!("{at}: nested deeper than {DEEPEST}"));
    }
    let Some(map) = schema.as_object() else {
        return Err(format!("{at}: a schema must be an object"));
    };
    for (keyword, value) in map {
        let here = format!("{at}/{keyword}");
        let nested =
            |v: &Value, name: &str| supported_at(v, root, &format!("{here}/{name}"), depth + 1);
        match keyword.as_str() {
            "properties" | "definitions" => {
                let members = value
                    .as_object()
                    .ok_or_else(|| format!("{here}: must be an object"))?;
                for (name, sub) in members {
                    nested(sub, name)?;
                }
            }
            "allOf" => {
                let list = value
                    .as_array()
                    .ok_or_else(|| format!("{here}: must be a list"))?;
                for (i, sub) in list.iter().enumerate() {
                    nested(sub, &i.to_string())?;
                }
            }
            "items" => nested(value, "")?,
            "$ref" => {
                let target = value
                    .as_str()
                    .and_then(|r| r.strip_prefix('#'))
                    .and_then(|pointer| root.pointer(pointer));
                if target.is_none() {
                    return Err(format!("{here}: {value} is not a local reference"));
                }
            }
            "pattern" => {
                if value.as_str().and_then(plain_check).is_none() {
                    return Err(format!(
                        "{here}: pattern {value} has no plain check in model::rules"
                    ));
                }
            }
            "additionalProperties" if !value.is_boolean() => {
                return Err(format!("{here}: only true or false is supported"));
            }
            "minLength" | "maxLength" | "maxItems" if value.as_u64().is_none() => {
                return Err(format!("{here}: must be a non-negative integer"));
            }
            "required"
                if !value
                    .as_array()
                    .is_some_and(|l| l.iter().all(Value::is_string)) =>
            {
                return Err(format!("{here}: must be a list of names"));
            }
            "type" if !type_names(value).all(type_name_known) => {
                return Err(format!("{here}: unknown type {value}"));
            }
            k if NESTED_SCHEMA_KEYS.contains(&k) => nested(value, "")?,
            k if VALIDATION_KEYWORDS.contains(&k) || ANNOTATIONS.contains(&k) => {}
            other => {
                return Err(format!(
                    "{at}: keyword {other:?} is neither validated by model::schema_check nor \
                     listed as an annotation"
                ))
            }
        }
    }
    Ok(())
}

/// Every rule `instance` breaks, in the order described in the module documentation.
/// `root` resolves `$ref`s; it must have passed [`supported`].
pub(crate) fn check<'s, 'i>(
    schema: &'s Value,
    root: &'s Value,
    instance: &'i Value,
) -> Vec<SchemaError<'s, 'i>> {
    let mut errors = Vec::new();
    let mut path = Vec::new();
    check_at(schema, root, instance, &mut path, &mut errors, 0);
    errors
}

/// Whether `instance` breaks no rule of `schema` (a fragment without `$ref`s, or its own root).
pub(crate) fn is_valid(schema: &Value, instance: &Value) -> bool {
    check(schema, schema, instance).is_empty()
}

fn check_at<'s, 'i>(
    schema: &'s Value,
    root: &'s Value,
    instance: &'i Value,
    path: &mut Vec<Segment>,
    out: &mut Vec<SchemaError<'s, 'i>>,
    depth: usize,
) {
    // Only a `$ref` cycle could go this deep; [`supported`] bounds the schema's own nesting.
    const DEEPEST: usize = 64;
    let Some(map) = schema.as_object() else {
        return;
    };
    if depth > DEEPEST {
        return;
    }
    if let Some(reference) = map.get("$ref") {
        let target = reference
            .as_str()
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer));
        if let Some(target) = target {
            check_at(target, root, instance, path, out, depth + 1);
        }
        return;
    }
    let mut fail = |path: &[Segment], failure: Failure| {
        out.push(SchemaError {
            instance_path: path.to_vec(),
            instance,
            schema: map,
            failure,
        });
    };
    if let Some(types) = map.get("type") {
        if !type_names(types).any(|t| has_type(instance, t)) {
            fail(path, Failure::Type(types.clone()));
        }
    }
    let bound = |k: &str| map.get(k).and_then(Value::as_u64);
    if let Some(text) = instance.as_str() {
        let chars = text.chars().count() as u64;
        if let Some(min) = bound("minLength").filter(|&min| chars < min) {
            fail(path, Failure::MinLength(min));
        }
        if let Some(max) = bound("maxLength").filter(|&max| chars > max) {
            fail(path, Failure::MaxLength(max));
        }
    }
    if let Some(items) = instance.as_array() {
        if let Some(max) = bound("maxItems").filter(|&max| items.len() as u64 > max) {
            fail(path, Failure::MaxItems(max));
        }
    }
    if let Some(object) = instance.as_object() {
        let declared = map.get("properties").and_then(Value::as_object);
        let closed = map.get("additionalProperties") == Some(&Value::Bool(false));
        let missing: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|name| !object.contains_key(*name))
            .collect();
        // `jsonschema` reports a closed object's only required name after its members.
        let required_last = closed && declared.is_some() && required_len(map) == 1;
        if !required_last {
            for name in &missing {
                fail(path, Failure::Required(name.to_string()));
            }
        }
        let mut unknown = Vec::new();
        for (name, value) in object {
            match declared.and_then(|d| d.get(name)) {
                Some(sub) => {
                    path.push(Segment::Property(name.clone()));
                    check_at(sub, root, value, path, out, depth + 1);
                    path.pop();
                }
                None if closed => unknown.push(name.clone()),
                None => {}
            }
        }
        if !unknown.is_empty() {
            out.push(SchemaError {
                instance_path: path.clone(),
                instance,
                schema: map,
                failure: Failure::AdditionalProperties(unknown),
            });
        }
        if required_last {
            for name in missing {
                out.push(SchemaError {
                    instance_path: path.clone(),
                    instance,
                    schema: map,
                    failure: Failure::Required(name.to_string()),
                });
            }
        }
    }
    if let (Some(item_schema), Some(items)) = (map.get("items"), instance.as_array()) {
        for (i, item) in items.iter().enumerate() {
            path.push(Segment::Index(i));
            check_at(item_schema, root, item, path, out, depth + 1);
            path.pop();
        }
    }
    for sub in map
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check_at(sub, root, instance, path, out, depth + 1);
    }
    if let (Some(pattern), Some(text)) = (
        map.get("pattern").and_then(Value::as_str),
        instance.as_str(),
    ) {
        // A pattern without a plain check never gets here: [`supported`] refuses it.
        if plain_check(pattern).is_some_and(|check| !check.accepts(text)) {
            out.push(SchemaError {
                instance_path: path.clone(),
                instance,
                schema: map,
                failure: Failure::Pattern(pattern.to_string()),
            });
        }
    }
}

fn required_len(map: &Map<String, Value>) -> usize {
    map.get("required")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// The names in a `type` value: one name or a list of them.
pub(crate) fn type_names(types: &Value) -> impl Iterator<Item = &str> {
    let list: Vec<&str> = match types {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![""],
    };
    list.into_iter()
}

fn type_name_known(name: &str) -> bool {
    matches!(
        name,
        "null" | "boolean" | "object" | "array" | "number" | "integer" | "string"
    )
}

fn has_type(instance: &Value, name: &str) -> bool {
    match name {
        "null" => instance.is_null(),
        "boolean" => instance.is_boolean(),
        "object" => instance.is_object(),
        "array" => instance.is_array(),
        "number" => instance.is_number(),
        // Draft 7: a number with a zero fractional part is an integer.
        "integer" => {
            instance.is_i64()
                || instance.is_u64()
                || instance.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "string" => instance.is_string(),
        _ => false,
    }
}

#[cfg(test)]
#[path = "schema_check_tests.rs"]
mod tests;
