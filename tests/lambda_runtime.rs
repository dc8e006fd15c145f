//! The binary as a Lambda bootstrap: a fake Lambda Runtime API on loopback hands it events the
//! way Lambda does (`GET .../invocation/next`, `POST .../{id}/response` or `/error`), the
//! ECS emulator stands in for Alibaba Cloud, and a receiver for the stack's ResponseURL.

mod deploy_support;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use deploy_support::*;
use ecs_emulator::receiver::Receiver;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Notify;

const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:ecs-image-copy";

/// What the function posted back for one invocation.
#[derive(Debug, Clone)]
struct Posted {
    request_id: String,
    /// `response` or `error`.
    kind: String,
    body: Value,
}

#[derive(Default)]
struct RuntimeState {
    pending: VecDeque<(String, Value)>,
    fetched: Vec<String>,
    posted: Vec<Posted>,
}

/// The Lambda Runtime API, as much of it as a bootstrap uses.
struct FakeRuntimeApi {
    addr: SocketAddr,
    state: Arc<Mutex<RuntimeState>>,
    changed: Arc<Notify>,
}

impl FakeRuntimeApi {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(RuntimeState::default()));
        let changed = Arc::new(Notify::new());
        let (st, ch) = (Arc::clone(&state), Arc::clone(&changed));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (st, ch) = (Arc::clone(&st), Arc::clone(&ch));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        serve_runtime(req, Arc::clone(&st), Arc::clone(&ch))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeRuntimeApi {
            addr,
            state,
            changed,
        }
    }

    fn push(&self, request_id: &str, event: Value) {
        self.state
            .lock()
            .unwrap()
            .pending
            .push_back((request_id.to_string(), event));
        self.changed.notify_waiters();
    }

    fn fetched(&self) -> Vec<String> {
        self.state.lock().unwrap().fetched.clone()
    }

    async fn wait_for_posted(&self, count: usize, within: Duration) -> Vec<Posted> {
        let until = tokio::time::Instant::now() + within;
        loop {
            let notified = self.changed.notified();
            let posted = self.state.lock().unwrap().posted.clone();
            if posted.len() >= count || tokio::time::Instant::now() >= until {
                return posted;
            }
            let _ = tokio::time::timeout_at(until, notified).await;
        }
    }
}

fn epoch_ms_in(from_now: Duration) -> u128 {
    (SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + from_now).as_millis()
}

