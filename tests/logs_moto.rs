//! The registry handler's log lines in the user's CloudWatch Logs group: a real handler run
//! (a Create against the ECS emulator) inside `aws::logs::ship_provider_logs`, shipped over
//! HTTP to moto's CloudWatch Logs with a role's temporary credentials (moto checks the SigV4
//! signature and the role's policy), then read back with `GetLogEvents`.
//!
//! Needs moto: `scripts/secrets-against-moto` (part of `scripts/test`) installs and starts it,
//! creates the roles, and runs these with `--ignored` and `RUST_LOG=trace`. Run any other way
//! they fail rather than pass unchecked.

mod common;

use std::time::Duration;

use common::*;
use ecs_image_copy::aws::logs::{ship_provider_logs, ENV_LOGS_ENDPOINT};
use ecs_image_copy::aws::{sigv4_headers, AwsCredentials};
use serde_json::{json, Value};
use tokio::time::Instant;

fn fixture() -> Value {
    let path = std::env::var("MOTO_LOGS_FIXTURE")
        .expect("MOTO_LOGS_FIXTURE is not set: run scripts/secrets-against-moto");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // Read by ship_provider_logs; the tests run one at a time (--test-threads 1).
    std::env::set_var(ENV_LOGS_ENDPOINT, text(&fixture, "/endpoint"));
    ecs_image_copy::logging::init();
    fixture
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {pointer} in {v}"))
}

/// A Create whose image name no other Create in the emulator uses.
fn create(world: &World) -> Value {
    let mut props = tf_props();
    props["ImageName"] = json!(unique("web-server"));
    cfn_event(world, "Create", "Custom::ImageCopy", &props)
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{nanos}")
}

/// A resource-provider request as CloudFormation sends it, its provider credentials those of
/// `role` in the fixture (the secret spoiled when `tamper`).
fn provider_request(fixture: &Value, role: &str, group: &str, tamper: bool) -> Value {
    let mut secret = text(fixture, &format!("/{role}/SecretAccessKey")).to_string();
    if tamper {
        secret.push('x');
    }
    json!({
        "action": "CREATE",
        "awsAccountId": "123456789012",
        "region": text(fixture, "/region"),
        "stackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/images/0f1e2d3c",
        "resourceType": "TF::Alicloud::ImageCopy",
        "requestData": {
            "logicalResourceId": "Copy",
            "providerLogGroupName": group,
            "providerCredentials": {
                "accessKeyId": text(fixture, &format!("/{role}/AccessKeyId")),
                "secretAccessKey": secret,
                "sessionToken": text(fixture, &format!("/{role}/SessionToken")),
            },
        },
    })
}

const STREAM: &str =
    "arn__aws__cloudformation__us-east-1__123456789012__stack/images/0f1e2d3c/Copy";

/// One CloudWatch Logs call with the writer role's credentials.
async fn logs_call(fixture: &Value, action: &str, body: Value) -> (u16, Value) {
    let credentials = AwsCredentials {
        access_key_id: text(fixture, "/writer/AccessKeyId").into(),
        secret_access_key: text(fixture, "/writer/SecretAccessKey").into(),
        session_token: Some(text(fixture, "/writer/SessionToken").into()),
    };
    let url = format!("{}/", text(fixture, "/endpoint"));
    let body = serde_json::to_vec(&body).unwrap();
    let target = format!("Logs_20140328.{action}");
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target.as_str()),
    ];
    let signed = sigv4_headers(
        &credentials,
        text(fixture, "/region"),
        "logs",
        "POST",
        &url,
        &headers,
        &body,
    )
    .unwrap();
    let mut request = ecs_image_copy::tls::shared_client().post(&url).body(body);
    for (k, v) in headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain(signed)
    {
        request = request.header(k, v);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

async fn messages(fixture: &Value, group: &str) -> Vec<(i64, String)> {
    let (status, answer) = logs_call(
        fixture,
        "GetLogEvents",
        json!({"logGroupName": group, "logStreamName": STREAM, "startFromHead": true}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["timestamp"].as_i64().unwrap(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn group_exists(fixture: &Value, group: &str) -> bool {
    let (status, answer) = logs_call(
        fixture,
        "DescribeLogGroups",
        json!({"logGroupNamePrefix": group}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer["logGroups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["logGroupName"] == group)
}

#[tokio::test]
#[ignore = "needs moto: scripts/secrets-against-moto"]
async fn a_runs_lines_reach_the_users_group_without_a_secret() {
    let fixture = fixture();
    let group = unique("tf-alicloud-imagecopy-logs");
    assert!(!group_exists(&fixture, &group).await);
    let request = provider_request(&fixture, "writer", &group, false);
    let world = World::new(Duration::from_millis(300)).await;
    tracing::info!("BEFORE-THE-RUN: not part of it");

    // Two invocations of the same resource: the first creates the group and the stream,
    // the second finds them.
    for _ in 0..2 {
        let answer = ship_provider_logs(
            &request,
            Instant::now() + Duration::from_secs(20),
            world.answer(&create(&world)),
        )
        .await;
        assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    }

    assert!(
        group_exists(&fixture, &group).await,
        "the group was created"
    );
    let events = messages(&fixture, &group).await;
    let all: String = events.iter().map(|(_, m)| format!("{m}\n")).collect();
    assert!(
        all.matches("answer delivered").count() >= 2,
        "both runs' lines arrived: {all}"
    );
    assert!(
        all.contains("copy started image_id=") && all.contains("copy available"),
        "{all}"
    );
    assert!(
        !all.contains("BEFORE-THE-RUN"),
        "only the run's lines: {all}"
    );
    assert!(events.windows(2).all(|w| w[0].0 <= w[1].0), "in time order");
    for canary in [
        SECRET,
        TOKEN,
        URL_SIGNATURE,
        text(&fixture, "/writer/SecretAccessKey"),
        text(&fixture, "/writer/SessionToken"),
    ] {
        assert!(!all.contains(canary), "{canary} was shipped: {all}");
    }
}

#[tokio::test]
#[ignore = "needs moto: scripts/secrets-against-moto"]
async fn credentials_that_may_not_write_leave_the_answer_as_it_was() {
    let fixture = fixture();
    let world = World::new(Duration::from_millis(300)).await;
    for (role, tamper) in [("not_writer", false), ("writer", true)] {
        let group = unique("not-written");
        let request = provider_request(&fixture, role, &group, tamper);
        let answer = ship_provider_logs(
            &request,
            Instant::now() + Duration::from_secs(20),
            world.answer(&create(&world)),
        )
        .await;
        assert_eq!(answer["Status"], "SUCCESS", "{role} {tamper}: {answer}");
        assert!(
            !group_exists(&fixture, &group).await,
            "{role} (tampered: {tamper}) could not create {group}"
        );
    }
}
