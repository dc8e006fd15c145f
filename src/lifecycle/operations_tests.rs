//! Create, update and delete against the in-memory ECS on a paused clock: what each
//! operation calls, answers and leaves behind, without HTTP.

use std::time::Duration;

use super::fake::{api_error, FakeEcs, Timing};
use super::tests::{ros_spec, tf_spec};
use super::*;
use crate::ecs::ImageStatus;
use crate::model::Tag;

const DEST: &str = "cn-shanghai";

/// `secs` to wait in this invocation, and ten more to clean up.
fn budget(secs: u64, may_continue_elsewhere: bool) -> Budget {
    let now = Instant::now();
    Budget {
        stop_waiting_at: now + Duration::from_secs(secs),
        cleanup_by: now + Duration::from_secs(secs + 10),
        may_continue_elsewhere,
        bound: Bound::Invocation,
    }
}

fn copying_for(secs: u64) -> Timing {
    Timing {
        copying_for: Duration::from_secs(secs),
        ..Timing::default()
    }
}

#[tokio::test(start_paused = true)]
async fn create_copies_waits_until_available_and_journals_the_copy() {
    let ecs = FakeEcs::copying(copying_for(30));
    let journal = Journal::default();
    let lifecycle = Lifecycle::new(&ecs, journal.clone());
    let started = Instant::now();
    let done = lifecycle
        .create(&tf_spec(), "token-1", budget(600, false))
        .await;
    assert_eq!(done.unwrap(), Progress::Done("m-copy1".into()));
    assert!(started.elapsed() >= Duration::from_secs(30));
    assert_eq!(journal.started_image().as_deref(), Some("m-copy1"));
    assert_eq!(ecs.count("CopyImage"), 1);
    assert_eq!(ecs.count("CancelCopyImage") + ecs.count("DeleteImage"), 0);
    // A repeated delivery (same client token) finds the same copy.
    let again = lifecycle
        .create(&tf_spec(), "token-1", budget(600, false))
        .await;
    assert_eq!(again.unwrap(), Progress::Done("m-copy1".into()));
}

#[tokio::test(start_paused = true)]
async fn a_refused_copy_image_fails_naming_nothing() {
    let ecs = FakeEcs::default();
    ecs.fail_next(
        "CopyImage",
        api_error("CopyImage", "InvalidImageId.NotFound"),
    );
    let journal = Journal::default();
    let failure = Lifecycle::new(&ecs, journal.clone())
        .create(&tf_spec(), "t", budget(600, false))
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, LifecycleError::Ecs { .. }),
        "{:?}",
        failure.error
    );
    assert_eq!(failure.leftover_image_id, None);
    assert_eq!(journal.started_image(), None);
    assert_eq!(ecs.calls(), ["CopyImage m-source1"]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_copy_is_removed_and_still_named_by_create_but_not_by_update() {
    let failing = Timing {
        copying_for: Duration::from_secs(20),
        ends: ImageStatus::CreateFailed,
        ..Timing::default()
    };
    let ecs = FakeEcs::copying(failing.clone());
    let failure = Lifecycle::new(&ecs, Journal::default())
        .create(&tf_spec(), "t", budget(600, false))
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, LifecycleError::CopyFailed { ref status, .. } if status == "CreateFailed")
    );
    assert_eq!(ecs.count("DeleteImage"), 1);
    // Named all the same: the rollback's Delete of a gone image costs one look.
    assert_eq!(failure.leftover_image_id.as_deref(), Some("m-copy1"));

    let ecs = FakeEcs::copying(failing);
    let mut new = tf_spec();
    new.source_image_id = "m-source2".into();
    new.image_name = Some("web-2".into());
    let failure = Lifecycle::new(&ecs, Journal::default())
        .update(&tf_spec(), &new, Some("m-held"), "t", budget(600, false))
        .await
        .unwrap_err();
    assert!(matches!(failure.error, LifecycleError::CopyFailed { .. }));
    assert_eq!(
        failure.leftover_image_id, None,
        "seen listed, then seen gone"
    );
}

