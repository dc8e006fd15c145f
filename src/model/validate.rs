//! Raw properties → [`CopySpec`]: the steps every flavour shares. What a single property may
//! hold is decided by the generated schema alone; the flavour modules add the rules that
//! relate properties to each other or to the context.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Map, Value};

use super::engine::ENGINE_KEYS;
use super::schema::{boolean_properties, output_only_properties, registry_schema};
use super::schema_check::{check, supported};
use super::spec::{CopySpec, Flavour};
use super::violation::{describe, show_value, Violation, Violations};
use super::{ros, tf};

/// What the properties alone do not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The ROS event's `RegionId`: the stack's region.
    pub stack_region_id: Option<String>,
    /// `ALIBABA_CLOUD_REGION_ID`: the function's configured (provider) region.
    pub configured_region_id: Option<String>,
    /// The ROS flavour's create and delete timeout.
    pub default_timeout: Duration,
}

/// Validates a flavour's properties and normalizes them. Every violation is reported at once.
pub fn validate(
    flavour: Flavour,
    properties: &Value,
    ctx: &Context,
) -> Result<CopySpec, Violations> {
    let Some(given) = properties.as_object() else {
        return Err(Violations(vec![Violation::new(
            "Properties",
            format!("must be an object, got {}", show_value(properties)),
        )]));
    };
    let schema = cached_schema(flavour);
    let mut props = given.clone();
    // The engines add these to every custom resource; the handler reads the time limits
    // among them itself (`engine_limits`).
    for key in ENGINE_KEYS {
        props.remove(key);
    }
    let mut violations = Vec::new();
    coerce_booleans(schema, &mut props, &mut violations);
    for &name in output_only_properties(flavour) {
        if props.remove(name).is_some() {
            violations.push(Violation::new(
                name,
                "is an attribute (read-only) and cannot be set",
            ));
        }
    }
    let prepared = match flavour {
        Flavour::Ros => ros::prepare(&mut props, ctx, &mut violations),
        Flavour::Tf => tf::prepare(ctx, &mut violations),
    };
    let schema_violations = check_schema(flavour, schema, &props);
    let schema_failed = |path: &str| schema_violations.iter().any(|v| v.path == path);
    match flavour {
        Flavour::Ros => ros::check_relations(&props, &schema_failed, &mut violations),
        Flavour::Tf => tf::check_relations(&props, &prepared, &schema_failed, &mut violations),
    }
    let mut all: Vec<Violation> = schema_violations
        .iter()
        .map(|v| prepared.annotate(v))
        .collect();
    all.append(&mut violations);
    dedup_keep_order(&mut all);
    if !all.is_empty() {
        return Err(Violations(all));
    }
    let normalized = match flavour {
        Flavour::Ros => ros::normalize(props, ctx),
        Flavour::Tf => tf::normalize(props, &prepared),
    };
    // Unreachable when the schema and the types agree (tests pin that); never a panic if not.
    normalized.map_err(|e| Violations(vec![Violation::new("Properties", e.to_string())]))
}

/// Which flavour a `Custom::` resource's properties are written for.
pub fn detect_flavour(properties: &Value) -> Option<Flavour> {
    let has = |k: &str| properties.get(k).is_some();
    match (
        has("ImageId") && has("DestinationRegionId"),
        has("SourceImageId") && has("SourceRegionId"),
    ) {
        (true, false) => Some(Flavour::Ros),
        (false, true) => Some(Flavour::Tf),
        _ => None,
    }
}

/// What a flavour learned before schema validation that normalization and messages need.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    /// Where a defaulted `SourceRegionId` came from, for messages about it.
    pub source_region_default: Option<&'static str>,
    pub destination_region_id: Option<String>,
}

impl Prepared {
    fn annotate(&self, violation: &Violation) -> Violation {
        match self.source_region_default {
            Some(origin) if violation.path == "SourceRegionId" => Violation::new(
                violation.path.clone(),
                format!("{} (defaulted from {origin})", violation.rule),
            ),
            _ => violation.clone(),
        }
    }
}

