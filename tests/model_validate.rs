//! Every property rule, accepted and rejected, through the public `validate`.

use std::time::Duration;

use ecs_image_copy::model::{
    attributes, detect_flavour, validate, Context, CopySpec, Flavour, Tag, Violations,
};
use serde_json::{json, Value};

fn ctx() -> Context {
    Context {
        stack_region_id: Some("cn-hangzhou".into()),
        configured_region_id: Some("cn-shanghai".into()),
        default_timeout: Duration::from_secs(3600),
    }
}

fn ros_base() -> Value {
    json!({"ImageId": "m-bp1h46wfpjsjastc", "DestinationRegionId": "cn-beijing"})
}

fn tf_base() -> Value {
    json!({"SourceImageId": "m-bp1h46wfpjsjastc", "SourceRegionId": "cn-hangzhou"})
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn messages(flavour: Flavour, props: &Value) -> Vec<String> {
    match validate(flavour, props, &ctx()) {
        Ok(_) => vec![],
        Err(Violations(v)) => v.iter().map(ToString::to_string).collect(),
    }
}

/// `(flavour, property, value, expected message fragment or None for accepted)`.
type Case = (Flavour, &'static str, Value, Option<&'static str>);

fn check_cases(cases: Vec<Case>) {
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
fn tag_rules() {
    let tags = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
            .collect()
    };
    let tf_tags = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"MapKey": format!("k{i}"), "MapValue": "v"}))
            .collect()
    };
    let cases: Vec<Case> = vec![
        (Flavour::Ros, "Tag", json!(tags(20)), None),
        (
            Flavour::Ros,
            "Tag",
            json!(tags(21)),
            Some("Tag: must have at most 20 items, got 21"),
        ),
        (Flavour::Ros, "Tag", json!([{"Key": "k"}]), None),
        (
            Flavour::Ros,
            "Tag",
            json!([{"Key": "k", "Value": ""}]),
            None,
        ),
        (
            Flavour::Ros,
            "Tag",
            json!([{"Value": "v"}]),
            Some("Tag[0].Key: is required"),
        ),
        (
            Flavour::Ros,
            "Tag",
            json!([{"Key": ""}]),
            Some("Tag[0].Key: must be 1 to 128 characters, got 0"),
        ),
        (
            Flavour::Ros,
            "Tag",
            json!([{"Key": "k".repeat(129)}]),
            Some("Tag[0].Key: must be 1 to 128 characters, got 129"),
        ),
        (
            Flavour::Ros,
            "Tag",
            json!([{"Key": "k", "Value": "v".repeat(129)}]),
            Some("Tag[0].Value: must be at most 128 characters, got 129"),
        ),
        (
            Flavour::Ros,
            "Tag",
            json!([{"Key": "acs:x"}]),
            Some("Tag[0].Key: must not start with \"acs:\""),
        ),
        // Values may start with aliyun (only keys may not), but not with acs:, and no value
        // or key may hold a link anywhere (CopyImage Tag.N.Key / Tag.N.Value).
        (
            Flavour::Ros,
            "Tag",
            json!([{"Key": "k", "Value": "aliyunx"}]),
            None,
        ),
        (
            Flavour::Ros,
            "Tag",
            json!([{"Key": "k", "Value": "acs:x"}]),
            Some("Tag[0].Value: must not start with \"acs:\""),
        ),
        (
            Flavour::Ros,
            "Tag",
            json!([{"Key": "k", "Value": "see https://example.com"}]),
            Some("Tag[0].Value: must not contain \"https://\""),
        ),
        (
            Flavour::Ros,
            "Tag",
            json!([{"Key": "site\nhttp://x", "Value": "v"}]),
            Some("Tag[0].Key: must not contain \"http://\""),
        ),
        (
            Flavour::Ros,
            "Tag",
            json!([{"Key": "k", "Colour": "x"}]),
            Some("Tag[0].Colour: is not a known property; known: Key, Value"),
        ),
        (
            Flavour::Ros,
            "Tag",
            json!([{"Key": "k"}, {"Key": "k"}]),
            Some("Tag[1].Key: duplicates Tag[0].Key \"k\""),
        ),
        (
            Flavour::Ros,
            "Tag",
            json!("k=v"),
            Some("Tag: must be a list"),
        ),
        (Flavour::Tf, "Tags", json!(tf_tags(20)), None),
        (
            Flavour::Tf,
            "Tags",
            json!(tf_tags(21)),
            Some("Tags: must have at most 20 items"),
        ),
        (
            Flavour::Tf,
            "Tags",
            json!([{"MapKey": "k", "MapValue": ""}]),
            None,
        ),
        (
            Flavour::Tf,
            "Tags",
            json!([{"MapKey": "k"}]),
            Some("Tags[0].MapValue: is required"),
        ),
        (
            Flavour::Tf,
            "Tags",
            json!([{"MapValue": "v"}]),
            Some("Tags[0].MapKey: is required"),
        ),
        (
            Flavour::Tf,
            "Tags",
            json!([{"MapKey": "k", "MapValue": "v", "Key": "x"}]),
            Some("Tags[0].Key: is not a known property"),
        ),
        (
            Flavour::Tf,
            "Tags",
            json!([{"MapKey": "https://k", "MapValue": "v"}]),
            Some("Tags[0].MapKey: must not contain \"https://\""),
        ),
        (
            Flavour::Tf,
            "Tags",
            json!([{"MapKey": "a", "MapValue": "v"}, {"MapKey": "a", "MapValue": "w"}]),
            Some("Tags[1].MapKey: duplicates Tags[0].MapKey"),
        ),
    ];
    check_cases(cases);
}

