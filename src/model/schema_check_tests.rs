//! The safety nets of [`super::schema_check`]: every committed schema uses only keywords it
//! evaluates or knows to be annotations, and on generated property objects it reports exactly
//! what the `jsonschema` crate (a dev-dependency only) reports, rule by rule and in order.

use std::path::Path;

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::model::rules::{plain_check, PlainCheck};
use crate::model::schema::{registry_schema, schema_file_name};
use crate::model::schema_check::{check, supported, Failure, SchemaError, Segment};
use crate::model::spec::Flavour;
use crate::model::violation::describe;

const FLAVOURS: [Flavour; 2] = [Flavour::Ros, Flavour::Tf];

#[test]
fn every_committed_schema_uses_only_supported_keywords() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    let mut walked = 0;
    for entry in std::fs::read_dir(&dir).expect("schema/ is committed") {
        let path = entry.expect("readable schema/ entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable schema");
        let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
        if let Err(e) = supported(&schema, &schema) {
            panic!("{}: {e}", path.display());
        }
        walked += 1;
    }
    assert_eq!(walked, FLAVOURS.len(), "one committed schema per flavour");
    for flavour in FLAVOURS {
        let schema = registry_schema(flavour);
        assert!(dir.join(schema_file_name(flavour)).exists());
        supported(&schema, &schema).expect("the generated schema is supported");
    }
    // The fragment `tf::region_rule_accepts` checks the provider region against.
    let fragment = &registry_schema(Flavour::Tf)["properties"]["SourceRegionId"];
    supported(fragment, fragment).expect("the region fragment is supported");
}

#[test]
fn unknown_keywords_and_unresolvable_parts_are_refused() {
    let refused = [
        json!({ "properties": { "A": { "type": "string", "format": "uri" } } }),
        json!({ "properties": { "A": { "enum": ["x"] } } }),
        json!({ "properties": { "A": { "pattern": "^[a-f]+$" } } }),
        json!({ "properties": { "A": { "$ref": "#/definitions/Missing" } } }),
        json!({ "properties": { "A": { "$ref": "https://example.com/s.json" } } }),
        json!({ "additionalProperties": { "type": "string" } }),
        json!({ "type": "strin" }),
        json!({ "definitions": { "T": { "minimum": 1 } } }),
        json!({ "allOf": [{ "oneOf": [] }] }),
        json!({ "typeConfiguration": { "properties": { "A": { "const": 1 } } } }),
    ];
    for schema in refused {
        assert!(supported(&schema, &schema).is_err(), "accepted {schema}");
    }
}

/// What `model::schema::compile` built before this module existed.
fn reference_validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .with_keyword("pattern", |_, value, _| {
            let pattern = value.as_str().unwrap_or_default();
            match plain_check(pattern) {
                Some(check) => Ok(Box::new(PatternKeyword {
                    pattern: pattern.to_string(),
                    check,
                })),
                None => Err(jsonschema::ValidationError::schema(format!(
                    "pattern {value} has no plain check"
                ))),
            }
        })
        .build(schema)
        .expect("reference validator compiles")
}

struct PatternKeyword {
    pattern: String,
    check: PlainCheck,
}

impl<'i> jsonschema::Keyword<'i> for PatternKeyword {
    fn validate(&self, instance: &'i Value) -> Result<(), jsonschema::ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(jsonschema::ValidationError::custom(self.pattern.clone()))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        instance.as_str().is_none_or(|s| self.check.accepts(s))
    }
}

