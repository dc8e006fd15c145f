//! Signature v1, credentials, nonces, timestamps and STS tokens, over real HTTP.

mod emulator_support;

use ecs_emulator::EmulatorConfig;
use emulator_support::*;

#[tokio::test]
async fn signed_get_and_post_both_succeed() {
    let (emulator, caller) = start(EmulatorConfig::default()).await;
    let body = caller.call("DescribeRegions", &[]).await.ok();
    let regions = body["Regions"]["Region"].as_array().unwrap();
    assert!(regions
        .iter()
        .any(|r| r["RegionId"] == "cn-hangzhou"
            && r["RegionEndpoint"] == "ecs-cn-hangzhou.aliyuncs.com"));
    assert!(body["RequestId"].as_str().unwrap().len() == 36);

    let params = caller.signed("POST", caller.params("DescribeRegions", &[]));
    let answer = caller.send("POST", &params).await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    emulator.shutdown().await;
}

#[tokio::test]
async fn values_with_special_characters_verify() {
    let (emulator, caller) = start(EmulatorConfig::default()).await;
    // Spaces, '*', '~', '/', '+', '=', Chinese, empty values and 10+ tags (Tag.10 < Tag.2).
    let keys: Vec<String> = (1..=12).map(|n| format!("Tag.{n}.Key")).collect();
    let values: Vec<String> = (1..=12).map(|n| format!("Tag.{n}.Value")).collect();
    let tag_values = [
        "a b", "x*y", "~t", "p/q", "1+1=2", "中文", "", "v8", "v9", "v10", "v11", "v12",
    ];
    let mut params: Vec<(&str, &str)> = vec![
        ("RegionId", "cn-hangzhou"),
        ("ResourceType", "image"),
        ("ResourceId.1", HANGZHOU_IMAGE),
    ];
    let tag_keys: Vec<String> = (1..=12).map(|n| format!("key{n}")).collect();
    for i in 0..12 {
        params.push((keys[i].as_str(), tag_keys[i].as_str()));
        params.push((values[i].as_str(), tag_values[i]));
    }
    caller.call("TagResources", &params).await.ok();
    let image = emulator.control().image(HANGZHOU_IMAGE).unwrap();
    assert_eq!(image.tags.len(), 12);
    assert_eq!(image.tags["key5"], "1+1=2");
    assert_eq!(image.tags["key6"], "中文");
    assert_eq!(image.tags["key7"], "");
    emulator.shutdown().await;
}

