//! The handler against an emulator as harsh as real ECS, one behaviour at a time, over real
//! HTTP on loopback (issue 13): a busy source, a copy listed late, a cancel that takes time,
//! snapshots listed late, `Usable` after `Available`, and transient answers.

mod common;

use std::time::Duration;

use common::*;
use ecs_emulator::{ImageStatus, Realism};
use ecs_image_copy::lifecycle::FAILED_CREATE_MARKER;
use serde_json::{json, Value};
use tokio::time::Instant;

fn tf_with_snapshots() -> Value {
    let mut props = tf_props();
    props["DeleteAutoSnapshot"] = json!(true);
    props
}

/// Sends a rollback Delete of `physical` and insists it succeeds and leaves no copy behind.
async fn rollback_removes_everything(world: &World, props: &Value, physical: &str) {
    let delete = with_physical(
        cfn_event(world, "Delete", "Custom::ImageCopy", props),
        physical,
    );
    let answer = answer_of(
        world
            .send(&delete, Duration::from_secs(30))
            .await
            .expect("answered"),
    );
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert!(world.copies().is_empty(), "{:?}", world.copies());
    assert_eq!(world.ecs().copy_tasks_running(), 0);
}

#[tokio::test]
async fn two_creates_copying_one_source_to_two_regions_at_once_both_succeed() {
    let realism = Realism {
        busy_source: true,
        ..Realism::off()
    };
    let world = World::with_realism(Duration::from_secs(1), realism).await;
    // The TF type copies to the provider region (cn-shanghai), the ROS type to cn-beijing.
    let to_shanghai = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let mut ros = ros_props();
    ros["DestinationRegionId"] = json!("cn-beijing");
    let to_beijing = ros_event(&world, "Create", "ALIYUN::ECS::CopyImage", &ros);
    let (a, b) = tokio::join!(
        world.send(&to_shanghai, Duration::from_secs(60)),
        world.send(&to_beijing, Duration::from_secs(60))
    );
    let (a, b) = (answer_of(a.unwrap()), answer_of(b.unwrap()));
    for answer in [&a, &b] {
        assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    }
    assert_ne!(a["PhysicalResourceId"], b["PhysicalResourceId"]);
    let mut regions: Vec<String> = world
        .copies()
        .into_iter()
        .inspect(|c| assert_eq!(c.status, ImageStatus::Available, "{c:?}"))
        .map(|c| c.region_id)
        .collect();
    regions.sort();
    assert_eq!(regions, ["cn-beijing", "cn-shanghai"]);
    let refused = world.error_codes("CopyImage");
    assert!(
        refused.iter().any(|c| c == "OperationDenied.ImageCopying"),
        "the second copy was never refused, so this proves nothing: {refused:?}"
    );
}

#[tokio::test]
async fn a_copy_listed_late_is_waited_for() {
    let realism = Realism {
        invisible_for: Duration::from_secs(3),
        ..Realism::off()
    };
    let world = World::with_realism(Duration::from_millis(500), realism).await;
    let answer = world.answer_create(&tf_props()).await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let copy = world
        .ecs()
        .image(&image_of(answer["PhysicalResourceId"].as_str().unwrap()))
        .expect("the answered copy exists");
    assert_eq!(copy.status, ImageStatus::Available);
    // The first look (after 1 s) found nothing, and the wait went on.
    assert!(world.calls("DescribeImages") >= 2);
}

#[tokio::test]
async fn a_create_that_gives_up_before_its_copy_is_listed_cancels_and_names_it() {
    let realism = Realism {
        invisible_for: Duration::from_secs(4),
        ..Realism::off()
    };
    let world = World::with_realism(Duration::from_secs(60), realism).await;
    let started = Instant::now();
    let answer = world
        .create_within(&tf_props(), Duration::from_secs(3))
        .await;
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "it gave up unlisted"
    );
    // DescribeImages never listed it, yet CancelCopyImage found and stopped it.
    let physical = answer["PhysicalResourceId"].as_str().unwrap().to_string();
    assert!(
        image_of(&physical).starts_with("m-"),
        "the copy is named: {answer}"
    );
    assert_eq!(world.calls("CancelCopyImage"), 1);
    assert_eq!(world.error_codes("CancelCopyImage"), Vec::<String>::new());
    assert!(world.copies().is_empty(), "{:?}", world.copies());
    // The engine's rollback, once ECS would list it, finds nothing left to do.
    tokio::time::sleep_until(started + Duration::from_secs(4)).await;
    rollback_removes_everything(&world, &tf_props(), &physical).await;
}

#[tokio::test]
async fn a_rollback_right_after_the_create_cancels_a_copy_not_listed_yet() {
    let realism = Realism {
        invisible_for: Duration::from_secs(30),
        ..Realism::off()
    };
    let world = World::with_realism(Duration::from_secs(60), realism).await;
    let create = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    // The Create's invocation dies mid-wait (nothing answered); the copy runs on unlisted.
    let _ = tokio::time::timeout(
        Duration::from_millis(1500),
        world.send(&create, Duration::from_secs(60)),
    )
    .await;
    let copy = world.copies().pop().expect("the copy runs");
    rollback_removes_everything(&world, &tf_props(), &copy.image_id).await;
}