pub(crate) fn cached_schema(flavour: Flavour) -> &'static Value {
    static ROS: OnceLock<Value> = OnceLock::new();
    static TF: OnceLock<Value> = OnceLock::new();
    let cell = match flavour {
        Flavour::Ros => &ROS,
        Flavour::Tf => &TF,
    };
    cell.get_or_init(|| registry_schema(flavour))
}

fn check_schema(flavour: Flavour, schema: &Value, props: &Map<String, Value>) -> Vec<Violation> {
    static ROS: OnceLock<Result<(), String>> = OnceLock::new();
    static TF: OnceLock<Result<(), String>> = OnceLock::new();
    let cell = match flavour {
        Flavour::Ros => &ROS,
        Flavour::Tf => &TF,
    };
    if let Err(e) = cell.get_or_init(|| supported(schema, schema)) {
        return vec![Violation::new(
            "Properties",
            format!("schema does not compile: {e}"),
        )];
    }
    let instance = Value::Object(props.clone());
    check(schema, schema, &instance)
        .iter()
        .flat_map(describe)
        .collect()
}

/// A boolean as stack engines send it, which is every scalar as a string: `"true"` or
/// `"False"`; these four spellings only.
pub(super) fn boolean_text(text: &str) -> Option<bool> {
    match text {
        "true" | "True" => Some(true),
        "false" | "False" => Some(false),
        _ => None,
    }
}

fn coerce_booleans(schema: &Value, props: &mut Map<String, Value>, out: &mut Vec<Violation>) {
    for name in boolean_properties(schema) {
        let Some(Value::String(text)) = props.get(&name) else {
            continue;
        };
        match boolean_text(text) {
            Some(value) => {
                props.insert(name, Value::Bool(value));
            }
            None => {
                let shown = show_value(&Value::String(text.clone()));
                // Removed so the schema does not report the same value a second time.
                props.remove(&name);
                out.push(Violation::new(
                    name,
                    format!("must be a boolean (true/false), got {shown}"),
                ));
            }
        }
    }
}

fn dedup_keep_order(list: &mut Vec<Violation>) {
    let mut seen = std::collections::HashSet::new();
    list.retain(|v| seen.insert(v.clone()));
}

/// A string property, if present and a string.
pub(crate) fn str_of<'a>(props: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    props.get(key).and_then(Value::as_str)
}

/// Keys that appear twice in a tag list, reported at the later occurrence.
pub(crate) fn duplicate_tag_keys(
    props: &Map<String, Value>,
    list: &str,
    key_field: &str,
    out: &mut Vec<Violation>,
) {
    let Some(items) = props.get(list).and_then(Value::as_array) else {
        return;
    };
    let mut first_seen: std::collections::HashMap<&str, usize> = Default::default();
    for (i, item) in items.iter().enumerate() {
        let Some(key) = item.get(key_field).and_then(Value::as_str) else {
            continue;
        };
        if let Some(first) = first_seen.get(key) {
            out.push(Violation::new(
                format!("{list}[{i}].{key_field}"),
                format!(
                    "duplicates {list}[{first}].{key_field} {}",
                    show_value(&Value::String(key.to_string()))
                ),
            ));
        } else {
            first_seen.insert(key, i);
        }
    }
}

/// A KMS key is only used when the copy is encrypted.
pub(crate) fn kms_requires_encryption(
    props: &Map<String, Value>,
    kms_field: &str,
    out: &mut Vec<Violation>,
) {
    let encrypted = props.get("Encrypted").and_then(Value::as_bool) == Some(true);
    if props.get(kms_field).is_some_and(Value::is_string) && !encrypted {
        out.push(Violation::new(kms_field, "requires Encrypted to be true"));
    }
}
