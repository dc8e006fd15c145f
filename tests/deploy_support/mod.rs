//! What the deployment tests share: the binary under test (the release build when
//! `ECS_IMAGE_COPY_BIN` names it), an ECS emulator holding the example events' source image,
//! and the example events pointed at a loopback receiver.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ecs_emulator::receiver::Receiver;
use ecs_emulator::{Emulator, EmulatorConfig, SourceImage};
use serde_json::{json, Value};

pub const KEY_ID: &str = "LTAI-deploy-test";
pub const SECRET: &str = "SECRET-canary-deploy-41c7";
pub const TOKEN: &str = "TOKEN-canary-deploy-93ab";
/// The source image every example event in tests/events/ names.
pub const EVENT_SOURCE_IMAGE: &str = "m-bp1demo0source0001";
pub const EVENT_SOURCE_REGION: &str = "cn-hangzhou";
pub const EVENT_DEST_REGION: &str = "cn-shanghai";

/// `ECS_IMAGE_COPY_BIN` (scripts/test sets it to the release build), else the test profile's.
pub fn binary() -> PathBuf {
    match std::env::var_os("ECS_IMAGE_COPY_BIN") {
        Some(path) => {
            let path = PathBuf::from(path);
            if path.is_absolute() {
                path
            } else {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
            }
        }
        None => PathBuf::from(env!("CARGO_BIN_EXE_ecs-image-copy")),
    }
}

/// The `ecs-emulator` binary the one under test runs for `emulator` and `invoke --emulator`:
/// `ECS_EMULATOR_BIN` when set, else the one beside it (`cargo build` at the workspace root
/// builds both into the same directory).
pub fn emulator_binary() -> PathBuf {
    match std::env::var_os("ECS_EMULATOR_BIN") {
        Some(path) => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path),
        None => binary().with_file_name(format!("ecs-emulator{}", std::env::consts::EXE_SUFFIX)),
    }
}

/// A command for the binary with no credentials or endpoint inherited from the caller.
pub fn command() -> Command {
    let mut cmd = Command::new(binary());
    for var in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "ALICLOUD_ACCESS_KEY",
        "ALICLOUD_SECRET_KEY",
        "ALICLOUD_SECURITY_TOKEN",
        "ALIBABA_CLOUD_REGION_ID",
        "ALIBABA_CLOUD_ECS_ENDPOINT",
        "ALIBABA_CLOUD_ECS_ENDPOINTS",
        "ALIBABA_CLOUD_NETWORK",
        "ALIBABA_CLOUD_CREDENTIALS_SECRET_ARN",
        "AWS_LAMBDA_RUNTIME_API",
        "FC_SERVER_PORT",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Kills the child when the test ends, pass or fail.
pub struct Running(Option<Child>);

impl Running {
    pub fn new(child: Child) -> Self {
        Running(Some(child))
    }

    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("running")
    }

    /// Stops the process and returns what it wrote (stdout, stderr).
    pub fn finish(mut self) -> (String, String) {
        let mut child = self.0.take().expect("running");
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub async fn emulator(token: Option<&str>) -> Emulator {
    let config = EmulatorConfig {
        access_key_id: KEY_ID.into(),
        access_key_secret: SECRET.into(),
        security_token: token.map(str::to_string),
        images: vec![SourceImage::new(EVENT_SOURCE_IMAGE, EVENT_SOURCE_REGION)],
        copy_duration: Duration::from_secs(1),
        ..EmulatorConfig::default()
    };
    Emulator::start(config, 0).await.expect("emulator starts")
}

/// An example event from tests/events/, answered to `receiver` instead of its placeholder URL.
pub fn event(name: &str, receiver: &Receiver, physical_id: Option<&str>) -> Value {
    let path = format!("{}/tests/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    event["ResponseURL"] = json!(receiver.url(&format!("/answer/{name}?X-Amz-Signature=sig")));
    if let Some(id) = physical_id {
        event["PhysicalResourceId"] = json!(id);
    }
    event
}

pub fn assert_no_secrets(output: &str) {
    for secret in [SECRET, TOKEN] {
        assert!(!output.contains(secret), "a secret was logged:\n{output}");
    }
}
