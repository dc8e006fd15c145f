//! A rollback after any failed Create succeeds: the invariant over the whole hostile corpus
//! through the real binary (every Create answered FAILED, then its Delete with the answered
//! PhysicalResourceId and the same properties: SUCCESS, and not one ECS call), and over copies
//! that end `CreateFailed` (the Delete succeeds and no image is left).

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use common::*;
use ecs_emulator::receiver::Receiver;
use ecs_emulator::{Emulator, EmulatorConfig, SourceImage};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_ecs-image-copy");

#[derive(serde::Deserialize)]
struct Expectation {
    answer: String,
}

/// The corpus's Creates that are answered FAILED, with `RECEIVER` pointed at `host`.
fn failed_creates(host: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let index: BTreeMap<String, Expectation> =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index
        .into_iter()
        .filter(|(_, e)| e.answer == "FAILED")
        .filter_map(|(file, _)| {
            let raw = std::fs::read(dir.join("cases").join(&file)).unwrap();
            let text = String::from_utf8(raw).ok()?.replace("RECEIVER", host);
            let event: Value = serde_json::from_str(&text).ok()?;
            (event["RequestType"] == "Create").then(|| (file, text.into_bytes()))
        })
        .collect()
}

/// One binary run over many event files; the answers in order, and the exit status.
async fn invoke(
    emulator: &Emulator,
    files: &[(String, Vec<u8>)],
    tag: &str,
) -> (Vec<Value>, i32, String) {
    let dir = std::env::temp_dir().join(format!("rollback-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = Command::new(BIN);
    command.arg("invoke");
    for (i, (_, raw)) in files.iter().enumerate() {
        let path = dir.join(format!("{i:04}.json"));
        std::fs::write(&path, raw).unwrap();
        command.arg(path);
    }
    command
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-rollback")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .env("ALIBABA_CLOUD_REGION_ID", DEST_REGION)
        .env("ALIBABA_CLOUD_ECS_ENDPOINT", emulator.endpoint())
        .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("RUST_LOG", "warn");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let answers = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        answers,
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rollback_of_every_failed_corpus_create_succeeds_without_an_ecs_call() {
    let config = EmulatorConfig {
        access_key_id: "LTAI-rollback".into(),
        access_key_secret: SECRET.into(),
        security_token: None,
        images: vec![SourceImage::new(SOURCE_IMAGE, SOURCE_REGION)],
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config, 0).await.unwrap();
    let receiver = Receiver::start().await.unwrap();
    let host = receiver.url("");
    let host = host.strip_prefix("http://").unwrap();
    let creates = failed_creates(host);
    assert!(
        creates.len() >= 250,
        "only {} failed Creates",
        creates.len()
    );

    let (answers, code, stderr) = invoke(&emulator, &creates, "create").await;
    assert_eq!(code, 3, "every Create answered FAILED: {stderr}");
    assert_eq!(answers.len(), creates.len(), "{stderr}");
    let deletes: Vec<(String, Vec<u8>)> = creates
        .iter()
        .zip(&answers)
        .map(|((file, raw), answer)| {
            assert_eq!(answer["Status"], "FAILED", "{file}: {answer}");
            let mut event: Value = serde_json::from_slice(raw).unwrap();
            event["RequestType"] = json!("Delete");
            event["PhysicalResourceId"] = answer["PhysicalResourceId"].clone();
            (file.clone(), serde_json::to_vec(&event).unwrap())
        })
        .collect();

    let started = std::time::Instant::now();
    let (answers, code, stderr) = invoke(&emulator, &deletes, "delete").await;
    eprintln!(
        "{} rollbacks in one process: {:?}",
        deletes.len(),
        started.elapsed()
    );
    let refused: Vec<String> = deletes
        .iter()
        .zip(&answers)
        .filter(|(_, a)| a["Status"] != "SUCCESS")
        .map(|((file, _), a)| format!("{file}: {}", a["Reason"]))
        .collect();
    assert!(
        refused.is_empty(),
        "{} rollbacks failed:\n{}",
        refused.len(),
        refused.join("\n")
    );
    assert_eq!(answers.len(), deletes.len(), "{stderr}");
    assert_eq!(code, 0, "{stderr}");
    let calls = emulator.control().calls();
    assert!(calls.is_empty(), "the corpus reached ECS: {calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_that_ends_create_failed_is_rolled_back_without_a_trace() {
    let world = World::new(Duration::from_millis(400)).await;
    type MakeEvent = fn(&World, &str, &str, &Value) -> Value;
    let cases: [(&str, Value, MakeEvent); 2] = [
        ("Custom::ImageCopy", tf_props(), cfn_event),
        ("ALIYUN::ECS::CopyImage", ros_props(), ros_event),
    ];
    for (resource_type, props, event) in cases {
        world.ecs().fail_next_copies(1);
        let created = world
            .answer(&event(&world, "Create", resource_type, &props))
            .await;
        assert_eq!(created["Status"], "FAILED", "{created}");
        assert!(
            created["Reason"].as_str().unwrap().contains("CreateFailed"),
            "{created}"
        );
        let physical = created["PhysicalResourceId"].as_str().unwrap();
        let deleted = world
            .answer(&with_physical(
                event(&world, "Delete", resource_type, &props),
                physical,
            ))
            .await;
        assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
        let copies: Vec<_> = world
            .ecs()
            .images()
            .into_iter()
            .filter(|i| i.is_copy)
            .collect();
        assert!(copies.is_empty(), "{resource_type}: left behind {copies:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_of_a_real_copy_ignores_rules_that_do_not_say_where_it_is() {
    let world = World::new(Duration::from_millis(300)).await;
    let created = world
        .answer(&cfn_event(
            &world,
            "Create",
            "Custom::ImageCopy",
            &tf_props(),
        ))
        .await;
    let physical = created["PhysicalResourceId"].as_str().unwrap();
    let image_id = created["Data"]["ImageId"].as_str().unwrap();
    // What a newer rule might refuse: a name starting with a digit, an unknown key, a bad
    // timeout and an unreadable flag.
    let mut props = tf_props();
    props["ImageName"] = json!("1-web");
    props["Unknown"] = json!(true);
    props["Timeouts"] = json!({"Delete": "forever"});
    props["ServiceTimeout"] = json!("never");
    let deleted = world
        .answer(&with_physical(
            cfn_event(&world, "Delete", "Custom::ImageCopy", &props),
            physical,
        ))
        .await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert!(world.ecs().image(image_id).is_none());

    // Where the copy is cannot be told: the one reason a Delete of a real copy fails.
    let ros = world
        .answer(&ros_event(
            &world,
            "Create",
            "ALIYUN::ECS::CopyImage",
            &ros_props(),
        ))
        .await;
    assert_eq!(ros["Status"], "SUCCESS", "{ros}");
    let ros_id = ros["PhysicalResourceId"].as_str().unwrap();
    let deleted = world
        .answer(&with_physical(
            ros_event(
                &world,
                "Delete",
                "ALIYUN::ECS::CopyImage",
                &json!({"ImageId": SOURCE_IMAGE}),
            ),
            ros_id,
        ))
        .await;
    assert_eq!(deleted["Status"], "FAILED", "{deleted}");
    assert!(
        deleted["Reason"]
            .as_str()
            .unwrap()
            .contains("DestinationRegionId"),
        "{deleted}"
    );
    assert!(
        world.ecs().image(ros_id).is_some(),
        "nothing guessed, nothing removed"
    );
}
