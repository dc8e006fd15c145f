//! The Alibaba Cloud credentials kept in AWS Secrets Manager (or an SSM SecureString): the
//! real binary (`invoke`, and
//! as a Lambda bootstrap) reads them from moto's Secrets Manager with a role's temporary credentials, moto checking
//! the SigV4 signature and the role's policy, then copies against the ECS emulator.
//!
//! Needs moto: `scripts/secrets-against-moto` (part of `scripts/test`) installs and starts it,
//! creates the secrets and roles, and runs these with `--ignored`. Run any other way they fail
//! rather than pass unchecked.

mod deploy_support;
mod runtime_api_queue;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use deploy_support::{command, Running, EVENT_SOURCE_IMAGE, EVENT_SOURCE_REGION};
use ecs_emulator::receiver::Receiver;
use ecs_emulator::{Emulator, EmulatorConfig, SourceImage};
use runtime_api_queue::RuntimeApi;
use serde_json::{json, Value};

fn fixture() -> Value {
    let path = std::env::var("MOTO_SECRETS_FIXTURE")
        .expect("MOTO_SECRETS_FIXTURE is not set: run scripts/secrets-against-moto");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("fixture has no {pointer}"))
}

async fn emulator_for(fixture: &Value) -> Emulator {
    let config = EmulatorConfig {
        access_key_id: text(fixture, "/alibaba/AccessKeyId").into(),
        access_key_secret: text(fixture, "/alibaba/AccessKeySecret").into(),
        security_token: Some(text(fixture, "/alibaba/SecurityToken").into()),
        images: vec![SourceImage::new(EVENT_SOURCE_IMAGE, EVENT_SOURCE_REGION)],
        copy_duration: Duration::from_secs(1),
        ..EmulatorConfig::default()
    };
    Emulator::start(config, 0).await.expect("emulator starts")
}

/// The binary with the secret `secret` to be read as `role` (its secret key spoiled when
/// `tamper_signature`), ECS at `emulator`.
fn with_secret(
    mut cmd: Command,
    fixture: &Value,
    secret: &str,
    role: &str,
    emulator: &Emulator,
    tamper_signature: bool,
) -> Command {
    let mut aws_secret = text(fixture, &format!("/{role}/SecretAccessKey")).to_string();
    if tamper_signature {
        aws_secret.push('x');
    }
    cmd.env(
        text(fixture, &format!("/secrets/{secret}/variable")),
        text(fixture, &format!("/secrets/{secret}/id")),
    )
    .env(
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        text(fixture, "/endpoint"),
    )
    .env("AWS_ENDPOINT_URL_SSM", text(fixture, "/endpoint"))
    .env("AWS_REGION", text(fixture, "/region"))
    .env(
        "AWS_ACCESS_KEY_ID",
        text(fixture, &format!("/{role}/AccessKeyId")),
    )
    .env("AWS_SECRET_ACCESS_KEY", aws_secret)
    .env(
        "AWS_SESSION_TOKEN",
        text(fixture, &format!("/{role}/SessionToken")),
    )
    .env("ALIBABA_CLOUD_ECS_ENDPOINT", emulator.endpoint())
    .env("ALIBABA_CLOUD_REGION_ID", "cn-shanghai")
    .env("RUST_LOG", "debug");
    cmd
}

