//! Registry resource schemas generated from the property types. The same documents are
//! written to `schema/` for linters and checked at run time by [`super::schema_check`].
//!
//! Regenerate the committed files with `cargo run -- schema` (once the CLI is wired) or,
//! before that, `UPDATE_SCHEMA=1 cargo test --test model_schema`.

use std::path::{Path, PathBuf};

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use super::ros::RosProperties;
use super::spec::Flavour;
use super::tf::{self, TfProperties};

/// Where each flavour's schema lives under `schema/`.
pub fn schema_file_name(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Ros => "aliyun-ecs-copyimage.json",
        Flavour::Tf => "tf-alicloud-imagecopy.json",
    }
}

/// The CloudFormation registry resource schema of a flavour.
pub fn registry_schema(flavour: Flavour) -> Value {
    match flavour {
        Flavour::Ros => registry_document::<RosProperties>(traits(flavour)),
        Flavour::Tf => registry_document::<TfProperties>(traits(flavour)),
    }
}

/// The properties a template may not set: the attributes that are not also inputs.
pub(crate) fn output_only_properties(flavour: Flavour) -> &'static [&'static str] {
    match traits(flavour).attributes {
        Attributes::OutputOnly(names) => names,
        Attributes::NamedAfterInputs(_) => &[],
    }
}

fn traits(flavour: Flavour) -> RegistryTraits {
    match flavour {
        Flavour::Ros => RegistryTraits {
            type_name: Flavour::ROS_TYPE,
            // ROS names its attributes after input properties (ImageId is the source image
            // as input, the copy as `Fn::GetAtt`): declared read-only so linters accept the
            // `Fn::GetAtt`s, yet still accepted as input (the meta-schema loader warns about
            // the overlap; this schema lints ROS-shaped templates, it is never registered).
            attributes: Attributes::NamedAfterInputs(&ROS_ATTRIBUTES),
            create_only: None,
            deprecated: &[],
            primary_identifier: "ImageId",
            provider: None,
        },
        Flavour::Tf => RegistryTraits {
            type_name: Flavour::TF_TYPE,
            attributes: Attributes::OutputOnly(tf::READ_ONLY_PROPERTIES),
            create_only: Some(tf::create_only()),
            deprecated: &["Name"],
            primary_identifier: tf::PRIMARY_IDENTIFIER,
            provider: Some(ProviderTraits {
                write_only: tf::WRITE_ONLY_PROPERTIES,
                type_configuration: type_configuration_schema::<tf::TypeConfiguration>,
            }),
        },
    }
}

/// `Fn::GetAtt` names of `ALIYUN::ECS::CopyImage` (the answer's `Data`, see `attributes`).
const ROS_ATTRIBUTES: [&str; 3] = ["ImageId", "SourceRegionId", "DestinationRegionId"];

/// The longest a registry operation may take (the meta-schema's maximum, 36 hours): a copy
/// of a large image across continents can take that long, and the handler's own
/// `Timeouts.Create` / `Timeouts.Delete` decide when to give up, so the engine's limit must
/// never be the shorter one.
pub const MUTATING_HANDLER_TIMEOUT_MINUTES: u32 = 2160;

/// READ and LIST answer at once (never IN_PROGRESS); the meta-schema's minimum.
pub const READING_HANDLER_TIMEOUT_MINUTES: u32 = 2;

/// Writes every flavour's schema into `dir` (pretty JSON, trailing newline) and returns the
/// paths written. This is what `ecs-image-copy schema [--out DIR]` runs.
pub fn write_schemas(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for flavour in [Flavour::Ros, Flavour::Tf] {
        let path = dir.join(schema_file_name(flavour));
        std::fs::write(&path, render(&registry_schema(flavour)))?;
        written.push(path);
    }
    Ok(written)
}

/// The exact bytes committed under `schema/`.
pub fn render(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

struct RegistryTraits {
    type_name: &'static str,
    attributes: Attributes,
    /// `None`: every property is create-only.
    create_only: Option<Vec<&'static str>>,
    deprecated: &'static [&'static str],
    primary_identifier: &'static str,
    /// What only a registered resource provider declares.
    provider: Option<ProviderTraits>,
}

enum Attributes {
    /// Set by the handler only.
    OutputOnly(&'static [&'static str]),
    /// The same names are also input properties.
    NamedAfterInputs(&'static [&'static str]),
}

struct ProviderTraits {
    write_only: &'static [&'static str],
    type_configuration: fn() -> Value,
}