#[test]
fn exact_message_for_a_reserved_tag_key() {
    let tags: Vec<Value> = ["a", "b", "c", "aliyun-owner"]
        .iter()
        .map(|k| json!({"MapKey": k, "MapValue": "v"}))
        .collect();
    let props = with(tf_base(), "Tags", json!(tags));
    let err = validate(Flavour::Tf, &props, &ctx()).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Tags[3].MapKey: must not start with "aliyun""#
    );
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
fn required_and_unknown_properties() {
    let got = messages(Flavour::Ros, &json!({}));
    assert_eq!(
        got,
        vec!["ImageId: is required", "DestinationRegionId: is required"]
    );
    let got = messages(Flavour::Tf, &json!({}));
    assert_eq!(
        got,
        vec!["SourceImageId: is required", "SourceRegionId: is required"]
    );
    let got = messages(Flavour::Ros, &with(ros_base(), "Colour", json!("red")));
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("Colour: is not a known property; known: "),
        "{got:?}"
    );
    let got = messages(Flavour::Ros, &with(ros_base(), "KmsKeyId", json!("k")));
    assert_eq!(
        got,
        vec!["KmsKeyId: is not a known property; did you mean KMSKeyId?"]
    );
    let got = messages(Flavour::Tf, &with(tf_base(), "ImageId", json!("m-abcdef")));
    assert_eq!(
        got,
        vec!["ImageId: is an attribute (read-only) and cannot be set"]
    );
    for not_object in [json!(null), json!([]), json!("x"), json!(1)] {
        let got = messages(Flavour::Tf, &not_object);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].starts_with("Properties: must be an object"),
            "{got:?}"
        );
    }
}

