//! Every error code the emulator models for the image operations, with its HTTP status.

mod emulator_support;

use std::time::Duration;

use ecs_emulator::{EmulatorConfig, SourceImage};
use emulator_support::*;

type Case = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    u16,
    &'static str,
);

fn copy(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut params = vec![
        ("RegionId", "cn-hangzhou"),
        ("ImageId", HANGZHOU_IMAGE),
        ("DestinationRegionId", "cn-shanghai"),
    ];
    for (key, value) in extra {
        params.retain(|(k, _)| k != key);
        params.push((key, value));
    }
    params
}

#[tokio::test]
async fn copy_image_parameter_errors() {
    let config = EmulatorConfig {
        copy_duration: Duration::from_secs(3600),
        ..EmulatorConfig::default()
    };
    let (emulator, caller) = start(config).await;
    let long_name: &'static str = Box::leak("n".repeat(129).into_boxed_str());
    let cases: Vec<Case> = vec![
        (
            "CopyImage",
            copy(&[("RegionId", "xx-nowhere-1")]),
            400,
            "SourceRegion.NotFound",
        ),
        (
            "CopyImage",
            copy(&[("DestinationRegionId", "xx-nowhere-1")]),
            400,
            "DestinationRegion.NotFound",
        ),
        (
            "CopyImage",
            copy(&[("DestinationRegionId", "cn-hangzhou")]),
            403,
            "IncorrectDestinationRegion",
        ),
        (
            "CopyImage",
            vec![("RegionId", "cn-hangzhou"), ("ImageId", HANGZHOU_IMAGE)],
            403,
            "IncorrectDestinationRegion",
        ),
        (
            "CopyImage",
            copy(&[("ImageId", "m-bp1doesnotexist")]),
            404,
            "InvalidImageId.NotFound",
        ),
        (
            "CopyImage",
            copy(&[("ImageId", "m-uf6emulatorbase0001")]),
            404,
            "InvalidImageId.NotFound",
        ),
        (
            "CopyImage",
            copy(&[("DestinationImageName", "1starts-with-digit")]),
            400,
            "InvalidImageName.Malformed",
        ),
        (
            "CopyImage",
            copy(&[("DestinationImageName", "aliyun-copy")]),
            400,
            "InvalidImageName.Malformed",
        ),
        (
            "CopyImage",
            copy(&[("DestinationImageName", "acs:copy")]),
            400,
            "InvalidImageName.Malformed",
        ),
        (
            "CopyImage",
            copy(&[("DestinationImageName", "has space")]),
            400,
            "InvalidImageName.Malformed",
        ),
        (
            "CopyImage",
            copy(&[("DestinationImageName", long_name)]),
            400,
            "InvalidImageName.Malformed",
        ),
        (
            "CopyImage",
            copy(&[("DestinationDescription", "x")]),
            400,
            "InvalidDescription.Malformed",
        ),
        (
            "CopyImage",
            copy(&[("DestinationDescription", "https://x.example")]),
            400,
            "InvalidDescription.Malformed",
        ),
        (
            "CopyImage",
            copy(&[("KMSKeyId", "key-1")]),
            400,
            "InvalidParameter.EncryptedIllegal",
        ),
        (
            "CopyImage",
            copy(&[("KMSKeyId", "key-1"), ("Encrypted", "false")]),
            400,
            "InvalidParameter.EncryptedIllegal",
        ),
        (
            "CopyImage",
            copy(&[("Encrypted", "maybe")]),
            400,
            "InvalidParameter",
        ),
        (
            "CopyImage",
            copy(&[("Tag.1.Key", "acs:team")]),
            400,
            "InvalidTagKey.Malformed",
        ),
        (
            "CopyImage",
            copy(&[("Tag.1.Key", "team"), ("Tag.1.Value", "acs:team")]),
            400,
            "InvalidTagValue.Malformed",
        ),
        (
            "CopyImage",
            copy(&[("Tag.21.Key", "team")]),
            400,
            "InvalidTagCount",
        ),
        (
            "CopyImage",
            vec![
                ("RegionId", "cn-hangzhou"),
                ("DestinationRegionId", "cn-shanghai"),
            ],
            400,
            "MissingParameter",
        ),
        (
            "CopyImage",
            vec![("ImageId", HANGZHOU_IMAGE)],
            400,
            "MissingParameter",
        ),
        (
            "DescribeImages",
            vec![("RegionId", "xx-nowhere-1")],
            404,
            "InvalidRegionId.NotFound",
        ),
        ("DescribeImages", vec![], 400, "MissingParameter"),
        (
            "DescribeImages",
            vec![("RegionId", "cn-hangzhou"), ("PageSize", "500")],
            400,
            "InvalidParameter",
        ),
        (
            "DescribeImages",
            vec![("RegionId", "cn-hangzhou"), ("Status", "Gone")],
            400,
            "InvalidParameter",
        ),
        (
            "ModifyImageAttribute",
            vec![
                ("RegionId", "cn-hangzhou"),
                ("ImageId", HANGZHOU_IMAGE),
                ("ImageName", "x"),
            ],
            400,
            "InvalidImageName.Malformed",
        ),
        (
            "ModifyImageAttribute",
            vec![
                ("RegionId", "cn-hangzhou"),
                ("ImageId", HANGZHOU_IMAGE),
                ("Description", "http://x"),
            ],
            400,
            "InvalidDescription.Malformed",
        ),
        (
            "ModifyImageAttribute",
            vec![
                ("RegionId", "cn-hangzhou"),
                ("ImageId", HANGZHOU_IMAGE),
                ("ImageName", "emulator-app-hangzhou"),
            ],
            400,
            "InvalidImageName.Duplicated",
        ),
        (
            "ModifyImageAttribute",
            vec![("RegionId", "cn-shanghai"), ("ImageId", HANGZHOU_IMAGE)],
            404,
            "InvalidImageId.NotFound",
        ),
        (
            "DeleteSnapshot",
            vec![("SnapshotId", "s-bp1missing")],
            404,
            "InvalidSnapshotId.NotFound",
        ),
        (
            "DeleteSnapshot",
            vec![("RegionId", "cn-hangzhou")],
            400,
            "MissingParameter",
        ),
    ];
    for (action, params, status, code) in cases {
        let answer = caller.call(action, &params).await;
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{action} {params:?} answered {}",
            answer.body
        );
    }
    // None of those requests may have left anything behind.
    assert_eq!(emulator.control().copy_tasks_running(), 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn copy_image_state_errors() {
    let config = EmulatorConfig {
        copy_duration: Duration::from_secs(3600),
        ..EmulatorConfig::default()
    };
    let (emulator, caller) = start(config).await;
    let control = emulator.control();

    let copy_id = copy_to(
        &caller,
        "cn-shanghai",
        &[("DestinationImageName", "taken-name")],
    )
    .await
    .ok()["ImageId"]
        .as_str()
        .unwrap()
        .to_string();
    copy_to(
        &caller,
        "cn-shanghai",
        &[("DestinationImageName", "taken-name")],
    )
    .await
    .expect_error(400, "InvalidImageName.Duplicated");

    // The copy is not Available yet, so it cannot be copied on.
    caller
        .call(
            "CopyImage",
            &[
                ("RegionId", "cn-shanghai"),
                ("ImageId", &copy_id),
                ("DestinationRegionId", "cn-beijing"),
            ],
        )
        .await
        .expect_error(400, "IncorrectImageStatus");
    // Its source cannot be deleted while the copy runs.
    caller
        .call(
            "DeleteImage",
            &[("RegionId", "cn-hangzhou"), ("ImageId", HANGZHOU_IMAGE)],
        )
        .await
        .expect_error(403, "OperationDenied.ImageCopying");

    control.set_image_quota(Some(1));
    copy_to(&caller, "cn-shanghai", &[])
        .await
        .expect_error(403, "QuotaExceed.Image");
    control.set_image_quota(None);
    copy_to(&caller, "cn-shanghai", &[]).await.ok();

    // Images added through Control are usable sources at once.
    control.add_image(SourceImage {
        image_id: "m-wz9addedlater0001".into(),
        region_id: "cn-shenzhen".into(),
        name: Some("added".into()),
    });
    caller
        .call(
            "CopyImage",
            &[
                ("RegionId", "cn-shenzhen"),
                ("ImageId", "m-wz9addedlater0001"),
                ("DestinationRegionId", "us-west-1"),
            ],
        )
        .await
        .ok();
    emulator.shutdown().await;
}

#[tokio::test]
async fn error_body_has_ecs_shape() {
    let (emulator, caller) = start(EmulatorConfig::default()).await;
    let answer = caller
        .call(
            "CancelCopyImage",
            &[("RegionId", "cn-shanghai"), ("ImageId", "m-uf6missing")],
        )
        .await;
    answer.expect_error(404, "InvalidImageId.NotFound");
    assert_eq!(
        answer.str("Message"),
        "The specified ImageId does not exist."
    );
    assert_eq!(answer.str("HostId"), "ecs.cn-shanghai.aliyuncs.com");
    let request_id = answer.str("RequestId");
    assert_eq!(request_id.len(), 36);
    assert!(answer.str("Recommend").contains(request_id));
    let calls = emulator.control().calls();
    assert_eq!(calls[0].http_status, Some(404));
    assert_eq!(
        calls[0].error_code.as_deref(),
        Some("InvalidImageId.NotFound")
    );
    emulator.shutdown().await;
}
