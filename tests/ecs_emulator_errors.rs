//! Every error the emulator models for the client's operations comes back through the real
//! client as a typed `EcsError::Api` with ECS's code, HTTP status, message and request id, and
//! is not retried (one call in the emulator's log).

mod ecs_emulator_support;

use ecs_emulator::Control;
use ecs_emulator_support::*;
use ecs_image_copy::ecs::{CopyImageRequest, EcsClient, EcsError, Tag};

/// Name of a case, the code and HTTP status it must produce.
const CASES: &[(&str, &str, u16)] = &[
    ("copy of an unknown image", "InvalidImageId.NotFound", 404),
    ("cancel of an unknown image", "InvalidImageId.NotFound", 404),
    ("modify of an unknown image", "InvalidImageId.NotFound", 404),
    ("copy of a copy in progress", "IncorrectImageStatus", 400),
    ("cancel of an available image", "IncorrectImageStatus", 400),
    (
        "copy into its own region",
        "IncorrectDestinationRegion",
        403,
    ),
    (
        "copy with a malformed name",
        "InvalidImageName.Malformed",
        400,
    ),
    (
        "modify with a malformed name",
        "InvalidImageName.Malformed",
        400,
    ),
    (
        "copy with a malformed description",
        "InvalidDescription.Malformed",
        400,
    ),
    (
        "modify with a malformed description",
        "InvalidDescription.Malformed",
        400,
    ),
    ("copy with a taken name", "InvalidImageName.Duplicated", 400),
    ("modify to a taken name", "InvalidImageName.Duplicated", 400),
    (
        "KMS key without encryption",
        "InvalidParameter.EncryptedIllegal",
        400,
    ),
    ("unknown source region", "SourceRegion.NotFound", 400),
    (
        "unknown destination region",
        "DestinationRegion.NotFound",
        400,
    ),
    (
        "describe in an unknown region",
        "InvalidRegionId.NotFound",
        404,
    ),
    ("copy over the image quota", "QuotaExceed.Image", 403),
    (
        "client token reused with other parameters",
        "IdempotentParameterMismatch",
        400,
    ),
    (
        "delete of an unknown snapshot",
        "InvalidSnapshotId.NotFound",
        404,
    ),
    ("delete of an image's snapshot", "SnapshotCreatedImage", 403),
    ("tag with a reserved key", "InvalidTagKey.Malformed", 400),
    ("tag with a URL value", "InvalidTagValue.Malformed", 400),
    ("tag with a duplicated key", "InvalidTagKey.Duplicated", 400),
    (
        "copy with a reserved tag key",
        "InvalidTagKey.Malformed",
        400,
    ),
    ("tag of an unknown image", "InvalidResourceId.NotFound", 404),
    (
        "untag of an unknown image",
        "InvalidResourceId.NotFound",
        404,
    ),
    (
        "more than twenty tags on one image",
        "OperationDenied.QuotaExceed",
        403,
    ),
];

