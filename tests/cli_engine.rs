//! The real binary against an ECS emulator and a ResponseURL receiver on loopback, as a
//! stack engine would drive it: the engines' time limits answered before they elapse with the
//! copy cancelled, the CLI doing nothing fake unless asked, its exit status, and a copy that
//! stays found when the provider region changes between Create and Delete.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ecs_image_copy::emulator::{Control, Emulator, EmulatorConfig, SourceImage};
use ecs_image_copy::receiver::Receiver;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_ecs-image-copy");
const KEY_ID: &str = "LTAI-cli-engine";
const SECRET: &str = "SECRET-cli-engine-4c1d";
const SOURCE_IMAGE: &str = "m-source0000000001";
const SOURCE_REGION: &str = "cn-hangzhou";
const DEST_REGION: &str = "cn-shanghai";

struct Cloud {
    emulator: Emulator,
    receiver: Receiver,
    seq: AtomicU32,
}

struct Run {
    output: Output,
    elapsed: Duration,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    fn answers(&self) -> Vec<Value> {
        String::from_utf8_lossy(&self.output.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    fn answer(&self) -> Value {
        self.answers()
            .pop()
            .unwrap_or_else(|| panic!("no answer: {}", self.stderr()))
    }
}

/// How the binary is started: which provider region, and with or without credentials.
#[derive(Clone, Copy)]
struct Env<'a> {
    region: Option<&'a str>,
    credentials: bool,
}

const CONFIGURED: Env<'static> = Env {
    region: Some(DEST_REGION),
    credentials: true,
};

