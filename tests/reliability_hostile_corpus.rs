//! Hostile input: the committed corpus in `tests/hostile/` goes through the real HTTP path
//! (handler → ResponseURL receiver, with the ECS emulator watching for calls), and each
//! event is decided once, as its index says, without an ECS call.

mod common;
mod reliability_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ecs_image_copy::envelope::MAX_BODY_BYTES;
use ecs_image_copy::handler::{HandleError, Handled};
use reliability_support::Rig;
use serde_json::Value;
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