/// Sets up what the case needs and makes the one client call that must fail.
async fn provoke(name: &str, client: &EcsClient, control: &Control) -> Result<(), EcsError> {
    let copy = |change: &dyn Fn(&mut CopyImageRequest)| {
        let mut request = copy_request();
        change(&mut request);
        request
    };
    let tag = |tags: Vec<Tag>| async move {
        client
            .tag_resources(SOURCE_REGION, SOURCE_IMAGE, &tags, soon())
            .await
    };
    match name {
        "copy of an unknown image" => client
            .copy_image(
                &copy(&|r| r.image_id = "m-bp1nosuchimage000".into()),
                soon(),
            )
            .await
            .map(drop),
        "cancel of an unknown image" => {
            client
                .cancel_copy_image(DESTINATION_REGION, "m-uf6nosuchimage000", soon())
                .await
        }
        "modify of an unknown image" => {
            client
                .modify_image_attribute(
                    DESTINATION_REGION,
                    "m-uf6nosuchimage000",
                    Some("name-ok"),
                    None,
                    soon(),
                )
                .await
        }
        "copy of a copy in progress" => {
            let running = client.copy_image(&copy_request(), soon()).await?;
            client
                .copy_image(
                    &CopyImageRequest {
                        source_region_id: DESTINATION_REGION.into(),
                        image_id: running,
                        destination_region_id: "cn-beijing".into(),
                        ..Default::default()
                    },
                    soon(),
                )
                .await
                .map(drop)
        }
        "cancel of an available image" => {
            client
                .cancel_copy_image(SOURCE_REGION, SOURCE_IMAGE, soon())
                .await
        }
        "copy into its own region" => client
            .copy_image(
                &copy(&|r| r.destination_region_id = SOURCE_REGION.into()),
                soon(),
            )
            .await
            .map(drop),
        "copy with a malformed name" => client
            .copy_image(
                &copy(&|r| r.destination_image_name = Some("1starts-with-digit".into())),
                soon(),
            )
            .await
            .map(drop),
        "modify with a malformed name" => {
            client
                .modify_image_attribute(
                    SOURCE_REGION,
                    SOURCE_IMAGE,
                    Some("aliyun-reserved"),
                    None,
                    soon(),
                )
                .await
        }
        "copy with a malformed description" => client
            .copy_image(
                &copy(&|r| r.destination_description = Some("https://not-allowed".into())),
                soon(),
            )
            .await
            .map(drop),
        "modify with a malformed description" => {
            client
                .modify_image_attribute(SOURCE_REGION, SOURCE_IMAGE, None, Some("x"), soon())
                .await
        }
        "copy with a taken name" => client
            .copy_image(
                &copy(&|r| r.destination_image_name = Some("emulator-base-shanghai".into())),
                soon(),
            )
            .await
            .map(drop),
        "modify to a taken name" => {
            client
                .modify_image_attribute(
                    SOURCE_REGION,
                    SOURCE_IMAGE,
                    Some("emulator-app-hangzhou"),
                    None,
                    soon(),
                )
                .await
        }
        "KMS key without encryption" => client
            .copy_image(
                &copy(&|r| {
                    r.encrypted = Some(false);
                    r.kms_key_id = Some("key-1".into());
                }),
                soon(),
            )
            .await
            .map(drop),
        "unknown source region" => client
            .copy_image(
                &copy(&|r| r.source_region_id = "xx-nowhere-1".into()),
                soon(),
            )
            .await
            .map(drop),
        "unknown destination region" => client
            .copy_image(
                &copy(&|r| r.destination_region_id = "xx-nowhere-1".into()),
                soon(),
            )
            .await
            .map(drop),
        "describe in an unknown region" => client
            .describe_image("xx-nowhere-1", SOURCE_IMAGE, soon())
            .await
            .map(drop),
        "delete of a copy in progress" => {
            let running = client.copy_image(&copy_request(), soon()).await?;
            client
                .delete_image(DESTINATION_REGION, &running, true, soon())
                .await
        }
        "delete of the source of a running copy" => {
            client.copy_image(&copy_request(), soon()).await?;
            client
                .delete_image(SOURCE_REGION, SOURCE_IMAGE, true, soon())
                .await
        }
        "copy over the image quota" => {
            // cn-shanghai already holds one image.
            control.set_image_quota(Some(1));
            client.copy_image(&copy_request(), soon()).await.map(drop)
        }
        "client token reused with other parameters" => {
            let token = |r: &mut CopyImageRequest| r.client_token = Some("token-1".into());
            client.copy_image(&copy(&token), soon()).await?;
            let other = copy(&|r| {
                token(r);
                r.destination_image_name = Some("another-name".into());
            });
            client.copy_image(&other, soon()).await.map(drop)
        }
        "delete of an unknown snapshot" => {
            client
                .delete_snapshot(DESTINATION_REGION, "s-uf6nosuchsnapshot0", false, soon())
                .await
        }
        "delete of an image's snapshot" => {
            let snapshot = control.image(SOURCE_IMAGE).unwrap().snapshot_ids[0].clone();
            client
                .delete_snapshot(SOURCE_REGION, &snapshot, true, soon())
                .await
        }
        "tag with a reserved key" => tag(vec![Tag::new("acs:owner", "x")]).await,
        "tag with a URL value" => tag(vec![Tag::new("site", "see https://example.com")]).await,
        "tag with a duplicated key" => tag(vec![Tag::new("env", "a"), Tag::new("env", "b")]).await,
        "copy with a reserved tag key" => client
            .copy_image(&copy(&|r| r.tags = vec![Tag::new("aliyun-x", "v")]), soon())
            .await
            .map(drop),
        "tag of an unknown image" => {
            client
                .tag_resources(
                    SOURCE_REGION,
                    "m-bp1nosuchimage000",
                    &[Tag::new("k", "v")],
                    soon(),
                )
                .await
        }
        "untag of an unknown image" => {
            client
                .untag_resources(
                    SOURCE_REGION,
                    "m-bp1nosuchimage000",
                    &["k".to_string()],
                    soon(),
                )
                .await
        }
        "more than twenty tags on one image" => {
            // Twenty go through in the first request; the twenty-first is refused.
            let tags = (1..=21).map(|i| Tag::new(format!("k{i}"), "v")).collect();
            tag(tags).await
        }
        other => panic!("no way to provoke {other:?}"),
    }
}

