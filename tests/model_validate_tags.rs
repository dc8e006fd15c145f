//! The rules for tags of both flavours (`Tag` of ROS, `Tags` of TF), through the public
//! `validate`.

mod model_validate_support;

use ecs_image_copy::model::{validate, Flavour};
use model_validate_support::*;
use serde_json::{json, Value};

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