#[tokio::test]
async fn a_slow_cancel_is_finished_by_the_rollback_and_a_repeated_cancel_is_not_fatal() {
    let realism = Realism {
        cancel_takes: Duration::from_secs(3),
        ..Realism::off()
    };
    let world = World::with_realism(Duration::from_secs(60), realism).await;
    let answer = world
        .create_within(&tf_props(), Duration::from_secs(4))
        .await;
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let copy = world.copies().pop().expect("still being cancelled");
    assert_eq!(
        image_of(answer["PhysicalResourceId"].as_str().unwrap()),
        copy.image_id,
        "a copy still going must be named: {answer}"
    );
    assert_eq!(world.calls("CancelCopyImage"), 1);
    // The rollback sees it still Creating, cancels again (refused: a cancel is under way),
    // and waits for it to go within the Delete's own budget.
    rollback_removes_everything(&world, &tf_props(), &copy.image_id).await;
    assert_eq!(
        world.error_codes("CancelCopyImage"),
        ["IncorrectImageStatus"]
    );
}

#[tokio::test]
async fn snapshots_listed_only_once_available_are_deleted_with_the_copy() {
    let realism = Realism {
        late_snapshots: true,
        ..Realism::off()
    };
    let world = World::with_realism(Duration::from_millis(500), realism).await;
    let props = tf_with_snapshots();
    let answer = world.answer_create(&props).await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let id = answer["PhysicalResourceId"].as_str().unwrap().to_string();
    let snapshots = world.ecs().image(&image_of(&id)).unwrap().snapshot_ids;
    assert!(!snapshots.is_empty());
    rollback_removes_everything(&world, &props, &id).await;
    let left = world.snapshots_left(&snapshots);
    assert!(left.is_empty(), "DeleteAutoSnapshot left {left:?}");
}

#[tokio::test]
async fn a_copy_cancelled_mid_way_leaves_no_snapshot() {
    let realism = Realism {
        late_snapshots: true,
        cancel_takes: Duration::from_secs(1),
        ..Realism::off()
    };
    let world = World::with_realism(Duration::from_secs(60), realism).await;
    let props = tf_with_snapshots();
    let answer = world.create_within(&props, Duration::from_secs(3)).await;
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let physical = answer["PhysicalResourceId"].as_str().unwrap().to_string();
    if physical != FAILED_CREATE_MARKER {
        rollback_removes_everything(&world, &props, &physical).await;
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(world.copies().is_empty());
    let orphans = world.orphaned_snapshots();
    assert!(orphans.is_empty(), "{orphans:?}");
}

#[tokio::test]
async fn usable_lagging_available_is_waited_for() {
    let realism = Realism {
        usable_lag: Duration::from_secs(2),
        ..Realism::off()
    };
    let world = World::with_realism(Duration::from_millis(500), realism).await;
    let started = Instant::now();
    let answer = world.answer_create(&tf_props()).await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    // Available at 0.5 s, Usable at 2.5 s: SUCCESS cannot come sooner.
    assert!(started.elapsed() >= Duration::from_millis(2500));
}

#[tokio::test]
async fn an_available_copy_is_never_cancelled_for_want_of_usable() {
    let realism = Realism {
        usable_lag: Duration::from_secs(600),
        ..Realism::off()
    };
    let world = World::with_realism(Duration::from_millis(500), realism).await;
    let answer = world
        .create_within(&tf_props(), Duration::from_secs(6))
        .await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let copy = world
        .ecs()
        .image(&image_of(answer["PhysicalResourceId"].as_str().unwrap()))
        .expect("kept");
    assert_eq!(copy.status, ImageStatus::Available);
    assert_eq!(
        world.calls("CancelCopyImage") + world.calls("DeleteImage"),
        0
    );
}

#[tokio::test]
async fn a_token_still_processing_and_a_delete_denied_after_the_copy_are_retried() {
    let realism = Realism {
        token_processing: Duration::from_secs(1),
        // Long enough that the rollback Delete still meets it on a loaded machine (4 s did not
        // once), short enough that the Delete's retries outlast it (12 s they did not).
        delete_denied_after_copy: Duration::from_secs(6),
        ..Realism::off()
    };
    let world = World::with_realism(Duration::from_millis(300), realism).await;
    let create = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    // A duplicated delivery: the second CopyImage meets the first one's token in flight.
    let (first, second) = tokio::join!(
        world.send(&create, Duration::from_secs(30)),
        world.send(&create, Duration::from_secs(30))
    );
    let (first, second) = (answer_of(first.unwrap()), answer_of(second.unwrap()));
    assert_eq!(first["Status"], "SUCCESS", "{first}");
    assert_eq!(first["PhysicalResourceId"], second["PhysicalResourceId"]);
    assert!(
        world
            .error_codes("CopyImage")
            .contains(&"LastTokenProcessing".to_string()),
        "{:?}",
        world.ecs().calls()
    );
    let id = first["PhysicalResourceId"].as_str().unwrap().to_string();
    rollback_removes_everything(&world, &tf_props(), &id).await;
    assert!(
        world
            .error_codes("DeleteImage")
            .contains(&"OperationDenied.ImageCopying".to_string()),
        "DeleteImage was never refused, so this proves nothing"
    );
}