fn registry_document<T: JsonSchema>(traits: RegistryTraits) -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut root = generator.into_root_schema_for::<T>().to_value();
    strip_nullability(&mut root);
    let description = take(&mut root, "description");
    let mut properties = take(&mut root, "properties");
    let required = take(&mut root, "required");
    let definitions = take(&mut root, "definitions");
    if let Some(props) = properties.as_object_mut() {
        for prop in props.values_mut() {
            mark_unordered_arrays(prop);
        }
    }
    let create_only: Vec<&str> = match traits.create_only {
        Some(names) => names,
        None => properties
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default(),
    };
    let read_only = match traits.attributes {
        Attributes::OutputOnly(names) | Attributes::NamedAfterInputs(names) => names,
    };
    let mut doc = Map::new();
    doc.insert("typeName".into(), json!(traits.type_name));
    doc.insert("description".into(), description);
    if definitions.as_object().is_some_and(|d| !d.is_empty()) {
        doc.insert("definitions".into(), definitions);
    }
    doc.insert("properties".into(), properties.clone());
    doc.insert("additionalProperties".into(), json!(false));
    doc.insert("required".into(), required);
    if !read_only.is_empty() {
        doc.insert("readOnlyProperties".into(), pointers(read_only));
    }
    doc.insert("createOnlyProperties".into(), pointers(&create_only));
    if !traits.deprecated.is_empty() {
        doc.insert("deprecatedProperties".into(), pointers(traits.deprecated));
    }
    // Stack-level tags are not propagated to the copy; only the Tag/Tags property applies.
    doc.insert("tagging".into(), json!({ "taggable": false }));
    doc.insert(
        "primaryIdentifier".into(),
        pointers(&[traits.primary_identifier]),
    );
    if let Some(provider) = traits.provider {
        if !provider.write_only.is_empty() {
            doc.insert("writeOnlyProperties".into(), pointers(provider.write_only));
        }
        doc.insert("handlers".into(), handlers());
        doc.insert("typeConfiguration".into(), (provider.type_configuration)());
    }
    Value::Object(doc)
}

fn take(root: &mut Value, key: &str) -> Value {
    root.as_object_mut()
        .and_then(|o| o.remove(key))
        .unwrap_or(Value::Null)
}

fn pointers(names: &[&str]) -> Value {
    names
        .iter()
        .map(|n| Value::String(format!("/properties/{n}")))
        .collect()
}

/// Every handler calls only Alibaba Cloud (with the type configuration's credentials) and
/// CloudWatch Logs (with `providerCredentials`, the logging role's): no permission in the
/// user's AWS account is needed, so the lists are empty.
fn handlers() -> Value {
    let mutating =
        json!({ "permissions": [], "timeoutInMinutes": MUTATING_HANDLER_TIMEOUT_MINUTES });
    let reading = json!({ "permissions": [], "timeoutInMinutes": READING_HANDLER_TIMEOUT_MINUTES });
    json!({
        "create": mutating,
        "read": reading,
        "update": mutating,
        "delete": mutating,
        "list": reading,
    })
}

/// The `typeConfiguration` block: a flat object of the configuration type's properties.
fn type_configuration_schema<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut root = generator.into_root_schema_for::<T>().to_value();
    strip_nullability(&mut root);
    let mut block = Map::new();
    for key in ["description", "properties", "required"] {
        block.insert(key.into(), take(&mut root, key));
    }
    block.insert("additionalProperties".into(), json!(false));
    Value::Object(block)
}

/// Optional fields come out as `["string", "null"]` or `anyOf [.., null]`; stack engines never
/// send null for a property, and registry schemas do not declare it.
fn strip_nullability(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(options)) = map.get("anyOf") {
                let non_null: Vec<Value> = options
                    .iter()
                    .filter(|o| o.get("type").is_none_or(|t| t != "null"))
                    .cloned()
                    .collect();
                if non_null.len() == 1 {
                    map.remove("anyOf");
                    if let Value::Object(inner) = &non_null[0] {
                        for (k, v) in inner {
                            map.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            if map.get("default") == Some(&Value::Null) {
                map.remove("default");
            }
            for child in map.values_mut() {
                strip_nullability(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nullability),
        _ => {}
    }
}

/// Tag order carries no meaning, so a reordering must not look like a change.
fn mark_unordered_arrays(prop: &mut Value) {
    if let Some(map) = prop.as_object_mut() {
        if map.get("type").is_some_and(|t| t == "array") {
            map.insert("insertionOrder".into(), json!(false));
        }
    }
}

/// The property names of a registry document whose schema type is boolean.
pub(crate) fn boolean_properties(schema: &Value) -> Vec<String> {
    schema["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .filter(|(_, s)| s.get("type").is_some_and(|t| t == "boolean"))
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default()
}
