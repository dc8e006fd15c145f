//! Copies and cancels longer than one invocation: the handler hands the wait on to a fresh
//! invocation of its own Lambda function, answers once, and never hands over past the
//! engine's ServiceTimeout or after a refused hand-over.

mod common;
mod handover_support;

use std::time::Duration;

use common::*;
use ecs_image_copy::handler::Handled;
use ecs_image_copy::lifecycle::FAILED_CREATE_MARKER;
use handover_support::*;
use serde_json::{json, Value};
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_outlasting_three_invocations_is_answered_once_with_one_copy() {
    let (world, endpoint) = world_with_lambda(Duration::from_secs(8)).await;
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let first = world.send(&event, INVOCATION).await;
    assert!(
        matches!(first, Ok(Handled::HandedOver { hand_overs: 1, .. })),
        "{first:?}"
    );

    let answers = world
        .receiver
        .wait_for_accepted(1, Duration::from_secs(40))
        .await;
    assert_eq!(answers.len(), 1, "one answer");
    let answer = answers[0].json();
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let physical = answer["PhysicalResourceId"].as_str().unwrap();
    assert_eq!(answer["Data"]["ImageId"], image_of(physical));
    assert_eq!(answer["RequestId"], event["RequestId"]);
    // Nothing else answers later.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(world.receiver.requests().len(), 1);
    assert_eq!(world.calls("CopyImage"), 1, "exactly one CopyImage");
    assert_eq!(world.calls("CancelCopyImage"), 0);

    let seen = endpoint.seen.lock().unwrap();
    assert!(
        seen.invokes >= 3,
        "outlasted three invocations: {} hand-overs",
        seen.invokes
    );
    assert!(seen.bad_signatures.is_empty(), "{:?}", seen.bad_signatures);
    let answered = seen
        .outcomes
        .iter()
        .filter(|o| o.starts_with("answered"))
        .count();
    assert_eq!(answered, 1, "{:?}", seen.outcomes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_hand_over_answers_failed_and_cancels_the_copy() {
    let (world, endpoint) = world_with_lambda(Duration::from_secs(30)).await;
    *endpoint.refuse_with.lock().unwrap() = Some(429);
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let started = Instant::now();
    let Ok(Handled::Answered(handled)) = world.send(&event, INVOCATION).await else {
        panic!("not answered")
    };
    assert!(started.elapsed() < INVOCATION, "answered in time");
    let answer: Value = serde_json::from_str(&handled.body.json).unwrap();
    assert_eq!(answer["Status"], "FAILED");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(
        reason.contains("could not be handed over") && reason.contains("429"),
        "{reason}"
    );
    assert_eq!(world.calls("CancelCopyImage"), 1);
    let physical = answer["PhysicalResourceId"].as_str().unwrap();
    if physical != FAILED_CREATE_MARKER {
        // A cancel still under way is named, and the rollback finishes it.
        assert!(!world.ecs().realism().cancel_takes.is_zero(), "{answer}");
        let delete = with_physical(
            cfn_event(&world, "Delete", "Custom::ImageCopy", &tf_props()),
            physical,
        );
        assert_eq!(world.answer(&delete).await["Status"], "SUCCESS");
    }
    assert_eq!(world.ecs().copy_tasks_running(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_outlasting_the_invocation_is_waited_for_by_the_next_one() {
    let (world, endpoint) = world_with_lambda(Duration::from_secs(600)).await;
    // A copy still running when its stack is deleted; ECS then takes 6 s to remove it.
    let ecs = ecs_image_copy::ecs::EcsClient::new(
        ecs_image_copy::ecs::Credentials::new("LTAI-test-key", SECRET, Some(TOKEN.into())),
        Some(&world.emulator.endpoint()),
    )
    .unwrap();
    let request = ecs_image_copy::ecs::CopyImageRequest {
        source_region_id: SOURCE_REGION.into(),
        image_id: SOURCE_IMAGE.into(),
        destination_region_id: DEST_REGION.into(),
        ..Default::default()
    };
    let id = ecs
        .copy_image(&request, Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    // Listed by now, however late the suite's realism lists new copies.
    tokio::time::sleep(world.ecs().realism().invisible_for).await;
    world.ecs().set_realism(ecs_emulator::Realism {
        cancel_takes: Duration::from_secs(6),
        ..world.ecs().realism()
    });
    let delete = with_physical(
        cfn_event(&world, "Delete", "Custom::ImageCopy", &tf_props()),
        &id,
    );
    let first = world.send(&delete, INVOCATION).await;
    assert!(matches!(first, Ok(Handled::HandedOver { .. })), "{first:?}");
    let answers = world
        .receiver
        .wait_for_accepted(1, Duration::from_secs(30))
        .await;
    assert_eq!(answers.len(), 1, "one answer");
    let answer = answers[0].json();
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert!(world.ecs().image(&id).is_none());
    // The next invocation's cancel met the one under way; that was not fatal.
    let cancels: Vec<_> = world
        .ecs()
        .calls()
        .into_iter()
        .filter(|c| c.action == "CancelCopyImage")
        .map(|c| c.error_code)
        .collect();
    assert!(
        cancels.len() >= 2,
        "the next invocation cancelled too: {cancels:?}"
    );
    assert_eq!(cancels[0], None, "{cancels:?}");
    assert!(
        cancels[1..]
            .iter()
            .all(|c| c.as_deref() == Some("IncorrectImageStatus")),
        "{cancels:?}"
    );
    assert!(endpoint.seen.lock().unwrap().invokes >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_hand_over_outlives_the_service_timeout() {
    let (world, endpoint) = world_with_lambda(Duration::from_secs(60)).await;
    let mut props = tf_props();
    props["ServiceTimeout"] = json!("6");
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &props);
    let started = Instant::now();
    let first = world.send(&event, INVOCATION).await;
    assert!(
        matches!(first, Ok(Handled::HandedOver { .. })),
        "the engine waits longer than one invocation: {first:?}"
    );
    let answers = world
        .receiver
        .wait_for_accepted(1, Duration::from_secs(10))
        .await;
    let answered_after = started.elapsed();
    assert!(
        answered_after < Duration::from_secs(6),
        "answered {answered_after:?} after the first invocation, past the ServiceTimeout"
    );
    assert_eq!(answers.len(), 1);
    let answer = answers[0].json();
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(
        reason.contains("ServiceTimeout 6s") && reason.contains("cancelled"),
        "{reason}"
    );
    assert_eq!(world.calls("CancelCopyImage"), 1);
    assert_eq!(world.ecs().copy_tasks_running(), 0);
    let invokes = endpoint.seen.lock().unwrap().invokes;
    assert!(invokes >= 1, "handed over at least once");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let seen = endpoint.seen.lock().unwrap();
    assert_eq!(seen.invokes, invokes, "no hand-over after the answer");
    assert_eq!(world.receiver.requests().len(), 1, "answered once");
    assert!(seen.bad_signatures.is_empty(), "{:?}", seen.bad_signatures);
}