impl Cloud {
    async fn start(copy: Duration) -> Cloud {
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

    fn ecs(&self) -> Control {
        self.emulator.control()
    }

    fn cfn(&self, request_type: &str, resource_type: &str, props: Value) -> Value {
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

    fn ros(&self, request_type: &str, props: Value) -> Value {
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
    async fn invoke(&self, env: Env<'_>, args: &[&str], events: &[Value]) -> Run {
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

    fn copies(&self) -> Vec<ecs_image_copy::emulator::ImageView> {
        self.ecs()
            .images()
            .into_iter()
            .filter(|i| i.is_copy)
            .collect()
    }

    fn calls(&self, action: &str) -> usize {
        self.ecs()
            .calls()
            .iter()
            .filter(|c| c.action == action)
            .count()
    }
}

fn tf_props() -> Value {
    json!({"SourceImageId": SOURCE_IMAGE, "SourceRegionId": SOURCE_REGION,
           "ImageName": "web-server", "Tags": [{"MapKey": "team", "MapValue": "a"}]})
}

fn ros_props() -> Value {
    json!({"ImageId": SOURCE_IMAGE, "SourceRegionId": SOURCE_REGION,
           "DestinationRegionId": DEST_REGION, "DestinationImageName": "web-server"})
}

fn with(mut props: Value, key: &str, value: Value) -> Value {
    props[key] = value;
    props
}

/// Copies into one region need names of their own.
fn unnamed(mut props: Value) -> Value {
    let fields = props.as_object_mut().unwrap();
    fields.remove("ImageName");
    fields.remove("DestinationImageName");
    props
}

/// The copy outlasts the engine's limit: answered FAILED before the limit, progress in the
/// reason, the copy cancelled and gone.
async fn assert_answered_in_time(cloud: &Cloud, event: Value, limit: Duration, key: &str) {
    let run = cloud.invoke(CONFIGURED, &[], &[event]).await;
    assert!(run.elapsed < limit, "answered after {:?}", run.elapsed);
    assert_eq!(run.code(), Some(3), "FAILED delivered: {}", run.stderr());
    let answer = run.answer();
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(reason.contains(key), "names the limit: {reason}");
    assert!(reason.contains("cancelled"), "{reason}");
    assert!(
        reason.contains('%') || reason.contains("Waiting"),
        "progress: {reason}"
    );
    assert_eq!(cloud.receiver.accepted().last().unwrap().json(), answer);
    assert_eq!(cloud.ecs().copy_tasks_running(), 0, "no copy left running");
    assert!(
        cloud.copies().is_empty(),
        "no copy left: {:?}",
        cloud.copies()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_timeout_is_answered_before_it_elapses_with_the_copy_cancelled() {
    let cloud = Cloud::start(Duration::from_secs(60)).await;
    let tf = cloud.cfn(
        "Create",
        "Custom::ImageCopy",
        with(tf_props(), "ServiceTimeout", json!("4")),
    );
    assert_answered_in_time(&cloud, tf, Duration::from_secs(4), "ServiceTimeout 4s").await;
    let ros = cloud.cfn(
        "Create",
        "AWS::CloudFormation::CustomResource",
        with(ros_props(), "ServiceTimeout", json!(4)),
    );
    assert_answered_in_time(&cloud, ros, Duration::from_secs(4), "ServiceTimeout 4s").await;
    assert_eq!(cloud.calls("CancelCopyImage"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ros_timeout_is_answered_before_it_elapses_flat_or_beside_parameters() {
    let cloud = Cloud::start(Duration::from_secs(60)).await;
    let flat = cloud.ros("Create", with(ros_props(), "Timeout", json!("4")));
    assert_answered_in_time(&cloud, flat, Duration::from_secs(4), "Timeout 4s").await;
    let nested = cloud.ros(
        "Create",
        json!({"ServiceToken": "acs:fc:cn-hangzhou:1:functions/f", "Timeout": 4,
               "Parameters": ros_props()}),
    );
    assert_answered_in_time(&cloud, nested, Duration::from_secs(4), "Timeout 4s").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_keys_are_accepted_for_every_type_spelling_and_bad_ones_named() {
    let cloud = Cloud::start(Duration::from_millis(300)).await;
    let mut events = Vec::new();
    for ty in [
        "TF::Alicloud::ImageCopy",
        "Custom::ImageCopy",
        "AWS::CloudFormation::CustomResource",
    ] {
        events.push(cloud.cfn(
            "Create",
            ty,
            with(unnamed(tf_props()), "ServiceTimeout", json!("3600")),
        ));
    }
    events.push(cloud.cfn(
        "Create",
        "ALIYUN::ECS::CopyImage",
        with(unnamed(ros_props()), "ServiceTimeout", json!(600)),
    ));
    events.push(cloud.ros(
        "Create",
        with(unnamed(ros_props()), "Timeout", json!(43200)),
    ));
    let run = cloud.invoke(CONFIGURED, &[], &events).await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(
        run.answers().iter().all(|a| a["Status"] == "SUCCESS"),
        "{:?}",
        run.answers()
    );

    cloud.ecs().clear_calls();
    let bad = [
        cloud.cfn(
            "Create",
            "Custom::ImageCopy",
            with(tf_props(), "ServiceTimeout", json!(3601)),
        ),
        cloud.ros("Create", with(ros_props(), "Timeout", json!("sixty"))),
    ];
    let run = cloud.invoke(CONFIGURED, &[], &bad).await;
    assert_eq!(run.code(), Some(3));
    let reasons: Vec<String> = run
        .answers()
        .iter()
        .map(|a| a["Reason"].as_str().unwrap().to_string())
        .collect();
    assert!(
        reasons[0].contains("ServiceTimeout: must be a whole number of seconds from 1 to 3600"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("Timeout: must be a whole number of seconds from 1 to 43200"),
        "{reasons:?}"
    );
    assert!(cloud.ecs().calls().is_empty(), "refused before ECS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ros_event_without_timeout_warns_that_ros_may_give_up_first() {
    let cloud = Cloud::start(Duration::from_millis(300)).await;
    let run = cloud
        .invoke(CONFIGURED, &[], &[cloud.ros("Create", ros_props())])
        .await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(
        run.stderr().contains("ROS waits 60 s by default"),
        "{}",
        run.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_and_without_emulator_the_stack_is_told_what_is_missing() {
    let cloud = Cloud::start(Duration::from_millis(300)).await;
    let env = Env {
        region: Some(DEST_REGION),
        credentials: false,
    };
    let run = cloud
        .invoke(
            env,
            &[],
            &[cloud.cfn("Create", "Custom::ImageCopy", tf_props())],
        )
        .await;
    assert_eq!(run.code(), Some(3), "FAILED delivered: {}", run.stderr());
    let answer = run.answer();
    assert_eq!(answer["Status"], "FAILED");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(
        reason.contains("ALIBABA_CLOUD_ACCESS_KEY_ID")
            && reason.contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        "{reason}"
    );
    assert!(!run.stderr().contains("emulator"), "{}", run.stderr());
    assert_eq!(
        cloud.receiver.accepted().len(),
        1,
        "delivered to the real ResponseURL"
    );
    assert!(cloud.ecs().calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_status_tells_delivered_success_failed_undelivered_and_usage() {
    let cloud = Cloud::start(Duration::from_millis(200)).await;
    let ok = cloud
        .invoke(
            CONFIGURED,
            &[],
            &[cloud.cfn("Create", "Custom::ImageCopy", tf_props())],
        )
        .await;
    assert_eq!(ok.code(), Some(0), "{}", ok.stderr());

    let failed = cloud
        .invoke(
            CONFIGURED,
            &[],
            &[cloud.cfn("Create", "Custom::ImageCopy", json!({}))],
        )
        .await;
    assert_eq!(failed.code(), Some(3), "{}", failed.stderr());

    // Nothing listens on port 9: not delivered (and without --emulator nothing stands in).
    let mut lost = cloud.cfn("Create", "Custom::ImageCopy", json!({}));
    lost["ResponseURL"] = json!("http://127.0.0.1:9/cb?X-Amz-Signature=s");
    let lost = cloud.invoke(CONFIGURED, &["--timeout", "3"], &[lost]).await;
    assert_eq!(lost.code(), Some(1), "{}", lost.stderr());
    assert!(
        !lost.stderr().contains("local receiver"),
        "{}",
        lost.stderr()
    );

    let usage = cloud.invoke(CONFIGURED, &["--no-such-flag"], &[]).await;
    assert_eq!(usage.code(), Some(2));
    let missing = cloud
        .invoke(CONFIGURED, &["/nonexistent/event.json"], &[])
        .await;
    assert_eq!(missing.code(), Some(2), "{}", missing.stderr());

    let help = Command::new(BIN)
        .args(["invoke", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for line in [
        "0  every answer was delivered",
        "3  every answer",
        "1  an answer could not",
        "2  usage",
    ] {
        assert!(help.contains(line), "{help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_is_updated_and_deleted_where_it_was_made_after_the_provider_region_changed() {
    let cloud = Cloud::start(Duration::from_millis(300)).await;
    let created = cloud
        .invoke(
            CONFIGURED,
            &[],
            &[cloud.cfn("Create", "Custom::ImageCopy", tf_props())],
        )
        .await
        .answer();
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let physical = created["PhysicalResourceId"].as_str().unwrap().to_string();
    let image_id = created["Data"]["ImageId"].as_str().unwrap().to_string();
    assert_eq!(
        created["Data"]["Id"],
        image_id.as_str(),
        "plain id for Fn::GetAtt"
    );
    assert_eq!(physical, format!("{DEST_REGION}/{image_id}"));

    let moved = Env {
        region: Some("cn-beijing"),
        credentials: true,
    };
    let retagged = with(
        tf_props(),
        "Tags",
        json!([{"MapKey": "team", "MapValue": "b"}]),
    );
    let mut update = cloud.cfn("Update", "Custom::ImageCopy", retagged.clone());
    update["PhysicalResourceId"] = json!(physical);
    update["OldResourceProperties"] = tf_props();
    let updated = cloud.invoke(moved, &[], &[update]).await;
    assert_eq!(
        updated.answer()["Status"],
        "SUCCESS",
        "{}",
        updated.stderr()
    );
    assert_eq!(
        updated.answer()["PhysicalResourceId"],
        physical.as_str(),
        "same copy, same id"
    );
    let image = cloud.ecs().image(&image_id).expect("still there");
    assert_eq!(image.region_id, DEST_REGION);
    assert_eq!(
        image.tags.get("team").map(String::as_str),
        Some("b"),
        "updated in place"
    );
    assert_eq!(cloud.calls("CopyImage"), 1, "no replacement");

    let mut delete = cloud.cfn("Delete", "Custom::ImageCopy", retagged);
    delete["PhysicalResourceId"] = json!(physical);
    let deleted = cloud.invoke(moved, &[], &[delete]).await;
    assert_eq!(deleted.code(), Some(0), "{}", deleted.stderr());
    assert!(
        cloud.ecs().image(&image_id).is_none(),
        "the right image was removed"
    );
    let delete_call = cloud
        .ecs()
        .calls()
        .into_iter()
        .find(|c| c.action == "DeleteImage")
        .unwrap();
    assert_eq!(delete_call.region_id.as_deref(), Some(DEST_REGION));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_image_id_from_an_earlier_version_is_deleted_in_the_provider_region() {
    let cloud = Cloud::start(Duration::from_millis(300)).await;
    let created = cloud
        .invoke(
            CONFIGURED,
            &[],
            &[cloud.cfn("Create", "Custom::ImageCopy", tf_props())],
        )
        .await
        .answer();
    let image_id = created["Data"]["ImageId"].as_str().unwrap().to_string();
    let mut delete = cloud.cfn("Delete", "Custom::ImageCopy", tf_props());
    delete["PhysicalResourceId"] = json!(image_id);
    let deleted = cloud.invoke(CONFIGURED, &[], &[delete]).await;
    assert_eq!(
        deleted.answer()["Status"],
        "SUCCESS",
        "{}",
        deleted.stderr()
    );
    assert_eq!(
        deleted.answer()["PhysicalResourceId"],
        image_id.as_str(),
        "echoed as given"
    );
    assert!(cloud.ecs().image(&image_id).is_none());
}
