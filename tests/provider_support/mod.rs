//! Drives the binary as the CloudFormation registry does: each invocation a fresh process
//! (a cold start) fed one HandlerRequest by a fake Lambda Runtime API on loopback; the
//! ProgressEvent it posts as the invocation's response is the answer.
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ecs_emulator::{Emulator, EmulatorConfig, SourceImage};
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::deploy_support::{command, Running};

pub const KEY_ID: &str = "LTAI-provider-test";
pub const SECRET: &str = "provider-test-secret-value";
pub const SOURCE_IMAGE: &str = "m-bp1providersource01";
pub const SOURCE_REGION: &str = "cn-hangzhou";
pub const REGION: &str = "cn-shanghai";

pub async fn emulator(copy: Duration) -> Emulator {
    let config = EmulatorConfig {
        access_key_id: KEY_ID.into(),
        access_key_secret: SECRET.into(),
        images: vec![
            SourceImage::new(SOURCE_IMAGE, SOURCE_REGION),
            SourceImage::new("m-bp1providersource02", SOURCE_REGION),
        ],
        copy_duration: copy,
        ..EmulatorConfig::default()
    };
    Emulator::start(config, 0).await.expect("emulator starts")
}

pub fn type_configuration(region: &str) -> Value {
    json!({"AccessKeyId": KEY_ID, "AccessKeySecret": SECRET, "RegionId": region})
}

/// A HandlerRequest as `cfn test` and the engine send it, with fields this handler ignores.
pub fn request(action: &str, model: Value, context: Option<&Value>, region: &str) -> Value {
    let mut request = json!({
        "action": action,
        "awsAccountId": "123456789012",
        "bearerToken": "5c6ef3f8-0a1e-4b6a-9a57-8f1c2b7e1d00",
        "region": "us-east-1",
        "resourceType": "TF::Alicloud::ImageCopy",
        "resourceTypeVersion": "00000001",
        "stackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "requestData": {
            "callerCredentials": {"accessKeyId": "AKIA", "secretAccessKey": "caller-secret", "sessionToken": "t"},
            "providerCredentials": {"accessKeyId": "AKIA", "secretAccessKey": "provider-secret", "sessionToken": "t"},
            "providerLogGroupName": "tf-alicloud-imagecopy-logs",
            "logicalResourceId": "Copy",
            "resourceProperties": model,
            "typeConfiguration": type_configuration(region),
            "systemTags": {"aws:cloudformation:stack-name": "s"},
        },
        "rollback": false,
        "driftable": true,
        "features": {"newThing": true},
    });
    if let Some(context) = context {
        request["callbackContext"] = context.clone();
    }
    request
}

/// One invocation in a fresh process; the ProgressEvent and what the process logged.
pub async fn invoke_fresh(endpoint: &str, event: &Value) -> (Value, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<(String, Value)>();
    let tx = Arc::new(Mutex::new(Some(tx)));
    let next = Arc::new(Mutex::new(Some(event.clone())));
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (tx, next) = (Arc::clone(&tx), Arc::clone(&next));
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let (tx, next) = (Arc::clone(&tx), Arc::clone(&next));
                    async move { Ok::<_, Infallible>(runtime(req, &tx, &next).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let mut cmd = command();
    cmd.env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "tf-alicloud-imagecopy")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("ALIBABA_CLOUD_ECS_ENDPOINT", endpoint)
        // The requests name a provider log group: its lines go to a closed loopback port,
        // never to AWS (tests/logs_*.rs check the shipping itself).
        .env("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://127.0.0.1:9")
        .env("RUST_LOG", "info");
    let process = Running::new(cmd.spawn().expect("the bootstrap starts"));
    let (kind, body) = tokio::time::timeout(Duration::from_secs(90), rx)
        .await
        .expect("the invocation is answered")
        .unwrap();
    server.abort();
    let (stdout, stderr) = process.finish();
    assert_eq!(
        kind, "response",
        "a ProgressEvent, never an invocation error: {body}"
    );
    (body, format!("{stdout}{stderr}"))
}

async fn runtime(
    req: Request<hyper::body::Incoming>,
    tx: &Mutex<Option<oneshot::Sender<(String, Value)>>>,
    next: &Mutex<Option<Value>>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    if path.ends_with("/invocation/next") {
        let event = next.lock().unwrap().take();
        let Some(event) = event else {
            // One invocation per process: hold the long poll until the process is stopped.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Response::new(Full::new(Bytes::new()));
        };
        let deadline_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 60_000;
        return Response::builder()
            .header("Lambda-Runtime-Aws-Request-Id", "req-1")
            .header("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string())
            .header(
                "Lambda-Runtime-Invoked-Function-Arn",
                "arn:aws:lambda:us-east-1:123456789012:function:tf-alicloud-imagecopy",
            )
            .body(Full::new(Bytes::from(event.to_string())))
            .unwrap();
    }
    let kind = if path.ends_with("/response") {
        "response"
    } else {
        "error"
    };
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(tx) = tx.lock().unwrap().take() {
        let _ = tx.send((kind.to_string(), value));
    }
    Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// Drives an operation to its end the way the engine does: sleeping `callbackDelaySeconds`
/// and re-sending the same request with the last model and context, each time to a fresh
/// process. Returns the final event and how many invocations it took.
pub async fn drive(endpoint: &str, action: &str, model: Value, region: &str) -> (Value, u32) {
    let (mut event, _) = invoke_fresh(endpoint, &request(action, model, None, region)).await;
    let mut invocations = 1;
    while event["status"] == "IN_PROGRESS" {
        check_shape(&event);
        let delay = event["callbackDelaySeconds"].as_u64().expect("a delay");
        tokio::time::sleep(Duration::from_secs(delay)).await;
        let next = request(
            action,
            event["resourceModel"].clone(),
            Some(&event["callbackContext"]),
            region,
        );
        event = invoke_fresh(endpoint, &next).await.0;
        invocations += 1;
        assert!(invocations < 100, "runaway: {event}");
    }
    check_shape(&event);
    (event, invocations)
}

/// The protocol's rules for every event: no nulls, IN_PROGRESS carries the identifier and
/// no error code, SUCCESS no error code.
pub fn check_shape(event: &Value) {
    let object = event.as_object().expect("an object");
    assert!(object.values().all(|v| !v.is_null()), "no nulls: {event}");
    match event["status"].as_str() {
        Some("IN_PROGRESS") => {
            assert!(
                event.get("errorCode").is_none() && event.get("resourceModels").is_none(),
                "{event}"
            );
            assert!(event["resourceModel"]["tfcfnid"].is_string(), "{event}");
        }
        Some("SUCCESS") => assert!(event.get("errorCode").is_none(), "{event}"),
        Some("FAILED") => assert!(event["errorCode"].is_string(), "{event}"),
        other => panic!("status {other:?}: {event}"),
    }
}
