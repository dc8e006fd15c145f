//! A loopback world for lifecycle tests: the ECS emulator, a stack engine's ResponseURL
//! (the receiver), and the real handler wired to both over HTTP.
#![allow(dead_code)]

use std::time::Duration;

use ecs_emulator::receiver::{Receiver, Recorded};
use ecs_emulator::{Control, Emulator, EmulatorConfig, Realism, SourceImage};
use ecs_emulator::{ImageView, SnapshotView};
use ecs_image_copy::ecs::{Credentials, EcsClient};
use ecs_image_copy::handler::{HandleError, Handled, Handler};
use ecs_image_copy::settings::Settings;
use serde_json::{json, Value};
use tokio::time::Instant;

pub const SOURCE_IMAGE: &str = "m-source0000000001";
pub const SOURCE_REGION: &str = "cn-hangzhou";
pub const DEST_REGION: &str = "cn-shanghai";
/// Distinctive values so that a leak is unmistakable in captured output.
pub const SECRET: &str = "SECRET-canary-7f3a9c";
pub const TOKEN: &str = "TOKEN-canary-5e1b2d";
pub const URL_SIGNATURE: &str = "SIGNATURE-canary-9d8c7b";

/// The realism the suites run under: `ECS_EMULATOR_REALISM` (as for the emulator binary),
/// off when unset. CI runs the lifecycle and reliability suites once each way.
pub fn suite_realism() -> Realism {
    Realism::from_env().expect("ECS_EMULATOR_REALISM is a valid realism spec")
}

pub struct World {
    pub emulator: Emulator,
    pub receiver: Receiver,
    pub handler: Handler,
    seq: std::sync::atomic::AtomicU32,
}

impl World {
    pub async fn new(copy: Duration) -> World {
        Self::with_settings(copy, |_| {}).await
    }

    /// A world whose emulator shows exactly these behaviours of real ECS.
    pub async fn with_realism(copy: Duration, realism: Realism) -> World {
        Self::build(copy, realism, |_| {}).await
    }

    /// A world whose handler settings are adjusted first (e.g. to hand waits over).
    pub async fn with_settings(copy: Duration, adjust: impl FnOnce(&mut Settings)) -> World {
        Self::build(copy, suite_realism(), adjust).await
    }

    async fn build(copy: Duration, realism: Realism, adjust: impl FnOnce(&mut Settings)) -> World {
        let config = EmulatorConfig {
            realism,
            access_key_id: "LTAI-test-key".into(),
            access_key_secret: SECRET.into(),
            security_token: Some(TOKEN.into()),
            images: vec![SourceImage::new(SOURCE_IMAGE, SOURCE_REGION)],
            copy_duration: copy,
            ..EmulatorConfig::default()
        };
        let emulator = Emulator::start(config, 0).await.expect("emulator starts");
        let credentials = Credentials::new("LTAI-test-key", SECRET, Some(TOKEN.to_string()));
        let ecs = EcsClient::new(credentials.clone(), Some(&emulator.endpoint())).unwrap();
        let settings = Settings {
            credentials: Ok(Some(credentials)),
            region_id: Some(DEST_REGION.into()),
            ecs_endpoints: ecs_image_copy::ecs::Endpoints::with_override(&emulator.endpoint()),
            ros_timeout: Duration::from_secs(600),
            handover: None,
        };
        let mut settings = settings;
        adjust(&mut settings);
        World {
            emulator,
            receiver: Receiver::start().await.expect("receiver starts"),
            handler: Handler::with_client(ecs, settings),
            seq: Default::default(),
        }
    }

    pub fn ecs(&self) -> Control {
        self.emulator.control()
    }

    /// A presigned-looking URL on the receiver, with a query the callback must keep byte for byte.
    pub fn response_url(&self) -> String {
        let n = self.seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.receiver.url(&format!(
            "/cfn-response/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123%3Astack/s/{n}%7CCopy%7Creq?X-Amz-Credential=AKIA%2F20261123%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature={URL_SIGNATURE}"
        ))
    }

    pub async fn send(&self, event: &Value, within: Duration) -> Result<Handled, HandleError> {
        let raw = serde_json::to_vec(event).unwrap();
        self.handler.handle(&raw, Instant::now() + within).await
    }

    /// Sends the event and returns the one answer the receiver accepted for it.
    pub async fn answer(&self, event: &Value) -> Value {
        let before = self.receiver.accepted().len();
        self.send(event, Duration::from_secs(60))
            .await
            .expect("answer delivered");
        let accepted = self
            .receiver
            .wait_for_accepted(before + 1, Duration::from_secs(5))
            .await;
        assert_eq!(accepted.len(), before + 1, "exactly one accepted answer");
        accepted.last().unwrap().json()
    }

    pub fn last_request(&self) -> Recorded {
        self.receiver
            .requests()
            .last()
            .cloned()
            .expect("a request arrived")
    }

