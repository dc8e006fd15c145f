//! Shared by the generated hostile-input suite: a handler that can never reach ECS, valid
//! events of every kind, and proptest strategies that mutate them.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use ecs_image_copy::ecs::{Credentials, EcsClient, Endpoints, ReqwestTransport, RetryPolicy};
use ecs_image_copy::handler::Handler;
use ecs_image_copy::settings::Settings;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};

use crate::common::{DEST_REGION, SECRET, SOURCE_IMAGE, SOURCE_REGION, TOKEN};

/// How many cases the generated suites run in all: `RELIABILITY_GENERATED`, else 100 000.
pub fn generated_total() -> u32 {
    std::env::var("RELIABILITY_GENERATED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

pub const SIGNED_URL: &str =
    "https://bucket.s3.amazonaws.com/cb?X-Amz-Signature=SIGNATURE-canary-9d8c7b";

pub fn handler() -> Handler {
    let credentials = Credentials::new("LTAI-k", SECRET, Some(TOKEN.to_string()));
    // Nothing listens here: the generated events must never get as far as ECS, and if one
    // did the answer would not be decided before ECS and the properties would say so.
    let ecs = EcsClient::with_transport(
        credentials.clone(),
        Endpoints::with_override("http://127.0.0.1:9").unwrap(),
        Arc::new(ReqwestTransport::new(Duration::from_millis(100))),
        RetryPolicy::default(),
    );
    Handler::with_client(
        ecs,
        Settings {
            credentials: Ok(Some(credentials)),
            region_id: Some(DEST_REGION.into()),
            ecs_endpoints: Ok(ecs_image_copy::ecs::Endpoints::official()),
            ros_timeout: Duration::from_secs(600),
            handover: None,
        },
    )
}

/// Valid events of every type, envelope and request type: the seeds of the mutations.
pub fn valid_events() -> Vec<Value> {
    let mut events = Vec::new();
    let tf = json!({"SourceImageId": SOURCE_IMAGE, "SourceRegionId": SOURCE_REGION,
        "ImageName": "web-server", "Tags": [{"MapKey": "team", "MapValue": "platform"}],
        "Timeouts": {"Create": "10m"}});
    let ros = json!({"ImageId": SOURCE_IMAGE, "SourceRegionId": SOURCE_REGION,
        "DestinationRegionId": DEST_REGION, "DestinationImageName": "web-server",
        "Tag": [{"Key": "team", "Value": "platform"}]});
    for (ty, props) in [
        ("TF::Alicloud::ImageCopy", &tf),
        ("Custom::ImageCopy", &tf),
        ("ALIYUN::ECS::CopyImage", &ros),
        ("ALIYUN::ROS::CustomResource", &ros),
    ] {
        for rt in ["Create", "Update", "Delete"] {
            let mut e = json!({
                "RequestType": rt, "ResponseURL": SIGNED_URL,
                "StackId": "arn:aws:cloudformation:us-east-1:1:stack/s/g", "RequestId": "r-1",
                "ResourceType": ty, "LogicalResourceId": "Copy",
                "ServiceToken": "arn:aws:lambda:us-east-1:1:function:f",
                "ResourceProperties": props,
            });
            if rt != "Create" {
                e["PhysicalResourceId"] = json!("m-copy00000001");
            }
            if rt == "Update" {
                e["OldResourceProperties"] = props.clone();
            }
            events.push(e.clone());
            let mut ros_envelope = e;
            ros_envelope.as_object_mut().unwrap().remove("ServiceToken");
            ros_envelope["RegionId"] = json!(SOURCE_REGION);
            ros_envelope["StackName"] = json!("s");
            events.push(ros_envelope);
        }
    }
    events
}

pub fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        // Plain collections, not regex strategies: these are cheap enough for 100 000 cases.
        prop::collection::vec(any::<char>(), 0..40).prop_map(|c| Value::from(String::from_iter(c))),
        prop::collection::vec(prop::sample::select(b"aZ09:_-m".to_vec()), 0..12)
            .prop_map(|b| Value::from(String::from_utf8(b).unwrap())),
        prop::sample::select(vec![
            "",
            "Create",
            "Update",
            "Delete",
            "m-abcdef1",
            "cn-hangzhou",
            "cn-shanghai",
            "Custom::X",
            "http://",
            "acs:x",
            "aliyun",
            "10m",
            "true",
            "镜像",
            "\u{0}",
            "ecs-image-copy:create-failed",
        ])
        .prop_map(Value::from),
        (1usize..600).prop_map(|n| Value::from("x".repeat(n))),
    ]
}

