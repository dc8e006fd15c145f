//! What validation yields: the flavour detected from the properties, and the normalized
//! spec and attributes of each flavour.

mod model_validate_support;

use std::time::Duration;

use ecs_image_copy::model::{attributes, detect_flavour, validate, CopySpec, Flavour, Tag};
use model_validate_support::*;
use serde_json::{json, Value};

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