#[tokio::test(start_paused = true)]
async fn a_copy_past_its_create_timeout_is_cancelled_and_said_so() {
    let ecs = FakeEcs::copying(copying_for(3600));
    let mut spec = tf_spec();
    spec.create_timeout = Duration::from_secs(60);
    let failure = Lifecycle::new(&ecs, Journal::default())
        .create(&spec, "t", budget(600, false))
        .await
        .unwrap_err();
    let shown = failure.error.to_string();
    assert!(
        shown.contains("create timeout of 1m") && shown.contains("cancelled"),
        "{shown}"
    );
    assert_eq!(ecs.count("CancelCopyImage"), 1);
    assert_eq!(ecs.count("DeleteImage"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_cleanup_that_fails_is_reported_with_the_copy_left_behind() {
    let ecs = FakeEcs::copying(copying_for(3600));
    ecs.fail_next(
        "CancelCopyImage",
        api_error("CancelCopyImage", "Forbidden.RAM"),
    );
    let mut spec = tf_spec();
    spec.create_timeout = Duration::from_secs(60);
    let failure = Lifecycle::new(&ecs, Journal::default())
        .create(&spec, "t", budget(600, false))
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, LifecycleError::CleanupFailed { .. }),
        "{:?}",
        failure.error
    );
    assert_eq!(failure.leftover_image_id.as_deref(), Some("m-copy1"));
}

#[tokio::test(start_paused = true)]
async fn out_of_invocation_time_a_copy_pends_when_it_may_continue_and_resumes_to_done() {
    let ecs = FakeEcs::copying(copying_for(300));
    let lifecycle = Lifecycle::new(&ecs, Journal::default());
    let pending = match lifecycle.create(&tf_spec(), "t", budget(60, true)).await {
        Ok(Progress::Pending(pending)) => pending,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (pending.kind, pending.image_id.as_str()),
        (WaitKind::Copy, "m-copy1")
    );
    assert!(
        pending.last_seen.starts_with("Creating at"),
        "{}",
        pending.last_seen
    );
    assert_eq!(ecs.count("CancelCopyImage"), 0);
    let resumed = Lifecycle::new(&ecs, Journal::default())
        .await_copy(
            &tf_spec(),
            &pending.image_id,
            pending.started,
            pending.watch.map(|w| *w),
            budget(600, false),
        )
        .await;
    assert_eq!(resumed.unwrap(), Progress::Done("m-copy1".into()));
    assert_eq!(ecs.count("CopyImage"), 1);

    // The same wait where nobody can continue it gives up, naming the invocation's limit.
    let ecs = FakeEcs::copying(copying_for(300));
    let failure = Lifecycle::new(&ecs, Journal::default())
        .create(&tf_spec(), "t", budget(60, false))
        .await
        .unwrap_err();
    assert!(failure
        .error
        .to_string()
        .contains("time this invocation has left"));
    assert_eq!(ecs.count("CancelCopyImage"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_same_region_no_copy_only_confirms_the_source() {
    let mut spec = tf_spec();
    spec.destination_region_id = spec.source_region_id.clone();
    spec.allow_copy_in_same_region = true;
    let ecs = FakeEcs::default();
    let failure = Lifecycle::new(&ecs, Journal::default())
        .create(&spec, "t", budget(600, false))
        .await
        .unwrap_err();
    assert!(matches!(
        failure.error,
        LifecycleError::SourceMissing { .. }
    ));
    ecs.add_image("m-source1", "cn-hangzhou", Timing::finished());
    let done = Lifecycle::new(&ecs, Journal::default())
        .create(&spec, "t", budget(600, false))
        .await;
    assert_eq!(done.unwrap(), Progress::Done("m-source1".into()));
    assert_eq!(ecs.count("CopyImage"), 0);
    // Its delete keeps the source image.
    let before = ecs.calls().len();
    let kept = Lifecycle::new(&ecs, Journal::default())
        .delete(&spec, "m-source1", Instant::now(), &[], budget(600, false))
        .await;
    assert_eq!(kept.unwrap(), Progress::Done("m-source1".into()));
    assert_eq!(ecs.calls().len(), before, "no call");
}

#[tokio::test(start_paused = true)]
async fn delete_removes_a_finished_copy_and_its_snapshots() {
    let ecs = FakeEcs::default();
    ecs.add_image("m-old", DEST, Timing::finished());
    let mut spec = tf_spec();
    spec.delete_auto_snapshot = true;
    let known = ["s-known".to_string()];
    let done = Lifecycle::new(&ecs, Journal::default())
        .delete(&spec, "m-old", Instant::now(), &known, budget(600, false))
        .await;
    assert_eq!(done.unwrap(), Progress::Done("m-old".into()));
    assert_eq!(ecs.count("DeleteImage"), 1);
    assert_eq!(ecs.deleted_snapshots(), ["s-known", "s-of-m-old"]);
}

#[tokio::test(start_paused = true)]
async fn delete_cancels_a_running_copy_and_finds_a_gone_one_gone() {
    let ecs = FakeEcs::default();
    ecs.add_image("m-run", DEST, copying_for(3600));
    let lifecycle = Lifecycle::new(&ecs, Journal::default());
    let done = lifecycle
        .delete(&tf_spec(), "m-run", Instant::now(), &[], budget(600, false))
        .await;
    assert_eq!(done.unwrap(), Progress::Done("m-run".into()));
    assert_eq!(
        (ecs.count("CancelCopyImage"), ecs.count("DeleteImage")),
        (1, 0)
    );

    let gone = FakeEcs::default();
    let done = Lifecycle::new(&gone, Journal::default())
        .delete(
            &tf_spec(),
            "m-gone",
            Instant::now(),
            &[],
            budget(600, false),
        )
        .await;
    assert_eq!(done.unwrap(), Progress::Done("m-gone".into()));
    assert_eq!(
        gone.calls(),
        [
            "DescribeImages m-gone",
            "CancelCopyImage m-gone",
            "DescribeImages m-gone"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancel_already_under_way_is_waited_out() {
    let ecs = FakeEcs::default();
    ecs.add_image(
        "m-run",
        DEST,
        Timing {
            copying_for: Duration::from_secs(3600),
            removed_after: Some(Duration::from_secs(20)),
            ..Timing::default()
        },
    );
    ecs.fail_next(
        "CancelCopyImage",
        api_error("CancelCopyImage", "IncorrectImageStatus"),
    );
    let done = Lifecycle::new(&ecs, Journal::default())
        .delete(&tf_spec(), "m-run", Instant::now(), &[], budget(600, false))
        .await;
    assert_eq!(done.unwrap(), Progress::Done("m-run".into()));
    assert_eq!(ecs.count("DeleteImage"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_slow_delete_pends_or_times_out_naming_the_image() {
    let ecs = FakeEcs::default().with_removal_lag(Duration::from_secs(3600));
    ecs.add_image("m-old", DEST, Timing::finished());
    let mut spec = tf_spec();
    spec.delete_auto_snapshot = true;
    let lifecycle = Lifecycle::new(&ecs, Journal::default());
    match lifecycle
        .delete(&spec, "m-old", Instant::now(), &[], budget(30, true))
        .await
    {
        Ok(Progress::Pending(pending)) => {
            assert_eq!(pending.kind, WaitKind::Delete);
            assert_eq!(pending.snapshot_ids, ["s-of-m-old"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        ecs.deleted_snapshots().is_empty(),
        "not before the image is gone"
    );
    spec.delete_timeout = Duration::from_secs(60);
    let failure = lifecycle
        .delete(&spec, "m-old", Instant::now(), &[], budget(600, false))
        .await
        .unwrap_err();
    assert!(matches!(
        failure.error,
        LifecycleError::DeleteTimedOut { .. }
    ));
    assert_eq!(failure.leftover_image_id.as_deref(), Some("m-old"));
}

#[tokio::test(start_paused = true)]
async fn tf_attributes_change_in_place_with_only_the_calls_needed() {
    let ecs = FakeEcs::default();
    ecs.add_image("m-held", DEST, Timing::finished());
    let old = tf_spec();
    let mut new = tf_spec();
    new.image_name = Some("web2".into());
    new.description = None;
    new.tags = vec![Tag {
        key: "env".into(),
        value: "prod".into(),
    }];
    let lifecycle = Lifecycle::new(&ecs, Journal::default());
    let kept = lifecycle
        .update(&old, &new, Some("m-held"), "t", budget(600, false))
        .await;
    assert_eq!(kept.unwrap(), Progress::Kept);
    assert_eq!(
        ecs.calls(),
        [
            "ModifyImageAttribute m-held",
            "UntagResources m-held",
            "TagResources m-held"
        ]
    );
    let (name, description, tags) = ecs.attributes("m-held");
    assert_eq!(name.as_deref(), Some("web2"));
    assert_eq!(description, None, "an unset description is left as it is");
    assert_eq!(tags, [crate::ecs::Tag::new("env", "prod")]);
    // Nothing to change, or no copy of ours to change: no call.
    let before = ecs.calls().len();
    for (old, new, held) in [(&new, &new, Some("m-held")), (&old, &new, None)] {
        let kept = lifecycle
            .update(old, new, held, "t", budget(600, false))
            .await;
        assert_eq!(kept.unwrap(), Progress::Kept);
    }
    let ros = lifecycle
        .update(
            &ros_spec(),
            &ros_spec(),
            Some("m-held"),
            "t",
            budget(600, false),
        )
        .await;
    assert_eq!(ros.unwrap(), Progress::Kept);
    assert_eq!(ecs.calls().len(), before);
}

#[tokio::test(start_paused = true)]
async fn a_replacement_under_the_old_copy_s_name_is_refused_before_any_call() {
    let ecs = FakeEcs::copying(copying_for(10));
    let mut new = tf_spec();
    new.source_image_id = "m-source2".into();
    let lifecycle = Lifecycle::new(&ecs, Journal::default());
    let failure = lifecycle
        .update(&tf_spec(), &new, Some("m-held"), "t", budget(600, false))
        .await
        .unwrap_err();
    assert!(
        matches!(failure.error, LifecycleError::NameCollision { ref old_image_id, .. } if old_image_id == "m-held")
    );
    assert!(ecs.calls().is_empty());
    // With no copy of ours to collide with, the replacement is copied.
    let done = lifecycle
        .update(&tf_spec(), &new, None, "t", budget(600, false))
        .await;
    assert_eq!(done.unwrap(), Progress::Done("m-copy1".into()));
}
