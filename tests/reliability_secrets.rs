//! Secrets under the reliability suites: randomized lifecycles under faults, the hostile
//! corpus and an overrun deadline run with distinctive credentials and presigned URLs, and
//! no secret, token or URL signature may appear in any captured log line, error or answer.
//! Alone in its binary: tracing caches callsite interest, so the capturing subscriber must
//! be the global default from the start.

mod log_capture;

mod common;
mod reliability_support;

use std::time::Duration;

use common::*;
use ecs_emulator::Faults;
use reliability_support::{run_many, shown, Envelope, Rig};
use serde_json::json;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_log_error_or_answer_under_faults_and_hostile_input() {
    // Alone in this test binary: see log_capture::capture_globally.
    let captured = log_capture::capture_globally();

    // Suite 1, a slice of it: lifecycles under faults.
    let (failures, mut transcript) = run_many(0x5EC0_0000, 48, 48).await;
    assert!(failures.is_empty(), "{failures:#?}");

    // Suite 2: the hostile corpus over HTTP.
    let rig = Rig::new(7, Duration::from_millis(200)).await;
    let host = rig.receiver.url("").replace("http://", "");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/cases");
    for entry in std::fs::read_dir(dir).unwrap() {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        let raw = String::from_utf8_lossy(&raw).replace("RECEIVER", &host);
        if let Err(e) = rig
            .handler
            .handle(raw.as_bytes(), Instant::now() + Duration::from_secs(5))
            .await
        {
            transcript.errors.push(shown(&e));
        }
    }
    transcript.answers.extend(
        rig.receiver
            .requests()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned()),
    );

    // Suite 3: a deadline that passes mid-copy, with a slow and flaky API and a ResponseURL
    // that refuses for good (so the error path is logged too).
    let rig = Rig::new(8, Duration::from_secs(60)).await;
    rig.ecs().set_faults(Faults {
        latency: Duration::from_millis(100),
        server_error: 0.3,
        drop_connection: 0.1,
        ..Faults::default()
    });
    let props = json!({"SourceImageId": SOURCE_IMAGE, "SourceRegionId": SOURCE_REGION});
    let event = rig.event(
        Envelope::CloudFormation,
        "Create",
        "Custom::ImageCopy",
        &props,
    );
    rig.receiver.fail_next(1, 403);
    let result = rig
        .handler
        .handle(
            &serde_json::to_vec(&event).unwrap(),
            Instant::now() + Duration::from_secs(3),
        )
        .await;
    transcript.errors.push(shown(&result.expect_err("refused")));

    let logs = captured.text();
    assert!(logs.contains("answer delivered") && logs.contains("malformed event"));
    assert!(transcript.answers.len() > 300 && !transcript.errors.is_empty());
    let errors = transcript.errors.join("\n");
    let answers = transcript.answers.join("\n");
    for (what, text) in [("logs", &logs), ("errors", &errors), ("answers", &answers)] {
        for canary in [SECRET, TOKEN, URL_SIGNATURE] {
            let at = text
                .find(canary)
                .map(|i| &text[i.saturating_sub(300)..i + canary.len()]);
            assert!(
                at.is_none(),
                "{canary} leaked into {what}: …{}",
                at.unwrap()
            );
        }
    }
}
