//! No input makes validation panic; whatever it rejects names a property path.

use std::time::Duration;

use ecs_image_copy::model::{delete_spec, engine_limits, validate, Context, Flavour};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn ctx() -> Context {
    Context {
        stack_region_id: Some("cn-hangzhou".into()),
        configured_region_id: Some("cn-shanghai".into()),
        default_timeout: Duration::from_secs(600),
    }
}

const NAMES: &[&str] = &[
    "ImageId",
    "DestinationRegionId",
    "DestinationImageName",
    "DestinationDescription",
    "Encrypted",
    "KMSKeyId",
    "ResourceGroupId",
    "Tag",
    "SourceRegionId",
    "AllowCopyInSameRegion",
    "SourceImageId",
    "ImageName",
    "Name",
    "Description",
    "KmsKeyId",
    "Tags",
    "Force",
    "DeleteAutoSnapshot",
    "Timeouts",
    "Create",
    "Delete",
    "Key",
    "Value",
    "MapKey",
    "MapValue",
    "tfcfnid",
    "Id",
    "ServiceToken",
    "ServiceTimeout",
    "Timeout",
    "Parameters",
    "",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        "[a-z0-9:/.-]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("true"),
            Just("False"),
            Just("m-abcdef1"),
            Just("cn-hangzhou"),
            Just("10m")
        ]
        .prop_map(|s| Value::String(s.into())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(NAMES), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn never_panics_on_arbitrary_json(value in json_value()) {
        for flavour in [Flavour::Ros, Flavour::Tf] {
            if let Err(violations) = validate(flavour, &value, &ctx()) {
                prop_assert!(!violations.0.is_empty());
                for v in &violations.0 {
                    prop_assert!(!v.path.is_empty() && !v.rule.is_empty(), "{v:?}");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// What a Delete reads never panics either, and its one refusal is about the region.
    #[test]
    fn the_delete_reading_and_the_engine_limits_never_panic(value in json_value()) {
        for flavour in [Flavour::Ros, Flavour::Tf] {
            if let Err(v) = delete_spec(flavour, &value, &ctx()) {
                prop_assert!(v.path.contains("Region") || v.path.contains("REGION"), "{v:?}");
            }
        }
        if let Err(violations) = engine_limits(&value) {
            for v in &violations.0 {
                prop_assert!(v.path == "ServiceTimeout" || v.path == "Timeout", "{v:?}");
            }
        }
    }
}

#[test]
fn huge_and_unicode_strings_do_not_panic() {
    let huge = "亿".repeat(200_000);
    for value in [json!(huge), json!("\u{0}\u{10FFFF}"), json!("🙂🙂🙂")] {
        let props = json!({
            "SourceImageId": value, "SourceRegionId": value, "ImageName": value,
            "Description": value, "Tags": [{"MapKey": value, "MapValue": value}],
            "Timeouts": {"Create": value}
        });
        let err = validate(Flavour::Tf, &props, &ctx()).unwrap_err();
        assert!(err.0.len() >= 4, "{err}");
        // Offending values are echoed only in short form.
        assert!(err.to_string().len() < 4_000);
    }
}
