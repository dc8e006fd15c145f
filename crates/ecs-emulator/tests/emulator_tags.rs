//! TagResources, UntagResources and ListTagResources on images.

mod emulator_support;

use ecs_emulator::EmulatorConfig;
use emulator_support::*;

const SECOND_IMAGE: &str = "m-bp1emulatorbase0002";

#[tokio::test]
async fn tag_list_and_untag_images() {
    let (emulator, caller) = start(EmulatorConfig::default()).await;
    caller
        .call(
            "TagResources",
            &[
                ("RegionId", "cn-hangzhou"),
                ("ResourceType", "image"),
                ("ResourceId.1", HANGZHOU_IMAGE),
                ("ResourceId.2", SECOND_IMAGE),
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", "prod"),
                ("Tag.2.Key", "team"),
                ("Tag.2.Value", "infra"),
            ],
        )
        .await
        .ok();

    let listed = caller
        .call(
            "ListTagResources",
            &[
                ("RegionId", "cn-hangzhou"),
                ("ResourceType", "image"),
                ("ResourceId.1", HANGZHOU_IMAGE),
            ],
        )
        .await
        .ok();
    let entries = listed["TagResources"]["TagResource"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["ResourceType"], "ALIYUN::ECS::IMAGE");
    assert_eq!(entries[0]["ResourceId"], HANGZHOU_IMAGE);
    assert_eq!(
        (
            entries[0]["TagKey"].as_str(),
            entries[0]["TagValue"].as_str()
        ),
        (Some("env"), Some("prod"))
    );
    assert_eq!(listed["NextToken"], "");

    let by_tag = caller
        .call(
            "ListTagResources",
            &[
                ("RegionId", "cn-hangzhou"),
                ("ResourceType", "image"),
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", "prod"),
            ],
        )
        .await
        .ok();
    assert_eq!(
        by_tag["TagResources"]["TagResource"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // The tags show in DescribeImages too.
    let described = describe_one(&caller, "cn-hangzhou", HANGZHOU_IMAGE)
        .await
        .unwrap();
    assert_eq!(described["Tags"]["Tag"].as_array().unwrap().len(), 2);

    caller
        .call(
            "UntagResources",
            &[
                ("RegionId", "cn-hangzhou"),
                ("ResourceType", "image"),
                ("ResourceId.1", HANGZHOU_IMAGE),
                ("TagKey.1", "env"),
            ],
        )
        .await
        .ok();
    let tags = emulator.control().image(HANGZHOU_IMAGE).unwrap().tags;
    assert_eq!(tags.keys().collect::<Vec<_>>(), vec!["team"]);

    caller
        .call(
            "UntagResources",
            &[
                ("RegionId", "cn-hangzhou"),
                ("ResourceType", "image"),
                ("ResourceId.1", SECOND_IMAGE),
                ("All", "true"),
            ],
        )
        .await
        .ok();
    assert!(emulator
        .control()
        .image(SECOND_IMAGE)
        .unwrap()
        .tags
        .is_empty());
    emulator.shutdown().await;
}

#[tokio::test]
async fn copy_with_tags_and_tag_limits() {
    let (emulator, caller) = start(EmulatorConfig::default()).await;
    let copy = copy_to(
        &caller,
        "cn-shanghai",
        &[("Tag.1.Key", "origin"), ("Tag.1.Value", "hz")],
    )
    .await
    .ok();
    let copy_id = copy["ImageId"].as_str().unwrap();
    assert_eq!(
        emulator.control().image(copy_id).unwrap().tags["origin"],
        "hz"
    );

    // 20 tags per resource at most; a request that would exceed that changes nothing.
    let keys: Vec<String> = (1..=20).map(|n| format!("Tag.{n}.Key")).collect();
    let names: Vec<String> = (1..=20).map(|n| format!("k{n}")).collect();
    let mut params: Vec<(&str, &str)> = vec![
        ("RegionId", "cn-shanghai"),
        ("ResourceType", "image"),
        ("ResourceId.1", copy_id),
    ];
    for n in 0..20 {
        params.push((&keys[n], &names[n]));
    }
    caller
        .call("TagResources", &params)
        .await
        .expect_error(403, "OperationDenied.QuotaExceed");
    assert_eq!(emulator.control().image(copy_id).unwrap().tags.len(), 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn tag_errors() {
    let (emulator, caller) = start(EmulatorConfig::default()).await;
    let base = [
        ("RegionId", "cn-hangzhou"),
        ("ResourceType", "image"),
        ("ResourceId.1", HANGZHOU_IMAGE),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut p = base.to_vec();
        for (key, value) in extra {
            p.retain(|(k, _)| k != key);
            p.push((key, value));
        }
        p
    };
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        ("TagResources", with(&[]), 400, "MissingParameter"),
        (
            "TagResources",
            with(&[("Tag.1.Key", "")]),
            400,
            "InvalidTagKey.Malformed",
        ),
        (
            "TagResources",
            with(&[("Tag.1.Key", "aliyun-x")]),
            400,
            "InvalidTagKey.Malformed",
        ),
        (
            "TagResources",
            with(&[("Tag.1.Key", "k"), ("Tag.1.Value", "http://x")]),
            400,
            "InvalidTagValue.Malformed",
        ),
        (
            "TagResources",
            with(&[("Tag.1.Key", "k"), ("ResourceType", "instance")]),
            404,
            "InvalidResourceType.NotFound",
        ),
        (
            "TagResources",
            with(&[("Tag.1.Key", "k"), ("ResourceId.1", "m-bp1missing")]),
            404,
            "InvalidResourceId.NotFound",
        ),
        (
            "TagResources",
            with(&[("Tag.1.Key", "k"), ("RegionId", "cn-shanghai")]),
            404,
            "InvalidResourceId.NotFound",
        ),
        (
            "TagResources",
            with(&[("Tag.1.Key", "k"), ("ResourceId.1", "")]),
            400,
            "MissingParameter",
        ),
        (
            "UntagResources",
            with(&[("ResourceType", "")]),
            400,
            "MissingParameter",
        ),
        (
            "ListTagResources",
            with(&[("NextToken", "garbage")]),
            400,
            "InvalidParameter",
        ),
        (
            "ListTagResources",
            with(&[("RegionId", "xx-nowhere-1")]),
            404,
            "InvalidRegionId.NotFound",
        ),
    ];
    for (action, params, status, code) in cases {
        let answer = caller.call(action, &params).await;
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{action} {params:?}: {}",
            answer.body
        );
    }
    assert!(emulator
        .control()
        .image(HANGZHOU_IMAGE)
        .unwrap()
        .tags
        .is_empty());
    emulator.shutdown().await;
}
