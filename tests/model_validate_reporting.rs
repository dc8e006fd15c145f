//! Which properties are required, unknown or ignored, and how violations are reported:
//! all together, readable, with odd names quoted.

mod model_validate_support;

use ecs_image_copy::model::{validate, Flavour};
use model_validate_support::*;
use serde_json::json;

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
