use super::*;
use crate::ecs::testing::{api_error, decode_query, json, ScriptedTransport};
use crate::ecs::transport::TransportError;
use crate::ecs::ImageStatus;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::json as j;
use std::time::Duration;

const SDK_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Recomputes the signature of a sent GET with the `percent-encoding` crate and `hmac`
/// directly, so the check does not lean on the client's own encoder or signer.
fn assert_signed_correctly(request: &crate::ecs::HttpRequest, secret: &str) {
    let query = request.url.split_once('?').unwrap().1;
    let mut params = decode_query(query);
    let position = params.iter().position(|(k, _)| k == "Signature").unwrap();
    assert_eq!(position, params.len() - 1, "Signature must come last");
    let (_, sent_signature) = params.pop().unwrap();
    params.sort();
    let canonical = params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, SDK_ENCODE_SET),
                utf8_percent_encode(v, SDK_ENCODE_SET)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    let string_to_sign = format!(
        "GET&%2F&{}",
        utf8_percent_encode(&canonical, SDK_ENCODE_SET)
    );
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(sent_signature, expected);
}

fn client_with(transport: Arc<ScriptedTransport>, token: Option<&str>) -> EcsClient {
    EcsClient::with_transport(
        Credentials::new("LTAIid", "the-secret", token.map(str::to_string)),
        Endpoints::with_override("http://127.0.0.1:9").unwrap(),
        transport,
        RetryPolicy::seeded(
            Duration::from_millis(200),
            Duration::from_secs(5),
            Duration::from_secs(10),
            42,
        ),
    )
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn later() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

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
    assert_eq!(sent[0].method, Method::Get);
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
async fn list_tag_resources_follows_next_token() {
    let transport = ScriptedTransport::new(|request, _| {
        let params = decode_query(request.url.split_once('?').unwrap().1);
        match param(&params, "NextToken") {
            None => json(
                200,
                j!({"RequestId": "R1", "NextToken": "page-2", "TagResources": {"TagResource": [
                    {"ResourceId": "m-1", "ResourceType": "ALIYUN::ECS::IMAGE", "TagKey": "a", "TagValue": "1"},
                    {"ResourceId": "m-other", "ResourceType": "ALIYUN::ECS::IMAGE", "TagKey": "x", "TagValue": "9"}
                ]}}),
            ),
            Some("page-2") => json(
                200,
                j!({"RequestId": "R2", "NextToken": "", "TagResources": {"TagResource": [
                    {"ResourceId": "m-1", "ResourceType": "ALIYUN::ECS::IMAGE", "TagKey": "b", "TagValue": ""}
                ]}}),
            ),
            Some(other) => panic!("unexpected token {other}"),
        }
    });
    let client = client_with(transport.clone(), None);
    let tags = client
        .list_tag_resources("cn-shanghai", "m-1", later())
        .await
        .unwrap();
    assert_eq!(tags, [Tag::new("a", "1"), Tag::new("b", "")]);
    assert_eq!(transport.requests().len(), 2);
    assert_eq!(param(&transport.params(0), "ResourceType"), Some("image"));
}

#[tokio::test]
async fn a_repeating_next_token_does_not_loop() {
    let transport = ScriptedTransport::sequence(vec![json(
        200,
        j!({"RequestId": "R", "NextToken": "same", "TagResources": {"TagResource": []}}),
    )]);
    let client = client_with(transport.clone(), None);
    let tags = client
        .list_tag_resources("r", "m-1", later())
        .await
        .unwrap();
    assert!(tags.is_empty());
    assert_eq!(transport.requests().len(), 2);
}

#[tokio::test]
async fn tagging_splits_into_calls_of_twenty() {
    let transport = ScriptedTransport::sequence(vec![json(200, j!({"RequestId": "R"}))]);
    let client = client_with(transport.clone(), None);
    let tags: Vec<Tag> = (1..=21)
        .map(|i| Tag::new(format!("k{i:02}"), "v"))
        .collect();
    client
        .tag_resources("r", "m-1", &tags, later())
        .await
        .unwrap();
    assert_eq!(transport.requests().len(), 2);
    assert_eq!(param(&transport.params(1), "Tag.1.Key"), Some("k21"));
    client
        .untag_resources("r", "m-1", &["k01".to_string()], later())
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
    let transport = ScriptedTransport::new(|request, _| {
        let params = decode_query(request.url.split_once('?').unwrap().1);
        match param(&params, "Action") {
            Some("DescribeRegions") => json(
                200,
                j!({"RequestId": "R", "Regions": {"Region": [
                    {"RegionId": "cn-hangzhou", "LocalName": "华东1"}, {"RegionId": "eu-west-1"}
                ]}}),
            ),
            _ => json(200, j!({"RequestId": "R"})),
        }
    });
    let client = client_with(transport.clone(), None);
    assert_eq!(
        client
            .describe_regions("cn-hangzhou", later())
            .await
            .unwrap(),
        ["cn-hangzhou", "eu-west-1"]
    );
    client
        .cancel_copy_image("cn-shanghai", "m-1", later())
        .await
        .unwrap();
    client
        .modify_image_attribute("cn-shanghai", "m-1", Some("n"), Some("d"), later())
        .await
        .unwrap();
    let actions: Vec<String> = (0..3)
        .map(|i| param(&transport.params(i), "Action").unwrap().to_string())
        .collect();
    assert_eq!(
        actions,
        ["DescribeRegions", "CancelCopyImage", "ModifyImageAttribute"]
    );
    assert_eq!(param(&transport.params(1), "RegionId"), Some("cn-shanghai"));
    assert_eq!(param(&transport.params(2), "Description"), Some("d"));
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_with_a_fresh_nonce_each_time() {
    let transport = ScriptedTransport::sequence(vec![
        api_error(
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        ),
        Err(TransportError::Connect("refused".into())),
        json(200, j!({"RequestId": "R", "ImageId": "m-new"})),
    ]);
    let client = client_with(transport.clone(), None);
    let id = client
        .copy_image(&CopyImageRequest::default_for_test(), later())
        .await
        .unwrap();
    assert_eq!(id, "m-new");
    assert_eq!(transport.requests().len(), 3);
    let nonces: std::collections::HashSet<String> = (0..3)
        .map(|i| {
            param(&transport.params(i), "SignatureNonce")
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(nonces.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn persistent_5xx_gives_up_at_the_deadline() {
    let transport = ScriptedTransport::sequence(vec![api_error(503, "ServiceUnavailable", "busy")]);
    let client = client_with(transport.clone(), None);
    let deadline = Instant::now() + Duration::from_secs(15);
    let err = client
        .delete_image("cn-shanghai", "m-1", true, deadline)
        .await
        .unwrap_err();
    assert!(Instant::now() <= deadline);
    match &err {
        EcsError::DeadlineExceeded {
            action,
            attempts,
            last: Some(last),
        } => {
            assert_eq!(action, "DeleteImage");
            assert_eq!(*attempts as usize, transport.requests().len());
            assert_eq!(last.code(), Some("ServiceUnavailable"));
            assert_eq!(last.request_id(), Some("req-ServiceUnavailable"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn other_errors_return_at_once_with_code_message_and_request_id() {
    // (DeleteImage's OperationDenied.ImageCopying is transient: see `error::TRANSIENT`.)
    let transport = ScriptedTransport::sequence(vec![api_error(
        403,
        "ImageUsingByInstance",
        "The specified image has been used to create instances.",
    )]);
    let client = client_with(transport.clone(), None);
    let err = client
        .delete_image("cn-shanghai", "m-1", false, later())
        .await
        .unwrap_err();
    assert_eq!(transport.requests().len(), 1);
    assert_eq!(
        err.to_string(),
        "DeleteImage failed: HTTP 403 ImageUsingByInstance: The specified image has been used to create instances. (RequestId req-ImageUsingByInstance)"
    );
}

#[tokio::test]
async fn unexpected_success_bodies_are_decode_errors() {
    let transport = ScriptedTransport::sequence(vec![
        Ok(HttpResponse {
            status: 200,
            body: bytes::Bytes::from_static(b"<html><title>Captive portal</title></html>"),
        }),
        json(200, j!({"RequestId": "R"})),
    ]);
    let client = client_with(transport, None);
    let request = CopyImageRequest::default_for_test();
    let err = client.copy_image(&request, later()).await.unwrap_err();
    assert!(
        matches!(&err, EcsError::Decode { http_status: 200, detail, .. } if detail.contains("Captive portal")),
        "{err:?}"
    );
    let err = client.copy_image(&request, later()).await.unwrap_err();
    assert!(
        matches!(&err, EcsError::Decode { detail, .. } if detail.contains("ImageId")),
        "{err:?}"
    );
}

impl CopyImageRequest {
    fn default_for_test() -> Self {
        CopyImageRequest {
            source_region_id: "cn-hangzhou".into(),
            image_id: "m-src".into(),
            destination_region_id: "cn-shanghai".into(),
            ..Default::default()
        }
    }
}
