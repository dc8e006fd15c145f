//! TagResources / UntagResources through the real client against the emulator (tags read
//! back with DescribeImages, as the lifecycle reads them), including the client's split of long tag lists into requests of twenty.

mod ecs_emulator_support;

use std::collections::BTreeMap;

use ecs_emulator_support::*;
use ecs_image_copy::ecs::{EcsClient, Tag};

/// The image's tags as DescribeImages reports them.
async fn tags_of(client: &EcsClient, region: &str, image: &str) -> Vec<Tag> {
    client
        .describe_image(region, image, soon())
        .await
        .unwrap()
        .expect("the image exists")
        .tags
}

#[tokio::test]
async fn tags_are_added_listed_and_removed() {
    let harness = Harness::start(100).await;
    let client = harness.client();
    let tags = vec![
        Tag::new("env", "prod"),
        Tag::new("owner", "team a/b+c=d"),
        Tag::new("empty", ""),
        Tag::new("名字", "值"),
    ];
    client
        .tag_resources(SOURCE_REGION, SOURCE_IMAGE, &tags, soon())
        .await
        .unwrap();
    let mut listed = tags_of(&client, SOURCE_REGION, SOURCE_IMAGE).await;
    listed.sort();
    let mut expected = tags.clone();
    expected.sort();
    assert_eq!(listed, expected);
    // Tags of other images stay out of the answer.
    client
        .tag_resources(
            SOURCE_REGION,
            "m-bp1emulatorbase0002",
            &[Tag::new("other", "x")],
            soon(),
        )
        .await
        .unwrap();
    assert_eq!(tags_of(&client, SOURCE_REGION, SOURCE_IMAGE).await.len(), 4);

    client
        .untag_resources(
            SOURCE_REGION,
            SOURCE_IMAGE,
            &["env".to_string(), "名字".to_string()],
            soon(),
        )
        .await
        .unwrap();
    let held = harness.control().image(SOURCE_IMAGE).unwrap().tags;
    assert_eq!(
        held,
        BTreeMap::from([
            ("owner".into(), "team a/b+c=d".into()),
            ("empty".into(), "".into())
        ])
    );
    let described = client
        .describe_image(SOURCE_REGION, SOURCE_IMAGE, soon())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(described.tags.len(), 2);
    let tag_call = harness
        .control()
        .calls()
        .into_iter()
        .find(|c| c.action == "TagResources")
        .unwrap();
    assert_eq!(tag_call.params["ResourceType"], "image");
    harness.shutdown().await;
}

#[tokio::test]
async fn more_than_twenty_tags_go_out_in_chunks_of_twenty() {
    let harness = Harness::start(100).await;
    let client = harness.client();
    // Twenty keys, then five of them again with new values: two requests, the second
    // overwriting, so the image stays within its own limit of twenty tags.
    let mut tags: Vec<Tag> = (1..=20)
        .map(|i| Tag::new(format!("k{i:02}"), format!("v{i}")))
        .collect();
    tags.extend((1..=5).map(|i| Tag::new(format!("k{i:02}"), format!("second{i}"))));
    client
        .tag_resources(SOURCE_REGION, SOURCE_IMAGE, &tags, soon())
        .await
        .unwrap();
    let tag_calls: Vec<usize> = harness
        .control()
        .calls()
        .into_iter()
        .filter(|c| c.action == "TagResources")
        .map(|c| c.params.keys().filter(|k| k.ends_with(".Key")).count())
        .collect();
    assert_eq!(tag_calls, [20, 5]);
    let held = harness.control().image(SOURCE_IMAGE).unwrap().tags;
    assert_eq!(held.len(), 20);
    assert_eq!(held["k01"], "second1");
    assert_eq!(held["k06"], "v6");
    let listed = tags_of(&client, SOURCE_REGION, SOURCE_IMAGE).await;
    assert_eq!(listed.len(), 20);

    // Untagging 21 keys (one unknown) takes two requests and removes all twenty.
    let mut keys: Vec<String> = (1..=20).map(|i| format!("k{i:02}")).collect();
    keys.push("not-there".into());
    client
        .untag_resources(SOURCE_REGION, SOURCE_IMAGE, &keys, soon())
        .await
        .unwrap();
    let untag_calls = harness
        .control()
        .calls()
        .into_iter()
        .filter(|c| c.action == "UntagResources")
        .count();
    assert_eq!(untag_calls, 2);
    assert!(harness
        .control()
        .image(SOURCE_IMAGE)
        .unwrap()
        .tags
        .is_empty());
    assert!(tags_of(&client, SOURCE_REGION, SOURCE_IMAGE)
        .await
        .is_empty());
    harness.shutdown().await;
}
