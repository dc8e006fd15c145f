//! Every ECS operation of the client, over real HTTP against the emulator on 127.0.0.1: what
//! the client returns must match what the emulator holds.

mod ecs_emulator_support;

use std::collections::BTreeMap;
use std::time::Duration;

use ecs_emulator::ImageStatus as EmulatedStatus;
use ecs_emulator_support::*;
use ecs_image_copy::ecs::{CopyImageRequest, ImageStatus, Tag};

#[tokio::test]
async fn copy_image_carries_every_setting_into_the_emulator() {
    let harness = Harness::start(5_000).await;
    let client = harness.client();
    let request = CopyImageRequest {
        destination_image_name: Some("web-copy_v1.2".into()),
        destination_description: Some("copied by the e2e suite".into()),
        encrypted: Some(true),
        kms_key_id: Some("key-e2e-0001".into()),
        resource_group_id: Some("rg-e2e".into()),
        tags: vec![Tag::new("env", "test"), Tag::new("team", "")],
        client_token: Some("token-settings".into()),
        ..copy_request()
    };
    let image_id = client.copy_image(&request, soon()).await.unwrap();
    assert!(image_id.starts_with("m-uf"), "{image_id}");

    let held = harness.control().image(&image_id).expect("copy exists");
    assert_eq!(held.region_id, DESTINATION_REGION);
    assert_eq!(held.name.as_deref(), Some("web-copy_v1.2"));
    assert_eq!(held.description.as_deref(), Some("copied by the e2e suite"));
    assert!(held.encrypted);
    assert_eq!(held.kms_key_id.as_deref(), Some("key-e2e-0001"));
    assert_eq!(held.resource_group_id.as_deref(), Some("rg-e2e"));
    assert_eq!(
        held.tags,
        BTreeMap::from([("env".into(), "test".into()), ("team".into(), "".into())])
    );
    assert_eq!(held.source_image_id.as_deref(), Some(SOURCE_IMAGE));
    assert_eq!(held.source_region_id.as_deref(), Some(SOURCE_REGION));
    assert_eq!(held.status, EmulatedStatus::Creating);

    // The same token and parameters answer the first copy instead of starting another.
    let again = client.copy_image(&request, soon()).await.unwrap();
    assert_eq!(again, image_id);
    let copies = harness
        .control()
        .images()
        .into_iter()
        .filter(|i| i.is_copy)
        .count();
    assert_eq!(copies, 1);
    let calls = harness.control().calls();
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|c| c.action == "CopyImage"
        && c.http_status == Some(200)
        && c.region_id.as_deref() == Some(SOURCE_REGION)
        && c.params.get("ClientToken").map(String::as_str) == Some("token-settings")));
    harness.shutdown().await;
}

