//! The waits on a paused clock against the in-memory ECS: the graces are minutes long, so
//! only a paused clock can show where they end.

use super::*;
use crate::ecs::ImageStatus;
use crate::lifecycle::fake::{FakeEcs, Timing};

const ID: &str = "m-copy";

/// ECS holding one copy, started now, that behaves as `timing`.
fn ecs_with(timing: Timing) -> FakeEcs {
    let ecs = FakeEcs::default();
    ecs.add_image(ID, "r", timing);
    ecs
}

#[tokio::test(start_paused = true)]
async fn a_copy_listed_late_within_the_grace_is_waited_for() {
    let start = Instant::now();
    let ecs = ecs_with(Timing {
        listed_after: Duration::from_secs(40),
        ..Timing::finished()
    });
    let end = wait_for_copy(&ecs, "r", ID, start, start + Duration::from_secs(600))
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
    let ecs = FakeEcs::default();
    let end = wait_for_copy(&ecs, "r", ID, start, start + Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(end, WaitEnd::Vanished);
    assert!(start.elapsed() >= LISTING_GRACE, "{:?}", start.elapsed());
    assert!(start.elapsed() < LISTING_GRACE + UNLISTED_MAX_INTERVAL + Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn a_copy_seen_and_then_gone_vanished() {
    let start = Instant::now();
    let ecs = ecs_with(Timing {
        copying_for: Duration::from_secs(3600),
        removed_after: Some(Duration::from_secs(5)),
        ..Timing::default()
    });
    let end = wait_for_copy(&ecs, "r", ID, start, start + Duration::from_secs(600))
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
    let ecs = ecs_with(Timing {
        usable_after: Duration::MAX / 4,
        ..Timing::finished()
    });
    let stop_at = start + Duration::from_secs(60);
    let end = wait_for_copy(&ecs, "r", ID, start, stop_at).await.unwrap();
    assert_eq!(end, WaitEnd::Available);
    assert!(Instant::now() <= stop_at);
}

#[tokio::test(start_paused = true)]
async fn available_without_usable_is_accepted_after_the_usable_grace() {
    let start = Instant::now();
    let ecs = ecs_with(Timing {
        usable_after: Duration::MAX / 4,
        ..Timing::finished()
    });
    let end = wait_for_copy(&ecs, "r", ID, start, start + Duration::from_secs(3600))
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
    let ecs = ecs_with(Timing {
        usable_after: Duration::from_secs(8),
        ..Timing::finished()
    });
    let end = wait_for_copy(&ecs, "r", ID, start, start + Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(end, WaitEnd::Available);
    assert!(
        start.elapsed() < Duration::from_secs(12),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_copy_ends_the_wait_with_its_status() {
    let start = Instant::now();
    let ecs = ecs_with(Timing {
        copying_for: Duration::from_secs(20),
        ends: ImageStatus::CreateFailed,
        ..Timing::default()
    });
    let end = wait_for_copy(&ecs, "r", ID, start, start + Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(end, WaitEnd::Failed("CreateFailed".into()));
    assert!(start.elapsed() >= Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn a_failed_look_ends_the_wait_unless_only_usable_was_outstanding() {
    let start = Instant::now();
    let ecs = ecs_with(Timing::default());
    ecs.fail_next(
        "DescribeImages",
        super::super::fake::api_error("DescribeImages", "Forbidden"),
    );
    let end = wait_for_copy(&ecs, "r", ID, start, start + Duration::from_secs(600)).await;
    assert_eq!(end.unwrap_err().code(), Some("Forbidden"));

    let ecs = ecs_with(Timing {
        usable_after: Duration::MAX / 4,
        ..Timing::finished()
    });
    let mut watch = CopyWatch::new();
    let stop_at = start + Duration::from_secs(600);
    let first = Instant::now() + Duration::from_secs(5);
    // One look sees Available but not Usable; the next fails: the copy is complete.
    let _ =
        tokio::time::timeout_at(first, watch_copy(&ecs, "r", ID, start, stop_at, &mut watch)).await;
    assert!(watch.only_usable_outstanding());
    ecs.fail_next(
        "DescribeImages",
        super::super::fake::api_error("DescribeImages", "Forbidden"),
    );
    let end = watch_copy(&ecs, "r", ID, start, stop_at, &mut watch).await;
    assert_eq!(end.unwrap(), WaitEnd::Available);
}

#[tokio::test(start_paused = true)]
async fn an_image_is_waited_for_until_gone_or_out_of_time() {
    let ecs = ecs_with(Timing {
        removed_after: Some(Duration::from_secs(25)),
        ..Timing::finished()
    });
    let start = Instant::now();
    assert!(
        wait_until_gone(&ecs, "r", ID, start + Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(start.elapsed() >= Duration::from_secs(25));
    let ecs = ecs_with(Timing::finished());
    let start = Instant::now();
    let stop_at = start + Duration::from_secs(30);
    assert!(!wait_until_gone(&ecs, "r", ID, stop_at).await.unwrap());
    assert!(Instant::now() <= stop_at);
}
