//! Distinctive credentials and presigned-URL signatures never reach a log line or an answer,
//! across success, ECS error, failed copy, callback retry and delete paths.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_token_or_url_signature_in_logs_or_answers() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // Global, and alone in this test binary: tracing caches per-callsite interest, which a
    // thread-scoped subscriber in one of several parallel tests does not reliably get.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let world = World::new(Duration::from_millis(300)).await;
    world.receiver.fail_next(1, 500);
    let props = tf_props();
    let id = {
        let answer = world
            .answer(&cfn_event(&world, "Create", "Custom::ImageCopy", &props))
            .await;
        answer["PhysicalResourceId"].as_str().unwrap().to_string()
    };
    // An ECS error path: the source image does not exist.
    let mut missing = tf_props();
    missing["SourceImageId"] = json!("m-doesnotexist0001");
    let answer = world
        .answer(&cfn_event(&world, "Create", "Custom::ImageCopy", &missing))
        .await;
    assert!(
        answer["Reason"]
            .as_str()
            .unwrap()
            .contains("InvalidImageId.NotFound"),
        "{answer}"
    );
    world.ecs().fail_next_copies(1);
    world
        .answer(&cfn_event(&world, "Create", "Custom::ImageCopy", &props))
        .await;
    world
        .answer(&with_physical(
            cfn_event(&world, "Delete", "Custom::ImageCopy", &props),
            &id,
        ))
        .await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("answer delivered"),
        "logs were captured: {logs}"
    );
    let answers: String = world
        .receiver
        .requests()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    for (what, text) in [("logs", &logs), ("answers", &answers)] {
        for canary in [TOKEN, URL_SIGNATURE] {
            assert!(!text.contains(canary), "{canary} leaked into {what}");
        }
    }
    assert!(!logs.contains(SECRET), "the secret leaked into the logs");
}
