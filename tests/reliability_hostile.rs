//! Hostile input: the committed corpus in `tests/hostile/` goes through the real HTTP path
//! (handler → ResponseURL receiver, with the ECS emulator watching for calls); generated
//! mutations of valid events go through the same pre-ECS decision without HTTP, so that
//! 100 000 of them fit in CI (`RELIABILITY_GENERATED` runs more or fewer).

mod common;
mod reliability_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ecs_image_copy::ecs::{Credentials, EcsClient, Endpoints, ReqwestTransport, RetryPolicy};
use ecs_image_copy::envelope::{Status, MAX_BODY_BYTES};
use ecs_image_copy::handler::{HandleError, Handled, Handler};
use ecs_image_copy::settings::Settings;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reliability_support::Rig;
use serde_json::{json, Value};
use tokio::time::Instant;

#[derive(serde::Deserialize)]
struct Expectation {
    answer: String,
    expect: Vec<String>,
}

fn corpus() -> Vec<(String, Vec<u8>, Expectation)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let index: BTreeMap<String, Expectation> =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index
        .into_iter()
        .map(|(file, expectation)| {
            let raw = std::fs::read(dir.join("cases").join(&file)).unwrap();
            (file, raw, expectation)
        })
        .collect()
}

fn replace(raw: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_event_is_decided_once_as_indexed_and_without_an_ecs_call() {
    let rig = Arc::new(Rig::new(1, Duration::from_millis(200)).await);
    let host = rig.receiver.url("");
    let host = host.strip_prefix("http://").unwrap().to_string();
    let cases = corpus();
    assert!(cases.len() >= 200, "only {} corpus cases", cases.len());
    let mut problems = Vec::new();
    for (file, raw, expectation) in cases {
        let raw = replace(&raw, b"RECEIVER", host.as_bytes());
        let before = rig.receiver.requests().len();
        // Spawned so that a panic is reported against its file instead of ending the run.
        let task = {
            let rig = Arc::clone(&rig);
            tokio::spawn(async move {
                rig.handler
                    .handle(&raw, Instant::now() + Duration::from_secs(10))
                    .await
            })
        };
        let result = match task.await {
            Ok(result) => result,
            Err(e) => {
                problems.push(format!("{file}: panicked: {e}"));
                continue;
            }
        };
        let new: Vec<_> = rig.receiver.requests().split_off(before);
        let problem = match (expectation.answer.as_str(), &result) {
            ("none", Err(HandleError::Unanswerable(error))) => {
                let text = error.to_string();
                if !new.is_empty() {
                    Some(format!("unanswerable, yet {} request(s) sent", new.len()))
                } else {
                    missing(&expectation.expect, &text)
                }
            }
            ("FAILED", Ok(Handled::Answered(handled))) => {
                let answer: Value = serde_json::from_str(&handled.body.json).unwrap();
                let reason = answer["Reason"].as_str().unwrap_or_default();
                if new.len() != 1 || new[0].body != handled.body.json.as_bytes() {
                    Some(format!("{} requests instead of one answer", new.len()))
                } else if answer["Status"] != "FAILED" {
                    Some(format!("answered {answer}"))
                } else if handled.body.json.len() > MAX_BODY_BYTES {
                    Some("answer over the size limit".into())
                } else {
                    missing(&expectation.expect, reason)
                }
            }
            // A Delete naming nothing this handler made: SUCCESS, however broken the rest.
            ("SUCCESS", Ok(Handled::Answered(handled))) => {
                let answer: Value = serde_json::from_str(&handled.body.json).unwrap();
                (new.len() != 1 || answer["Status"] != "SUCCESS")
                    .then(|| format!("{} requests, answered {answer}", new.len()))
            }
            (_, other) => Some(format!(
                "expected {}, got {:?}",
                expectation.answer,
                other.as_ref().map(|h| match h {
                    Handled::Answered(h) => h.body.json.as_str(),
                    Handled::HandedOver { .. } => "handed over",
                })
            )),
        };
        if let Some(problem) = problem {
            problems.push(format!("{file}: {problem}"));
        }
    }
    let calls = rig.ecs().calls();
    assert!(calls.is_empty(), "hostile input reached ECS: {calls:?}");
    assert!(
        problems.is_empty(),
        "{} corpus case(s) failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn missing(expected: &[String], text: &str) -> Option<String> {
    let absent: Vec<_> = expected
        .iter()
        .filter(|e| !text.contains(e.as_str()))
        .collect();
    (!absent.is_empty()).then(|| format!("{absent:?} not in {text:?}"))
}

// --- Generated mutations, without HTTP.

const SIGNED_URL: &str =
    "https://bucket.s3.amazonaws.com/cb?X-Amz-Signature=SIGNATURE-canary-9d8c7b";

fn handler() -> Handler {
    let credentials = Credentials::new("LTAI-k", SECRET, Some(TOKEN.to_string()));
    // Nothing listens here: the generated events must never get as far as ECS, and if one
    // did the answer would not be decided before ECS and the property below would say so.
    let ecs = EcsClient::with_transport(
        credentials.clone(),
        Endpoints::with_override("http://127.0.0.1:9").unwrap(),
        Arc::new(ReqwestTransport::new(Duration::from_millis(100))),
        RetryPolicy::default(),
    );
    Handler::with_client(
        ecs,
        Settings {
            credentials: Ok(Some(credentials)),
            region_id: Some(DEST_REGION.into()),
            ecs_endpoints: Ok(ecs_image_copy::ecs::Endpoints::official()),
            ros_timeout: Duration::from_secs(600),
            handover: None,
        },
    )
}

/// Valid events of every type, envelope and request type: the seeds of the mutations.
fn valid_events() -> Vec<Value> {
    let mut events = Vec::new();
    let tf = json!({"SourceImageId": SOURCE_IMAGE, "SourceRegionId": SOURCE_REGION,
        "ImageName": "web-server", "Tags": [{"MapKey": "team", "MapValue": "platform"}],
        "Timeouts": {"Create": "10m"}});
    let ros = json!({"ImageId": SOURCE_IMAGE, "SourceRegionId": SOURCE_REGION,
        "DestinationRegionId": DEST_REGION, "DestinationImageName": "web-server",
        "Tag": [{"Key": "team", "Value": "platform"}]});
    for (ty, props) in [
        ("TF::Alicloud::ImageCopy", &tf),
        ("Custom::ImageCopy", &tf),
        ("ALIYUN::ECS::CopyImage", &ros),
        ("ALIYUN::ROS::CustomResource", &ros),
    ] {
        for rt in ["Create", "Update", "Delete"] {
            let mut e = json!({
                "RequestType": rt, "ResponseURL": SIGNED_URL,
                "StackId": "arn:aws:cloudformation:us-east-1:1:stack/s/g", "RequestId": "r-1",
                "ResourceType": ty, "LogicalResourceId": "Copy",
                "ServiceToken": "arn:aws:lambda:us-east-1:1:function:f",
                "ResourceProperties": props,
            });
            if rt != "Create" {
                e["PhysicalResourceId"] = json!("m-copy00000001");
            }
            if rt == "Update" {
                e["OldResourceProperties"] = props.clone();
            }
            events.push(e.clone());
            let mut ros_envelope = e;
            ros_envelope.as_object_mut().unwrap().remove("ServiceToken");
            ros_envelope["RegionId"] = json!(SOURCE_REGION);
            ros_envelope["StackName"] = json!("s");
            events.push(ros_envelope);
        }
    }
    events
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        // Plain collections, not regex strategies: these are cheap enough for 100 000 cases.
        prop::collection::vec(any::<char>(), 0..40).prop_map(|c| Value::from(String::from_iter(c))),
        prop::collection::vec(prop::sample::select(b"aZ09:_-m".to_vec()), 0..12)
            .prop_map(|b| Value::from(String::from_utf8(b).unwrap())),
        prop::sample::select(vec![
            "",
            "Create",
            "Update",
            "Delete",
            "m-abcdef1",
            "cn-hangzhou",
            "cn-shanghai",
            "Custom::X",
            "http://",
            "acs:x",
            "aliyun",
            "10m",
            "true",
            "镜像",
            "\u{0}",
            "ecs-image-copy:create-failed",
        ])
        .prop_map(Value::from),
        (1usize..600).prop_map(|n| Value::from("x".repeat(n))),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec!["a", "Key", "Value", "MapKey", "Create", "Zz"]),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// Where to strike: a key at the top, in the properties, in a tag, or the old properties.
fn path() -> impl Strategy<Value = Vec<String>> {
    let top = prop::sample::select(vec![
        "RequestType",
        "ResponseURL",
        "StackId",
        "RequestId",
        "ResourceType",
        "LogicalResourceId",
        "PhysicalResourceId",
        "RegionId",
        "StackName",
        "IntranetResponseURL",
        "OldResourceProperties",
        "ResourceProperties",
    ]);
    let prop_key = prop::sample::select(vec![
        "SourceImageId",
        "ImageId",
        "SourceRegionId",
        "DestinationRegionId",
        "ImageName",
        "DestinationImageName",
        "Name",
        "Description",
        "DestinationDescription",
        "Encrypted",
        "KmsKeyId",
        "KMSKeyId",
        "ResourceGroupId",
        "Tags",
        "Tag",
        "Force",
        "DeleteAutoSnapshot",
        "Timeouts",
        "AllowCopyInSameRegion",
        "Parameters",
        "Id",
        "Bogus",
    ]);
    prop_oneof![
        top.prop_map(|k| vec![k.to_string()]),
        prop_key
            .clone()
            .prop_map(|k| vec!["ResourceProperties".into(), k.to_string()]),
        prop_key.prop_map(|k| vec!["OldResourceProperties".into(), k.to_string()]),
        prop::sample::select(vec!["MapKey", "MapValue", "Key", "Value"]).prop_map(|k| vec![
            "ResourceProperties".into(),
            "Tags".into(),
            "0".into(),
            k.to_string()
        ]),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(Vec<String>, Value),
    Remove(Vec<String>),
}

fn apply(event: &mut Value, mutation: &Mutation) {
    let (path, new) = match mutation {
        Mutation::Set(p, v) => (p, Some(v.clone())),
        Mutation::Remove(p) => (p, None),
    };
    let mut at = event;
    for key in &path[..path.len() - 1] {
        let next = match at {
            Value::Object(m) => m.get_mut(key.as_str()),
            Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => return,
        }
    }
    let last = path.last().unwrap();
    if let Value::Object(m) = at {
        match new {
            Some(v) => {
                m.insert(last.clone(), v);
            }
            None => {
                m.remove(last.as_str());
            }
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (path(), value()).prop_map(|(p, v)| Mutation::Set(p, v)),
        1 => path().prop_map(Mutation::Remove),
    ]
}

/// A broken copy of a valid event: it must be refused before ECS.
fn breaking_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        prop::sample::select(vec!["SourceImageId", "ImageId"]).prop_map(|k| Mutation::Set(
            vec!["ResourceProperties".into(), k.into()],
            json!("ubuntu")
        )),
        Just(Mutation::Set(
            vec!["ResourceType".into()],
            json!("AWS::S3::Bucket")
        )),
        Just(Mutation::Set(vec!["RequestType".into()], json!("Destroy"))),
        prop::sample::select(vec!["ImageName", "DestinationImageName"]).prop_map(|k| {
            Mutation::Set(
                vec!["ResourceProperties".into(), k.into()],
                json!("1-digit-first"),
            )
        }),
        any::<char>().prop_map(|k| Mutation::Set(
            vec!["ResourceProperties".into(), format!("Unknown{k}")],
            json!(1)
        )),
    ]
}

fn check_decision(handler: &Handler, event: &Value) -> Result<Option<String>, TestCaseError> {
    let raw = serde_json::to_vec(event).unwrap();
    match handler.answer_without_ecs(&raw) {
        Err(error) => {
            let text = error.to_string();
            prop_assert!(
                text.contains("ResponseURL") || text.contains("JSON"),
                "{text}"
            );
            prop_assert!(!text.contains("SIGNATURE-canary"), "{text}");
            Ok(None)
        }
        Ok(None) => Ok(Some("needs ECS".into())),
        Ok(Some((target, answer))) => {
            let body = answer.to_body(&target);
            prop_assert!(body.json.len() <= MAX_BODY_BYTES);
            prop_assert!(!body.json.contains("SIGNATURE-canary"), "{}", body.json);
            if answer.status == Status::Failed {
                let reason = answer.reason.clone().unwrap_or_default();
                prop_assert!(reason.len() > 10, "an empty reason: {answer:?}");
            }
            Ok(None)
        }
    }
}

/// Deterministic, and XorShift rather than ChaCha: in a debug build the cipher would cost
/// more than the handler's decision itself.
fn runner(config: Config, stream: u8) -> TestRunner {
    let mut seed = [0x5e; 16];
    seed[0] = stream;
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::XorShift, &seed))
}

