//! The binary as a Function Compute custom runtime (`serve`): events arrive as `POST /invoke`
//! with FC's headers, credentials included, and are handled against the ECS emulator.

mod deploy_support;

use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deploy_support::*;
use ecs_emulator::receiver::Receiver;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Runtime {
    process: Running,
    addr: String,
    stdout: Arc<Mutex<Vec<String>>>,
}

/// Starts `serve` on a free loopback port and learns the port from its first line.
fn serve(extra_env: &[(&str, &str)]) -> Runtime {
    let mut cmd = command();
    cmd.args(["serve", "--host", "127.0.0.1", "--timeout", "60"])
        .env("FC_SERVER_PORT", "0")
        .env("ALIBABA_CLOUD_REGION_ID", EVENT_DEST_REGION);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut process = Running::new(cmd.spawn().expect("serve starts"));
    let mut lines = BufReader::new(process.child().stdout.take().unwrap()).lines();
    let first = lines.next().expect("a first line").unwrap();
    let addr = first
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&stdout);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    Runtime {
        process,
        addr,
        stdout,
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 exchange, written out by hand so the test depends on no HTTP client.
async fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut raw))
        .await
        .expect("a reply in time")
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete reply");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: serde_json::from_str(body).unwrap_or(Value::String(body.to_string())),
    }
}

fn fc_headers(request_id: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("x-fc-request-id", request_id),
        ("x-fc-access-key-id", KEY_ID),
        ("x-fc-access-key-secret", SECRET),
        ("x-fc-security-token", TOKEN),
        ("x-fc-function-name", "ecs-image-copy"),
        ("x-fc-region", EVENT_SOURCE_REGION),
        ("x-fc-control-path", "/invoke"),
    ]
}

async fn invoke(runtime: &Runtime, headers: &[(&str, &str)], event: &Value) -> Reply {
    let body = serde_json::to_vec(event).unwrap();
    request(&runtime.addr, "POST", "/invoke", headers, &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_from_fc_headers_copy_then_delete_in_one_instance() {
    let emulator = emulator(Some(TOKEN)).await;
    let receiver = Receiver::start().await.unwrap();
    let runtime = serve(&[("ALIBABA_CLOUD_ECS_ENDPOINT", &emulator.endpoint())]);

    let reply = invoke(
        &runtime,
        &fc_headers("fc-req-1"),
        &event("ros-ros-create", &receiver, None),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.header("x-fc-status"), Some("200"));
    assert_eq!(reply.body["Answered"], "SUCCESS", "{:?}", reply.body);
    let answers = receiver.wait_for_accepted(1, Duration::from_secs(5)).await;
    assert_eq!(answers[0].method, "POST", "ROS envelope");
    let answer = answers[0].json();
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let copy = answer["PhysicalResourceId"].as_str().unwrap().to_string();
    assert_eq!(reply.body["PhysicalResourceId"], json!(copy));
    assert_eq!(answer["Data"]["ImageId"], json!(copy));

    let reply = invoke(
        &runtime,
        &fc_headers("fc-req-2"),
        &event("ros-ros-delete", &receiver, Some(copy.as_str())),
    )
    .await;
    assert_eq!(reply.header("x-fc-status"), Some("200"), "{:?}", reply.body);
    let answers = receiver.wait_for_accepted(2, Duration::from_secs(5)).await;
    assert_eq!(answers[1].json()["Status"], "SUCCESS", "{:?}", answers[1]);
    let calls = emulator.control().calls();
    assert_eq!(calls.iter().filter(|c| c.action == "CopyImage").count(), 1);
    assert!(calls.iter().any(|c| c.action == "DeleteImage"));

    let stdout = runtime.stdout.lock().unwrap().clone();
    let position = |line: &str| stdout.iter().position(|l| l == line);
    for id in ["fc-req-1", "fc-req-2"] {
        let start = position(&format!("FC Invoke Start RequestId: {id}"));
        let end = position(&format!("FC Invoke End RequestId: {id}"));
        assert!(
            matches!((start, end), (Some(s), Some(e)) if s < e),
            "start and end lines for {id}: {stdout:?}"
        );
    }
    let (rest, stderr) = runtime.process.finish();
    assert_no_secrets(&format!("{}\n{rest}\n{stderr}", stdout.join("\n")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credential_headers_the_environment_is_used() {
    let emulator = emulator(None).await;
    let receiver = Receiver::start().await.unwrap();
    let endpoint = emulator.endpoint();
    let runtime = serve(&[
        ("ALIBABA_CLOUD_ECS_ENDPOINT", &endpoint),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET),
    ]);
    let reply = invoke(
        &runtime,
        &[("x-fc-request-id", "fc-env")],
        &event("cfn-tf-create", &receiver, None),
    )
    .await;
    assert_eq!(reply.header("x-fc-status"), Some("200"), "{:?}", reply.body);
    let answers = receiver.wait_for_accepted(1, Duration::from_secs(5)).await;
    assert_eq!(answers[0].json()["Status"], "SUCCESS", "{:?}", answers[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_given_credentials_are_answered_failed_naming_the_header() {
    let receiver = Receiver::start().await.unwrap();
    let runtime = serve(&[]);
    let reply = invoke(
        &runtime,
        &[
            ("x-fc-request-id", "fc-half"),
            ("x-fc-access-key-id", KEY_ID),
        ],
        &event("ros-tf-create", &receiver, None),
    )
    .await;
    assert_eq!(
        reply.header("x-fc-status"),
        Some("200"),
        "the stack was answered"
    );
    let answers = receiver.wait_for_accepted(1, Duration::from_secs(5)).await;
    let answer = answers[0].json();
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    assert!(
        answer["Reason"]
            .as_str()
            .unwrap()
            .contains("x-fc-access-key-secret"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswerable_event_or_another_path_reports_failure_to_fc() {
    let runtime = serve(&[]);
    let reply = invoke(
        &runtime,
        &[("x-fc-request-id", "fc-bad")],
        &json!({"RequestType": "Create"}),
    )
    .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.header("x-fc-status"), Some("404"));
    assert!(
        reply.body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("ResponseURL"),
        "{:?}",
        reply.body
    );
    let reply = request(&runtime.addr, "GET", "/", &[], b"").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.header("x-fc-status"), Some("404"));
}

#[test]
fn serve_has_help_and_rejects_a_bad_port_variable() {
    let output = command().args(["serve", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("--port") && help.contains("FC_SERVER_PORT"),
        "{help}"
    );
    let output = command()
        .args(["serve", "--host", "127.0.0.1"])
        .env("FC_SERVER_PORT", "ninety")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("FC_SERVER_PORT"));
}
