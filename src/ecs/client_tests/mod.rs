//! The client over a scripted transport: what it sends ([`requests`]) and how it fails
//! ([`failures`]). The helpers below are shared by both.

mod failures;
mod requests;

use super::*;
use crate::ecs::testing::{decode_query, ScriptedTransport};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::time::Duration;

const SDK_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Recomputes the signature of a sent GET with the `percent-encoding` crate and `hmac`
/// directly, so the check does not lean on the client's own encoder or signer.
pub(super) fn assert_signed_correctly(request: &crate::ecs::HttpRequest, secret: &str) {
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

pub(super) fn client_with(transport: Arc<ScriptedTransport>, token: Option<&str>) -> EcsClient {
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

pub(super) fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

pub(super) fn later() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

impl CopyImageRequest {
    pub(super) fn default_for_test() -> Self {
        CopyImageRequest {
            source_region_id: "cn-hangzhou".into(),
            image_id: "m-src".into(),
            destination_region_id: "cn-shanghai".into(),
            ..Default::default()
        }
    }
}
