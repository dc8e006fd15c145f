//! Update and Delete over real HTTP, for both flavours.

mod common;

use std::time::Duration;

use common::*;
use ecs_emulator::ImageStatus;
use serde_json::{json, Value};

async fn created(world: &World, event: &Value) -> String {
    let answer = world.answer(event).await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    answer["PhysicalResourceId"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn tf_name_description_and_tags_update_in_place() {
    let world = World::new(Duration::from_millis(500)).await;
    let old = tf_props();
    let id = created(
        &world,
        &cfn_event(&world, "Create", "Custom::ImageCopy", &old),
    )
    .await;

    let mut new = tf_props();
    new["ImageName"] = json!("web-server-v2");
    new["Description"] = json!("second edition");
    new["Tags"] = json!([{"MapKey": "env", "MapValue": "prod"}]);
    world.ecs().clear_calls();
    let update = as_update(
        cfn_event(&world, "Create", "Custom::ImageCopy", &new),
        &id,
        &old,
    );
    let answer = world.answer(&update).await;

    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(answer["PhysicalResourceId"], id.as_str(), "same image");
    assert_eq!(world.calls("CopyImage"), 0);
    let image = world.ecs().image(&image_of(&id)).unwrap();
    assert_eq!(image.name.as_deref(), Some("web-server-v2"));
    assert_eq!(image.description.as_deref(), Some("second edition"));
    assert_eq!(image.tags.get("env").map(String::as_str), Some("prod"));
    assert!(!image.tags.contains_key("team"), "removed tag is gone");
}

#[tokio::test]
async fn a_no_op_update_answers_the_same_id_without_calls() {
    let world = World::new(Duration::from_millis(500)).await;
    let props = tf_props();
    let id = created(
        &world,
        &cfn_event(&world, "Create", "Custom::ImageCopy", &props),
    )
    .await;
    world.ecs().clear_calls();
    let update = as_update(
        cfn_event(&world, "Create", "Custom::ImageCopy", &props),
        &id,
        &props,
    );
    let answer = world.answer(&update).await;
    assert_eq!(answer["Status"], "SUCCESS");
    assert_eq!(answer["PhysicalResourceId"], id.as_str());
    assert!(world.ecs().calls().is_empty(), "{:?}", world.ecs().calls());
}

#[tokio::test]
async fn a_create_only_change_makes_a_new_copy_and_keeps_the_old_for_the_engine() {
    let world = World::new(Duration::from_millis(500)).await;
    world.ecs().add_image(ecs_emulator::SourceImage::new(
        "m-source0000000002",
        SOURCE_REGION,
    ));
    let old = tf_props();
    let id = created(
        &world,
        &cfn_event(&world, "Create", "Custom::ImageCopy", &old),
    )
    .await;
    let mut new = tf_props();
    new["SourceImageId"] = json!("m-source0000000002");
    new["ImageName"] = json!("web-server-next");
    let answer = world
        .answer(&as_update(
            cfn_event(&world, "Create", "Custom::ImageCopy", &new),
            &id,
            &old,
        ))
        .await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let new_id = answer["PhysicalResourceId"].as_str().unwrap();
    assert_ne!(new_id, id);
    assert_eq!(
        world.ecs().image(&image_of(new_id)).unwrap().status,
        ImageStatus::Available
    );
    assert!(
        world.ecs().image(&image_of(&id)).is_some(),
        "the engine deletes the old copy, not the update"
    );
}

#[tokio::test]
async fn a_ros_replacement_that_keeps_the_name_fails_before_copying() {
    let world = World::new(Duration::from_millis(500)).await;
    let old = ros_props();
    let id = created(
        &world,
        &ros_event(&world, "Create", "ALIYUN::ECS::CopyImage", &old),
    )
    .await;
    let mut new = ros_props();
    new["DestinationDescription"] = json!("a change that forces replacement");
    world.ecs().clear_calls();
    let answer = world
        .answer(&as_update(
            ros_event(&world, "Create", "ALIYUN::ECS::CopyImage", &new),
            &id,
            &old,
        ))
        .await;
    assert_eq!(answer["Status"], "FAILED");
    assert_eq!(answer["PhysicalResourceId"], id.as_str());
    assert!(
        answer["Reason"].as_str().unwrap().contains("new name"),
        "{answer}"
    );
    assert_eq!(world.calls("CopyImage"), 0);
}

#[tokio::test]
async fn a_ros_replacement_with_a_new_name_copies_again() {
    let world = World::new(Duration::from_millis(500)).await;
    let old = ros_props();
    let id = created(
        &world,
        &ros_event(&world, "Create", "ALIYUN::ECS::CopyImage", &old),
    )
    .await;
    let mut new = ros_props();
    new["DestinationImageName"] = json!("web-server-v2");
    let answer = world
        .answer(&as_update(
            ros_event(&world, "Create", "ALIYUN::ECS::CopyImage", &new),
            &id,
            &old,
        ))
        .await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_ne!(answer["PhysicalResourceId"], id.as_str());
}

#[tokio::test]
async fn delete_removes_the_copy_and_its_snapshots_and_a_second_delete_still_succeeds() {
    let world = World::new(Duration::from_millis(500)).await;
    let mut props = tf_props();
    props["DeleteAutoSnapshot"] = json!(true);
    props["Force"] = json!("True");
    let id = created(
        &world,
        &cfn_event(&world, "Create", "Custom::ImageCopy", &props),
    )
    .await;
    let snapshots = world.ecs().image(&image_of(&id)).unwrap().snapshot_ids;
    assert!(!snapshots.is_empty());

    let delete = with_physical(
        cfn_event(&world, "Delete", "Custom::ImageCopy", &props),
        &id,
    );
    assert_eq!(world.answer(&delete).await["Status"], "SUCCESS");
    assert!(world.ecs().image(&image_of(&id)).is_none());
    let left: Vec<_> = world
        .ecs()
        .snapshots()
        .into_iter()
        .filter(|s| snapshots.contains(&s.snapshot_id))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let force = world
        .ecs()
        .calls()
        .into_iter()
        .find(|c| c.action == "DeleteImage")
        .unwrap();
    assert_eq!(force.params.get("Force").map(String::as_str), Some("true"));

    let again = with_physical(
        cfn_event(&world, "Delete", "Custom::ImageCopy", &props),
        &id,
    );
    assert_eq!(world.answer(&again).await["Status"], "SUCCESS");
}

#[tokio::test]
async fn delete_without_delete_auto_snapshot_keeps_the_snapshots() {
    let world = World::new(Duration::from_millis(300)).await;
    let props = tf_props();
    let id = created(
        &world,
        &cfn_event(&world, "Create", "Custom::ImageCopy", &props),
    )
    .await;
    let snapshots = world.ecs().image(&image_of(&id)).unwrap().snapshot_ids;
    let delete = with_physical(
        cfn_event(&world, "Delete", "Custom::ImageCopy", &props),
        &id,
    );
    assert_eq!(world.answer(&delete).await["Status"], "SUCCESS");
    let kept = world
        .ecs()
        .snapshots()
        .into_iter()
        .filter(|s| snapshots.contains(&s.snapshot_id))
        .count();
    assert_eq!(kept, snapshots.len());
}

#[tokio::test]
async fn delete_while_copying_cancels_the_copy() {
    let world = World::new(Duration::from_secs(60)).await;
    let props = ros_props();
    // Start a copy and abandon the wait (as a crashed earlier invocation would).
    let first = ros_event(&world, "Create", "ALIYUN::ECS::CopyImage", &props);
    let _ = tokio::time::timeout(
        Duration::from_millis(1500),
        world.send(&first, Duration::from_secs(60)),
    )
    .await;
    let copying: Vec<_> = world
        .ecs()
        .images()
        .into_iter()
        .filter(|i| i.is_copy)
        .collect();
    assert_eq!(copying.len(), 1);
    let id = copying[0].image_id.clone();

    let delete = with_physical(
        ros_event(&world, "Delete", "ALIYUN::ECS::CopyImage", &props),
        &id,
    );
    assert_eq!(world.answer(&delete).await["Status"], "SUCCESS");
    assert_eq!(world.calls("CancelCopyImage"), 1);
    assert!(world.ecs().image(&image_of(&id)).is_none());
    assert_eq!(world.ecs().copy_tasks_running(), 0);
}

#[tokio::test]
async fn delete_of_foreign_or_empty_ids_makes_no_calls() {
    let world = World::new(Duration::from_millis(300)).await;
    for physical in ["", "arn:aws:something", "Copy-1A2B3C", "m-UPPER"] {
        let delete = with_physical(
            cfn_event(&world, "Delete", "Custom::ImageCopy", &tf_props()),
            physical,
        );
        let answer = world.answer(&delete).await;
        assert_eq!(answer["Status"], "SUCCESS", "{physical:?}: {answer}");
    }
    assert!(world.ecs().calls().is_empty(), "{:?}", world.ecs().calls());
}
