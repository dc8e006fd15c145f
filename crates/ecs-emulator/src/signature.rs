//! Signature v1 computed the server's way, in small pure steps.
//!
//! Deliberately independent of the client's signer: the encoder here is the `percent-encoding`
//! crate with an explicit set, so a hand-written encoder bug on the client side shows up as
//! `SignatureDoesNotMatch` instead of being mirrored.

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha1::Sha1;

/// Everything except RFC 3986 unreserved characters (`A-Z a-z 0-9 - _ . ~`) is escaped.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Parameter that carries the signature itself and is therefore not signed.
pub const SIGNATURE_PARAM: &str = "Signature";

/// UTF-8 percent-encoding with uppercase hex; space becomes `%20`, never `+`.
pub fn percent_encode(value: &str) -> String {
    utf8_percent_encode(value, ESCAPED).to_string()
}

/// `k=v&k=v` over every parameter but `Signature`, in byte order of the keys.
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(key, _)| key.as_str() != SIGNATURE_PARAM)
        .map(|(key, value)| format!("{}={}", percent_encode(key), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `METHOD&%2F&` followed by the encoded canonical query.
pub fn string_to_sign(method: &str, params: &BTreeMap<String, String>) -> String {
    format!(
        "{}&{}&{}",
        method,
        percent_encode("/"),
        percent_encode(&canonical_query(params))
    )
}

/// base64(HMAC-SHA1(key = secret + "&", string to sign)).
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    let key = format!("{secret}&");
    let mut mac =
        Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Compares without an early exit, so timing does not reveal how much of a guess was right.
pub fn signatures_equal(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Alibaba Cloud's documented signature example, kept as data.
    const DOC_EXAMPLE: &[(&str, &str)] = &[
        ("AccessKeyId", "testid"),
        ("Action", "DescribeRegions"),
        ("Format", "XML"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2016-02-23T12:46:24Z"),
        ("Version", "2014-05-26"),
    ];
    const DOC_STRING_TO_SIGN: &str = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26";
    const DOC_SIGNATURE: &str = "OLeaidS1JvxuMvnyHOwuJ+uX5qY=";

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn documented_example_string_to_sign_and_signature() {
        let p = params(DOC_EXAMPLE);
        assert_eq!(string_to_sign("GET", &p), DOC_STRING_TO_SIGN);
        assert_eq!(sign("testsecret", DOC_STRING_TO_SIGN), DOC_SIGNATURE);
    }

    #[test]
    fn signature_parameter_is_not_signed() {
        let mut p = params(DOC_EXAMPLE);
        p.insert(SIGNATURE_PARAM.into(), DOC_SIGNATURE.into());
        assert_eq!(string_to_sign("GET", &p), DOC_STRING_TO_SIGN);
    }

    #[test]
    fn encoding_known_answers() {
        let cases: &[(&str, &str)] = &[
            ("a b", "a%20b"),
            ("*", "%2A"),
            ("~", "~"),
            ("/", "%2F"),
            ("+", "%2B"),
            ("=", "%3D"),
            ("-_.", "-_."),
            ("中文", "%E4%B8%AD%E6%96%87"),
            ("", ""),
            ("%", "%25"),
        ];
        for (raw, encoded) in cases {
            assert_eq!(percent_encode(raw), *encoded, "encoding {raw:?}");
        }
    }

    #[test]
    fn keys_sort_by_bytes_so_tag_10_precedes_tag_2() {
        let p = params(&[("Tag.2.Key", "b"), ("Tag.10.Key", "c"), ("Tag.1.Key", "a")]);
        assert_eq!(canonical_query(&p), "Tag.1.Key=a&Tag.10.Key=c&Tag.2.Key=b");
    }

    #[test]
    fn method_is_part_of_string_to_sign() {
        let p = params(DOC_EXAMPLE);
        assert!(string_to_sign("POST", &p).starts_with("POST&%2F&"));
        assert_ne!(
            sign("testsecret", &string_to_sign("POST", &p)),
            DOC_SIGNATURE
        );
    }

    #[test]
    fn signature_comparison() {
        assert!(signatures_equal(DOC_SIGNATURE, DOC_SIGNATURE));
        assert!(!signatures_equal(
            DOC_SIGNATURE,
            "OLeaidS1JvxuMvnyHOwuJ+uX5qZ="
        ));
        assert!(!signatures_equal(DOC_SIGNATURE, ""));
    }
}
