use serde_json::json;

use super::*;

fn cfn_create() -> Value {
    json!({
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:copy",
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation?X-Amz-Signature=abc",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/guid",
        "RequestId": "unique-id-1",
        "LogicalResourceId": "Copy",
        "ResourceType": "Custom::ImageCopy",
        "ResourceProperties": {"ServiceToken": "arn", "SourceImageId": "m-abc", "SourceRegionId": "cn-hangzhou"}
    })
}

fn ros_update() -> Value {
    json!({
        "RequestType": "Update",
        "ResponseURL": "https://ros-callback.cn-hangzhou.aliyuncs.com/cb?Signature=s",
        "IntranetResponseURL": "https://ros-callback-vpc.cn-hangzhou.aliyuncs.com/cb?Signature=s",
        "StackId": "6d5a1b4c-stack",
        "StackName": "demo",
        "ResourceOwnerId": "1234",
        "CallerId": "1234",
        "RegionId": "cn-hangzhou",
        "RequestId": "r-2",
        "LogicalResourceId": "Copy",
        "PhysicalResourceId": "m-old",
        "ResourceType": "ALIYUN::ECS::CopyImage",
        "ResourceProperties": {"ImageId": "m-abc", "DestinationRegionId": "cn-shanghai"},
        "OldResourceProperties": {"ImageId": "m-abc", "DestinationRegionId": "cn-beijing"}
    })
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn invalid_error(v: &Value) -> EventError {
    match parse(&bytes(v)) {
        Err(Rejected::Invalid { error, .. }) => error,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn cloudformation_create_parses() {
    let event = parse(&bytes(&cfn_create())).unwrap();
    assert_eq!(event.target.engine, Engine::CloudFormation);
    assert_eq!(event.request_type, RequestType::Create);
    assert_eq!(event.resource_type, "Custom::ImageCopy");
    assert_eq!(event.properties["SourceImageId"], "m-abc");
    assert!(event.old_properties.is_none());
    assert_eq!(event.raw, cfn_create());
}

#[test]
fn ros_update_parses_with_its_extra_fields() {
    let event = parse(&bytes(&ros_update())).unwrap();
    assert_eq!(event.target.engine, Engine::Ros);
    assert_eq!(event.request_type, RequestType::Update);
    assert_eq!(event.region_id.as_deref(), Some("cn-hangzhou"));
    assert_eq!(event.stack_name.as_deref(), Some("demo"));
    assert_eq!(event.target.physical_resource_id.as_deref(), Some("m-old"));
    assert_eq!(
        event.old_properties.unwrap()["DestinationRegionId"],
        "cn-beijing"
    );
}

#[test]
fn ros_falls_back_to_the_intranet_url() {
    let mut v = ros_update();
    v.as_object_mut().unwrap().remove("ResponseURL");
    let event = parse(&bytes(&v)).unwrap();
    assert!(event.target.response_url.contains("ros-callback-vpc"));
}

#[test]
fn unanswerable_events_say_why() {
    assert!(matches!(
        parse(b"{not json"),
        Err(Rejected::Unanswerable(EventError::NotJson(_)))
    ));
    assert!(matches!(
        parse(b"[1,2]"),
        Err(Rejected::Unanswerable(EventError::NotObject("an array")))
    ));
    let mut v = cfn_create();
    v.as_object_mut().unwrap().remove("ResponseURL");
    assert_eq!(
        parse(&bytes(&v)).unwrap_err(),
        Rejected::Unanswerable(EventError::field("ResponseURL", "is required"))
    );
    for bad in ["ftp://x/y", "https://", "not a url", "https://h/a b"] {
        v["ResponseURL"] = json!(bad);
        assert!(
            matches!(
                parse(&bytes(&v)),
                Err(Rejected::Unanswerable(EventError::Field { .. }))
            ),
            "{bad}"
        );
    }
}

#[test]
fn broken_events_with_a_url_are_answerable_and_name_the_field() {
    let mut v = cfn_create();
    v["RequestType"] = json!("Upsert");
    assert_eq!(
        invalid_error(&v).to_string(),
        "RequestType: must be Create, Update or Delete, got \"Upsert\""
    );

    let mut v = cfn_create();
    v["StackId"] = json!(5);
    assert_eq!(
        invalid_error(&v).to_string(),
        "StackId: must be a string, got a number"
    );

    let mut v = cfn_create();
    v.as_object_mut().unwrap().remove("LogicalResourceId");
    assert_eq!(
        invalid_error(&v).to_string(),
        "LogicalResourceId: is required"
    );

    let mut v = cfn_create();
    v["ResourceProperties"] = json!([1]);
    assert_eq!(
        invalid_error(&v).to_string(),
        "ResourceProperties: must be an object, got an array"
    );

    let mut v = cfn_create();
    v["RequestType"] = json!("Delete");
    assert_eq!(
        invalid_error(&v).to_string(),
        "PhysicalResourceId: is required for Delete"
    );
}

#[test]
fn the_answer_target_of_a_broken_event_keeps_what_could_be_read() {
    let mut v = cfn_create();
    v["RequestType"] = json!(null);
    match parse(&bytes(&v)) {
        Err(Rejected::Invalid { target, error, .. }) => {
            assert_eq!(error.to_string(), "RequestType: is required");
            assert_eq!(target.request_id, "unique-id-1");
            assert_eq!(target.logical_resource_id, "Copy");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn debug_output_hides_the_presigned_signature() {
    let event = parse(&bytes(&cfn_create())).unwrap();
    let shown = format!("{event:?}");
    assert!(!shown.contains("X-Amz-Signature=abc"), "{shown}");
}

#[test]
fn an_update_without_old_properties_is_refused_not_guessed() {
    for missing in [None, Some(Value::Null)] {
        let mut e = ros_update();
        match &missing {
            None => e.as_object_mut().unwrap().remove("OldResourceProperties"),
            Some(v) => e
                .as_object_mut()
                .unwrap()
                .insert("OldResourceProperties".into(), v.clone()),
        };
        assert_eq!(
            invalid_error(&e),
            EventError::field("OldResourceProperties", "is required for Update")
        );
    }
}

#[test]
fn identifiers_too_long_to_echo_are_refused_by_name() {
    for field in ["StackId", "RequestId", "LogicalResourceId"] {
        let mut event = cfn_create();
        event[field] = Value::String("a".repeat(MAX_IDENTIFIER_BYTES + 1));
        let error = invalid_error(&event).to_string();
        assert!(
            error.starts_with(&format!("{field}: must be at most 768 bytes")),
            "{error}"
        );
        // Escapes count: 128 control characters are 768 bytes as JSON.
        event[field] = Value::String("\u{1}".repeat(129));
        assert!(invalid_error(&event).to_string().starts_with(field));
        event[field] = Value::String("\u{1}".repeat(128));
        assert!(parse(&bytes(&event)).is_ok());
    }
}

fn cfn_update_and_delete() -> [Value; 2] {
    let mut update = cfn_create();
    update["RequestType"] = json!("Update");
    update["PhysicalResourceId"] = json!("m-old");
    update["OldResourceProperties"] = json!({"SourceImageId": "m-abc"});
    let mut delete = cfn_create();
    delete["RequestType"] = json!("Delete");
    delete["PhysicalResourceId"] = json!("m-old");
    [update, delete]
}

/// The one pass in `parse` stands for the official type too: whatever CloudFormation event
/// it accepts, `CloudFormationCustomResourceRequest` reads, and whatever that refuses, `parse`
/// refuses, with the official type's own words where it is the one that says no.
#[test]
fn every_cloudformation_event_accepted_is_one_the_official_type_reads() {
    use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest as Official;
    let odd_values = [
        None,
        Some(Value::Null),
        Some(json!(5)),
        Some(json!("")),
        Some(json!("x")),
        Some(json!([1])),
        Some(json!({"a": 1})),
    ];
    let fields = [
        "RequestType",
        "ServiceToken",
        "ResponseURL",
        "StackId",
        "RequestId",
        "LogicalResourceId",
        "PhysicalResourceId",
        "ResourceType",
        "ResourceProperties",
        "OldResourceProperties",
    ];
    let [update, delete] = cfn_update_and_delete();
    let (mut checked, mut said_as_the_official_type) = (0, 0);
    for base in [cfn_create(), update, delete] {
        for field in fields {
            for odd in &odd_values {
                let mut event = base.clone();
                match odd {
                    None => event.as_object_mut().unwrap().remove(field),
                    Some(v) => event
                        .as_object_mut()
                        .unwrap()
                        .insert(field.into(), v.clone()),
                };
                let official = serde_json::from_value::<Official>(event.clone());
                match parse(&bytes(&event)) {
                    Ok(_) => assert!(official.is_ok(), "{event}: {official:?}"),
                    Err(Rejected::Invalid {
                        error: EventError::CloudFormationShape(ours),
                        ..
                    }) if field == "ResourceProperties" => {
                        assert_eq!(ours, official.as_ref().unwrap_err().to_string());
                        said_as_the_official_type += 1;
                    }
                    Err(_) => {}
                }
                if official.is_err() {
                    assert!(parse(&bytes(&event)).is_err(), "{event}");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 3 * fields.len() * odd_values.len());
    assert_eq!(
        said_as_the_official_type, 3,
        "a missing ResourceProperties, in each type"
    );
}

#[test]
fn a_parsed_payload_is_kept_as_it_came() {
    let event = parse_value(cfn_create()).unwrap();
    assert_eq!(event.raw, cfn_create());
    assert_eq!(
        parse_value(json!([1])).unwrap_err(),
        Rejected::Unanswerable(EventError::NotObject("an array"))
    );
}
