//! The real binary against an ECS emulator and a ResponseURL receiver on loopback, as a
//! stack engine would drive it: events written to files, `ecs-image-copy invoke` run in a
//! clean environment, its answers, exit status and log read back.
#![allow(dead_code)]

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ecs_emulator::receiver::Receiver;
use ecs_emulator::{Control, Emulator, EmulatorConfig, SourceImage};
use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_ecs-image-copy");
pub const KEY_ID: &str = "LTAI-cli-engine";
pub const SECRET: &str = "SECRET-cli-engine-4c1d";
pub const SOURCE_IMAGE: &str = "m-source0000000001";
pub const SOURCE_REGION: &str = "cn-hangzhou";
pub const DEST_REGION: &str = "cn-shanghai";

pub struct Cloud {
    pub emulator: Emulator,
    pub receiver: Receiver,
    seq: AtomicU32,
}

pub struct Run {
    pub output: Output,
    pub elapsed: Duration,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn answers(&self) -> Vec<Value> {
        String::from_utf8_lossy(&self.output.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    pub fn answer(&self) -> Value {
        self.answers()
            .pop()
            .unwrap_or_else(|| panic!("no answer: {}", self.stderr()))
    }
}

/// How the binary is started: which provider region, and with or without credentials.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub region: Option<&'a str>,
    pub credentials: bool,
    /// `AWS_LAMBDA_LOG_FORMAT=JSON`, as on Lambda.
    pub json_logs: bool,
}

pub const CONFIGURED: Env<'static> = Env {
    region: Some(DEST_REGION),
    credentials: true,
    json_logs: false,
};

impl Cloud {
    pub async fn start(copy: Duration) -> Cloud {
        let config = EmulatorConfig {
            access_key_id: KEY_ID.into(),
            access_key_secret: SECRET.into(),
            security_token: None,
            images: vec![SourceImage::new(SOURCE_IMAGE, SOURCE_REGION)],
            copy_duration: copy,
            ..EmulatorConfig::default()
        };
        Cloud {
            emulator: Emulator::start(config, 0).await.expect("emulator starts"),
            receiver: Receiver::start().await.expect("receiver starts"),
            seq: AtomicU32::new(0),
        }
    }

    pub fn ecs(&self) -> Control {
        self.emulator.control()
    }

    pub fn cfn(&self, request_type: &str, resource_type: &str, props: Value) -> Value {
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        json!({
            "RequestType": request_type,
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:copy",
            "ResponseURL": self.receiver.url(&format!("/cfn/{n}?X-Amz-Signature=sig")),
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/cli-engine/guid",
            "RequestId": format!("request-{n}"),
            "ResourceType": resource_type,
            "LogicalResourceId": "Copy",
            "ResourceProperties": props,
        })
    }

    pub fn ros(&self, request_type: &str, props: Value) -> Value {
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        json!({
            "RequestType": request_type,
            "ResponseURL": self.receiver.url(&format!("/ros/{n}?Signature=sig")),
            "IntranetResponseURL": "http://127.0.0.1:9/unused",
            "StackId": "5f2b7c8d-ros-cli-engine",
            "StackName": "cli-engine",
            "ResourceOwnerId": "1234",
            "CallerId": "1234",
            "RegionId": SOURCE_REGION,
            "RequestId": format!("ros-request-{n}"),
            "ResourceType": "ALIYUN::ROS::CustomResource",
            "LogicalResourceId": "Copy",
            "ResourceProperties": props,
        })
    }

    /// Runs `ecs-image-copy invoke ARGS EVENT_FILES...` in a clean environment.
    pub async fn invoke(&self, env: Env<'_>, args: &[&str], events: &[Value]) -> Run {
        // Tests run in parallel in one process: the directory counter is process-wide.
        static RUNS: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cli-engine-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut command = Command::new(BIN);
        command.arg("invoke").args(args);
        for (i, event) in events.iter().enumerate() {
            let path = dir.join(format!("{i:04}.json"));
            std::fs::write(&path, serde_json::to_vec(event).unwrap()).unwrap();
            command.arg(path);
        }
        for name in [
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
            "ALICLOUD_ACCESS_KEY",
            "ALICLOUD_SECRET_KEY",
            "ALICLOUD_REGION",
            "ALIBABA_CLOUD_REGION_ID",
            "ALIBABA_CLOUD_ECS_ENDPOINT",
            "AWS_LAMBDA_RUNTIME_API",
            "AWS_LAMBDA_FUNCTION_NAME",
        ] {
            command.env_remove(name);
        }
        command.env("RUST_LOG", "info");
        command.env_remove("AWS_LAMBDA_LOG_FORMAT");
        if env.json_logs {
            command.env("AWS_LAMBDA_LOG_FORMAT", "JSON");
        }
        command.env("ALIBABA_CLOUD_ECS_ENDPOINT", self.emulator.endpoint());
        if env.credentials {
            command
                .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
                .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET);
        }
        if let Some(region) = env.region {
            command.env("ALIBABA_CLOUD_REGION_ID", region);
        }
        let started = Instant::now();
        let output = tokio::task::spawn_blocking(move || command.output().expect("binary runs"))
            .await
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        Run {
            output,
            elapsed: started.elapsed(),
        }
    }

    pub fn copies(&self) -> Vec<ecs_emulator::ImageView> {
        self.ecs()
            .images()
            .into_iter()
            .filter(|i| i.is_copy)
            .collect()
    }

    pub fn calls(&self, action: &str) -> usize {
        self.ecs()
            .calls()
            .iter()
            .filter(|c| c.action == action)
            .count()
    }

    /// Runs `ecs-image-copy invoke` on one Create of `Custom::ImageCopy` with these properties.
    pub async fn create(&self, env: Env<'_>, props: Value) -> Run {
        let event = self.cfn("Create", "Custom::ImageCopy", props);
        self.invoke(env, &[], &[event]).await
    }

    /// A `Custom::ImageCopy` event (an Update or a Delete) for the copy named `physical`.
    pub fn cfn_for(&self, request_type: &str, props: Value, physical: &str) -> Value {
        let mut event = self.cfn(request_type, "Custom::ImageCopy", props);
        event["PhysicalResourceId"] = json!(physical);
        event
    }
}

pub fn tf_props() -> Value {
    json!({"SourceImageId": SOURCE_IMAGE, "SourceRegionId": SOURCE_REGION,
           "ImageName": "web-server", "Tags": [{"MapKey": "team", "MapValue": "a"}]})
}

pub fn ros_props() -> Value {
    json!({"ImageId": SOURCE_IMAGE, "SourceRegionId": SOURCE_REGION,
           "DestinationRegionId": DEST_REGION, "DestinationImageName": "web-server"})
}

pub fn with(mut props: Value, key: &str, value: Value) -> Value {
    props[key] = value;
    props
}

/// Copies into one region need names of their own.
pub fn unnamed(mut props: Value) -> Value {
    let fields = props.as_object_mut().unwrap();
    fields.remove("ImageName");
    fields.remove("DestinationImageName");
    props
}
