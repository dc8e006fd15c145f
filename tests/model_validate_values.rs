//! The rules for one property's value (names, descriptions, ids, regions, booleans,
//! durations), accepted and rejected, through the public `validate`.

mod model_validate_support;

use std::time::Duration;

use ecs_image_copy::model::{validate, Flavour};
use model_validate_support::*;
use serde_json::{json, Value};

#[test]
fn image_name_rules() {
    let long = "a".repeat(128);
    let too_long = "a".repeat(129);
    let han_128 = "镜".repeat(128);
    let mut cases: Vec<Case> = Vec::new();
    for (flavour, key) in [
        (Flavour::Ros, "DestinationImageName"),
        (Flavour::Tf, "ImageName"),
        (Flavour::Tf, "Name"),
    ] {
        let accepted = ["ab", "my-image_1.0:x", "镜像copy", "Z9", &long, &han_128];
        for name in accepted {
            cases.push((flavour, key, json!(name), None));
        }
        let rejected: &[(&str, &'static str)] = &[
            ("a", "must be 2 to 128 characters, got 1"),
            (&too_long, "must be 2 to 128 characters, got 129"),
            ("1abc", "must start with a letter or Chinese character"),
            ("-abc", "must start with a letter or Chinese character"),
            ("ab cd", "contain only letters, digits"),
            ("ab/cd", "contain only letters, digits"),
            ("http://x", "must not start with \"http://\""),
            ("https://x", "must not start with \"https://\""),
            ("acs:image", "must not start with \"acs:\""),
            ("aliyun-image", "must not start with \"aliyun\""),
        ];
        for (name, fragment) in rejected {
            cases.push((flavour, key, json!(name), Some(fragment)));
        }
        cases.push((
            flavour,
            key,
            json!(12),
            Some("must be a string, got a number 12"),
        ));
        cases.push((
            flavour,
            key,
            json!(null),
            Some("must be a string, got null"),
        ));
    }
    check_cases(cases);
}

#[test]
fn description_rules() {
    let mut cases: Vec<Case> = Vec::new();
    for (flavour, key) in [
        (Flavour::Ros, "DestinationDescription"),
        (Flavour::Tf, "Description"),
    ] {
        cases.push((flavour, key, json!("ok"), None));
        cases.push((
            flavour,
            key,
            json!("Any text, even / and spaces: 说明"),
            None,
        ));
        cases.push((flavour, key, json!("x".repeat(256)), None));
        cases.push((flavour, key, json!("aliyun is fine here"), None));
        cases.push((
            flavour,
            key,
            json!("x"),
            Some("must be 2 to 256 characters, got 1"),
        ));
        cases.push((
            flavour,
            key,
            json!("x".repeat(257)),
            Some("must be 2 to 256 characters, got 257"),
        ));
        cases.push((
            flavour,
            key,
            json!("http://x"),
            Some("must not start with \"http://\""),
        ));
        cases.push((
            flavour,
            key,
            json!("https://x"),
            Some("must not start with \"https://\""),
        ));
    }
    check_cases(cases);
}

#[test]
fn id_and_region_rules() {
    let mut cases: Vec<Case> = Vec::new();
    for (flavour, key) in [(Flavour::Ros, "ImageId"), (Flavour::Tf, "SourceImageId")] {
        for ok in ["m-bp1h46wfpjsjastc", "m-abcde", "m-0123456789abcdef0123"] {
            cases.push((flavour, key, json!(ok), None));
        }
        for bad in [
            "m-bp1h46wfpjsjastc****",
            "m-abc",
            "M-abcdef",
            "i-abcdefgh",
            "m-ABCDEFG",
            "",
        ] {
            cases.push((flavour, key, json!(bad), Some("must be an image id")));
        }
    }
    for (flavour, key) in [
        (Flavour::Ros, "DestinationRegionId"),
        (Flavour::Ros, "SourceRegionId"),
        (Flavour::Tf, "SourceRegionId"),
    ] {
        for ok in [
            "ap-southeast-1",
            "us-west-1",
            "eu-central-1",
            "cn-north-2-gov-1",
        ] {
            cases.push((flavour, key, json!(ok), None));
        }
        for bad in [
            "cn",
            "CN-HANGZHOU",
            "cn_hangzhou",
            "cn-",
            "-cn-hangzhou",
            "cn-hangzhou ",
        ] {
            cases.push((flavour, key, json!(bad), Some("must be a region id")));
        }
    }
    cases.push((
        Flavour::Ros,
        "ResourceGroupId",
        json!("rg-acfmxazb4ph6aiy"),
        None,
    ));
    cases.push((
        Flavour::Ros,
        "ResourceGroupId",
        json!("rg-bp67acfmxazb4p****"),
        Some("must be a resource group id"),
    ));
    cases.push((
        Flavour::Ros,
        "ResourceGroupId",
        json!("group-1"),
        Some("must be a resource group id"),
    ));
    check_cases(cases);
}

#[test]
fn string_booleans_are_coerced() {
    for (text, expected) in [
        ("true", true),
        ("True", true),
        ("false", false),
        ("False", false),
    ] {
        let props = with(tf_base(), "Force", json!(text));
        assert_eq!(
            validate(Flavour::Tf, &props, &ctx()).unwrap().force_delete,
            expected
        );
        let props = with(ros_base(), "Encrypted", json!(text));
        assert_eq!(
            validate(Flavour::Ros, &props, &ctx()).unwrap().encrypted,
            expected
        );
    }
    for bad in ["yes", "TRUE", "1", ""] {
        let got = messages(Flavour::Tf, &with(tf_base(), "Encrypted", json!(bad)));
        assert_eq!(
            got,
            vec![format!(
                "Encrypted: must be a boolean (true/false), got \"{bad}\""
            )]
        );
    }
    let got = messages(
        Flavour::Ros,
        &with(ros_base(), "AllowCopyInSameRegion", json!(1)),
    );
    assert_eq!(
        got,
        vec!["AllowCopyInSameRegion: must be a boolean (true/false), got a number 1"]
    );
}

#[test]
fn timeouts() {
    let spec = |t: Value| validate(Flavour::Tf, &with(tf_base(), "Timeouts", t), &ctx());
    let s = spec(json!({"Create": "1h30m", "Delete": "90s"})).unwrap();
    assert_eq!(
        (s.create_timeout, s.delete_timeout),
        (Duration::from_secs(5400), Duration::from_secs(90))
    );
    let s = spec(json!({"Create": "1h0m30s"})).unwrap();
    assert_eq!(
        (s.create_timeout, s.delete_timeout),
        (Duration::from_secs(3630), Duration::from_secs(600))
    );
    let s = spec(json!({})).unwrap();
    assert_eq!(s.create_timeout, Duration::from_secs(600));
    let fails = |t: Value, expected: &str| {
        let got = spec(t.clone()).unwrap_err().to_string();
        assert!(got.contains(expected), "{t}: {got}");
    };
    fails(
        json!({"Create": "0s"}),
        "Timeouts.Create: must be longer than zero",
    );
    fails(
        json!({"Delete": "-5m"}),
        "Timeouts.Delete: must be a duration such as 90s",
    );
    fails(json!({"Create": ""}), "Timeouts.Create: must be a duration");
    fails(
        json!({"Create": "10 minutes"}),
        "Timeouts.Create: must be a duration",
    );
    fails(
        json!({"Create": "99999999999999999999h"}),
        "Timeouts.Create: is too long",
    );
    fails(
        json!({"Update": "10m"}),
        "Timeouts.Update: is not a known property",
    );
    fails(json!({"Create": 10}), "Timeouts.Create: must be a string");
    fails(json!("10m"), "Timeouts: must be an object");
}