#[tokio::test]
async fn wrong_signature_reports_the_server_string_to_sign() {
    let config = EmulatorConfig::default();
    let (emulator, caller) = start(config).await;
    let unsigned = caller.params("DescribeRegions", &[("AcceptLanguage", "en-US")]);
    let expected_string = string_to_sign("GET", &unsigned);
    let mut params = unsigned.clone();
    params.insert("Signature".into(), sign("not-the-secret", &expected_string));
    let answer = caller.send("GET", &params).await.unwrap();
    answer.expect_error(400, "SignatureDoesNotMatch");
    let message = answer.str("Message");
    let (_, server_string) = message
        .split_once("server string to sign is:")
        .expect("SDKs parse this marker");
    assert_eq!(server_string, expected_string);

    // A '+' sent raw is a space to the server, so signing it as '+' must fail.
    let mut plus = caller.params("DescribeRegions", &[("AcceptLanguage", "a+b")]);
    let good = sign(&caller.secret, &string_to_sign("GET", &plus));
    plus.insert("Signature".into(), good);
    let query: Vec<String> = plus
        .iter()
        .map(|(k, v)| {
            let v = if k == "AcceptLanguage" {
                v.clone()
            } else {
                encode(v)
            };
            format!("{k}={v}")
        })
        .collect();
    let response = caller
        .http
        .get(format!("{}/?{}", caller.endpoint, query.join("&")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_key_reused_nonce_and_timestamps() {
    let config = EmulatorConfig::default();
    let (emulator, mut caller) = start(config.clone()).await;

    let params = caller.signed("GET", caller.params("DescribeRegions", &[]));
    assert_eq!(caller.send("GET", &params).await.unwrap().status, 200);
    caller
        .send("GET", &params)
        .await
        .unwrap()
        .expect_error(400, "SignatureNonceUsed");

    for (offset, code) in [
        (-16 * 60, "InvalidTimeStamp.Expired"),
        (16 * 60, "InvalidTimeStamp.Expired"),
    ] {
        let mut p = caller.params("DescribeRegions", &[]);
        p.insert("Timestamp".into(), timestamp(offset));
        caller
            .send("GET", &caller.signed("GET", p))
            .await
            .unwrap()
            .expect_error(400, code);
    }
    let mut p = caller.params("DescribeRegions", &[]);
    p.insert("Timestamp".into(), "23/02/2016 12:46".into());
    caller
        .send("GET", &caller.signed("GET", p))
        .await
        .unwrap()
        .expect_error(400, "InvalidTimeStamp.Format");

    let mut p = caller.params("DescribeRegions", &[]);
    p.remove("SignatureNonce");
    caller
        .send("GET", &caller.signed("GET", p))
        .await
        .unwrap()
        .expect_error(400, "MissingSignatureNonce");
    let unsigned = caller.params("DescribeRegions", &[]);
    caller
        .send("GET", &unsigned)
        .await
        .unwrap()
        .expect_error(400, "MissingSignature");

    caller.access_key_id = "LTAInobodyknowsthis".into();
    caller
        .call("DescribeRegions", &[])
        .await
        .expect_error(404, "InvalidAccessKeyId.NotFound");
    emulator.shutdown().await;
}

#[tokio::test]
async fn version_action_and_method_checks() {
    let (emulator, caller) = start(EmulatorConfig::default()).await;
    let mut p = caller.params("DescribeRegions", &[]);
    p.insert("Version".into(), "2016-03-14".into());
    caller
        .send("GET", &caller.signed("GET", p))
        .await
        .unwrap()
        .expect_error(400, "InvalidVersion");
    caller
        .call("RunInstances", &[("RegionId", "cn-hangzhou")])
        .await
        .expect_error(404, "InvalidAction.NotFound");
    let mut p = caller.params("DescribeRegions", &[]);
    p.insert("SignatureMethod".into(), "HMAC-SHA256".into());
    caller
        .send("GET", &caller.signed("GET", p))
        .await
        .unwrap()
        .expect_error(400, "InvalidSignatureMethod");
    // Signed as GET but sent as POST: the method is part of the string to sign.
    let p = caller.signed("GET", caller.params("DescribeRegions", &[]));
    caller
        .send("POST", &p)
        .await
        .unwrap()
        .expect_error(400, "SignatureDoesNotMatch");
    emulator.shutdown().await;
}

#[tokio::test]
async fn security_token_required_when_configured() {
    let config = EmulatorConfig {
        security_token: Some("sts-token-value".into()),
        ..EmulatorConfig::default()
    };
    let (emulator, mut caller) = start(config).await;
    caller.call("DescribeRegions", &[]).await.ok();

    caller.token = None;
    caller
        .call("DescribeRegions", &[])
        .await
        .expect_error(400, "MissingSecurityToken");
    caller.token = Some("another-token".into());
    caller
        .call("DescribeRegions", &[])
        .await
        .expect_error(400, "InvalidSecurityToken.MismatchWithAccessKey");

    let calls = emulator.control().calls();
    assert_eq!(calls.len(), 3);
    for call in &calls {
        let shown = format!("{call:?}");
        assert!(!shown.contains("sts-token-value") && !shown.contains("another-token"));
        assert_eq!(call.params["Signature"], "<redacted>");
    }
    assert_eq!(calls[0].params["SecurityToken"], "<redacted>");
    assert!(!calls[1].params.contains_key("SecurityToken"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn token_sent_to_long_term_keys_is_refused() {
    let (emulator, mut caller) = start(EmulatorConfig::default()).await;
    caller.token = Some("stray-token".into());
    caller
        .call("DescribeRegions", &[])
        .await
        .expect_error(400, "InvalidSecurityToken.Malformed");
    emulator.shutdown().await;
}

#[tokio::test]
async fn responses_carry_request_id_header_and_calls_are_recorded() {
    let (emulator, caller) = start(EmulatorConfig::default()).await;
    let params = caller.signed(
        "GET",
        caller.params("DescribeRegions", &[("RegionId", "cn-beijing")]),
    );
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let response = caller
        .http
        .get(format!("{}/?{}", caller.endpoint, query.join("&")))
        .send()
        .await
        .unwrap();
    let header = response.headers()["x-acs-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["RequestId"], header.as_str());
    let calls = emulator.control().calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].action, "DescribeRegions");
    assert_eq!(calls[0].region_id.as_deref(), Some("cn-beijing"));
    assert_eq!(calls[0].http_status, Some(200));
    assert_eq!(calls[0].error_code, None);
    emulator.control().clear_calls();
    assert!(emulator.control().calls().is_empty());
    emulator.shutdown().await;
}

/// Checks the test signer itself against Alibaba Cloud's documented example, so a failure in
/// the tests above cannot come from a broken test harness.
#[test]
fn test_signer_reproduces_the_documented_example() {
    let params: std::collections::BTreeMap<String, String> = [
        ("AccessKeyId", "testid"),
        ("Action", "DescribeRegions"),
        ("Format", "XML"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2016-02-23T12:46:24Z"),
        ("Version", "2014-05-26"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(
        sign("testsecret", &string_to_sign("GET", &params)),
        "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    );
}

#[tokio::test]
async fn documented_example_credentials_verify_when_fresh() {
    // The documented example's request, made fresh (new timestamp and nonce) against an
    // emulator holding the example's credentials.
    let config = EmulatorConfig {
        access_key_id: "testid".into(),
        access_key_secret: "testsecret".into(),
        ..EmulatorConfig::default()
    };
    let (emulator, caller) = start(config).await;
    let mut params = caller.params("DescribeRegions", &[]);
    params.insert("Format".into(), "XML".into());
    let answer = caller
        .send("GET", &caller.signed("GET", params))
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    // The example itself is years old: refused for its timestamp, not its signature.
    let mut stale = caller.params("DescribeRegions", &[]);
    stale.insert("Format".into(), "XML".into());
    stale.insert("Timestamp".into(), "2016-02-23T12:46:24Z".into());
    stale.insert(
        "SignatureNonce".into(),
        "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf".into(),
    );
    stale.insert("Signature".into(), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=".into());
    caller
        .send("GET", &stale)
        .await
        .unwrap()
        .expect_error(400, "InvalidTimeStamp.Expired");
    emulator.shutdown().await;
}
