//! The loopback rig one stack runs on.

use std::sync::Arc;
use std::time::Duration;

use ecs_emulator::receiver::Receiver;
use ecs_emulator::{Control, Emulator, EmulatorConfig, Realism, SourceImage};
use ecs_image_copy::ecs::{Credentials, EcsClient, Endpoints, ReqwestTransport, RetryPolicy};
use ecs_image_copy::handler::{HandleError, Handler};
use ecs_image_copy::settings::Settings;
use serde_json::{json, Value};

use crate::common::{DEST_REGION, SECRET, SOURCE_IMAGE, SOURCE_REGION, TOKEN, URL_SIGNATURE};

pub const SECOND_SOURCE: &str = "m-source0000000002";
const KEY_ID: &str = "LTAI-reliability-key";

/// One stack's world: its own emulator (copies queue per region, so stacks must not share
/// one), its own ResponseURL receiver, and a handler with a quick retry policy.
pub struct Rig {
    pub emulator: Emulator,
    pub receiver: Receiver,
    pub handler: Handler,
    seq: std::sync::atomic::AtomicU32,
}

impl Rig {
    pub async fn new(seed: u64, copy: Duration) -> Rig {
        Self::with_realism(seed, copy, crate::common::suite_realism()).await
    }

    pub async fn with_realism(seed: u64, copy: Duration, realism: Realism) -> Rig {
        let config = EmulatorConfig {
            realism,
            access_key_id: KEY_ID.into(),
            access_key_secret: SECRET.into(),
            security_token: Some(TOKEN.into()),
            images: vec![
                SourceImage::new(SOURCE_IMAGE, SOURCE_REGION),
                SourceImage::new(SECOND_SOURCE, SOURCE_REGION),
            ],
            copy_duration: copy,
            seed,
            ..EmulatorConfig::default()
        };
        let emulator = Emulator::start(config, 0).await.expect("emulator starts");
        let credentials = Credentials::new(KEY_ID, SECRET, Some(TOKEN.to_string()));
        let transport = ReqwestTransport::new(Duration::from_secs(2));
        let retry = RetryPolicy::seeded(
            Duration::from_millis(20),
            Duration::from_millis(200),
            Duration::from_secs(3),
            seed,
        )
        .with_busy_backoff(Duration::from_millis(100), Duration::from_secs(1));
        let ecs = EcsClient::with_transport(
            credentials.clone(),
            Endpoints::with_override(&emulator.endpoint()).expect("loopback endpoint"),
            Arc::new(transport),
            retry,
        );
        let settings = Settings {
            credentials: Ok(Some(credentials)),
            region_id: Some(DEST_REGION.into()),
            ecs_endpoints: ecs_image_copy::ecs::Endpoints::with_override(&emulator.endpoint()),
            ros_timeout: Duration::from_secs(600),
            handover: None,
        };
        Rig {
            emulator,
            receiver: Receiver::start().await.expect("receiver starts"),
            handler: Handler::with_client(ecs, settings),
            seq: Default::default(),
        }
    }

    pub fn ecs(&self) -> Control {
        self.emulator.control()
    }

    fn next(&self) -> u32 {
        self.seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }

    /// An event with its own presigned-looking ResponseURL, so answers can be told apart.
    pub fn event(&self, envelope: Envelope, request_type: &str, ty: &str, props: &Value) -> Value {
        let n = self.next();
        match envelope {
            Envelope::CloudFormation => json!({
                "RequestType": request_type,
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:copy",
                "ResponseURL": self.receiver.url(&format!(
                    "/cfn/{n}?X-Amz-Credential=AKIA%2F20261123%2Fs3&X-Amz-Signature={URL_SIGNATURE}"
                )),
                "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/rel/guid",
                "RequestId": format!("request-{n}"),
                "ResourceType": ty,
                "LogicalResourceId": "Copy",
                "ResourceProperties": props,
            }),
            Envelope::Ros => json!({
                "RequestType": request_type,
                "ResponseURL": self.receiver.url(&format!("/ros/{n}?Signature={URL_SIGNATURE}")),
                "IntranetResponseURL": "http://127.0.0.1:9/unused",
                "StackId": "5f2b7c8d-ros-rel",
                "StackName": "rel",
                "ResourceOwnerId": "1234",
                "CallerId": "1234",
                "RegionId": SOURCE_REGION,
                "RequestId": format!("ros-request-{n}"),
                "ResourceType": ty,
                "LogicalResourceId": "Copy",
                "ResourceProperties": props,
            }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    CloudFormation,
    Ros,
}

/// The error a handler call returned, shown as a user would see it.
pub fn shown(error: &HandleError) -> String {
    format!("{error} / {error:?}")
}
