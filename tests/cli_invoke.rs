//! The real binary: `invoke --emulator` handles whole lifecycles from the example events, for
//! both resource types in both envelopes, against the ECS emulator it runs (the separate
//! `ecs-emulator` binary beside it).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ecs-image-copy");

fn invoke(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .args(["invoke", "--emulator"])
        .args(args)
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .env_remove("ALICLOUD_ACCESS_KEY")
        .env_remove("ALICLOUD_SECRET_KEY")
        .env_remove("ALIBABA_CLOUD_REGION_ID")
        .env_remove("ALIBABA_CLOUD_ECS_ENDPOINT")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn answers(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn lifecycle(combo: &str) {
    let files: Vec<String> = ["create", "update", "delete"]
        .iter()
        .map(|step| format!("tests/events/{combo}-{step}.json"))
        .collect();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let output = invoke(&args, None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{combo}: {stderr}");
    let answers = answers(&output);
    assert_eq!(answers.len(), 3, "{combo}: {answers:?}");
    for answer in &answers {
        assert_eq!(answer["Status"], "SUCCESS", "{combo}: {answer}");
    }
    let created = answers[0]["PhysicalResourceId"].as_str().unwrap();
    let image_id = answers[0]["Data"]["ImageId"].as_str().unwrap();
    assert!(image_id.starts_with("m-"), "{image_id}");
    let expected = match combo.ends_with("-tf") {
        // The TF type's copy lands in the provider region, which the id records.
        true => format!("cn-shanghai/{image_id}"),
        false => image_id.to_string(),
    };
    assert_eq!(created, expected);
    assert!(
        stderr.contains("local receiver"),
        "says where the answer went: {stderr}"
    );
}

#[test]
fn cloudformation_envelope_tf_type_lifecycle() {
    lifecycle("cfn-tf");
}

#[test]
fn cloudformation_envelope_ros_type_lifecycle() {
    lifecycle("cfn-ros");
}

#[test]
fn ros_envelope_ros_type_lifecycle() {
    lifecycle("ros-ros");
}

#[test]
fn ros_envelope_tf_type_lifecycle() {
    lifecycle("ros-tf");
}

#[test]
fn an_event_on_stdin_is_answered_and_printed_last() {
    let event = std::fs::read("tests/events/ros-ros-create.json").unwrap();
    let output = invoke(&["-"], Some(&event));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers = answers(&output);
    assert_eq!(answers.last().unwrap()["Status"], "SUCCESS");
}

#[test]
fn a_short_timeout_answers_failed_in_time() {
    let started = std::time::Instant::now();
    let output = invoke(
        &["--timeout", "1.5", "tests/events/cfn-tf-create.json"],
        None,
    );
    assert!(
        started.elapsed().as_secs_f64() < 3.0,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        output.status.code(),
        Some(3),
        "FAILED delivered: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer = answers(&output).pop().unwrap();
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    assert!(
        answer["Reason"].as_str().unwrap().contains("cancelled"),
        "{answer}"
    );
}

#[test]
fn an_unanswerable_event_exits_non_zero_with_the_reason() {
    let output = invoke(&["-"], Some(b"{\"RequestType\": \"Create\"}"));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("ResponseURL: is required"));
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        vec!["--help"],
        vec!["invoke", "--help"],
        vec!["emulator", "--help"],
        vec!["schema", "--help"],
    ] {
        let output = Command::new(BIN).args(&sub).output().unwrap();
        assert!(output.status.success(), "{sub:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage"),
            "{sub:?}"
        );
    }
}

#[test]
fn schema_check_agrees_with_the_committed_files() {
    let output = Command::new(BIN)
        .args(["schema", "--check"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `invoke`'s emulator takes `ECS_EMULATOR_REALISM` as the standalone one does.
fn invoke_with_realism(spec: &str, files: &[&str]) -> Output {
    Command::new(BIN)
        .args(["invoke", "--emulator"])
        .args(files)
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .env_remove("ALICLOUD_ACCESS_KEY")
        .env_remove("ALICLOUD_SECRET_KEY")
        .env_remove("ALIBABA_CLOUD_REGION_ID")
        .env_remove("ALIBABA_CLOUD_ECS_ENDPOINT")
        .env("ECS_EMULATOR_REALISM", spec)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

#[test]
fn a_whole_lifecycle_copes_with_a_harsh_embedded_emulator() {
    let files = [
        "tests/events/cfn-tf-create.json",
        "tests/events/cfn-tf-update.json",
        "tests/events/cfn-tf-delete.json",
    ];
    let output = invoke_with_realism("harsh", &files);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let answers = answers(&output);
    assert_eq!(answers.len(), 3, "{answers:?}");
    for answer in &answers {
        assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    }
    let refused = invoke_with_realism("sometimes", &files[..1]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("unknown behaviour \"sometimes\""),
        "{stderr}"
    );
}
