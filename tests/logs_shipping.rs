//! A real handler run's log lines, at TRACE, shipped by `aws::logs::ship_provider_logs` over
//! HTTP to a CloudWatch Logs stand-in on loopback: they arrive, and no secret is among them
//! (the Alibaba secret and token, a presigned URL's signature, the provider credentials).
//! Runs without moto; `tests/logs_moto.rs` is the same against moto's CloudWatch Logs.
//!
//! Alone in this binary: it installs the process's subscriber (`logging::init`).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use ecs_image_copy::aws::logs::{ship_provider_logs, ENV_LOGS_ENDPOINT};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

const PROVIDER_SECRET: &str = "PROVIDER-SECRET-canary-41d9";
const PROVIDER_TOKEN: &str = "PROVIDER-TOKEN-canary-8b2e";

/// Answers every call 200 `{}` and keeps each request's raw text (headers and body).
async fn cloudwatch_logs() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            if let Some(request) = read_request(&mut socket).await {
                recorded.lock().unwrap().push(request);
                let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        }
    });
    (endpoint, requests)
}

async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data).into_owned();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length: usize = text[..end]
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse().ok())
            })
            .unwrap_or(0);
        if data.len() >= end + 4 + length {
            return Some(text);
        }
    }
}

#[tokio::test]
async fn a_handler_runs_lines_are_shipped_without_a_secret() {
    let (endpoint, requests) = cloudwatch_logs().await;
    std::env::set_var(ENV_LOGS_ENDPOINT, &endpoint);
    std::env::set_var("RUST_LOG", "trace");
    ecs_image_copy::logging::init();

    let world = World::new(Duration::from_millis(300)).await;
    let request = json!({
        "action": "CREATE",
        "awsAccountId": "123456789012",
        "region": "us-east-1",
        "requestData": {
            "providerLogGroupName": "tf-alicloud-imagecopy-logs",
            "providerCredentials": {
                "accessKeyId": "ASIAPROVIDER",
                "secretAccessKey": PROVIDER_SECRET,
                "sessionToken": PROVIDER_TOKEN,
            },
        },
    });
    let props = tf_props();
    let answer = ship_provider_logs(
        &request,
        Instant::now() + Duration::from_secs(20),
        world.answer(&cfn_event(&world, "Create", "Custom::ImageCopy", &props)),
    )
    .await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");

    let requests = requests.lock().unwrap().clone();
    let puts: Vec<Value> = requests
        .iter()
        .filter(|r| r.contains("Logs_20140328.PutLogEvents"))
        .map(|r| serde_json::from_str(&r[r.find("\r\n\r\n").unwrap() + 4..]).unwrap())
        .collect();
    assert_eq!(puts.len(), 1, "one batch: {requests:?}");
    assert_eq!(puts[0]["logStreamName"], "123456789012-us-east-1");
    let messages: Vec<&str> = puts[0]["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    let all = messages.join("\n");
    assert!(all.contains("answer delivered"), "{all}");
    assert!(
        messages.iter().any(|m| m.starts_with("TRACE ")),
        "every level: {all}"
    );
    for canary in [SECRET, TOKEN, URL_SIGNATURE, PROVIDER_SECRET] {
        assert!(!all.contains(canary), "{canary} was shipped: {all}");
    }
    // The token signs the request (x-amz-security-token), as it must; it is never a line.
    assert!(!all.contains(PROVIDER_TOKEN));
    assert!(requests.iter().all(|r| !r.contains(PROVIDER_SECRET)));
}
