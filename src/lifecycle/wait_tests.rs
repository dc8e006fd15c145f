//! The waits on a paused clock against scripted DescribeImages answers: the graces are
//! minutes long, so only a paused clock can show where they end.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::ecs::testing::{json, ScriptedTransport};
use crate::ecs::{Credentials, Endpoints, RetryPolicy};

const ID: &str = "m-copy";

fn client(transport: Arc<ScriptedTransport>) -> EcsClient {
    EcsClient::with_transport(
        Credentials::new("LTAIid", "secret", None),
        Endpoints::with_override("http://127.0.0.1:9").unwrap(),
        transport,
        RetryPolicy::seeded(
            Duration::from_millis(100),
            Duration::from_secs(1),
            Duration::from_secs(5),
            1,
        ),
    )
}

/// DescribeImages answers decided by the time since `start`: `None` lists nothing.
fn listing(
    start: Instant,
    at: impl Fn(Duration) -> Option<serde_json::Value> + Send + Sync + 'static,
) -> Arc<ScriptedTransport> {
    ScriptedTransport::new(move |_, _| {
        let images: Vec<_> = at(start.elapsed()).into_iter().collect();
        json(200, json!({"RequestId": "R", "Images": {"Image": images}}))
    })
}

fn image(status: &str, usable: bool) -> serde_json::Value {
    json!({"ImageId": ID, "Status": status, "Usable": usable, "Progress": "100%"})
}

#[tokio::test(start_paused = true)]
async fn a_copy_listed_late_within_the_grace_is_waited_for() {
    let start = Instant::now();
    let transport = listing(start, |t| {
        (t >= Duration::from_secs(40)).then(|| image("Available", true))
    });
    let end = wait_for_copy(
        &client(transport),
        "cn-shanghai",
        ID,
        start,
        start + Duration::from_secs(600),
    )
    .await
    .unwrap();
    assert_eq!(end, WaitEnd::Available);
    assert!(
        start.elapsed() < Duration::from_secs(40) + UNLISTED_MAX_INTERVAL + Duration::from_secs(1)
    );
}

#[tokio::test(start_paused = true)]
async fn a_copy_never_listed_vanishes_only_after_the_grace() {
    let start = Instant::now();
    let transport = listing(start, |_| None);
    let end = wait_for_copy(
        &client(transport),
        "cn-shanghai",
        ID,
        start,
        start + Duration::from_secs(600),
    )
    .await
    .unwrap();
    assert_eq!(end, WaitEnd::Vanished);
    assert!(start.elapsed() >= LISTING_GRACE, "{:?}", start.elapsed());
    assert!(start.elapsed() < LISTING_GRACE + UNLISTED_MAX_INTERVAL + Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn a_copy_seen_and_then_gone_vanished() {
    let start = Instant::now();
    let transport = listing(start, |t| {
        (t < Duration::from_secs(5)).then(|| image("Creating", false))
    });
    let end = wait_for_copy(
        &client(transport),
        "cn-shanghai",
        ID,
        start,
        start + Duration::from_secs(600),
    )
    .await
    .unwrap();
    assert_eq!(end, WaitEnd::Vanished);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn available_without_usable_is_accepted_at_the_deadline_not_timed_out() {
    let start = Instant::now();
    let transport = listing(start, |_| Some(image("Available", false)));
    let stop_at = start + Duration::from_secs(60);
    let end = wait_for_copy(&client(transport), "cn-shanghai", ID, start, stop_at)
        .await
        .unwrap();
    assert_eq!(end, WaitEnd::Available);
    assert!(Instant::now() <= stop_at);
}

#[tokio::test(start_paused = true)]
async fn available_without_usable_is_accepted_after_the_usable_grace() {
    let start = Instant::now();
    let transport = listing(start, |_| Some(image("Available", false)));
    let end = wait_for_copy(
        &client(transport),
        "cn-shanghai",
        ID,
        start,
        start + Duration::from_secs(3600),
    )
    .await
    .unwrap();
    assert_eq!(end, WaitEnd::Available);
    let waited = start.elapsed();
    assert!(
        waited >= USABLE_GRACE && waited < USABLE_GRACE + Duration::from_secs(5),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn usable_after_available_ends_the_wait_at_once() {
    let start = Instant::now();
    let transport = listing(start, |t| {
        Some(image("Available", t >= Duration::from_secs(8)))
    });
    let end = wait_for_copy(
        &client(transport),
        "cn-shanghai",
        ID,
        start,
        start + Duration::from_secs(3600),
    )
    .await
    .unwrap();
    assert_eq!(end, WaitEnd::Available);
    assert!(
        start.elapsed() < Duration::from_secs(12),
        "{:?}",
        start.elapsed()
    );
}