/// `invoke -` of the example Create with the secret `secret` read as `role`.
fn invoke_with_secret(
    fixture: &Value,
    secret: &str,
    role: &str,
    emulator: &Emulator,
    receiver: &Receiver,
    tamper_signature: bool,
) -> Output {
    let event = deploy_support::event("cfn-tf-create", receiver, None);
    let mut cmd = with_secret(command(), fixture, secret, role, emulator, tamper_signature);
    cmd.arg("invoke").arg("-").stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(event.to_string().as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The answer the stack received, checked against the last stdout line.
async fn answer(output: &Output, receiver: &Receiver) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let printed: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let received = receiver.wait_for_accepted(1, Duration::from_secs(5)).await;
    assert_eq!(received.len(), 1, "the stack was answered once");
    assert_eq!(received[0].json(), printed);
    printed
}

fn assert_no_secret_values(output: &Output, fixture: &Value) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for pointer in [
        "/alibaba/AccessKeySecret",
        "/alibaba/SecurityToken",
        "/malformed_canary",
        "/reader/SecretAccessKey",
        "/reader/SessionToken",
        "/not_reader/SecretAccessKey",
    ] {
        assert!(
            !all.contains(text(fixture, pointer)),
            "{pointer} appeared in the output:\n{all}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run scripts/secrets-against-moto"]
async fn create_with_the_credentials_from_the_secret() {
    create_with("good", "Secrets Manager").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run scripts/secrets-against-moto"]
async fn create_with_the_credentials_from_an_ssm_secure_string() {
    create_with("parameter", "SSM Parameter Store").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run scripts/secrets-against-moto"]
async fn a_plain_ssm_string_is_refused() {
    refused("plain_parameter", "reader", false, "not a SecureString").await;
}

async fn create_with(secret: &str, store: &str) {
    let fixture = fixture();
    let emulator = emulator_for(&fixture).await;
    let receiver = Receiver::start().await.unwrap();
    let output = invoke_with_secret(&fixture, secret, "reader", &emulator, &receiver, false);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let answer = answer(&output, &receiver).await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let physical = answer["PhysicalResourceId"].as_str().unwrap();
    let image_id = ecs_image_copy::lifecycle::PhysicalId::parse(physical)
        .map_or_else(|| physical.to_string(), |p| p.image_id);
    assert!(emulator.control().image(&image_id).is_some(), "{physical}");
    assert!(
        stderr.contains(&format!("credentials read from {store}")),
        "{stderr}"
    );
    assert_no_secret_values(&output, &fixture);
}

/// A stack answered FAILED before any ECS call, with a reason naming the secret and `needle`.
async fn refused(secret: &str, role: &str, tamper: bool, needle: &str) {
    let fixture = fixture();
    let emulator = emulator_for(&fixture).await;
    let receiver = Receiver::start().await.unwrap();
    let output = invoke_with_secret(&fixture, secret, role, &emulator, &receiver, tamper);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Delivered: 3 is the documented code for a delivered FAILED, 0 what the CLI said before.
    assert!(
        matches!(output.status.code(), Some(0 | 3)),
        "FAILED delivered: {stderr}"
    );
    let answer = answer(&output, &receiver).await;
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = answer["Reason"].as_str().unwrap();
    let arn = text(&fixture, &format!("/secrets/{secret}/id"));
    assert!(reason.contains(arn), "names the secret: {reason}");
    assert!(reason.contains(needle), "says why ({needle}): {reason}");
    assert!(emulator.control().calls().is_empty(), "no ECS call");
    assert_no_secret_values(&output, &fixture);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run scripts/secrets-against-moto"]
async fn a_missing_secret_fails_the_stack_naming_it() {
    refused("missing", "reader", false, "ResourceNotFoundException").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run scripts/secrets-against-moto"]
async fn a_role_not_allowed_to_read_fails_the_stack() {
    refused("good", "not_reader", false, "HTTP 403 AccessDenied").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run scripts/secrets-against-moto"]
async fn a_malformed_secret_fails_the_stack_without_quoting_it() {
    refused("malformed", "reader", false, "is not JSON").await;
}

/// Proves moto checks signatures, so the Create above proves ours are right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run scripts/secrets-against-moto"]
async fn a_bad_signature_is_refused() {
    refused("good", "reader", true, "SignatureDoesNotMatch").await;
}

/// The Lambda bootstrap reads the secret once, at its cold start, and uses it for every event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run scripts/secrets-against-moto"]
async fn a_lambda_bootstrap_reads_the_secret_once_for_all_its_events() {
    let fixture = fixture();
    let emulator = emulator_for(&fixture).await;
    let receiver = Receiver::start().await.unwrap();
    let events: Vec<Value> = ["first", "second"]
        .iter()
        .map(|id| {
            let mut event = deploy_support::event("cfn-tf-create", &receiver, None);
            event["RequestId"] = json!(format!("request-{id}"));
            // Two copies of one source need two names.
            event["ResourceProperties"]["ImageName"] = json!(format!("secret-copy-{id}"));
            event
        })
        .collect();
    let runtime = RuntimeApi::start(events).await;
    let mut cmd = with_secret(command(), &fixture, "good", "reader", &emulator, false);
    cmd.env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "ecs-image-copy")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ecs-image-copy")
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]0123456789abcdef",
        );
    let bootstrap = Running::new(cmd.spawn().expect("the bootstrap starts"));
    let responses = runtime.wait_for_responses(2).await;
    let answers = receiver.wait_for_accepted(2, Duration::from_secs(5)).await;
    let (stdout, stderr) = bootstrap.finish();
    assert_eq!(responses.len(), 2, "{responses:?}\n{stderr}");
    assert!(
        responses.iter().all(|p| p.ends_with("/response")),
        "{responses:?}\n{stderr}"
    );
    for answer in &answers {
        assert_eq!(
            answer.json()["Status"],
            "SUCCESS",
            "{:?}\n{stderr}",
            answer.json()
        );
    }
    assert_eq!(
        stderr
            .matches("credentials read from Secrets Manager")
            .count(),
        1,
        "read once: {stderr}"
    );
    let output = Output {
        status: std::process::ExitStatus::default(),
        stdout: stdout.into_bytes(),
        stderr: stderr.into_bytes(),
    };
    assert_no_secret_values(&output, &fixture);
}

/// `serve` (Function Compute) reads the secret at start too, for events that bring no
/// credentials in FC's headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run scripts/secrets-against-moto"]
async fn serve_reads_the_secret_at_start() {
    use std::io::{BufRead, BufReader};
    let fixture = fixture();
    let emulator = emulator_for(&fixture).await;
    let receiver = Receiver::start().await.unwrap();
    let mut cmd = with_secret(command(), &fixture, "good", "reader", &emulator, false);
    cmd.args(["serve", "--host", "127.0.0.1", "--timeout", "60"])
        .env("FC_SERVER_PORT", "0");
    let mut server = Running::new(cmd.spawn().expect("serve starts"));
    let mut stdout = BufReader::new(server.child().stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    let event = deploy_support::event("cfn-tf-create", &receiver, None);
    let reply = ecs_image_copy::tls::shared_client()
        .post(format!("{addr}/invoke"))
        .header("x-fc-request-id", "fc-request-1")
        .body(event.to_string())
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    let fc_status = reply
        .headers()
        .get("x-fc-status")
        .map(|v| v.to_str().unwrap().to_string());
    let answers = receiver.wait_for_accepted(1, Duration::from_secs(5)).await;
    let (_, stderr) = server.finish();
    assert_eq!(fc_status.as_deref(), Some("200"), "{stderr}");
    assert_eq!(answers[0].json()["Status"], "SUCCESS", "{stderr}");
    assert!(
        stderr.contains("credentials read from Secrets Manager"),
        "{stderr}"
    );
    let output = Output {
        status: std::process::ExitStatus::default(),
        stdout: Vec::new(),
        stderr: stderr.into_bytes(),
    };
    assert_no_secret_values(&output, &fixture);
}
