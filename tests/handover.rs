//! Copies longer than one invocation: the handler hands the wait on to a fresh invocation
//! of its own Lambda function. A local Lambda `Invoke` endpoint checks each request's SigV4
//! signature and re-delivers the payload to the handler, as Lambda would.

mod common;

use std::convert::Infallible;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use common::*;
use ecs_image_copy::handler::HandleError;
use ecs_image_copy::handover::{
    AwsCredentials, Continuation, HandoverSettings, WaitKind, CONTINUATION_KEY,
};
use ecs_image_copy::lifecycle::FAILED_CREATE_MARKER;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::time::Instant;

const FUNCTION: &str = "ecs-image-copy-test";
const AWS_REGION: &str = "us-east-1";
const AWS_KEY: &str = "ASIATESTKEY";
const AWS_SECRET: &str = "aws-secret-canary";
const AWS_TOKEN: &str = "aws-session-token-canary";
/// Each (re-)delivered invocation lives this long: shorter than the copy.
const INVOCATION: Duration = Duration::from_millis(2500);

#[derive(Default)]
struct Seen {
    invokes: u32,
    bad_signatures: Vec<String>,
    outcomes: Vec<String>,
}

/// A stand-in for the Lambda service's `Invoke` API.
struct LambdaEndpoint {
    url: String,
    world: Arc<OnceLock<Arc<World>>>,
    seen: Arc<Mutex<Seen>>,
    refuse_with: Arc<Mutex<Option<u16>>>,
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
                    Ok(handled) => format!("answered {:?}", handled.body.status),
                    Err(HandleError::HandedOver { .. }) => "handed over".to_string(),
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

async fn world_with_lambda(copy: Duration) -> (Arc<World>, LambdaEndpoint) {
    let endpoint = LambdaEndpoint::start().await;
    let settings = endpoint.settings();
    let world = Arc::new(World::with_settings(copy, |s| s.handover = Some(settings)).await);
    endpoint.world.set(world.clone()).ok().unwrap();
    (world, endpoint)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_outlasting_three_invocations_is_answered_once_with_one_copy() {
    let (world, endpoint) = world_with_lambda(Duration::from_secs(8)).await;
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let first = world.send(&event, INVOCATION).await;
    assert!(
        matches!(first, Err(HandleError::HandedOver { hand_overs: 1, .. })),
        "{first:?}"
    );

    let answers = world
        .receiver
        .wait_for_accepted(1, Duration::from_secs(40))
        .await;
    assert_eq!(answers.len(), 1, "one answer");
    let answer = answers[0].json();
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let physical = answer["PhysicalResourceId"].as_str().unwrap();
    assert_eq!(answer["Data"]["ImageId"], image_of(physical));
    assert_eq!(answer["RequestId"], event["RequestId"]);
    // Nothing else answers later.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(world.receiver.requests().len(), 1);
    assert_eq!(world.calls("CopyImage"), 1, "exactly one CopyImage");
    assert_eq!(world.calls("CancelCopyImage"), 0);

    let seen = endpoint.seen.lock().unwrap();
    assert!(
        seen.invokes >= 3,
        "outlasted three invocations: {} hand-overs",
        seen.invokes
    );
    assert!(seen.bad_signatures.is_empty(), "{:?}", seen.bad_signatures);
    let answered = seen
        .outcomes
        .iter()
        .filter(|o| o.starts_with("answered"))
        .count();
    assert_eq!(answered, 1, "{:?}", seen.outcomes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_hand_over_answers_failed_and_cancels_the_copy() {
    let (world, endpoint) = world_with_lambda(Duration::from_secs(30)).await;
    *endpoint.refuse_with.lock().unwrap() = Some(429);
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let started = Instant::now();
    let handled = world.send(&event, INVOCATION).await.expect("answered");
    assert!(started.elapsed() < INVOCATION, "answered in time");
    let answer: Value = serde_json::from_str(&handled.body.json).unwrap();
    assert_eq!(answer["Status"], "FAILED");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(
        reason.contains("could not be handed over") && reason.contains("429"),
        "{reason}"
    );
    assert_eq!(world.calls("CancelCopyImage"), 1);
    let physical = answer["PhysicalResourceId"].as_str().unwrap();
    if physical != FAILED_CREATE_MARKER {
        // A cancel still under way is named, and the rollback finishes it.
        assert!(!world.ecs().realism().cancel_takes.is_zero(), "{answer}");
        let delete = with_physical(
            cfn_event(&world, "Delete", "Custom::ImageCopy", &tf_props()),
            physical,
        );
        assert_eq!(world.answer(&delete).await["Status"], "SUCCESS");
    }
    assert_eq!(world.ecs().copy_tasks_running(), 0);
}

#[tokio::test]
async fn a_forged_or_foreign_continuation_is_refused_without_touching_ecs() {
    let (world, _endpoint) = world_with_lambda(Duration::from_millis(500)).await;
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let target_of = |e: &Value, stack: &str| ecs_image_copy::envelope::AnswerTarget {
        engine: ecs_image_copy::envelope::Engine::CloudFormation,
        response_url: String::new(),
        stack_id: stack.to_string(),
        request_id: e["RequestId"].as_str().unwrap().to_string(),
        logical_resource_id: "Copy".into(),
        physical_resource_id: None,
    };
    let cases = [
        // Signed with the right key, but for another stack.
        Continuation::new(
            WaitKind::Copy,
            SOURCE_IMAGE,
            SystemTime::now(),
            1,
            &[],
            &target_of(&event, "another-stack"),
            SECRET.as_bytes(),
        ),
        // For this event, but signed by someone without the secret.
        Continuation::new(
            WaitKind::Copy,
            SOURCE_IMAGE,
            SystemTime::now(),
            1,
            &[],
            &target_of(&event, event["StackId"].as_str().unwrap()),
            b"guess",
        ),
    ];
    for record in cases {
        let mut forged = event.clone();
        forged[CONTINUATION_KEY] = serde_json::to_value(&record).unwrap();
        forged["ResponseURL"] = json!(world.response_url());
        let answer = world.answer(&forged).await;
        assert_eq!(answer["Status"], "FAILED", "{answer}");
        assert!(
            answer["Reason"]
                .as_str()
                .unwrap()
                .contains("Refused to resume"),
            "{answer}"
        );
    }
    assert!(world.ecs().calls().is_empty(), "{:?}", world.ecs().calls());
    assert!(world.ecs().image(SOURCE_IMAGE).is_some());
}

#[tokio::test]
async fn a_handed_over_delete_resumes_and_removes_the_recorded_snapshots() {
    let (world, _endpoint) = world_with_lambda(Duration::from_millis(300)).await;
    let mut props = tf_props();
    props["DeleteAutoSnapshot"] = json!(true);
    let created = world
        .answer(&cfn_event(&world, "Create", "Custom::ImageCopy", &props))
        .await;
    let physical = created["PhysicalResourceId"].as_str().unwrap().to_string();
    let id = image_of(&physical);
    let snapshots = world.ecs().image(&id).unwrap().snapshot_ids;

    let delete = with_physical(
        cfn_event(&world, "Delete", "Custom::ImageCopy", &props),
        &physical,
    );
    let target = ecs_image_copy::envelope::AnswerTarget {
        engine: ecs_image_copy::envelope::Engine::CloudFormation,
        response_url: String::new(),
        stack_id: delete["StackId"].as_str().unwrap().into(),
        request_id: delete["RequestId"].as_str().unwrap().into(),
        logical_resource_id: "Copy".into(),
        physical_resource_id: None,
    };
    let record = Continuation::new(
        WaitKind::Delete,
        &id,
        SystemTime::now(),
        1,
        &snapshots,
        &target,
        SECRET.as_bytes(),
    );
    let mut resumed = delete.clone();
    resumed[CONTINUATION_KEY] = serde_json::to_value(&record).unwrap();
    let answer = world.answer(&resumed).await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert!(world.ecs().image(&id).is_none());
    assert!(world
        .ecs()
        .snapshots()
        .iter()
        .all(|s| !snapshots.contains(&s.snapshot_id)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_outlasting_the_invocation_is_waited_for_by_the_next_one() {
    let (world, endpoint) = world_with_lambda(Duration::from_secs(600)).await;
    // A copy still running when its stack is deleted; ECS then takes 6 s to remove it.
    let ecs = ecs_image_copy::ecs::EcsClient::new(
        ecs_image_copy::ecs::Credentials::new("LTAI-test-key", SECRET, Some(TOKEN.into())),
        Some(&world.emulator.endpoint()),
    )
    .unwrap();
    let request = ecs_image_copy::ecs::CopyImageRequest {
        source_region_id: SOURCE_REGION.into(),
        image_id: SOURCE_IMAGE.into(),
        destination_region_id: DEST_REGION.into(),
        ..Default::default()
    };
    let id = ecs
        .copy_image(&request, Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    // Listed by now, however late the suite's realism lists new copies.
    tokio::time::sleep(world.ecs().realism().invisible_for).await;
    world.ecs().set_realism(ecs_emulator::Realism {
        cancel_takes: Duration::from_secs(6),
        ..world.ecs().realism()
    });
    let delete = with_physical(
        cfn_event(&world, "Delete", "Custom::ImageCopy", &tf_props()),
        &id,
    );
    let first = world.send(&delete, INVOCATION).await;
    assert!(
        matches!(first, Err(HandleError::HandedOver { .. })),
        "{first:?}"
    );
    let answers = world
        .receiver
        .wait_for_accepted(1, Duration::from_secs(30))
        .await;
    assert_eq!(answers.len(), 1, "one answer");
    let answer = answers[0].json();
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert!(world.ecs().image(&id).is_none());
    // The next invocation's cancel met the one under way; that was not fatal.
    let cancels: Vec<_> = world
        .ecs()
        .calls()
        .into_iter()
        .filter(|c| c.action == "CancelCopyImage")
        .map(|c| c.error_code)
        .collect();
    assert!(
        cancels.len() >= 2,
        "the next invocation cancelled too: {cancels:?}"
    );
    assert_eq!(cancels[0], None, "{cancels:?}");
    assert!(
        cancels[1..]
            .iter()
            .all(|c| c.as_deref() == Some("IncorrectImageStatus")),
        "{cancels:?}"
    );
    assert!(endpoint.seen.lock().unwrap().invokes >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_hand_over_outlives_the_service_timeout() {
    let (world, endpoint) = world_with_lambda(Duration::from_secs(60)).await;
    let mut props = tf_props();
    props["ServiceTimeout"] = json!("6");
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &props);
    let started = Instant::now();
    let first = world.send(&event, INVOCATION).await;
    assert!(
        matches!(first, Err(HandleError::HandedOver { .. })),
        "the engine waits longer than one invocation: {first:?}"
    );
    let answers = world
        .receiver
        .wait_for_accepted(1, Duration::from_secs(10))
        .await;
    let answered_after = started.elapsed();
    assert!(
        answered_after < Duration::from_secs(6),
        "answered {answered_after:?} after the first invocation, past the ServiceTimeout"
    );
    assert_eq!(answers.len(), 1);
    let answer = answers[0].json();
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(
        reason.contains("ServiceTimeout 6s") && reason.contains("cancelled"),
        "{reason}"
    );
    assert_eq!(world.calls("CancelCopyImage"), 1);
    assert_eq!(world.ecs().copy_tasks_running(), 0);
    let invokes = endpoint.seen.lock().unwrap().invokes;
    assert!(invokes >= 1, "handed over at least once");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let seen = endpoint.seen.lock().unwrap();
    assert_eq!(seen.invokes, invokes, "no hand-over after the answer");
    assert_eq!(world.receiver.requests().len(), 1, "answered once");
    assert!(seen.bad_signatures.is_empty(), "{:?}", seen.bad_signatures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_wait_looks_where_the_record_says_the_copy_is() {
    // The provider region is cn-shanghai now; the copy was started into cn-beijing.
    let world = World::new(Duration::from_millis(600)).await;
    let ecs = ecs_image_copy::ecs::EcsClient::new(
        ecs_image_copy::ecs::Credentials::new("LTAI-test-key", SECRET, Some(TOKEN.to_string())),
        Some(&world.emulator.endpoint()),
    )
    .unwrap();
    let started = ecs
        .copy_image(
            &ecs_image_copy::ecs::CopyImageRequest {
                source_region_id: SOURCE_REGION.into(),
                image_id: SOURCE_IMAGE.into(),
                destination_region_id: "cn-beijing".into(),
                destination_image_name: None,
                destination_description: None,
                encrypted: None,
                kms_key_id: None,
                resource_group_id: None,
                tags: Vec::new(),
                client_token: None,
            },
            Instant::now() + Duration::from_secs(5),
        )
        .await
        .unwrap();
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let target = ecs_image_copy::envelope::AnswerTarget {
        engine: ecs_image_copy::envelope::Engine::CloudFormation,
        response_url: String::new(),
        stack_id: event["StackId"].as_str().unwrap().into(),
        request_id: event["RequestId"].as_str().unwrap().into(),
        logical_resource_id: "Copy".into(),
        physical_resource_id: None,
    };
    let record = Continuation::new(
        WaitKind::Copy,
        &started,
        SystemTime::now(),
        1,
        &[],
        &target,
        SECRET.as_bytes(),
    )
    .scoped(Some("cn-beijing".into()), None, SECRET.as_bytes());
    let mut resumed = event.clone();
    resumed[CONTINUATION_KEY] = serde_json::to_value(&record).unwrap();
    world.ecs().clear_calls();
    let answer = world.answer(&resumed).await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(
        answer["PhysicalResourceId"],
        format!("cn-beijing/{started}")
    );
    assert_eq!(answer["Data"]["ImageId"], started.as_str());
    assert_eq!(world.calls("CopyImage"), 0, "resumed, not copied again");
    assert!(
        world
            .ecs()
            .calls()
            .iter()
            .all(|c| c.region_id.as_deref() == Some("cn-beijing")),
        "{:?}",
        world.ecs().calls()
    );
}