#[tokio::test]
async fn describe_follows_a_copy_from_creating_to_available() {
    let harness = Harness::start(1_000).await;
    let client = harness.client();
    let image_id = client.copy_image(&copy_request(), soon()).await.unwrap();

    let first = client
        .describe_image(DESTINATION_REGION, &image_id, soon())
        .await
        .unwrap()
        .expect("a copy in progress is visible");
    assert_eq!(first.status, ImageStatus::Creating);
    assert_eq!(first.usable, Some(false));
    assert_eq!(first.region_id, DESTINATION_REGION);
    let first_progress = first.progress.expect("progress while creating");
    assert!(first_progress < 50, "{first_progress}");
    // Each copy gets its own snapshots, one per disk of the source.
    let held = harness.control().image(&image_id).unwrap();
    assert_eq!(first.snapshot_ids, held.snapshot_ids);
    assert!(!first.snapshot_ids.is_empty());

    tokio::time::sleep(Duration::from_millis(400)).await;
    let middle = client
        .describe_image(DESTINATION_REGION, &image_id, soon())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(middle.status, ImageStatus::Creating);
    let middle_progress = middle.progress.unwrap();
    assert!(
        middle_progress > first_progress && middle_progress < 100,
        "{first_progress} then {middle_progress}"
    );

    tokio::time::sleep(Duration::from_millis(700)).await;
    let done = client
        .describe_image(DESTINATION_REGION, &image_id, soon())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, ImageStatus::Available);
    assert_eq!(done.progress, Some(100));
    assert_eq!(done.usable, Some(true));
    assert!(done.creation_time.is_some());

    // The client asks for every status; without it ECS would hide the copy while it runs.
    let describe = harness
        .control()
        .calls()
        .into_iter()
        .find(|c| c.action == "DescribeImages")
        .unwrap();
    assert_eq!(
        describe.params.get("Status").map(String::as_str),
        Some(ImageStatus::ALL_FILTER)
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn a_second_copy_to_the_same_region_waits_for_the_first() {
    let harness = Harness::start(400).await;
    let client = harness.client();
    add_source(&harness.control(), "m-bp1e2esecond0001", SOURCE_REGION);
    let first = client.copy_image(&copy_request(), soon()).await.unwrap();
    let second = client
        .copy_image(
            &CopyImageRequest {
                image_id: "m-bp1e2esecond0001".into(),
                ..copy_request()
            },
            soon(),
        )
        .await
        .unwrap();
    assert_ne!(first, second);

    let waiting = client
        .describe_image(DESTINATION_REGION, &second, soon())
        .await
        .unwrap()
        .expect("a waiting copy is visible");
    assert_eq!(waiting.status, ImageStatus::Waiting);
    assert_eq!(waiting.progress, Some(0));
    assert_eq!(waiting.usable, Some(false));

    tokio::time::sleep(Duration::from_millis(550)).await;
    let first_now = client
        .describe_image(DESTINATION_REGION, &first, soon())
        .await
        .unwrap()
        .unwrap();
    let second_now = client
        .describe_image(DESTINATION_REGION, &second, soon())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first_now.status, ImageStatus::Available);
    assert_eq!(second_now.status, ImageStatus::Creating);
    harness.shutdown().await;
}

