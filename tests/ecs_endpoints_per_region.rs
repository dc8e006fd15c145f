//! Per-region ECS endpoints through the real binary: `ALIBABA_CLOUD_ECS_ENDPOINTS` sends the
//! source region's calls and the destination region's calls to their own endpoints. Each
//! region's endpoint is a loopback relay in front of the one emulator (a copy's state spans
//! both regions) that records the `RegionId` of every call it carries (and the path the call
//! came to, for `{region}` in a path).

mod deploy_support;

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use deploy_support::{command, emulator, KEY_ID, SECRET, TOKEN};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

/// A region's endpoint: forwards to the emulator's `/`, remembers each call's path and
/// `RegionId`.
struct RegionEndpoint {
    addr: SocketAddr,
    calls: Arc<Mutex<Vec<(String, String)>>>,
}

impl RegionEndpoint {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&calls);
        tokio::spawn(async move {
            let client = ecs_image_copy::tls::shared_client();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (client, upstream, seen) =
                    (client.clone(), upstream.clone(), Arc::clone(&seen));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        relay(req, client.clone(), upstream.clone(), Arc::clone(&seen))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RegionEndpoint { addr, calls }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn region_ids(&self) -> Vec<String> {
        self.calls().into_iter().map(|(_, region)| region).collect()
    }

    /// (path, RegionId) of each call.
    fn calls(&self) -> Vec<(String, String)> {
        self.calls.lock().unwrap().clone()
    }
}

async fn relay(
    req: Request<Incoming>,
    client: reqwest::Client,
    upstream: String,
    seen: Arc<Mutex<Vec<(String, String)>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let content_type = req.headers().get("content-type").cloned();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    // The RPC parameters travel in the query (GET) or the form body (POST).
    let params = format!("{query}&{}", String::from_utf8_lossy(&body));
    let region = params
        .split('&')
        .find_map(|pair| pair.strip_prefix("RegionId="))
        .unwrap_or_default();
    seen.lock().unwrap().push((path, region.to_string()));
    let mut forwarded = client
        .request(method, format!("{upstream}/?{query}"))
        .body(body);
    if let Some(content_type) = content_type {
        forwarded = forwarded.header("content-type", content_type);
    }
    let answer = forwarded.send().await.unwrap();
    let status = answer.status();
    let bytes = answer.bytes().await.unwrap();
    let mut response = Response::new(Full::new(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    Ok(response)
}

fn invoke(event: &Value, endpoint_vars: &[(&str, &str)]) -> Output {
    let mut cmd = command();
    cmd.arg("invoke")
        .arg("--timeout")
        .arg("60")
        .arg("-")
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN)
        .env("ALIBABA_CLOUD_REGION_ID", "cn-shanghai")
        .stdin(Stdio::piped());
    for (name, value) in endpoint_vars {
        cmd.env(name, value);
    }
    let mut child = cmd.spawn().expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(event.to_string().as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn last_answer(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_and_destination_calls_go_to_their_own_region_endpoints() {
    let emulator = emulator(Some(TOKEN)).await;
    let hangzhou = RegionEndpoint::start(emulator.endpoint()).await;
    let shanghai = RegionEndpoint::start(emulator.endpoint()).await;
    let receiver = ecs_emulator::receiver::Receiver::start().await.unwrap();
    // Source cn-hangzhou, provider (destination) region cn-shanghai.
    let event = deploy_support::event("cfn-tf-create", &receiver, None);
    let map = format!(
        "cn-hangzhou={},cn-shanghai={}",
        hangzhou.url(),
        shanghai.url()
    );
    // The single URL is a closed port: a call that ignored the map would fail.
    let output = invoke(
        &event,
        &[
            ("ALIBABA_CLOUD_ECS_ENDPOINTS", &map),
            ("ALIBABA_CLOUD_ECS_ENDPOINT", "http://127.0.0.1:9"),
        ],
    );
    let answer = last_answer(&output);
    assert_eq!(
        answer["Status"],
        "SUCCESS",
        "{answer}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let at_hangzhou = hangzhou.region_ids();
    let at_shanghai = shanghai.region_ids();
    assert!(!at_hangzhou.is_empty(), "the source region was called");
    assert!(!at_shanghai.is_empty(), "the destination region was called");
    assert!(
        at_hangzhou.iter().all(|r| r == "cn-hangzhou"),
        "{at_hangzhou:?}"
    );
    assert!(
        at_shanghai.iter().all(|r| r == "cn-shanghai"),
        "{at_shanghai:?}"
    );
    let physical = answer["PhysicalResourceId"].as_str().unwrap();
    let image_id = ecs_image_copy::lifecycle::PhysicalId::parse(physical)
        .expect("a region-qualified copy id")
        .image_id;
    assert!(emulator.control().image(&image_id).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_region_placeholder_routes_by_region_too() {
    let emulator = emulator(Some(TOKEN)).await;
    let relay = RegionEndpoint::start(emulator.endpoint()).await;
    let receiver = ecs_emulator::receiver::Receiver::start().await.unwrap();
    let event = deploy_support::event("cfn-tf-create", &receiver, None);
    // One relay, the region in the path.
    let template = format!("{}/ecs/{{region}}", relay.url());
    let output = invoke(&event, &[("ALIBABA_CLOUD_ECS_ENDPOINT", &template)]);
    assert_eq!(last_answer(&output)["Status"], "SUCCESS");
    let calls = relay.calls();
    for region in ["cn-hangzhou", "cn-shanghai"] {
        assert!(calls.iter().any(|(_, r)| r == region), "{calls:?}");
    }
    for (path, region) in &calls {
        assert_eq!(path, &format!("/ecs/{region}/"), "{calls:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_endpoint_map_is_answered_as_a_configuration_error() {
    let receiver = ecs_emulator::receiver::Receiver::start().await.unwrap();
    let event = deploy_support::event("cfn-tf-create", &receiver, None);
    let output = invoke(
        &event,
        &[("ALIBABA_CLOUD_ECS_ENDPOINTS", "cn-hangzhou:https://ecs-vpc")],
    );
    let answer = last_answer(&output);
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(
        reason.contains("Configuration error")
            && reason.contains("ALIBABA_CLOUD_ECS_ENDPOINTS")
            && reason.contains("cn-hangzhou:https://ecs-vpc"),
        "{reason}"
    );
    assert_eq!(receiver.accepted().len(), 1, "the stack was answered");
}