#[test]
fn service_token_is_ignored() {
    let props = with(
        ros_base(),
        "ServiceToken",
        json!("acs:fc:cn-hangzhou:123:services/x"),
    );
    assert!(validate(Flavour::Ros, &props, &ctx()).is_ok());
    let props = with(tf_base(), "ServiceToken", json!(42));
    assert!(validate(Flavour::Tf, &props, &ctx()).is_ok());
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
fn kms_key_requires_encryption() {
    let base = with(
        ros_base(),
        "KMSKeyId",
        json!("e522b26d-abf6-4e0d-b5da-04b7aaaaaa3c"),
    );
    assert_eq!(
        messages(Flavour::Ros, &base),
        vec!["KMSKeyId: requires Encrypted to be true"]
    );
    assert_eq!(
        messages(
            Flavour::Ros,
            &with(base.clone(), "Encrypted", json!("false"))
        ),
        vec!["KMSKeyId: requires Encrypted to be true"]
    );
    let spec = validate(
        Flavour::Ros,
        &with(base, "Encrypted", json!("true")),
        &ctx(),
    )
    .unwrap();
    assert!(spec.encrypted);
    let tf = with(tf_base(), "KmsKeyId", json!("key"));
    assert_eq!(
        messages(Flavour::Tf, &tf),
        vec!["KmsKeyId: requires Encrypted to be true"]
    );
    assert!(messages(Flavour::Tf, &with(tf, "Encrypted", json!(true))).is_empty());
}

#[test]
fn regions_must_differ_unless_allowed() {
    let same = with(ros_base(), "DestinationRegionId", json!("cn-hangzhou"));
    assert_eq!(
        messages(Flavour::Ros, &same),
        vec![
            r#"DestinationRegionId: must differ from the source region "cn-hangzhou" unless AllowCopyInSameRegion is true"#
        ]
    );
    let allowed = with(same, "AllowCopyInSameRegion", json!("true"));
    let spec = validate(Flavour::Ros, &allowed, &ctx()).unwrap();
    assert!(spec.is_same_region_no_copy());
    let tf_same = with(tf_base(), "SourceRegionId", json!("cn-shanghai"));
    let got = messages(Flavour::Tf, &tf_same);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with(r#"SourceRegionId: must differ from the provider region "cn-shanghai""#)
    );
}

#[test]
fn source_region_defaults() {
    let spec = validate(Flavour::Ros, &ros_base(), &ctx()).unwrap();
    assert_eq!(spec.source_region_id, "cn-hangzhou");
    let configured_only = Context {
        stack_region_id: None,
        ..ctx()
    };
    let spec = validate(Flavour::Ros, &ros_base(), &configured_only).unwrap();
    assert_eq!(spec.source_region_id, "cn-shanghai");
    let neither = Context {
        stack_region_id: None,
        configured_region_id: None,
        ..ctx()
    };
    let err = validate(Flavour::Ros, &ros_base(), &neither)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("SourceRegionId: is required: the stack region is unknown"),
        "{err}"
    );
    let bad_stack = Context {
        stack_region_id: Some("Nowhere".into()),
        ..ctx()
    };
    let err = validate(Flavour::Ros, &ros_base(), &bad_stack)
        .unwrap_err()
        .to_string();
    assert!(err.contains("(defaulted from the stack region)"), "{err}");
}

#[test]
fn tf_needs_a_configured_region() {
    let none = Context {
        configured_region_id: None,
        ..ctx()
    };
    let err = validate(Flavour::Tf, &tf_base(), &none)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "ALIBABA_CLOUD_REGION_ID: must be set: TF::Alicloud::ImageCopy copies into the provider region");
    let bad = Context {
        configured_region_id: Some("shanghai".into()),
        ..ctx()
    };
    let err = validate(Flavour::Tf, &tf_base(), &bad)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("ALIBABA_CLOUD_REGION_ID: must be a region id"),
        "{err}"
    );
}

