//! Distinctive credentials and presigned-URL signatures never reach a log line or an answer,
//! across success, ECS error, failed copy, callback retry and delete paths.

mod log_capture;

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test]
async fn no_secret_token_or_url_signature_in_logs_or_answers() {
    // Alone in this test binary: see log_capture::capture_globally.
    let captured = log_capture::capture_globally();

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

    let logs = captured.text();
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