#[tokio::test]
async fn a_failed_copy_is_reported_as_create_failed() {
    let harness = Harness::start(200).await;
    let client = harness.client();
    harness.control().fail_next_copies(1);
    let image_id = client.copy_image(&copy_request(), soon()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let image = client
        .describe_image(DESTINATION_REGION, &image_id, soon())
        .await
        .unwrap()
        .expect("a failed copy is still listed");
    assert_eq!(image.status, ImageStatus::CreateFailed);
    assert_eq!(image.usable, Some(false));
    assert!(image.snapshot_ids.is_empty());
    harness.shutdown().await;
}

#[tokio::test]
async fn describe_of_an_unknown_image_is_none() {
    let harness = Harness::start(200).await;
    let client = harness.client();
    let missing = client
        .describe_image(DESTINATION_REGION, "m-uf6doesnotexist00", soon())
        .await
        .unwrap();
    assert_eq!(missing, None);
    // An image of another region is unknown in this one.
    let elsewhere = client
        .describe_image(DESTINATION_REGION, SOURCE_IMAGE, soon())
        .await
        .unwrap();
    assert_eq!(elsewhere, None);
    let present = client
        .describe_image(SOURCE_REGION, SOURCE_IMAGE, soon())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(present.status, ImageStatus::Available);
    assert_eq!(
        present.image_name.as_deref(),
        Some("emulator-base-hangzhou")
    );
    harness.shutdown().await;
}

#[tokio::test]
async fn cancel_copy_removes_the_copy_and_its_snapshots() {
    let harness = Harness::start(10_000).await;
    let client = harness.client();
    let image_id = client.copy_image(&copy_request(), soon()).await.unwrap();
    let snapshots = harness.control().image(&image_id).unwrap().snapshot_ids;
    assert!(!snapshots.is_empty());

    client
        .cancel_copy_image(DESTINATION_REGION, &image_id, soon())
        .await
        .unwrap();
    assert!(harness.control().image(&image_id).is_none());
    let remaining: Vec<String> = harness
        .control()
        .snapshots()
        .into_iter()
        .map(|s| s.snapshot_id)
        .collect();
    assert!(snapshots.iter().all(|s| !remaining.contains(s)));
    assert_eq!(harness.control().copy_tasks_running(), 0);
    let after = client
        .describe_image(DESTINATION_REGION, &image_id, soon())
        .await
        .unwrap();
    assert_eq!(after, None);
    let cancel = harness
        .control()
        .calls()
        .into_iter()
        .find(|c| c.action == "CancelCopyImage")
        .unwrap();
    assert_eq!(cancel.region_id.as_deref(), Some(DESTINATION_REGION));
    harness.shutdown().await;
}

#[tokio::test]
async fn delete_image_then_its_snapshots() {
    let harness = Harness::start(100).await;
    let client = harness.client();
    let image_id = client.copy_image(&copy_request(), soon()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let image = client
        .describe_image(DESTINATION_REGION, &image_id, soon())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(image.status, ImageStatus::Available);

    client
        .delete_image(DESTINATION_REGION, &image_id, true, soon())
        .await
        .unwrap();
    assert!(harness.control().image(&image_id).is_none());
    // The snapshots outlive the image, no longer tied to it, and can then go too.
    for snapshot_id in &image.snapshot_ids {
        let held = harness
            .control()
            .snapshots()
            .into_iter()
            .find(|s| &s.snapshot_id == snapshot_id)
            .expect("snapshot kept after the image is deleted");
        assert_eq!(held.image_id, None);
        client
            .delete_snapshot(DESTINATION_REGION, snapshot_id, false, soon())
            .await
            .unwrap();
    }
    let remaining: Vec<String> = harness
        .control()
        .snapshots()
        .into_iter()
        .map(|s| s.snapshot_id)
        .collect();
    assert!(image.snapshot_ids.iter().all(|s| !remaining.contains(s)));

    // Force reaches the emulator as sent; deleting an already-deleted image is ignored:
    // "If the specified custom image does not exist, the request is ignored." (DeleteImage)
    client
        .delete_image(SOURCE_REGION, "m-bp1emulatorbase0002", false, soon())
        .await
        .unwrap();
    let forces: Vec<(String, String)> = harness
        .control()
        .calls()
        .into_iter()
        .filter(|c| c.action == "DeleteImage" || c.action == "DeleteSnapshot")
        .map(|c| (c.action, c.params["Force"].clone()))
        .collect();
    assert_eq!(forces.first(), Some(&("DeleteImage".into(), "true".into())));
    assert_eq!(forces.last(), Some(&("DeleteImage".into(), "false".into())));
    assert!(forces[1..forces.len() - 1]
        .iter()
        .all(|(a, f)| a == "DeleteSnapshot" && f == "false"));
    // DeleteSnapshot has no RegionId parameter; the client sends none.
    let snapshot_calls: Vec<_> = harness
        .control()
        .calls()
        .into_iter()
        .filter(|c| c.action == "DeleteSnapshot")
        .collect();
    assert!(!snapshot_calls.is_empty());
    assert!(
        snapshot_calls
            .iter()
            .all(|c| c.region_id.is_none() && !c.params.contains_key("RegionId")),
        "{snapshot_calls:?}"
    );
    client
        .delete_image(DESTINATION_REGION, &image_id, true, soon())
        .await
        .expect("a second delete is answered 200");
    harness.shutdown().await;
}

#[tokio::test]
async fn modify_image_attribute_renames_and_redescribes() {
    let harness = Harness::start(100).await;
    let client = harness.client();
    client
        .modify_image_attribute(
            SOURCE_REGION,
            SOURCE_IMAGE,
            Some("renamed-base"),
            Some("new description 中文"),
            soon(),
        )
        .await
        .unwrap();
    let held = harness.control().image(SOURCE_IMAGE).unwrap();
    assert_eq!(held.name.as_deref(), Some("renamed-base"));
    assert_eq!(held.description.as_deref(), Some("new description 中文"));

    // Only what is given changes.
    client
        .modify_image_attribute(SOURCE_REGION, SOURCE_IMAGE, None, Some("second"), soon())
        .await
        .unwrap();
    let seen = client
        .describe_image(SOURCE_REGION, SOURCE_IMAGE, soon())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.image_name.as_deref(), Some("renamed-base"));
    assert_eq!(seen.description.as_deref(), Some("second"));
    harness.shutdown().await;
}