#[test]
fn name_is_an_alias_of_image_name() {
    let spec = validate(
        Flavour::Tf,
        &with(tf_base(), "Name", json!("old-name")),
        &ctx(),
    )
    .unwrap();
    assert_eq!(spec.image_name.as_deref(), Some("old-name"));
    let both = with(
        with(tf_base(), "Name", json!("same")),
        "ImageName",
        json!("same"),
    );
    assert_eq!(
        validate(Flavour::Tf, &both, &ctx())
            .unwrap()
            .image_name
            .as_deref(),
        Some("same")
    );
    let differ = with(
        with(tf_base(), "Name", json!("one")),
        "ImageName",
        json!("two"),
    );
    let got = messages(Flavour::Tf, &differ);
    assert_eq!(
        got,
        vec![
            r#"Name: is the deprecated alias of ImageName and differs from it ("two"); set only ImageName"#
        ]
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

#[test]
fn all_violations_are_reported_together() {
    let props = json!({
        "ImageId": "img", "DestinationRegionId": 5, "DestinationImageName": "aliyun1",
        "Encrypted": "maybe", "KMSKeyId": "k", "Nope": 1
    });
    let err = validate(Flavour::Ros, &props, &ctx()).unwrap_err();
    let paths: Vec<&str> = err.0.iter().map(|v| v.path.as_str()).collect();
    for expected in [
        "ImageId",
        "DestinationRegionId",
        "DestinationImageName",
        "Encrypted",
        "KMSKeyId",
        "Nope",
    ] {
        assert!(paths.contains(&expected), "{expected} missing from {err}");
    }
    assert!(err.to_string().contains("; "));
}

#[test]
fn normalized_ros_spec() {
    let props = json!({
        "ServiceToken": "ignored",
        "ImageId": "m-source00001", "DestinationRegionId": "cn-beijing",
        "DestinationImageName": "copy-1", "DestinationDescription": "a copy",
        "Encrypted": "True", "KMSKeyId": "key-1", "ResourceGroupId": "rg-aekzabc123",
        "Tag": [{"Key": "env", "Value": "prod"}, {"Key": "team"}],
        "SourceRegionId": "ap-southeast-1", "AllowCopyInSameRegion": "false"
    });
    let spec = validate(Flavour::Ros, &props, &ctx()).unwrap();
    assert_eq!(
        spec,
        CopySpec {
            source_image_id: "m-source00001".into(),
            source_region_id: "ap-southeast-1".into(),
            destination_region_id: "cn-beijing".into(),
            image_name: Some("copy-1".into()),
            description: Some("a copy".into()),
            encrypted: true,
            kms_key_id: Some("key-1".into()),
            resource_group_id: Some("rg-aekzabc123".into()),
            tags: vec![
                Tag {
                    key: "env".into(),
                    value: "prod".into()
                },
                Tag {
                    key: "team".into(),
                    value: String::new()
                },
            ],
            allow_copy_in_same_region: false,
            force_delete: false,
            delete_auto_snapshot: false,
            create_timeout: Duration::from_secs(3600),
            delete_timeout: Duration::from_secs(3600),
            updatable_in_place: false,
        }
    );
    let attrs = attributes(Flavour::Ros, &spec, "m-copy000001");
    assert_eq!(
        Value::Object(attrs),
        json!({"ImageId": "m-copy000001", "SourceRegionId": "ap-southeast-1", "DestinationRegionId": "cn-beijing"})
    );
}

#[test]
fn normalized_tf_spec() {
    let props = json!({
        "SourceImageId": "m-source00001", "SourceRegionId": "cn-hangzhou",
        "ImageName": "copy-1", "Description": "a copy", "Encrypted": "false",
        "Tags": [{"MapKey": "env", "MapValue": "prod"}],
        "Force": "true", "DeleteAutoSnapshot": true, "Timeouts": {"Create": "20m"}
    });
    let spec = validate(Flavour::Tf, &props, &ctx()).unwrap();
    assert_eq!(
        spec,
        CopySpec {
            source_image_id: "m-source00001".into(),
            source_region_id: "cn-hangzhou".into(),
            destination_region_id: "cn-shanghai".into(),
            image_name: Some("copy-1".into()),
            description: Some("a copy".into()),
            encrypted: false,
            kms_key_id: None,
            resource_group_id: None,
            tags: vec![Tag {
                key: "env".into(),
                value: "prod".into()
            }],
            allow_copy_in_same_region: false,
            force_delete: true,
            delete_auto_snapshot: true,
            create_timeout: Duration::from_secs(1200),
            delete_timeout: Duration::from_secs(600),
            updatable_in_place: true,
        }
    );
    let attrs = attributes(Flavour::Tf, &spec, "m-copy000001");
    assert_eq!(
        Value::Object(attrs),
        json!({"Id": "m-copy000001", "ImageId": "m-copy000001"})
    );
}

#[test]
fn flavour_detection() {
    assert_eq!(detect_flavour(&ros_base()), Some(Flavour::Ros));
    assert_eq!(detect_flavour(&tf_base()), Some(Flavour::Tf));
    assert_eq!(detect_flavour(&json!({"ImageId": "m-x"})), None);
    assert_eq!(detect_flavour(&json!([1])), None);
    assert_eq!(
        detect_flavour(
            &json!({"ImageId": 1, "DestinationRegionId": 1, "SourceImageId": 1, "SourceRegionId": 1})
        ),
        None
    );
}

#[test]
fn readable_messages_for_a_broken_template() {
    let props = json!({"SourceImageId": "bad", "SourceRegionId": "cn-hangzhou", "ImageName": "1x", "Tags": [{"MapKey": ""}]});
    let err = validate(Flavour::Tf, &props, &ctx())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "ImageName: must start with a letter or Chinese character and contain only letters, digits, Chinese characters, '.', ':', '_', '-', got \"1x\"; \
         SourceImageId: must be an image id: \"m-\" followed by 5 to 62 lowercase letters or digits, got \"bad\"; \
         Tags[0].MapValue: is required; \
         Tags[0].MapKey: must be 1 to 128 characters, got 0"
    );
}

#[test]
fn odd_unknown_names_are_quoted() {
    let got = messages(Flavour::Tf, &with(tf_base(), "", json!(1)));
    assert!(
        got[0].starts_with(r#"Properties[""]: is not a known property"#),
        "{got:?}"
    );
    let got = messages(Flavour::Tf, &with(tf_base(), "Image Name", json!(1)));
    assert!(
        got[0].starts_with(r#"Properties["Image Name"]: is not a known property"#),
        "{got:?}"
    );
}