pub fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec!["a", "Key", "Value", "MapKey", "Create", "Zz"]),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// Where to strike: a key at the top, in the properties, in a tag, or the old properties.
pub fn path() -> impl Strategy<Value = Vec<String>> {
    let top = prop::sample::select(vec![
        "RequestType",
        "ResponseURL",
        "StackId",
        "RequestId",
        "ResourceType",
        "LogicalResourceId",
        "PhysicalResourceId",
        "RegionId",
        "StackName",
        "IntranetResponseURL",
        "OldResourceProperties",
        "ResourceProperties",
    ]);
    let prop_key = prop::sample::select(vec![
        "SourceImageId",
        "ImageId",
        "SourceRegionId",
        "DestinationRegionId",
        "ImageName",
        "DestinationImageName",
        "Name",
        "Description",
        "DestinationDescription",
        "Encrypted",
        "KmsKeyId",
        "KMSKeyId",
        "ResourceGroupId",
        "Tags",
        "Tag",
        "Force",
        "DeleteAutoSnapshot",
        "Timeouts",
        "AllowCopyInSameRegion",
        "Parameters",
        "Id",
        "Bogus",
    ]);
    prop_oneof![
        top.prop_map(|k| vec![k.to_string()]),
        prop_key
            .clone()
            .prop_map(|k| vec!["ResourceProperties".into(), k.to_string()]),
        prop_key.prop_map(|k| vec!["OldResourceProperties".into(), k.to_string()]),
        prop::sample::select(vec!["MapKey", "MapValue", "Key", "Value"]).prop_map(|k| vec![
            "ResourceProperties".into(),
            "Tags".into(),
            "0".into(),
            k.to_string()
        ]),
    ]
}

#[derive(Debug, Clone)]
pub enum Mutation {
    Set(Vec<String>, Value),
    Remove(Vec<String>),
}

pub fn apply(event: &mut Value, mutation: &Mutation) {
    let (path, new) = match mutation {
        Mutation::Set(p, v) => (p, Some(v.clone())),
        Mutation::Remove(p) => (p, None),
    };
    let mut at = event;
    for key in &path[..path.len() - 1] {
        let next = match at {
            Value::Object(m) => m.get_mut(key.as_str()),
            Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => return,
        }
    }
    let last = path.last().unwrap();
    if let Value::Object(m) = at {
        match new {
            Some(v) => {
                m.insert(last.clone(), v);
            }
            None => {
                m.remove(last.as_str());
            }
        }
    }
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (path(), value()).prop_map(|(p, v)| Mutation::Set(p, v)),
        1 => path().prop_map(Mutation::Remove),
    ]
}

/// A broken copy of a valid event: it must be refused before ECS.
pub fn breaking_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        prop::sample::select(vec!["SourceImageId", "ImageId"]).prop_map(|k| Mutation::Set(
            vec!["ResourceProperties".into(), k.into()],
            json!("ubuntu")
        )),
        Just(Mutation::Set(
            vec!["ResourceType".into()],
            json!("AWS::S3::Bucket")
        )),
        Just(Mutation::Set(vec!["RequestType".into()], json!("Destroy"))),
        prop::sample::select(vec!["ImageName", "DestinationImageName"]).prop_map(|k| {
            Mutation::Set(
                vec!["ResourceProperties".into(), k.into()],
                json!("1-digit-first"),
            )
        }),
        any::<char>().prop_map(|k| Mutation::Set(
            vec!["ResourceProperties".into(), format!("Unknown{k}")],
            json!(1)
        )),
    ]
}

/// Deterministic, and XorShift rather than ChaCha: in a debug build the cipher would cost
/// more than the handler's decision itself.
pub fn runner(config: Config, stream: u8) -> TestRunner {
    let mut seed = [0x5e; 16];
    seed[0] = stream;
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::XorShift, &seed))
}
