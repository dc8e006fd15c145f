//! Retries against injected faults (deterministic seed): transient failures are retried until
//! the call succeeds, the caller's deadline bounds the whole call, and permanent errors are
//! answered at once.

mod ecs_emulator_support;

use std::time::Duration;

use ecs_emulator::{CallRecord, Faults};
use ecs_emulator_support::*;
use ecs_image_copy::ecs::{
    CopyImageRequest, EcsClient, EcsError, RetryPolicy, Tag, TransportError,
};
use tokio::time::Instant;

/// One of each operation; every call must succeed despite the faults.
async fn workload(client: &EcsClient, round: usize) {
    let deadline = || deadline_in(Duration::from_secs(8));
    let image_id = client
        .copy_image(
            &CopyImageRequest {
                destination_image_name: Some(format!("copy-round-{round}")),
                client_token: Some(format!("round-{round}")),
                ..copy_request()
            },
            deadline(),
        )
        .await
        .expect("CopyImage");
    let image = client
        .describe_image(DESTINATION_REGION, &image_id, deadline())
        .await
        .expect("DescribeImages")
        .expect("the copy is visible");
    assert_eq!(image.image_name, Some(format!("copy-round-{round}")));
    client
        .tag_resources(
            DESTINATION_REGION,
            &image_id,
            &[Tag::new("round", round.to_string())],
            deadline(),
        )
        .await
        .expect("TagResources");
    let tagged = client
        .describe_image(DESTINATION_REGION, &image_id, deadline())
        .await
        .expect("DescribeImages")
        .expect("the copy is visible");
    assert_eq!(tagged.tags, [Tag::new("round", round.to_string())]);
    client
        .modify_image_attribute(
            DESTINATION_REGION,
            &image_id,
            None,
            Some("described again"),
            deadline(),
        )
        .await
        .expect("ModifyImageAttribute");
    client
        .cancel_copy_image(DESTINATION_REGION, &image_id, deadline())
        .await
        .expect("CancelCopyImage");
}

fn count(calls: &[CallRecord], pred: impl Fn(&CallRecord) -> bool) -> usize {
    calls.iter().filter(|c| pred(c)).count()
}

#[tokio::test]
async fn half_of_all_requests_throttled_and_every_call_still_succeeds() {
    let harness = Harness::start(60_000).await;
    harness.control().set_faults(Faults {
        throttle: 0.5,
        ..Faults::default()
    });
    let client = harness.client();
    for round in 0..4 {
        workload(&client, round).await;
    }
    let calls = harness.control().calls();
    let throttled = count(&calls, |c| {
        c.error_code.as_deref() == Some("Throttling.User") && c.http_status == Some(400)
    });
    let succeeded = count(&calls, |c| c.http_status == Some(200));
    // 4 rounds of 6 operations.
    assert_eq!(succeeded, 24, "{calls:#?}");
    assert!(
        throttled >= 10,
        "only {throttled} throttled of {}",
        calls.len()
    );
    assert_eq!(calls.len(), succeeded + throttled);
    // One copy per round and none from a throttled attempt; each round cancelled its own.
    let copies = count(&calls, |c| {
        c.action == "CopyImage" && c.http_status == Some(200)
    });
    assert_eq!(copies, 4);
    assert!(harness.control().images().iter().all(|i| !i.is_copy));
    harness.shutdown().await;
}

#[tokio::test]
async fn server_errors_dropped_connections_and_latency_are_retried() {
    let harness = Harness::start(60_000).await;
    harness.control().set_faults(Faults {
        throttle: 0.1,
        server_error: 0.25,
        drop_connection: 0.15,
        latency: Duration::from_millis(3),
    });
    let client = harness.client();
    for round in 0..4 {
        workload(&client, round).await;
    }
    let calls = harness.control().calls();
    let server_errors = count(&calls, |c| {
        matches!(
            (c.error_code.as_deref(), c.http_status),
            (Some("InternalError"), Some(500)) | (Some("ServiceUnavailable"), Some(503))
        )
    });
    let dropped = count(&calls, |c| c.http_status.is_none());
    let succeeded = count(&calls, |c| c.http_status == Some(200));
    assert_eq!(succeeded, 24, "{calls:#?}");
    assert!(server_errors >= 3, "{server_errors} server errors");
    assert!(dropped >= 2, "{dropped} dropped connections");
    let copies = count(&calls, |c| {
        c.action == "CopyImage" && c.http_status == Some(200)
    });
    assert_eq!(copies, 4);
    harness.shutdown().await;
}