/// A `jsonschema` error in this module's terms: the same path, rule and schema object.
fn translate<'s, 'i>(
    error: &jsonschema::ValidationError<'i>,
    schema: &'s Value,
    instance: &'i Value,
) -> SchemaError<'s, 'i> {
    use jsonschema::error::ValidationErrorKind as Kind;
    use jsonschema::paths::LocationSegment;
    let instance_path: Vec<Segment> = error
        .instance_path()
        .segments()
        .map(|s| match s {
            LocationSegment::Property(name) => Segment::Property(name.to_string()),
            LocationSegment::Index(i) => Segment::Index(i),
        })
        .collect();
    let pointer = error.schema_path().as_str();
    let parent = pointer.rsplit_once('/').map_or("", |(p, _)| p);
    let keyword_schema = schema
        .pointer(parent)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no schema object at {parent}"));
    let failure = match error.kind() {
        Kind::Required { property } => {
            Failure::Required(property.as_str().expect("a name").to_string())
        }
        Kind::AdditionalProperties { unexpected } => {
            Failure::AdditionalProperties(unexpected.clone())
        }
        Kind::Type { .. } => Failure::Type(keyword_schema["type"].clone()),
        Kind::MinLength { limit } => Failure::MinLength(*limit),
        Kind::MaxLength { limit } => Failure::MaxLength(*limit),
        Kind::MaxItems { limit } => Failure::MaxItems(*limit),
        Kind::Custom { keyword, message } if keyword == "pattern" => {
            Failure::Pattern(message.clone())
        }
        other => panic!("the generated schemas have no keyword for {other:?}"),
    };
    let at = instance_path.iter().fold(instance, |v, s| match s {
        Segment::Property(name) => &v[name.as_str()],
        Segment::Index(i) => &v[*i],
    });
    SchemaError {
        instance_path,
        instance: at,
        schema: keyword_schema,
        failure,
    }
}

fn assert_same_as_reference(schema: &Value, reference: &jsonschema::Validator, instance: &Value) {
    let ours = check(schema, schema, instance);
    let theirs: Vec<SchemaError<'_, '_>> = reference
        .iter_errors(instance)
        .map(|e| translate(&e, schema, instance))
        .collect();
    let key = |e: &SchemaError<'_, '_>| {
        (
            e.instance_path.clone(),
            e.failure.clone(),
            e.instance.clone(),
        )
    };
    assert_eq!(
        ours.iter().map(key).collect::<Vec<_>>(),
        theirs.iter().map(key).collect::<Vec<_>>(),
        "for {instance}"
    );
    for (a, b) in ours.iter().zip(&theirs) {
        assert!(
            a.schema == b.schema,
            "different schema objects for {instance}"
        );
        assert_eq!(describe(a), describe(b), "for {instance}");
    }
    assert_eq!(
        ours.is_empty(),
        reference.is_valid(instance),
        "for {instance}"
    );
}

/// Strings near every rule of the schemas: reserved prefixes, links, lengths about the bounds,
/// region and image ids, durations, Chinese characters.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(String::new()),
        Just("m-".to_string()),
        Just("abc12".to_string()),
        Just("cn-hangzhou".to_string()),
        Just("http://".to_string()),
        Just("https://".to_string()),
        Just("acs:".to_string()),
        Just("aliyun".to_string()),
        Just("中文".to_string()),
        Just("1h30m".to_string()),
        Just("10m".to_string()),
        Just(".:_- ".to_string()),
        Just("A".to_string()),
        "[a-zA-Z0-9.:_-]{0,6}",
        (0usize..300).prop_map(|n| "a".repeat(n)),
    ];
    // Exactly at, below and above every length bound of the schemas.
    let lengths = vec![0usize, 1, 2, 3, 63, 64, 65, 127, 128, 129, 255, 256, 257];
    let at_bound = (
        prop::sample::select(lengths),
        prop::sample::select(vec!["a", "中", "m-a"]),
    )
        .prop_map(|(n, unit)| unit.repeat(n).chars().take(n).collect::<String>());
    prop_oneof![
        3 => prop::collection::vec(piece, 0..4).prop_map(|pieces| pieces.concat()),
        1 => at_bound,
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => text().prop_map(Value::String),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i32>().prop_map(|n| json!(n)),
        1 => Just(Value::Null),
        1 => prop_oneof![Just("true"), Just("False"), Just("yes")].prop_map(|s| json!(s)),
    ]
}

const MEMBER_NAMES: [&str; 14] = [
    "Key",
    "Value",
    "MapKey",
    "MapValue",
    "Create",
    "Delete",
    "Colour",
    "key",
    "mapkey",
    "",
    "ImageName",
    "SourceRegionId",
    "Tag",
    "Tags",
];

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 40, 25, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..25).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(&MEMBER_NAMES[..]), inner, 0..4)
                .prop_map(|m| {
                    Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                }),
        ]
    })
}

