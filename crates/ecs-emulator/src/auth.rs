//! Checks of the common parameters, in the order the ECS API gateway applies them, with its
//! error codes. The signature is verified before the nonce is remembered, so a forged request
//! cannot use up a legitimate client's nonce.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::time::Instant;

use super::error::ApiError;
use super::signature::{self, SIGNATURE_PARAM};

pub const SUPPORTED_VERSION: &str = "2014-05-26";
/// How far a `Timestamp` may be from the server clock, and how long a nonce is remembered.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(15 * 60);

pub(crate) struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: Option<String>,
}

/// Nonces seen within the replay window.
#[derive(Default)]
pub(crate) struct NonceStore {
    seen: HashMap<String, Instant>,
}

impl NonceStore {
    /// Records the nonce; false when it was already used within the window.
    fn remember(&mut self, nonce: &str, now: Instant) -> bool {
        self.seen
            .retain(|_, at| now.saturating_duration_since(*at) < REPLAY_WINDOW);
        if self.seen.contains_key(nonce) {
            return false;
        }
        self.seen.insert(nonce.to_string(), now);
        true
    }
}

pub(crate) fn required<'a>(
    params: &'a BTreeMap<String, String>,
    name: &str,
) -> Result<&'a str, ApiError> {
    match params.get(name) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(ApiError::new(
            400,
            &format!("Missing{name}"),
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        )),
    }
}

/// `Version` must name the ECS API version this emulator speaks.
pub(crate) fn check_version(params: &BTreeMap<String, String>) -> Result<(), ApiError> {
    let version = required(params, "Version")?;
    if version != SUPPORTED_VERSION {
        return Err(ApiError::new(
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        ));
    }
    Ok(())
}