#[tokio::test]
async fn every_modelled_error_reaches_the_caller_typed_and_unretried() {
    for (name, code, status) in CASES {
        let harness = Harness::start(10_000).await;
        let client = harness.client();
        let control = harness.control();
        let result = provoke(name, &client, &control).await;
        let calls = control.calls();
        let error = match result {
            Ok(()) => panic!("{name}: expected {code}, got success"),
            Err(error) => error,
        };
        let (got_code, got_status, message, request_id) = api_parts(&error);
        assert_eq!(
            (got_code.as_str(), got_status),
            (*code, *status),
            "{name}: {error}"
        );
        assert!(!message.is_empty(), "{name}: no message");
        let last = calls.last().expect("the failing call was logged");
        assert_eq!(last.error_code.as_deref(), Some(*code), "{name}");
        assert_eq!(last.http_status, Some(*status), "{name}");
        // The request id is the emulator's, and the failing call was made once only.
        assert_eq!(request_id.as_deref().map(str::len), Some(36), "{name}");
        let failing = calls.iter().filter(|c| c.error_code.is_some()).count();
        assert_eq!(failing, 1, "{name}: retried a non-retryable error");
        assert!(!error.is_retryable(), "{name}");
        let shown = error.to_string();
        assert!(
            shown.contains(code) && shown.contains(request_id.as_deref().unwrap()),
            "{name}: {shown}"
        );
        harness.shutdown().await;
    }
}

#[tokio::test]
async fn every_case_of_the_table_is_a_distinct_scenario() {
    let mut names: Vec<&str> = CASES.iter().map(|(name, _, _)| *name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), CASES.len());
}

/// DeleteImage's `OperationDenied.ImageCopying` says "later", not "never" (see
/// `ecs::error::TRANSIENT`): it is retried until the deadline, then reported with the code.
#[tokio::test]
async fn a_delete_refused_while_copying_is_retried_until_the_deadline() {
    for name in [
        "delete of a copy in progress",
        "delete of the source of a running copy",
    ] {
        let harness = Harness::start(10_000).await;
        let client = harness.client();
        let control = harness.control();
        let error = provoke(name, &client, &control).await.unwrap_err();
        assert!(
            matches!(
                error,
                ecs_image_copy::ecs::EcsError::DeadlineExceeded { .. }
            ),
            "{name}: {error:?}"
        );
        assert_eq!(
            error.last_answer().code(),
            Some("OperationDenied.ImageCopying"),
            "{name}"
        );
        let refused = control
            .calls()
            .iter()
            .filter(|c| c.error_code.as_deref() == Some("OperationDenied.ImageCopying"))
            .count();
        assert!(refused >= 2, "{name}: tried {refused} time(s)");
    }
}