#[tokio::test]
async fn constant_throttling_gives_up_at_the_deadline_with_the_last_error() {
    let harness = Harness::start(1_000).await;
    harness.control().set_faults(Faults {
        throttle: 1.0,
        ..Faults::default()
    });
    let client = harness.client();
    let budget = Duration::from_millis(600);
    let started = Instant::now();
    let error = client
        .copy_image(&copy_request(), started + budget)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    let EcsError::DeadlineExceeded {
        action,
        attempts,
        last,
    } = &error
    else {
        panic!("expected DeadlineExceeded, got {error:?}");
    };
    assert_eq!(action, "CopyImage");
    let (code, status, _, request_id) = api_parts(last.as_deref().expect("last error kept"));
    assert_eq!((code.as_str(), status), ("Throttling.User", 400));
    assert!(request_id.is_some());
    assert!(*attempts >= 5, "only {attempts} attempts in {elapsed:?}");
    assert_eq!(harness.control().calls().len(), *attempts as usize);
    // Gave up close to the deadline, neither much before it nor after it.
    assert!(
        elapsed <= budget + Duration::from_millis(150),
        "{elapsed:?}"
    );
    assert!(
        elapsed >= budget - Duration::from_millis(100),
        "gave up early: {elapsed:?}"
    );
    assert!(error.to_string().contains("Throttling.User"), "{error}");
    assert!(harness.control().images().iter().all(|i| !i.is_copy));
    harness.shutdown().await;
}

#[tokio::test]
async fn a_slow_server_cannot_make_the_call_overrun_its_deadline() {
    let harness = Harness::start(1_000).await;
    harness.control().set_faults(Faults {
        latency: Duration::from_secs(3),
        ..Faults::default()
    });
    // The attempt timeout is longer than the deadline: the deadline must cut the attempt.
    let client = harness.client_with(
        harness.credentials(),
        RetryPolicy::seeded(
            Duration::from_millis(5),
            Duration::from_millis(40),
            Duration::from_secs(10),
            3,
        ),
    );
    let budget = Duration::from_millis(400);
    let started = Instant::now();
    let error = client
        .describe_image(SOURCE_REGION, SOURCE_IMAGE, started + budget)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed <= budget + Duration::from_millis(150),
        "{elapsed:?}"
    );
    let last = match &error {
        EcsError::DeadlineExceeded { last, .. } => last.as_deref(),
        other => panic!("expected DeadlineExceeded, got {other:?}"),
    };
    assert!(
        matches!(
            last,
            Some(EcsError::Transport {
                source: TransportError::Timeout(_),
                ..
            })
        ),
        "{error:?}"
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn attempts_slower_than_the_attempt_timeout_are_retried_until_one_is_fast_enough() {
    let harness = Harness::start(1_000).await;
    harness.control().set_faults(Faults {
        latency: Duration::from_millis(250),
        ..Faults::default()
    });
    let client = harness.client_with(
        harness.credentials(),
        RetryPolicy::seeded(
            Duration::from_millis(5),
            Duration::from_millis(40),
            Duration::from_millis(100),
            5,
        ),
    );
    let slow = client
        .describe_image(
            SOURCE_REGION,
            SOURCE_IMAGE,
            deadline_in(Duration::from_millis(700)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(slow, EcsError::DeadlineExceeded { attempts, .. } if attempts >= 3),
        "{slow:?}"
    );
    // Once the server is quick again, the same client succeeds on its first attempt.
    harness.control().set_faults(Faults::default());
    tokio::time::sleep(Duration::from_millis(300)).await;
    harness.control().clear_calls();
    client
        .describe_image(
            SOURCE_REGION,
            SOURCE_IMAGE,
            deadline_in(Duration::from_secs(2)),
        )
        .await
        .unwrap();
    let calls = harness.control().calls();
    assert_eq!(
        count(&calls, |c| c.http_status == Some(200)),
        1,
        "{calls:#?}"
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn a_permanent_error_is_answered_after_one_call() {
    let harness = Harness::start(1_000).await;
    let client = harness.client();
    let started = Instant::now();
    let result = client
        .modify_image_attribute(
            DESTINATION_REGION,
            "m-uf6nosuchimage000",
            Some("renamed"),
            None,
            deadline_in(Duration::from_secs(5)),
        )
        .await;
    assert_api_error(result, "InvalidImageId.NotFound", 404);
    assert!(started.elapsed() < Duration::from_secs(1));
    let calls = harness.control().calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    harness.shutdown().await;
}
