//! Copy tasks over real HTTP: lifecycle, queueing, idempotency, cancel, delete, failure.

mod emulator_support;

use std::time::Duration;

use ecs_emulator::{EmulatorConfig, ImageStatus};
use emulator_support::*;

fn config(copy: Duration) -> EmulatorConfig {
    EmulatorConfig {
        copy_duration: copy,
        ..EmulatorConfig::default()
    }
}

fn progress(image: &serde_json::Value) -> u32 {
    let text = image["Progress"].as_str().unwrap();
    text.strip_suffix('%').unwrap().parse().unwrap()
}

#[tokio::test]
async fn copy_goes_creating_to_available_with_progress_advancing() {
    let (emulator, caller) = start(config(Duration::from_millis(1500))).await;
    let body = copy_to(
        &caller,
        "cn-shanghai",
        &[
            ("DestinationImageName", "web-copy"),
            ("DestinationDescription", "copied for tests"),
        ],
    )
    .await
    .ok();
    let copy_id = body["ImageId"].as_str().unwrap().to_string();
    assert!(copy_id.starts_with("m-uf"), "{copy_id}");

    let first = describe_one(&caller, "cn-shanghai", &copy_id)
        .await
        .unwrap();
    assert_eq!(first["Status"], "Creating");
    assert_eq!(first["Usable"], false);
    assert_eq!(first["IsCopied"], true);
    assert_eq!(first["ImageName"], "web-copy");
    assert_eq!(first["ImageOwnerAlias"], "self");
    let mappings = first["DiskDeviceMappings"]["DiskDeviceMapping"]
        .as_array()
        .unwrap();
    assert!(!mappings.is_empty());
    assert!(mappings[0]["SnapshotId"]
        .as_str()
        .unwrap()
        .starts_with("s-uf"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let second = describe_one(&caller, "cn-shanghai", &copy_id)
        .await
        .unwrap();
    assert_eq!(second["Status"], "Creating");
    assert!(
        progress(&second) > progress(&first),
        "{first} then {second}"
    );
    assert!(progress(&second) < 100);

    // By default DescribeImages hides images that are not Available.
    let default = caller
        .call(
            "DescribeImages",
            &[("RegionId", "cn-shanghai"), ("ImageId", &copy_id)],
        )
        .await
        .ok();
    assert_eq!(default["TotalCount"], 0);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let done = describe_one(&caller, "cn-shanghai", &copy_id)
        .await
        .unwrap();
    assert_eq!(done["Status"], "Available");
    assert_eq!(done["Progress"], "100%");
    assert_eq!(done["Usable"], true);
    let default = caller
        .call(
            "DescribeImages",
            &[("RegionId", "cn-shanghai"), ("ImageId", &copy_id)],
        )
        .await
        .ok();
    assert_eq!(default["TotalCount"], 1);

    let view = emulator.control().image(&copy_id).unwrap();
    assert!(view.is_copy);
    assert_eq!(view.source_image_id.as_deref(), Some(HANGZHOU_IMAGE));
    assert_eq!(view.source_region_id.as_deref(), Some("cn-hangzhou"));
    assert_eq!(view.description.as_deref(), Some("copied for tests"));
    assert_eq!(emulator.control().copy_tasks_running(), 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn second_copy_to_a_region_waits_for_the_first() {
    let (emulator, caller) = start(config(Duration::from_secs(3600))).await;
    let first = copy_to(&caller, "cn-beijing", &[]).await.ok()["ImageId"]
        .as_str()
        .unwrap()
        .to_string();
    let second = copy_to(&caller, "cn-beijing", &[]).await.ok()["ImageId"]
        .as_str()
        .unwrap()
        .to_string();
    let other = copy_to(&caller, "cn-shenzhen", &[]).await.ok()["ImageId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        describe_one(&caller, "cn-beijing", &first).await.unwrap()["Status"],
        "Creating"
    );
    let waiting = describe_one(&caller, "cn-beijing", &second).await.unwrap();
    assert_eq!(
        (waiting["Status"].as_str(), waiting["Progress"].as_str()),
        (Some("Waiting"), Some("0%"))
    );
    assert_eq!(
        describe_one(&caller, "cn-shenzhen", &other).await.unwrap()["Status"],
        "Creating"
    );
    assert_eq!(emulator.control().copy_tasks_running(), 3);

    // Cancelling the running copy lets the waiting one start.
    caller
        .call(
            "CancelCopyImage",
            &[("RegionId", "cn-beijing"), ("ImageId", &first)],
        )
        .await
        .ok();
    assert!(describe_one(&caller, "cn-beijing", &first).await.is_none());
    assert_eq!(
        emulator.control().image(&second).unwrap().status,
        ImageStatus::Creating
    );
    for id in [&second, &other] {
        let region = emulator.control().image(id).unwrap().region_id;
        caller
            .call("CancelCopyImage", &[("RegionId", &region), ("ImageId", id)])
            .await
            .ok();
    }
    assert_eq!(emulator.control().copy_tasks_running(), 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn client_token_replay_returns_the_same_image() {
    let (emulator, caller) = start(config(Duration::from_secs(3600))).await;
    let extra = [
        ("ClientToken", "0c593ea1-3bea-11e9-b96b-88e9fe637760"),
        ("DestinationImageName", "once"),
    ];
    let first = copy_to(&caller, "cn-shanghai", &extra).await.ok();
    let replay = copy_to(&caller, "cn-shanghai", &extra).await.ok();
    assert_eq!(first["ImageId"], replay["ImageId"]);
    assert_ne!(first["RequestId"], replay["RequestId"]);
    assert_eq!(emulator.control().copy_tasks_running(), 1);
    let changed = [
        ("ClientToken", "0c593ea1-3bea-11e9-b96b-88e9fe637760"),
        ("DestinationImageName", "other"),
    ];
    copy_to(&caller, "cn-shanghai", &changed)
        .await
        .expect_error(400, "IdempotentParameterMismatch");
    emulator.shutdown().await;
}

#[tokio::test]
async fn delete_while_copying_is_refused_then_snapshots_outlive_the_image() {
    let (emulator, caller) = start(config(Duration::from_millis(300))).await;
    let copy_id = copy_to(&caller, "cn-shanghai", &[]).await.ok()["ImageId"]
        .as_str()
        .unwrap()
        .to_string();
    caller
        .call(
            "DeleteImage",
            &[("RegionId", "cn-shanghai"), ("ImageId", &copy_id)],
        )
        .await
        .expect_error(403, "OperationDenied.ImageCopying");
    let snapshots = emulator.control().image(&copy_id).unwrap().snapshot_ids;
    caller
        .call("DeleteSnapshot", &[("SnapshotId", &snapshots[0])])
        .await
        .expect_error(403, "SnapshotCreatedImage");

    tokio::time::sleep(Duration::from_millis(400)).await;
    caller
        .call(
            "DeleteImage",
            &[
                ("RegionId", "cn-shanghai"),
                ("ImageId", &copy_id),
                ("Force", "true"),
            ],
        )
        .await
        .ok();
    assert!(emulator.control().image(&copy_id).is_none());
    for snapshot in &snapshots {
        let view = emulator
            .control()
            .snapshots()
            .into_iter()
            .find(|s| &s.snapshot_id == snapshot)
            .unwrap();
        assert_eq!(view.image_id, None);
        caller
            .call(
                "DeleteSnapshot",
                &[("RegionId", "cn-shanghai"), ("SnapshotId", snapshot)],
            )
            .await
            .ok();
    }
    assert!(emulator
        .control()
        .snapshots()
        .iter()
        .all(|s| !snapshots.contains(&s.snapshot_id)));
    caller
        .call("DeleteSnapshot", &[("SnapshotId", &snapshots[0])])
        .await
        .expect_error(404, "InvalidSnapshotId.NotFound");
    // "If the specified custom image does not exist, the request is ignored." (DeleteImage)
    caller
        .call(
            "DeleteImage",
            &[("RegionId", "cn-shanghai"), ("ImageId", &copy_id)],
        )
        .await
        .ok();
    emulator.shutdown().await;
}

#[tokio::test]
async fn cancel_removes_copy_and_snapshots_and_refuses_finished_images() {
    let (emulator, caller) = start(config(Duration::from_secs(3600))).await;
    let copy_id = copy_to(&caller, "cn-shanghai", &[]).await.ok()["ImageId"]
        .as_str()
        .unwrap()
        .to_string();
    let snapshots = emulator.control().image(&copy_id).unwrap().snapshot_ids;
    caller
        .call(
            "CancelCopyImage",
            &[("RegionId", "cn-shanghai"), ("ImageId", &copy_id)],
        )
        .await
        .ok();
    assert!(emulator.control().image(&copy_id).is_none());
    assert!(emulator
        .control()
        .snapshots()
        .iter()
        .all(|s| !snapshots.contains(&s.snapshot_id)));
    caller
        .call(
            "CancelCopyImage",
            &[("RegionId", "cn-shanghai"), ("ImageId", &copy_id)],
        )
        .await
        .expect_error(404, "InvalidImageId.NotFound");
    caller
        .call(
            "CancelCopyImage",
            &[("RegionId", "cn-hangzhou"), ("ImageId", HANGZHOU_IMAGE)],
        )
        .await
        .expect_error(400, "IncorrectImageStatus");
    emulator.shutdown().await;
}

#[tokio::test]
async fn forced_failure_ends_in_create_failed() {
    let (emulator, caller) = start(config(Duration::from_millis(200))).await;
    emulator.control().fail_next_copies(1);
    let failing = copy_to(&caller, "cn-shanghai", &[]).await.ok()["ImageId"]
        .as_str()
        .unwrap()
        .to_string();
    let healthy = copy_to(&caller, "cn-shanghai", &[]).await.ok()["ImageId"]
        .as_str()
        .unwrap()
        .to_string();
    tokio::time::sleep(Duration::from_millis(450)).await;
    let failed = describe_one(&caller, "cn-shanghai", &failing)
        .await
        .unwrap();
    assert_eq!(failed["Status"], "CreateFailed");
    assert_eq!(failed["Usable"], false);
    assert_eq!(
        describe_one(&caller, "cn-shanghai", &healthy)
            .await
            .unwrap()["Status"],
        "Available"
    );
    // A failed copy can be deleted.
    caller
        .call(
            "DeleteImage",
            &[("RegionId", "cn-shanghai"), ("ImageId", &failing)],
        )
        .await
        .ok();
    emulator.shutdown().await;
}

#[tokio::test]
async fn modify_attributes_and_paging() {
    let (emulator, caller) = start(config(Duration::from_secs(3600))).await;
    caller
        .call(
            "ModifyImageAttribute",
            &[
                ("RegionId", "cn-hangzhou"),
                ("ImageId", HANGZHOU_IMAGE),
                ("ImageName", "renamed-镜像"),
                ("Description", "new text"),
            ],
        )
        .await
        .ok();
    let image = emulator.control().image(HANGZHOU_IMAGE).unwrap();
    assert_eq!(image.name.as_deref(), Some("renamed-镜像"));
    assert_eq!(image.description.as_deref(), Some("new text"));

    let page1 = caller
        .call(
            "DescribeImages",
            &[("RegionId", "cn-hangzhou"), ("PageSize", "1")],
        )
        .await
        .ok();
    let page2 = caller
        .call(
            "DescribeImages",
            &[
                ("RegionId", "cn-hangzhou"),
                ("PageSize", "1"),
                ("PageNumber", "2"),
            ],
        )
        .await
        .ok();
    assert_eq!(page1["TotalCount"], 2);
    assert_eq!(
        (page1["PageNumber"].as_u64(), page1["PageSize"].as_u64()),
        (Some(1), Some(1))
    );
    let id1 = page1["Images"]["Image"][0]["ImageId"].clone();
    let id2 = page2["Images"]["Image"][0]["ImageId"].clone();
    assert_ne!(id1, id2);
    let system = caller
        .call(
            "DescribeImages",
            &[("RegionId", "cn-hangzhou"), ("ImageOwnerAlias", "system")],
        )
        .await
        .ok();
    assert_eq!(system["TotalCount"], 0);
    emulator.shutdown().await;
}