/// Properties every rule of `flavour`'s schema accepts, for mutations to start from.
fn valid_base(flavour: Flavour) -> Value {
    match flavour {
        Flavour::Ros => json!({
            "ImageId": "m-abc12", "DestinationRegionId": "cn-shanghai",
            "SourceRegionId": "cn-hangzhou", "DestinationImageName": "copy1",
            "Tag": [{ "Key": "k", "Value": "v" }],
        }),
        Flavour::Tf => json!({
            "SourceImageId": "m-abc12", "SourceRegionId": "cn-hangzhou", "ImageName": "copy1",
            "Tags": [{ "MapKey": "k", "MapValue": "" }], "Timeouts": { "Create": "10m" },
        }),
    }
}

#[test]
fn the_mutation_bases_are_valid() {
    for flavour in FLAVOURS {
        let schema = registry_schema(flavour);
        let base = valid_base(flavour);
        assert_same_as_reference(&schema, &reference_validator(&schema), &base);
        assert!(check(&schema, &schema, &base).is_empty(), "{base}");
    }
}

/// A valid property object with a few members replaced by generated values or removed.
fn mutated(flavour: Flavour) -> impl Strategy<Value = Value> {
    let base = valid_base(flavour);
    let names: Vec<String> = base
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    let change = (prop::sample::select(names), prop::option::of(value()));
    prop::collection::vec(change, 0..3).prop_map(move |changes| {
        let mut props = base.clone();
        let map = props.as_object_mut().expect("an object");
        for (name, replacement) in changes {
            match replacement {
                Some(v) => map.insert(name, v),
                None => map.remove(&name),
            };
        }
        props
    })
}

/// A property object of `flavour`: some declared properties (any value), maybe unknown ones.
fn properties(flavour: Flavour) -> impl Strategy<Value = Value> {
    let schema = registry_schema(flavour);
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .expect("declared properties")
        .keys()
        .cloned()
        .collect();
    names.extend(["Colour", "imagename", "tags"].map(String::from));
    prop::collection::btree_map(prop::sample::select(names), value(), 0..10).prop_map(|m| {
        let map: Map<String, Value> = m.into_iter().collect();
        Value::Object(map)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn ros_verdicts_equal_jsonschema(instance in properties(Flavour::Ros)) {
        let schema = registry_schema(Flavour::Ros);
        assert_same_as_reference(&schema, &reference_validator(&schema), &instance);
    }

    #[test]
    fn tf_verdicts_equal_jsonschema(instance in properties(Flavour::Tf)) {
        let schema = registry_schema(Flavour::Tf);
        assert_same_as_reference(&schema, &reference_validator(&schema), &instance);
    }

    #[test]
    fn mutated_valid_properties_verdicts_equal_jsonschema(
        ros in mutated(Flavour::Ros),
        tf in mutated(Flavour::Tf),
    ) {
        for (flavour, instance) in [(Flavour::Ros, ros), (Flavour::Tf, tf)] {
            let schema = registry_schema(flavour);
            assert_same_as_reference(&schema, &reference_validator(&schema), &instance);
        }
    }

    #[test]
    fn region_fragment_verdicts_equal_jsonschema(instance in value()) {
        let fragment = registry_schema(Flavour::Tf)["properties"]["SourceRegionId"].clone();
        assert_same_as_reference(&fragment, &reference_validator(&fragment), &instance);
    }
}

#[test]
fn tags_near_every_rule_equal_jsonschema() {
    let long = "k".repeat(129);
    let tags: Vec<Value> = [
        json!({ "MapKey": "", "MapValue": "" }),
        json!({ "MapKey": "aliyunx", "MapValue": "acs:x" }),
        json!({ "MapKey": "a http://b", "MapValue": "c https://d" }),
        json!({ "MapKey": long, "MapValue": 3 }),
        json!({ "MapValue": "v", "Colour": "red" }),
        json!("not an object"),
    ]
    .into_iter()
    .collect();
    let schema = registry_schema(Flavour::Tf);
    let reference = reference_validator(&schema);
    let many: Vec<Value> = (0..21)
        .map(|i| json!({ "MapKey": format!("k{i}"), "MapValue": "" }))
        .collect();
    for instance in [
        json!({ "Tags": tags, "SourceImageId": "m-abc", "Timeouts": { "Create": "1x", "Colour": 1 } }),
        json!({ "Tags": many, "SourceRegionId": "cn-hangzhou", "ImageName": "1abc" }),
        json!({ "Tags": {}, "Timeouts": [], "Description": "h", "ImageName": "acs:x" }),
    ] {
        assert_same_as_reference(&schema, &reference, &instance);
        assert!(!check(&schema, &schema, &instance).is_empty());
    }
}
