//! Shared by the `model_validate_*` suites: a context, minimal valid properties of each
//! flavour, and a table runner for accepted and rejected values.
#![allow(dead_code)]

use std::time::Duration;

use ecs_image_copy::model::{validate, Context, Flavour, Violations};
use serde_json::{json, Value};

pub fn ctx() -> Context {
    Context {
        stack_region_id: Some("cn-hangzhou".into()),
        configured_region_id: Some("cn-shanghai".into()),
        default_timeout: Duration::from_secs(3600),
    }
}

pub fn ros_base() -> Value {
    json!({"ImageId": "m-bp1h46wfpjsjastc", "DestinationRegionId": "cn-beijing"})
}

pub fn tf_base() -> Value {
    json!({"SourceImageId": "m-bp1h46wfpjsjastc", "SourceRegionId": "cn-hangzhou"})
}

pub fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

pub fn messages(flavour: Flavour, props: &Value) -> Vec<String> {
    match validate(flavour, props, &ctx()) {
        Ok(_) => vec![],
        Err(Violations(v)) => v.iter().map(ToString::to_string).collect(),
    }
}

/// `(flavour, property, value, expected message fragment or None for accepted)`.
pub type Case = (Flavour, &'static str, Value, Option<&'static str>);

pub fn check_cases(cases: Vec<Case>) {
    for (flavour, key, value, expected) in cases {
        let base = match flavour {
            Flavour::Ros => ros_base(),
            Flavour::Tf => tf_base(),
        };
        let props = with(base, key, value.clone());
        let got = messages(flavour, &props);
        match expected {
            None => assert!(got.is_empty(), "{key}={value} should pass, got {got:?}"),
            Some(fragment) => assert!(
                got.iter().any(|m| m.contains(fragment)),
                "{key}={value}: expected {fragment:?} in {got:?}"
            ),
        }
    }
}