async fn serve_runtime(
    req: Request<Incoming>,
    state: Arc<Mutex<RuntimeState>>,
    changed: Arc<Notify>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    if req.method() == hyper::Method::GET && path == "/2018-06-01/runtime/invocation/next" {
        // Long poll, as Lambda does: the request stays open until an event is queued.
        loop {
            let notified = changed.notified();
            let next = {
                let mut st = state.lock().unwrap();
                let next = st.pending.pop_front();
                if let Some((id, _)) = &next {
                    st.fetched.push(id.clone());
                }
                next
            };
            if let Some((request_id, event)) = next {
                let response = Response::builder()
                    .header("Content-Type", "application/json")
                    .header("Lambda-Runtime-Aws-Request-Id", &request_id)
                    .header(
                        "Lambda-Runtime-Deadline-Ms",
                        epoch_ms_in(Duration::from_secs(60)).to_string(),
                    )
                    .header("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN)
                    .header(
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                    )
                    .body(Full::new(Bytes::from(event.to_string())))
                    .unwrap();
                return Ok(response);
            }
            notified.await;
        }
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if let ["2018-06-01", "runtime", "invocation", request_id, kind @ ("response" | "error")] =
        parts.as_slice()
    {
        let body = req.into_body().collect().await.unwrap().to_bytes();
        state.lock().unwrap().posted.push(Posted {
            request_id: request_id.to_string(),
            kind: kind.to_string(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        changed.notify_waiters();
        let mut response = Response::new(Full::new(Bytes::from_static(b"{\"status\":\"OK\"}")));
        *response.status_mut() = hyper::StatusCode::ACCEPTED;
        return Ok(response);
    }
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::NOT_FOUND;
    Ok(response)
}

/// The binary with the environment the Lambda service gives a `provided.al2023` bootstrap.
fn bootstrap(runtime: &FakeRuntimeApi, endpoint: Option<&str>) -> Running {
    let mut cmd = command();
    cmd.env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "ecs-image-copy")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ecs-image-copy")
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/23/[$LATEST]0123456789abcdef",
        )
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
        .env("AWS_REGION", "us-east-1")
        .env("LAMBDA_TASK_ROOT", "/var/task")
        .env("_HANDLER", "bootstrap");
    if let Some(endpoint) = endpoint {
        cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .env("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN)
            .env("ALIBABA_CLOUD_REGION_ID", EVENT_DEST_REGION)
            .env("ALIBABA_CLOUD_ECS_ENDPOINT", endpoint);
    }
    Running::new(cmd.spawn().expect("the bootstrap starts"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_bootstrap_answers_a_create_and_then_a_delete() {
    let emulator = emulator(Some(TOKEN)).await;
    let receiver = Receiver::start().await.unwrap();
    let runtime = FakeRuntimeApi::start().await;
    let process = bootstrap(&runtime, Some(&emulator.endpoint()));

    runtime.push("invoke-1", event("cfn-tf-create", &receiver, None));
    let posted = runtime.wait_for_posted(1, Duration::from_secs(30)).await;
    assert_eq!(posted.len(), 1, "one invocation result: {posted:?}");
    assert_eq!(posted[0].request_id, "invoke-1");
    assert_eq!(posted[0].kind, "response", "{posted:?}");
    assert_eq!(posted[0].body["Answered"], "SUCCESS", "{posted:?}");

    let answers = receiver.wait_for_accepted(1, Duration::from_secs(5)).await;
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].method, "PUT", "CloudFormation envelope");
    let answer = answers[0].json();
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let copy = answer["PhysicalResourceId"].as_str().unwrap().to_string();
    let image_id = answer["Data"]["ImageId"].as_str().unwrap();
    assert!(image_id.starts_with("m-"), "{answer}");
    // The TF type's id records the region the copy is made in.
    assert_eq!(
        copy,
        format!("{}/{image_id}", answer_region(&copy)),
        "{answer}"
    );
    let copies = emulator.control().calls();
    assert_eq!(
        copies.iter().filter(|c| c.action == "CopyImage").count(),
        1,
        "exactly one copy"
    );

    // Same process, second event: the handler and its clients survive between invocations.
    runtime.push(
        "invoke-2",
        event("ros-tf-delete", &receiver, Some(copy.as_str())),
    );
    let posted = runtime.wait_for_posted(2, Duration::from_secs(30)).await;
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert_eq!(posted[1].request_id, "invoke-2");
    assert_eq!(posted[1].kind, "response", "{posted:?}");
    let answers = receiver.wait_for_accepted(2, Duration::from_secs(5)).await;
    assert_eq!(answers[1].method, "POST", "ROS envelope");
    assert_eq!(answers[1].json()["Status"], "SUCCESS", "{:?}", answers[1]);
    assert!(
        emulator
            .control()
            .calls()
            .iter()
            .any(|c| c.action == "DeleteImage"),
        "the copy was deleted"
    );
    assert_eq!(runtime.fetched(), ["invoke-1", "invoke-2"]);

    let (stdout, stderr) = process.finish();
    let logs = format!("{stdout}{stderr}");
    assert_no_secrets(&logs);
    assert!(
        logs.lines()
            .any(|l| l.starts_with('{') && l.contains("\"request_type\":\"Create\"")),
        "JSON logs carry the event's identity:\n{logs}"
    );
    assert!(
        !logs.contains("X-Amz-Signature=sig"),
        "presigned query logged:\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_are_answered_failed_naming_the_variable() {
    let receiver = Receiver::start().await.unwrap();
    let runtime = FakeRuntimeApi::start().await;
    let _process = bootstrap(&runtime, None);

    runtime.push("invoke-1", event("cfn-ros-create", &receiver, None));
    let posted = runtime.wait_for_posted(1, Duration::from_secs(30)).await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(
        posted[0].kind, "response",
        "the stack was answered: {posted:?}"
    );
    let answers = receiver.wait_for_accepted(1, Duration::from_secs(5)).await;
    let answer = answers[0].json();
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    assert!(
        answer["Reason"]
            .as_str()
            .unwrap()
            .contains("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_without_a_response_url_is_an_invocation_error() {
    let runtime = FakeRuntimeApi::start().await;
    let _process = bootstrap(&runtime, None);
    runtime.push("invoke-1", json!({"RequestType": "Create"}));
    let posted = runtime.wait_for_posted(1, Duration::from_secs(30)).await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0].kind, "error", "{posted:?}");
    let message = posted[0].body["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("ResponseURL"), "{posted:?}");
}

fn answer_region(physical: &str) -> &str {
    physical.split_once('/').map_or("", |(region, _)| region)
}
