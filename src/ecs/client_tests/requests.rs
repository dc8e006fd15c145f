//! What the client sends: signed requests to the right endpoint, one per operation (tags in
//! calls of twenty), and how it reads the answers.

use super::*;
use crate::ecs::testing::{api_error, json};
use crate::ecs::ImageStatus;
use serde_json::json as j;

#[tokio::test]
async fn copy_image_sends_a_signed_request_and_returns_the_new_id() {
    let transport =
        ScriptedTransport::sequence(vec![json(200, j!({"RequestId": "R1", "ImageId": "m-new"}))]);
    let client = client_with(transport.clone(), Some("sts/token+1="));
    let request = CopyImageRequest {
        source_region_id: "cn-hangzhou".into(),
        image_id: "m-src".into(),
        destination_region_id: "cn-shanghai".into(),
        destination_image_name: Some("copy of 镜像 *~".into()),
        tags: vec![Tag::new("team", "a+b")],
        client_token: Some("token-1".into()),
        ..Default::default()
    };
    assert_eq!(client.copy_image(&request, later()).await.unwrap(), "m-new");

    let sent = transport.requests();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].url.starts_with("http://127.0.0.1:9/?"));
    assert!(
        sent[0].url.contains("Tag.1.Value=a%2Bb"),
        "+ must go out as %2B"
    );
    assert_signed_correctly(&sent[0], "the-secret");
    let params = transport.params(0);
    for (key, value) in [
        ("Action", "CopyImage"),
        ("Version", "2014-05-26"),
        ("Format", "JSON"),
        ("AccessKeyId", "LTAIid"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("RegionId", "cn-hangzhou"),
        ("SecurityToken", "sts/token+1="),
        ("ImageId", "m-src"),
        ("DestinationRegionId", "cn-shanghai"),
        ("DestinationImageName", "copy of 镜像 *~"),
        ("ClientToken", "token-1"),
        ("Tag.1.Key", "team"),
    ] {
        assert_eq!(param(&params, key), Some(value), "{key}");
    }
    assert_eq!(param(&params, "SignatureNonce").unwrap().len(), 32);
    let timestamp = param(&params, "Timestamp").unwrap();
    assert!(
        time::PrimitiveDateTime::parse(
            timestamp.trim_end_matches('Z'),
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]")
        )
        .is_ok(),
        "{timestamp}"
    );
}

#[tokio::test]
async fn official_endpoints_follow_the_region() {
    let transport = ScriptedTransport::sequence(vec![json(200, j!({"RequestId": "R"}))]);
    let client = EcsClient::with_transport(
        Credentials::new("id", "secret", None),
        Endpoints::official(),
        transport.clone(),
        RetryPolicy::default(),
    );
    client
        .delete_image("cn-hangzhou", "m-1", true, later())
        .await
        .unwrap();
    client
        .delete_image("eu-central-1", "m-2", false, later())
        .await
        .unwrap();
    let sent = transport.requests();
    assert!(sent[0]
        .url
        .starts_with("https://ecs-cn-hangzhou.aliyuncs.com/?"));
    assert!(sent[1]
        .url
        .starts_with("https://ecs.eu-central-1.aliyuncs.com/?"));
    assert_eq!(param(&transport.params(1), "Force"), Some("false"));
    assert_eq!(
        param(&transport.params(1), "RegionId"),
        Some("eu-central-1")
    );
}

#[tokio::test]
async fn a_bad_region_fails_before_anything_is_sent() {
    let transport = ScriptedTransport::sequence(vec![json(200, j!({}))]);
    let client = client_with(transport.clone(), None);
    let err = client
        .delete_snapshot("evil.example/", "s-1", true, later())
        .await
        .unwrap_err();
    assert!(matches!(err, EcsError::Endpoint(_)), "{err:?}");
    assert!(transport.requests().is_empty());
}

#[tokio::test]
async fn describe_image_finds_the_image_or_none() {
    let transport = ScriptedTransport::new(|request, _| {
        let params = decode_query(request.url.split_once('?').unwrap().1);
        match param(&params, "ImageId") {
            Some("m-copy") => json(
                200,
                j!({"RequestId": "R", "TotalCount": 1, "Images": {"Image": [{
                    "ImageId": "m-copy", "Status": "Waiting", "Progress": "",
                    "DiskDeviceMappings": {"DiskDeviceMapping": [{"SnapshotId": "s-9"}]}
                }]}}),
            ),
            Some("m-gone") => api_error(404, "InvalidImageId.NotFound", "gone"),
            _ => json(
                200,
                j!({"RequestId": "R", "TotalCount": 0, "Images": {"Image": []}}),
            ),
        }
    });
    let client = client_with(transport.clone(), None);
    let image = client
        .describe_image("cn-shanghai", "m-copy", later())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(image.status, ImageStatus::Waiting);
    assert_eq!(image.progress, None);
    assert_eq!(image.region_id, "cn-shanghai");
    assert_eq!(image.snapshot_ids, ["s-9"]);
    let params = transport.params(0);
    assert_eq!(
        param(&params, "Status"),
        Some("Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated")
    );
    assert_eq!(param(&params, "ImageOwnerAlias"), Some("self"));
    assert_eq!(
        client
            .describe_image("cn-shanghai", "m-none", later())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        client
            .describe_image("cn-shanghai", "m-gone", later())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn tagging_splits_into_calls_of_twenty() {
    let transport = ScriptedTransport::sequence(vec![json(200, j!({"RequestId": "R"}))]);
    let client = client_with(transport.clone(), None);
    let tags: Vec<Tag> = (1..=21)
        .map(|i| Tag::new(format!("k{i:02}"), "v"))
        .collect();
    client
        .tag_resources("cn-shanghai", "m-1", &tags, later())
        .await
        .unwrap();
    assert_eq!(transport.requests().len(), 2);
    assert_eq!(param(&transport.params(1), "Tag.1.Key"), Some("k21"));
    client
        .untag_resources("cn-shanghai", "m-1", &["k01".to_string()], later())
        .await
        .unwrap();
    assert_eq!(
        param(&transport.params(2), "Action"),
        Some("UntagResources")
    );
    assert_eq!(param(&transport.params(2), "TagKey.1"), Some("k01"));
}

#[tokio::test]
async fn other_operations_send_their_action_and_parse_answers() {
    let transport = ScriptedTransport::sequence(vec![json(200, j!({"RequestId": "R"}))]);
    let client = client_with(transport.clone(), None);
    client
        .cancel_copy_image("cn-shanghai", "m-1", later())
        .await
        .unwrap();
    client
        .modify_image_attribute("cn-shanghai", "m-1", Some("n"), Some("d"), later())
        .await
        .unwrap();
    let actions: Vec<String> = (0..2)
        .map(|i| param(&transport.params(i), "Action").unwrap().to_string())
        .collect();
    assert_eq!(actions, ["CancelCopyImage", "ModifyImageAttribute"]);
    assert_eq!(param(&transport.params(0), "RegionId"), Some("cn-shanghai"));
    assert_eq!(param(&transport.params(1), "Description"), Some("d"));
}
