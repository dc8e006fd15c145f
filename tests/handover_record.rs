//! Resuming from a continuation record: a forged or foreign record is refused before ECS,
//! a resumed Delete removes the snapshots the record names, and a resumed wait looks in the
//! region the record says the copy is in.

mod common;
mod handover_support;

use std::time::{Duration, SystemTime};

use common::*;
use ecs_image_copy::envelope::AnswerTarget;
use ecs_image_copy::handover::{Continuation, WaitKind, CONTINUATION_KEY};
use handover_support::*;
use serde_json::json;
use tokio::time::Instant;

#[tokio::test]
async fn a_forged_or_foreign_continuation_is_refused_without_touching_ecs() {
    let (world, _endpoint) = world_with_lambda(Duration::from_millis(500)).await;
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let foreign = AnswerTarget {
        stack_id: "another-stack".into(),
        ..answer_target(&event)
    };
    let cases = [
        // Signed with the right key, but for another stack.
        Continuation::new(
            WaitKind::Copy,
            SOURCE_IMAGE,
            SystemTime::now(),
            1,
            &[],
            &foreign,
            SECRET.as_bytes(),
        ),
        // For this event, but signed by someone without the secret.
        Continuation::new(
            WaitKind::Copy,
            SOURCE_IMAGE,
            SystemTime::now(),
            1,
            &[],
            &answer_target(&event),
            b"guess",
        ),
    ];
    for record in cases {
        let mut forged = event.clone();
        forged[CONTINUATION_KEY] = serde_json::to_value(&record).unwrap();
        forged["ResponseURL"] = json!(world.response_url());
        let answer = world.answer(&forged).await;
        assert_eq!(answer["Status"], "FAILED", "{answer}");
        assert!(
            answer["Reason"]
                .as_str()
                .unwrap()
                .contains("Refused to resume"),
            "{answer}"
        );
    }
    assert!(world.ecs().calls().is_empty(), "{:?}", world.ecs().calls());
    assert!(world.ecs().image(SOURCE_IMAGE).is_some());
}

#[tokio::test]
async fn a_handed_over_delete_resumes_and_removes_the_recorded_snapshots() {
    let (world, _endpoint) = world_with_lambda(Duration::from_millis(300)).await;
    let mut props = tf_props();
    props["DeleteAutoSnapshot"] = json!(true);
    let created = world
        .answer(&cfn_event(&world, "Create", "Custom::ImageCopy", &props))
        .await;
    let physical = created["PhysicalResourceId"].as_str().unwrap().to_string();
    let id = image_of(&physical);
    let snapshots = world.ecs().image(&id).unwrap().snapshot_ids;

    let delete = with_physical(
        cfn_event(&world, "Delete", "Custom::ImageCopy", &props),
        &physical,
    );
    let target = answer_target(&delete);
    let record = Continuation::new(
        WaitKind::Delete,
        &id,
        SystemTime::now(),
        1,
        &snapshots,
        &target,
        SECRET.as_bytes(),
    );
    let mut resumed = delete.clone();
    resumed[CONTINUATION_KEY] = serde_json::to_value(&record).unwrap();
    let answer = world.answer(&resumed).await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert!(world.ecs().image(&id).is_none());
    assert!(world
        .ecs()
        .snapshots()
        .iter()
        .all(|s| !snapshots.contains(&s.snapshot_id)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_wait_looks_where_the_record_says_the_copy_is() {
    // The provider region is cn-shanghai now; the copy was started into cn-beijing.
    let world = World::new(Duration::from_millis(600)).await;
    let ecs = ecs_image_copy::ecs::EcsClient::new(
        ecs_image_copy::ecs::Credentials::new("LTAI-test-key", SECRET, Some(TOKEN.to_string())),
        Some(&world.emulator.endpoint()),
    )
    .unwrap();
    let started = ecs
        .copy_image(
            &ecs_image_copy::ecs::CopyImageRequest {
                source_region_id: SOURCE_REGION.into(),
                image_id: SOURCE_IMAGE.into(),
                destination_region_id: "cn-beijing".into(),
                destination_image_name: None,
                destination_description: None,
                encrypted: None,
                kms_key_id: None,
                resource_group_id: None,
                tags: Vec::new(),
                client_token: None,
            },
            Instant::now() + Duration::from_secs(5),
        )
        .await
        .unwrap();
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let target = answer_target(&event);
    let record = Continuation::new(
        WaitKind::Copy,
        &started,
        SystemTime::now(),
        1,
        &[],
        &target,
        SECRET.as_bytes(),
    )
    .scoped(Some("cn-beijing".into()), None, SECRET.as_bytes());
    let mut resumed = event.clone();
    resumed[CONTINUATION_KEY] = serde_json::to_value(&record).unwrap();
    world.ecs().clear_calls();
    let answer = world.answer(&resumed).await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(
        answer["PhysicalResourceId"],
        format!("cn-beijing/{started}")
    );
    assert_eq!(answer["Data"]["ImageId"], started.as_str());
    assert_eq!(world.calls("CopyImage"), 0, "resumed, not copied again");
    assert!(
        world
            .ecs()
            .calls()
            .iter()
            .all(|c| c.region_id.as_deref() == Some("cn-beijing")),
        "{:?}",
        world.ecs().calls()
    );
}