fn check_timestamp(raw: &str, wall_now: OffsetDateTime) -> Result<(), ApiError> {
    let at = OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| {
        ApiError::new(
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        )
    })?;
    let skew = (wall_now - at).unsigned_abs();
    if skew > REPLAY_WINDOW {
        return Err(ApiError::new(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    Ok(())
}

fn check_security_token(
    params: &BTreeMap<String, String>,
    expected: Option<&str>,
) -> Result<(), ApiError> {
    match (expected, params.get("SecurityToken")) {
        (None, None) => Ok(()),
        // A token on long-term keys is read as an STS request whose token cannot be parsed.
        (None, Some(_)) => Err(ApiError::new(
            400,
            "InvalidSecurityToken.Malformed",
            "Specified SecurityToken is malformed.",
        )),
        (Some(_), None) => Err(ApiError::new(
            400,
            "MissingSecurityToken",
            "The input parameter \"SecurityToken\" that is mandatory for processing this request is not supplied.",
        )),
        (Some(expected), Some(given)) if signature::signatures_equal(expected, given) => Ok(()),
        (Some(_), Some(_)) => Err(ApiError::new(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        )),
    }
}

/// Verifies identity, freshness and signature of one request.
pub(crate) fn verify(
    method: &str,
    params: &BTreeMap<String, String>,
    credentials: &Credentials,
    nonces: &mut NonceStore,
    wall_now: OffsetDateTime,
    now: Instant,
) -> Result<(), ApiError> {
    let access_key_id = required(params, "AccessKeyId")?;
    let given_signature = required(params, SIGNATURE_PARAM)?;
    let method_name = required(params, "SignatureMethod")?;
    let timestamp = required(params, "Timestamp")?;
    let nonce = required(params, "SignatureNonce")?;

    if access_key_id != credentials.access_key_id {
        return Err(ApiError::new(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        ));
    }
    if method_name != "HMAC-SHA1" {
        return Err(ApiError::new(
            400,
            "InvalidSignatureMethod",
            "Specified signature method is not supported; use HMAC-SHA1.",
        ));
    }
    if let Some(version) = params.get("SignatureVersion") {
        if version != "1.0" {
            return Err(ApiError::new(
                400,
                "InvalidSignatureVersion",
                "Specified signature version is not supported; use 1.0.",
            ));
        }
    }
    check_timestamp(timestamp, wall_now)?;

    let string_to_sign = signature::string_to_sign(method, params);
    let expected = signature::sign(&credentials.access_key_secret, &string_to_sign);
    if !signature::signatures_equal(&expected, given_signature) {
        // The official SDKs parse this sentence to show the server's string next to theirs.
        return Err(ApiError::new(
            400,
            "SignatureDoesNotMatch",
            format!(
                "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
            ),
        ));
    }
    check_security_token(params, credentials.security_token.as_deref())?;
    if !nonces.remember(nonce, now) {
        return Err(ApiError::new(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-01 12:00:00 UTC);

    fn credentials(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "id".into(),
            access_key_secret: "secret".into(),
            security_token: token.map(str::to_string),
        }
    }

    fn signed(timestamp: &str, nonce: &str, token: Option<&str>) -> BTreeMap<String, String> {
        let mut p: BTreeMap<String, String> = [
            ("AccessKeyId", "id"),
            ("Action", "DescribeRegions"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", nonce),
            ("Timestamp", timestamp),
            ("Version", SUPPORTED_VERSION),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        if let Some(token) = token {
            p.insert("SecurityToken".into(), token.into());
        }
        let sig = signature::sign("secret", &signature::string_to_sign("GET", &p));
        p.insert(SIGNATURE_PARAM.into(), sig);
        p
    }

    fn code(result: Result<(), ApiError>) -> String {
        result.map(|_| "OK".to_string()).unwrap_or_else(|e| e.code)
    }

    #[test]
    fn accepts_then_rejects_reused_nonce() {
        let mut nonces = NonceStore::default();
        let now = Instant::now();
        let p = signed("2026-01-01T12:00:00Z", "n1", None);
        let creds = credentials(None);
        assert_eq!(code(verify("GET", &p, &creds, &mut nonces, NOW, now)), "OK");
        assert_eq!(
            code(verify("GET", &p, &creds, &mut nonces, NOW, now)),
            "SignatureNonceUsed"
        );
        // Past the window the nonce is forgotten (the timestamp check is separate).
        let later = now + REPLAY_WINDOW + Duration::from_secs(1);
        assert_eq!(
            code(verify("GET", &p, &creds, &mut nonces, NOW, later)),
            "OK"
        );
    }

    #[test]
    fn timestamp_rules() {
        let mut nonces = NonceStore::default();
        let creds = credentials(None);
        let now = Instant::now();
        let stale = signed("2026-01-01T11:44:59Z", "a", None);
        let fresh_edge = signed("2026-01-01T11:45:00Z", "b", None);
        let future = signed("2026-01-01T12:15:01Z", "c", None);
        let malformed = signed("2026/01/01 12:00:00", "d", None);
        let run = |p, n: &mut NonceStore| code(verify("GET", p, &creds, n, NOW, now));
        assert_eq!(run(&stale, &mut nonces), "InvalidTimeStamp.Expired");
        assert_eq!(run(&fresh_edge, &mut nonces), "OK");
        assert_eq!(run(&future, &mut nonces), "InvalidTimeStamp.Expired");
        assert_eq!(run(&malformed, &mut nonces), "InvalidTimeStamp.Format");
    }

    #[test]
    fn tampered_request_fails_and_does_not_burn_the_nonce() {
        let mut nonces = NonceStore::default();
        let creds = credentials(None);
        let now = Instant::now();
        let good = signed("2026-01-01T12:00:00Z", "n", None);
        let mut bad = good.clone();
        bad.insert("Action".into(), "DeleteImage".into());
        let err = verify("GET", &bad, &creds, &mut nonces, NOW, now).unwrap_err();
        assert_eq!(err.code, "SignatureDoesNotMatch");
        assert!(err
            .message
            .contains("server string to sign is:GET&%2F&AccessKeyId%3Did%26Action%3DDeleteImage"));
        assert_eq!(
            code(verify("GET", &good, &creds, &mut nonces, NOW, now)),
            "OK"
        );
    }

    #[test]
    fn security_token_rules() {
        let now = Instant::now();
        let cases = [
            (None, Some("tok"), "InvalidSecurityToken.Malformed"),
            (Some("tok"), None, "MissingSecurityToken"),
            (
                Some("tok"),
                Some("other"),
                "InvalidSecurityToken.MismatchWithAccessKey",
            ),
            (Some("tok"), Some("tok"), "OK"),
        ];
        for (i, (expected, sent, want)) in cases.into_iter().enumerate() {
            let mut nonces = NonceStore::default();
            let p = signed("2026-01-01T12:00:00Z", &format!("n{i}"), sent);
            let got = code(verify(
                "GET",
                &p,
                &credentials(expected),
                &mut nonces,
                NOW,
                now,
            ));
            assert_eq!(got, want, "expected {expected:?} sent {sent:?}");
        }
    }

    #[test]
    fn unknown_key_and_missing_parameters() {
        let mut nonces = NonceStore::default();
        let now = Instant::now();
        let p = signed("2026-01-01T12:00:00Z", "n", None);
        let other = Credentials {
            access_key_id: "someone-else".into(),
            ..credentials(None)
        };
        assert_eq!(
            code(verify("GET", &p, &other, &mut nonces, NOW, now)),
            "InvalidAccessKeyId.NotFound"
        );
        for name in [
            "AccessKeyId",
            "Signature",
            "SignatureMethod",
            "Timestamp",
            "SignatureNonce",
        ] {
            let mut missing = p.clone();
            missing.remove(name);
            let got = code(verify(
                "GET",
                &missing,
                &credentials(None),
                &mut nonces,
                NOW,
                now,
            ));
            assert_eq!(got, format!("Missing{name}"));
        }
        let mut wrong_method = p.clone();
        wrong_method.insert("SignatureMethod".into(), "HMAC-SHA256".into());
        assert_eq!(
            code(verify(
                "GET",
                &wrong_method,
                &credentials(None),
                &mut nonces,
                NOW,
                now
            )),
            "InvalidSignatureMethod"
        );
    }

    #[test]
    fn version_must_match() {
        let mut p = signed("2026-01-01T12:00:00Z", "n", None);
        assert!(check_version(&p).is_ok());
        p.insert("Version".into(), "2016-01-01".into());
        assert_eq!(check_version(&p).unwrap_err().code, "InvalidVersion");
        p.remove("Version");
        assert_eq!(check_version(&p).unwrap_err().code, "MissingVersion");
    }
}
