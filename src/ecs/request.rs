//! Turns an [`Operation`] into a signed HTTP request. Pure: the nonce and the time are
//! arguments, so a request can be reproduced byte for byte in tests.

use rand::Rng;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

use super::credentials::Credentials;
use super::ops::Operation;
use super::sign::{signed_query, SIGNATURE_METHOD, SIGNATURE_VERSION};
use super::transport::HttpRequest;

pub const API_VERSION: &str = "2014-05-26";

const TIMESTAMP_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// `%Y-%m-%dT%H:%M:%SZ` in UTC.
pub fn format_timestamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP_FORMAT)
        .expect("a four-digit-year UTC time always formats")
}

/// 32 lowercase hex characters from the thread's CSPRNG: unique per request, as ECS
/// rejects a reused nonce.
pub fn fresh_nonce() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
}

/// Action parameters plus the common ones, in no particular order (signing sorts).
fn all_params(
    op: &Operation,
    credentials: &Credentials,
    nonce: &str,
    timestamp: &str,
) -> Vec<(String, String)> {
    let mut params = Vec::with_capacity(op.params.len() + 10);
    let mut push = |k: &str, v: &str| params.push((k.to_string(), v.to_string()));
    push("Action", op.action);
    push("Version", API_VERSION);
    push("Format", "JSON");
    push("AccessKeyId", credentials.access_key_id());
    push("SignatureMethod", SIGNATURE_METHOD);
    push("SignatureVersion", SIGNATURE_VERSION);
    push("SignatureNonce", nonce);
    push("Timestamp", timestamp);
    if op.sends_region_id {
        push("RegionId", &op.region_id);
    }
    if let Some(token) = credentials.security_token() {
        push("SecurityToken", token);
    }
    params.extend(op.params.iter().cloned());
    params
}

/// A GET with the signed query in the URL: the only way the client calls ECS.
pub fn build_request(
    base_url: &str,
    op: &Operation,
    credentials: &Credentials,
    nonce: &str,
    timestamp: &str,
) -> HttpRequest {
    let params = all_params(op, credentials, nonce, timestamp);
    let query = signed_query(&params, credentials.secret());
    HttpRequest {
        url: format!("{base_url}/?{query}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::ops;
    use crate::ecs::sign::{canonicalized_query, signature, string_to_sign};
    use time::macros::datetime;

    #[test]
    fn timestamp_is_utc_to_the_second() {
        assert_eq!(
            format_timestamp(datetime!(2016-02-23 20:46:24.999 +08:00)),
            "2016-02-23T12:46:24Z"
        );
    }

    #[test]
    fn nonces_are_32_hex_and_unique() {
        let a = fresh_nonce();
        let b = fresh_nonce();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn get_request_carries_every_common_parameter_and_a_valid_signature() {
        let creds = Credentials::new("testid", "testsecret", Some("sts+token/=".into()));
        let op = ops::tag_resources("cn-hangzhou", "m-1", &[crate::ecs::Tag::new("a b", "x+y")])
            .remove(0);
        let request = build_request(
            "http://127.0.0.1:9",
            &op,
            &creds,
            "0123456789abcdef0123456789abcdef",
            "2024-05-06T07:08:09Z",
        );
        let query = request.url.strip_prefix("http://127.0.0.1:9/?").unwrap();
        let (unsigned, sig) = query.rsplit_once("&Signature=").unwrap();
        assert_eq!(
            unsigned,
            "AccessKeyId=testid&Action=TagResources&Format=JSON&RegionId=cn-hangzhou\
             &ResourceId.1=m-1&ResourceType=image&SecurityToken=sts%2Btoken%2F%3D\
             &SignatureMethod=HMAC-SHA1&SignatureNonce=0123456789abcdef0123456789abcdef\
             &SignatureVersion=1.0&Tag.1.Key=a%20b&Tag.1.Value=x%2By\
             &Timestamp=2024-05-06T07%3A08%3A09Z&Version=2014-05-26"
        );
        let params = all_params(
            &op,
            &creds,
            "0123456789abcdef0123456789abcdef",
            "2024-05-06T07:08:09Z",
        );
        let expected = signature("testsecret", &string_to_sign(&canonicalized_query(&params)));
        assert_eq!(sig, crate::ecs::encode::percent_encode(&expected));
    }

    #[test]
    fn delete_snapshot_carries_no_region_id() {
        let creds = Credentials::new("id", "secret", None);
        let params = all_params(
            &ops::delete_snapshot("cn-shanghai", "s-1", true),
            &creds,
            "n",
            "t",
        );
        assert!(params.iter().all(|(k, _)| k != "RegionId"), "{params:?}");
        let params = all_params(
            &ops::delete_image("cn-shanghai", "m-1", true),
            &creds,
            "n",
            "t",
        );
        assert!(params.contains(&("RegionId".into(), "cn-shanghai".into())));
    }

    #[test]
    fn no_token_no_security_token_parameter() {
        let creds = Credentials::new("id", "secret", None);
        let params = all_params(
            &ops::delete_image("cn-hangzhou", "m-1", true),
            &creds,
            "n",
            "t",
        );
        assert!(params.iter().all(|(k, _)| k != "SecurityToken"));
    }
}