    pub fn calls(&self, action: &str) -> usize {
        self.ecs()
            .calls()
            .iter()
            .filter(|c| c.action == action)
            .count()
    }

    /// Sends a `Custom::ImageCopy` Create with these properties and returns the one answer
    /// the receiver accepted for it.
    pub async fn answer_create(&self, props: &Value) -> Value {
        self.answer(&cfn_event(self, "Create", "Custom::ImageCopy", props))
            .await
    }

    /// Sends a `Custom::ImageCopy` Create with these properties, allowing it `within`, and
    /// returns the answer the handler sent.
    pub async fn create_within(&self, props: &Value, within: Duration) -> Value {
        let create = cfn_event(self, "Create", "Custom::ImageCopy", props);
        answer_of(self.send(&create, within).await.unwrap())
    }

    /// The images the emulator holds that are copies (not the source images).
    pub fn copies(&self) -> Vec<ImageView> {
        self.ecs()
            .images()
            .into_iter()
            .filter(|i| i.is_copy)
            .collect()
    }

    /// The error codes ECS answered to `action`, in order.
    pub fn error_codes(&self, action: &str) -> Vec<String> {
        self.ecs()
            .calls()
            .into_iter()
            .filter(|c| c.action == action)
            .filter_map(|c| c.error_code)
            .collect()
    }

    /// Which of these snapshots still exist.
    pub fn snapshots_left(&self, snapshot_ids: &[String]) -> Vec<SnapshotView> {
        self.ecs()
            .snapshots()
            .into_iter()
            .filter(|s| snapshot_ids.contains(&s.snapshot_id))
            .collect()
    }

    /// Snapshots of no image, or of an image that no longer exists.
    pub fn orphaned_snapshots(&self) -> Vec<SnapshotView> {
        let images: Vec<String> = self
            .ecs()
            .images()
            .into_iter()
            .map(|i| i.image_id)
            .collect();
        self.ecs()
            .snapshots()
            .into_iter()
            .filter(|s| s.image_id.as_ref().is_none_or(|i| !images.contains(i)))
            .collect()
    }
}

/// The answer a handler call sent, as JSON.
pub fn answer_of(handled: Handled) -> Value {
    let Handled::Answered(handled) = handled else {
        panic!("not answered: {handled:?}")
    };
    serde_json::from_str(&handled.body.json).unwrap()
}

pub fn tf_props() -> Value {
    json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:copy",
        "SourceImageId": SOURCE_IMAGE,
        "SourceRegionId": SOURCE_REGION,
        "ImageName": "web-server",
        "Description": "copied for the test",
        "Tags": [{"MapKey": "team", "MapValue": "platform"}]
    })
}

pub fn ros_props() -> Value {
    json!({
        "ImageId": SOURCE_IMAGE,
        "DestinationRegionId": DEST_REGION,
        "DestinationImageName": "web-server",
        "Tag": [{"Key": "team", "Value": "platform"}]
    })
}

/// A CloudFormation custom-resource event.
pub fn cfn_event(world: &World, request_type: &str, resource_type: &str, props: &Value) -> Value {
    let n = world.seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    json!({
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:copy",
        "ResponseURL": world.response_url(),
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/test/guid",
        "RequestId": format!("request-{n}"),
        "ResourceType": resource_type,
        "LogicalResourceId": "Copy",
        "ResourceProperties": props,
    })
}

/// A ROS custom-resource event.
pub fn ros_event(world: &World, request_type: &str, resource_type: &str, props: &Value) -> Value {
    let n = world.seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    json!({
        "RequestType": request_type,
        "ResponseURL": world.receiver.url(&format!("/ros-callback/{n}?Signature={URL_SIGNATURE}")),
        "IntranetResponseURL": "http://127.0.0.1:9/unused",
        "StackId": "5f2b7c8d-ros-stack",
        "StackName": "test",
        "ResourceOwnerId": "1234",
        "CallerId": "1234",
        "RegionId": SOURCE_REGION,
        "RequestId": format!("ros-request-{n}"),
        "ResourceType": resource_type,
        "LogicalResourceId": "Copy",
        "ResourceProperties": props,
    })
}

pub fn with_physical(mut event: Value, physical: &str) -> Value {
    event["PhysicalResourceId"] = json!(physical);
    event
}

pub fn as_update(mut event: Value, physical: &str, old: &Value) -> Value {
    event["RequestType"] = json!("Update");
    event["PhysicalResourceId"] = json!(physical);
    event["OldResourceProperties"] = old.clone();
    event
}

/// The image a physical id names: `TF::Alicloud::ImageCopy` ids record the region
/// (`cn-shanghai/m-...`), the others are the image id itself.
pub fn image_of(physical: &str) -> String {
    ecs_image_copy::lifecycle::PhysicalId::parse(physical)
        .map_or_else(|| physical.to_string(), |p| p.image_id)
}
