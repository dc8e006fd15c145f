//! Signature v1 (HMAC-SHA1) for Alibaba Cloud RPC-style APIs, as small pure steps:
//! canonicalized query → string to sign → signature.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::encode::{percent_encode, percent_encode_into};

pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";
pub const SIGNATURE_VERSION: &str = "1.0";

/// `enc(k)=enc(v)` pairs joined by `&`, sorted by the byte order of the key (so `Tag.1` <
/// `Tag.10` < `Tag.2`). The same string, plus `Signature`, is what goes on the wire.
pub fn canonicalized_query(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // Stable sort: a repeated key keeps its caller order, as the SDKs' sort does.
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (index, (key, value)) in sorted.into_iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        percent_encode_into(key, &mut out);
        out.push('=');
        percent_encode_into(value, &mut out);
    }
    out
}

/// `GET&%2F&enc(canonicalized_query)`: the client sends every request as a GET.
pub fn string_to_sign(canonicalized_query: &str) -> String {
    format!(
        "GET&{}&{}",
        percent_encode("/"),
        percent_encode(canonicalized_query)
    )
}

/// base64(HMAC-SHA1(key = secret + "&", string_to_sign)).
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    let mut key = String::with_capacity(secret.len() + 1);
    key.push_str(secret);
    key.push('&');
    let mut mac =
        Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The full query to send: the canonicalized query with `Signature` appended last.
pub fn signed_query(params: &[(String, String)], secret: &str) -> String {
    let canonical = canonicalized_query(params);
    let signature = signature(secret, &string_to_sign(&canonical));
    let mut out = canonical;
    out.push_str("&Signature=");
    percent_encode_into(&signature, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::test_vectors::{vectors, SignatureCase};

    /// The vectors also cover POST, which the client never sends.
    fn get_cases(cases: &[SignatureCase]) -> impl Iterator<Item = &SignatureCase> {
        cases.iter().filter(|case| case.method == "GET")
    }

    fn params_of(case: &SignatureCase) -> Vec<(String, String)> {
        // Reverse the (already sorted) map so the sort step has real work to do.
        case.params
            .iter()
            .rev()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    #[test]
    fn documented_example_signs_to_the_published_value() {
        let vectors = vectors();
        let case = vectors
            .signature
            .iter()
            .find(|c| c.name == "alibaba_documented_example")
            .expect("documented example present");
        let canonical = canonicalized_query(&params_of(case));
        let sts = string_to_sign(&canonical);
        assert_eq!(
            signature("testsecret", &sts),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn every_vector_matches_each_step() {
        let vectors = vectors();
        assert!(vectors.generator.contains("aliyun-python-sdk-core"));
        assert!(vectors.signature.len() >= 12, "vector file lost cases");
        assert!(
            get_cases(&vectors.signature).count() >= 12,
            "vector file lost GET cases"
        );
        for case in get_cases(&vectors.signature) {
            let params = params_of(case);
            let canonical = canonicalized_query(&params);
            assert_eq!(
                canonical, case.canonical_query,
                "canonical of {}",
                case.name
            );
            let sts = string_to_sign(&canonical);
            assert_eq!(sts, case.string_to_sign, "string to sign of {}", case.name);
            assert_eq!(
                signature(&case.secret, &sts),
                case.signature,
                "signature of {}",
                case.name
            );
            assert_eq!(
                signed_query(&params, &case.secret),
                case.signed_query,
                "signed query of {}",
                case.name
            );
        }
    }

    #[test]
    fn sorts_by_key_bytes_not_numerically() {
        let params: Vec<(String, String)> = ["Tag.2", "Tag.10", "Tag.1", "Action"]
            .iter()
            .map(|k| (k.to_string(), "x".to_string()))
            .collect();
        assert_eq!(
            canonicalized_query(&params),
            "Action=x&Tag.1=x&Tag.10=x&Tag.2=x"
        );
    }

    proptest::proptest! {
        #[test]
        fn parameter_order_does_not_change_the_signature(
            params in proptest::collection::btree_map("[A-Za-z.0-9]{1,12}", "\\PC{0,12}", 1..12),
            seed in 0u64..1000,
        ) {
            let sorted: Vec<(String, String)> = params.into_iter().collect();
            let mut shuffled = sorted.clone();
            let len = shuffled.len();
            shuffled.rotate_left((seed as usize) % len);
            shuffled.reverse();
            proptest::prop_assert_eq!(
                signed_query(&sorted, "k"),
                signed_query(&shuffled, "k")
            );
        }
    }
}
