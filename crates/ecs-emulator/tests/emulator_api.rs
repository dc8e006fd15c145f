//! Parameters and answers of the emulator's operations as the ECS API reference documents
//! them, over signed HTTP: DeleteImage of a missing image, DeleteSnapshot without a region,
//! DescribeImages listing the account's images page by page with tag filters.

mod emulator_support;

use std::collections::BTreeSet;
use std::time::Duration;

use ecs_emulator::{EmulatorConfig, SourceImage};
use emulator_support::*;
use serde_json::Value;

const LISTED_REGION: &str = "cn-qingdao";

fn config() -> EmulatorConfig {
    EmulatorConfig {
        copy_duration: Duration::from_millis(100),
        ..EmulatorConfig::default()
    }
}

fn ids(body: &Value) -> Vec<String> {
    body["Images"]["Image"]
        .as_array()
        .expect("Images.Image is a list")
        .iter()
        .map(|i| i["ImageId"].as_str().unwrap().to_string())
        .collect()
}

/// "If the specified custom image does not exist, the request is ignored." (DeleteImage,
/// `ImageId`; also in the official SDK's `DeleteImageRequest`.)
#[tokio::test]
async fn delete_image_of_a_missing_image_is_ignored() {
    let (emulator, caller) = start(config()).await;
    let body = caller
        .call(
            "DeleteImage",
            &[
                ("RegionId", "cn-shanghai"),
                ("ImageId", "m-uf6neverexisted01"),
            ],
        )
        .await
        .ok();
    assert!(body["RequestId"].is_string(), "{body}");
    assert!(body.get("Code").is_none(), "{body}");
    // An image of another region is missing in this one, and stays where it is.
    caller
        .call(
            "DeleteImage",
            &[("RegionId", "cn-shanghai"), ("ImageId", HANGZHOU_IMAGE)],
        )
        .await
        .ok();
    assert!(emulator.control().image(HANGZHOU_IMAGE).is_some());
    // What is still checked: the region, and the parameters.
    caller
        .call(
            "DeleteImage",
            &[
                ("RegionId", "xx-nowhere-1"),
                ("ImageId", "m-uf6neverexisted01"),
            ],
        )
        .await
        .expect_error(404, "InvalidRegionId.NotFound");
    caller
        .call("DeleteImage", &[("RegionId", "cn-shanghai")])
        .await
        .expect_error(400, "MissingParameter");
    emulator.shutdown().await;
}

/// DeleteSnapshot has no `RegionId` (official SDK `DeleteSnapshotRequest`): the id alone
/// finds the snapshot, and a `RegionId` that the first-generation SDK core adds anyway is
/// ignored.
#[tokio::test]
async fn delete_snapshot_needs_no_region_and_ignores_one() {
    let (emulator, caller) = start(config()).await;
    let control = emulator.control();
    let mut freed = Vec::new();
    for _ in 0..2 {
        let copy_id = copy_to(&caller, "cn-shanghai", &[]).await.ok()["ImageId"]
            .as_str()
            .unwrap()
            .to_string();
        tokio::time::sleep(Duration::from_millis(250)).await;
        let snapshot = control.image(&copy_id).unwrap().snapshot_ids[0].clone();
        caller
            .call(
                "DeleteImage",
                &[("RegionId", "cn-shanghai"), ("ImageId", &copy_id)],
            )
            .await
            .ok();
        freed.push(snapshot);
    }
    let exists = |id: &str| control.snapshots().iter().any(|s| s.snapshot_id == id);
    assert!(freed.iter().all(|id| exists(id)));

    caller
        .call("DeleteSnapshot", &[("SnapshotId", &freed[0])])
        .await
        .ok();
    assert!(!exists(&freed[0]));
    // A cn-shanghai snapshot, named with another region: the region is not looked at.
    caller
        .call(
            "DeleteSnapshot",
            &[("RegionId", "cn-hangzhou"), ("SnapshotId", &freed[1])],
        )
        .await
        .ok();
    assert!(!exists(&freed[1]));

    caller
        .call("DeleteSnapshot", &[("SnapshotId", &freed[0])])
        .await
        .expect_error(404, "InvalidSnapshotId.NotFound");
    caller
        .call("DeleteSnapshot", &[])
        .await
        .expect_error(400, "MissingParameter");
    emulator.shutdown().await;
}

