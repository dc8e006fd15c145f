//! Rules that relate properties to each other and to the region context: KMS needs
//! encryption, regions must differ, defaults of the source and destination region, and the
//! `Name` alias.

mod model_validate_support;

use ecs_image_copy::model::{validate, Context, Flavour};
use model_validate_support::*;
use serde_json::json;

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