#[test]
fn generated_mutations_never_panic_and_broken_ones_never_reach_ecs() {
    let total: u32 = std::env::var("RELIABILITY_GENERATED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let handler = handler();
    let events = valid_events();
    for event in &events {
        assert_eq!(
            check_decision(&handler, event).unwrap(),
            Some("needs ECS".to_string()),
            "a seed event is not valid: {event}"
        );
    }
    let seeds = prop::sample::select(events);
    let started = std::time::Instant::now();
    // Two threads, each its own deterministic stream: the machine has two cores.
    std::thread::scope(|scope| {
        for stream in 0..2u8 {
            let (handler, seeds) = (&handler, seeds.clone());
            scope.spawn(move || {
                let config = |cases| Config {
                    cases,
                    failure_persistence: None,
                    ..Config::default()
                };
                // Any mutation at all: decided without a panic, and every answer well-formed.
                runner(config(total * 2 / 5), stream)
                    .run(
                        &(seeds.clone(), prop::collection::vec(mutation(), 1..4)),
                        |(mut event, mutations)| {
                            for m in &mutations {
                                apply(&mut event, m);
                            }
                            check_decision(handler, &event).map(|_| ())
                        },
                    )
                    .unwrap();
                // A mutation known to break the event: refused before ECS, whatever else
                // changed.
                runner(config(total / 10), stream)
                    .run(
                        &(
                            seeds,
                            breaking_mutation(),
                            prop::collection::vec(mutation(), 0..2),
                        ),
                        |(mut event, breaking, others)| {
                            for m in &others {
                                apply(&mut event, m);
                            }
                            apply(&mut event, &breaking);
                            let decided = check_decision(handler, &event)?;
                            // A Delete of a real copy reads only what locates it: a broken
                            // name or an unknown key must not stop it (rollback_invariant).
                            if event["RequestType"] != "Delete" {
                                prop_assert_eq!(decided, None, "{}", event);
                            }
                            Ok(())
                        },
                    )
                    .unwrap();
            });
        }
    });
    eprintln!("{total} generated cases in {:?}", started.elapsed());
}

/// The rollback of a failed Create: its Delete, with the answered physical id and the same
/// properties, is answered SUCCESS before any ECS call (`answer_without_ecs` is `Some`).
fn check_rollback(
    handler: &Handler,
    create: &Value,
    checked: &std::sync::atomic::AtomicU32,
) -> Result<(), TestCaseError> {
    let raw = serde_json::to_vec(create).unwrap();
    let Ok(Some((_, answer))) = handler.answer_without_ecs(&raw) else {
        return Ok(()); // needs ECS, or nobody to answer: no rollback to check
    };
    if answer.status != Status::Failed {
        return Ok(());
    }
    checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut delete = create.clone();
    if let Some(fields) = delete.as_object_mut() {
        fields.insert("RequestType".into(), json!("Delete"));
        fields.insert(
            "PhysicalResourceId".into(),
            json!(answer.physical_resource_id),
        );
    }
    let raw = serde_json::to_vec(&delete).unwrap();
    match handler.answer_without_ecs(&raw) {
        Ok(Some((_, rollback))) => {
            prop_assert_eq!(
                rollback.status,
                Status::Success,
                "the rollback of {} failed: {:?}",
                create,
                rollback.reason
            );
        }
        other => prop_assert!(
            false,
            "the rollback of {create} was not decided before ECS: {other:?}"
        ),
    }
    Ok(())
}

#[test]
fn the_rollback_of_every_failed_generated_create_succeeds_without_ecs() {
    let total: u32 = std::env::var("RELIABILITY_GENERATED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let handler = handler();
    let creates: Vec<Value> = valid_events()
        .into_iter()
        .filter(|e| e["RequestType"] == "Create")
        .collect();
    let seeds = prop::sample::select(creates);
    let config = Config {
        cases: total / 5,
        failure_persistence: None,
        ..Config::default()
    };
    let checked = std::sync::atomic::AtomicU32::new(0);
    runner(config.clone(), 7)
        .run(
            &(
                seeds,
                prop::collection::vec(mutation(), 1..4),
                breaking_mutation(),
            ),
            |(mut event, mutations, breaking)| {
                for m in &mutations {
                    apply(&mut event, m);
                }
                check_rollback(&handler, &event, &checked)?;
                // The same with a mutation known to fail the Create.
                apply(&mut event, &breaking);
                check_rollback(&handler, &event, &checked)
            },
        )
        .unwrap();
    let checked = checked.into_inner();
    eprintln!("{checked} failed generated Creates rolled back");
    // Every case ends with a mutation that fails the Create: at least that many were checked.
    assert!(checked >= config.cases, "only {checked} rollbacks checked");
}