/// DescribeImages: "PageSize ... Maximum value: 100. Default value: 10." "PageNumber ...
/// Default value: 1."; the answer carries TotalCount, PageNumber and PageSize.
#[tokio::test]
async fn describe_images_lists_the_account_page_by_page() {
    let (emulator, caller) = start(config()).await;
    let control = emulator.control();
    let added: BTreeSet<String> = (0..23)
        .map(|i| format!("m-m5elisted{i:04}"))
        .inspect(|id| control.add_image(SourceImage::new(id.clone(), LISTED_REGION)))
        .collect();

    let first = caller
        .call("DescribeImages", &[("RegionId", LISTED_REGION)])
        .await
        .ok();
    assert_eq!(first["TotalCount"], 23, "{first}");
    assert_eq!(first["PageNumber"], 1);
    assert_eq!(first["PageSize"], 10);
    assert_eq!(ids(&first).len(), 10);

    let mut seen = Vec::new();
    for page in ["1", "2", "3"] {
        let body = caller
            .call(
                "DescribeImages",
                &[
                    ("RegionId", LISTED_REGION),
                    ("PageSize", "10"),
                    ("PageNumber", page),
                ],
            )
            .await
            .ok();
        assert_eq!(body["TotalCount"], 23);
        assert_eq!(body["PageNumber"], page.parse::<u64>().unwrap());
        seen.extend(ids(&body));
    }
    assert_eq!(seen.len(), 23, "pages overlap or miss images: {seen:?}");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), added);

    let beyond = caller
        .call(
            "DescribeImages",
            &[("RegionId", LISTED_REGION), ("PageNumber", "4")],
        )
        .await
        .ok();
    assert_eq!(beyond["TotalCount"], 23);
    assert!(ids(&beyond).is_empty());

    let all = caller
        .call(
            "DescribeImages",
            &[("RegionId", LISTED_REGION), ("PageSize", "100")],
        )
        .await
        .ok();
    assert_eq!(ids(&all).len(), 23);
    for bad in ["101", "0", "ten"] {
        caller
            .call(
                "DescribeImages",
                &[("RegionId", LISTED_REGION), ("PageSize", bad)],
            )
            .await
            .expect_error(400, "InvalidParameter");
    }
    caller
        .call(
            "DescribeImages",
            &[("RegionId", LISTED_REGION), ("PageNumber", "0")],
        )
        .await
        .expect_error(400, "InvalidParameter");
    emulator.shutdown().await;
}

/// DescribeImages `Tag.N.Key` / `Tag.N.Value` filter the list; `Status=ALL` "cannot be used
/// together with other status values".
#[tokio::test]
async fn describe_images_filters_by_tag_and_status() {
    let (emulator, caller) = start(EmulatorConfig {
        copy_duration: Duration::from_secs(3600),
        ..EmulatorConfig::default()
    })
    .await;
    let tagged = copy_to(
        &caller,
        "cn-shanghai",
        &[("Tag.1.Key", "env"), ("Tag.1.Value", "prod")],
    )
    .await
    .ok()["ImageId"]
        .as_str()
        .unwrap()
        .to_string();
    let other = copy_to(
        &caller,
        "cn-shanghai",
        &[("Tag.1.Key", "env"), ("Tag.1.Value", "test")],
    )
    .await
    .ok()["ImageId"]
        .as_str()
        .unwrap()
        .to_string();

    let listed = |extra: Vec<(&'static str, &'static str)>| {
        let caller = &caller;
        async move {
            let mut params = vec![("RegionId", "cn-shanghai"), ("Status", "ALL")];
            params.extend(extra);
            let body = caller.call("DescribeImages", &params).await.ok();
            let mut found = ids(&body);
            found.sort();
            found
        }
    };
    let mut both = vec![tagged.clone(), other.clone()];
    both.sort();
    let everything = listed(vec![]).await;
    assert!(
        both.iter().all(|id| everything.contains(id)),
        "{everything:?}"
    );
    assert_eq!(
        listed(vec![("Tag.1.Key", "env"), ("Tag.1.Value", "prod")]).await,
        vec![tagged.clone()]
    );
    assert_eq!(listed(vec![("Tag.1.Key", "env")]).await, both);
    assert!(listed(vec![("Tag.1.Key", "team")]).await.is_empty());
    assert!(
        listed(vec![
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
            ("Tag.2.Key", "team"),
        ])
        .await
        .is_empty(),
        "every filter tag must match"
    );

    // Copies still running are not Available, the default Status.
    let default_status = caller
        .call("DescribeImages", &[("RegionId", "cn-shanghai")])
        .await
        .ok();
    assert!(!ids(&default_status).contains(&tagged));
    caller
        .call(
            "DescribeImages",
            &[("RegionId", "cn-shanghai"), ("Status", "ALL,Available")],
        )
        .await
        .expect_error(400, "InvalidParameter");
    caller
        .call(
            "DescribeImages",
            &[("RegionId", "cn-shanghai"), ("Tag.1.Key", "acs:x")],
        )
        .await
        .expect_error(400, "InvalidTagKey.Malformed");
    emulator.shutdown().await;
}
