//! Shared by the `handover_*` suites: a local Lambda `Invoke` endpoint that checks each
//! request's SigV4 signature and re-delivers the payload to the handler, as Lambda would.
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use ecs_image_copy::envelope::{AnswerTarget, Engine};
use ecs_image_copy::handler::Handled;
use ecs_image_copy::handover::{AwsCredentials, HandoverSettings};
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::common::World;

const FUNCTION: &str = "ecs-image-copy-test";
const AWS_REGION: &str = "us-east-1";
const AWS_KEY: &str = "ASIATESTKEY";
const AWS_SECRET: &str = "aws-secret-canary";
const AWS_TOKEN: &str = "aws-session-token-canary";
/// Each (re-)delivered invocation lives this long: shorter than the copy.
pub const INVOCATION: Duration = Duration::from_millis(2500);

#[derive(Default)]
pub struct Seen {
    pub invokes: u32,
    pub bad_signatures: Vec<String>,
    pub outcomes: Vec<String>,
}

/// A stand-in for the Lambda service's `Invoke` API.
pub struct LambdaEndpoint {
    url: String,
    world: Arc<OnceLock<Arc<World>>>,
    pub seen: Arc<Mutex<Seen>>,
    pub refuse_with: Arc<Mutex<Option<u16>>>,
}

impl LambdaEndpoint {
    async fn start() -> LambdaEndpoint {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let endpoint = LambdaEndpoint {
            url: url.clone(),
            world: Arc::new(OnceLock::new()),
            seen: Arc::default(),
            refuse_with: Arc::default(),
        };
        let (world, seen, refuse) = (
            endpoint.world.clone(),
            endpoint.seen.clone(),
            endpoint.refuse_with.clone(),
        );
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (world, seen, refuse, url) =
                    (world.clone(), seen.clone(), refuse.clone(), url.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        invoke(
                            req,
                            world.clone(),
                            seen.clone(),
                            refuse.clone(),
                            url.clone(),
                        )
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        endpoint
    }

    fn settings(&self) -> HandoverSettings {
        HandoverSettings {
            function_name: FUNCTION.into(),
            region: AWS_REGION.into(),
            credentials: AwsCredentials {
                access_key_id: AWS_KEY.into(),
                secret_access_key: AWS_SECRET.into(),
                session_token: Some(AWS_TOKEN.into()),
            },
            endpoint: self.url.clone(),
        }
    }
}

async fn invoke(
    req: Request<hyper::body::Incoming>,
    world: Arc<OnceLock<Arc<World>>>,
    seen: Arc<Mutex<Seen>>,
    refuse: Arc<Mutex<Option<u16>>>,
    base_url: String,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let problem = check_request(&parts, &body, &base_url);
    {
        let mut seen = seen.lock().unwrap();
        seen.invokes += 1;
        if let Some(p) = &problem {
            seen.bad_signatures.push(p.clone());
        }
    }
    let status = match (problem, *refuse.lock().unwrap()) {
        (Some(_), _) => 403,
        (None, Some(status)) => status,
        (None, None) => {
            // Accepted: run the new invocation, as Lambda would, asynchronously.
            let world = world.get().expect("world set").clone();
            tokio::spawn(async move {
                let outcome = match world
                    .send(&serde_json::from_slice(&body).unwrap(), INVOCATION)
                    .await
                {
                    Ok(Handled::Answered(handled)) => format!("answered {:?}", handled.body.status),
                    Ok(Handled::HandedOver { .. }) => "handed over".to_string(),
                    Err(e) => format!("error: {e}"),
                };
                seen.lock().unwrap().outcomes.push(outcome);
            });
            202
        }
    };
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    Ok(response)
}

/// Recomputes the SigV4 signature the way Lambda does and compares.
fn check_request(
    parts: &hyper::http::request::Parts,
    body: &[u8],
    base_url: &str,
) -> Option<String> {
    let path = parts.uri.path();
    if parts.method != hyper::Method::POST
        || path != format!("/2015-03-31/functions/{FUNCTION}/invocations")
    {
        return Some(format!("unexpected {} {path}", parts.method));
    }
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    if header("x-amz-invocation-type") != "Event" {
        return Some("not an asynchronous invocation".into());
    }
    if header("x-amz-security-token") != AWS_TOKEN {
        return Some("session token missing".into());
    }
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let Ok(when) = time::PrimitiveDateTime::parse(header("x-amz-date"), &format) else {
        return Some("bad x-amz-date".into());
    };
    let time: SystemTime = when.assume_utc().into();
    let identity = aws_credential_types::Credentials::new(
        AWS_KEY,
        AWS_SECRET,
        Some(AWS_TOKEN.into()),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(AWS_REGION)
        .name("lambda")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signed_headers = [
        ("content-type", header("content-type")),
        ("x-amz-invocation-type", header("x-amz-invocation-type")),
    ];
    let url = format!("{base_url}{path}");
    let signable = SignableRequest::new(
        "POST",
        &url,
        signed_headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let expected = instructions
        .headers()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default();
    (header("authorization") != expected)
        .then(|| format!("signature mismatch: {}", header("authorization")))
}

pub async fn world_with_lambda(copy: Duration) -> (Arc<World>, LambdaEndpoint) {
    let endpoint = LambdaEndpoint::start().await;
    let settings = endpoint.settings();
    let world = Arc::new(World::with_settings(copy, |s| s.handover = Some(settings)).await);
    endpoint.world.set(world.clone()).ok().unwrap();
    (world, endpoint)
}

/// Where a continuation record says its answer goes: the event's own stack and request.
pub fn answer_target(event: &Value) -> AnswerTarget {
    AnswerTarget {
        engine: Engine::CloudFormation,
        response_url: String::new(),
        stack_id: event["StackId"].as_str().unwrap().into(),
        request_id: event["RequestId"].as_str().unwrap().into(),
        logical_resource_id: "Copy".into(),
        physical_resource_id: None,
    }
}
