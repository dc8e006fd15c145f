//! Typed errors for ECS calls. Every message is built from sanitized parts: no secret,
//! token, signature or signed URL can reach one.

use super::endpoint::EndpointError;
use super::transport::{strip_url_queries, TransportError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EcsError {
    #[error("{action} failed: HTTP {http_status} {code}: {message} (RequestId {})", request_id.as_deref().unwrap_or("none"))]
    Api {
        action: String,
        http_status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    #[error("{action} failed: {source}")]
    Transport {
        action: String,
        #[source]
        source: TransportError,
    },
    #[error("{action} gave up: the deadline passed after {attempts} attempt(s){}", match last { Some(last) => format!("; last error: {last}"), None => String::new() })]
    DeadlineExceeded {
        action: String,
        attempts: u32,
        last: Option<Box<EcsError>>,
    },
    #[error("{action} failed: HTTP {http_status} answer is not an ECS JSON response: {detail}")]
    Decode {
        action: String,
        http_status: u16,
        detail: String,
    },
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
}

/// How long a transient answer is likely to last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transience {
    /// Flow control, a server hiccup, a request still in flight: gone in moments.
    Brief,
    /// A resource busy with a task (a copy) that may run for minutes: worth waiting for,
    /// but with longer pauses between tries.
    Busy,
}

/// One answer worth another attempt.
struct Transient {
    code: &'static str,
    /// Only for this action; `None` for every action.
    action: Option<&'static str>,
    kind: Transience,
}

/// Every ECS answer this client retries, in one place. Any HTTP 5xx is retried as well
/// (aliyun-python-sdk-core `retry/retry_condition.py`, `RetryOnHttpStatusCondition`: 500,
/// 502, 503, 504). `Throttling.*` covers `Throttling.User`, `Throttling.Api` and the like.
const TRANSIENT: &[Transient] = &[
    // aliyun-python-sdk-core `data/retry_config.json`, ecs 2014-05-26, RetryableThrottlingErrors.
    Transient {
        code: "Throttling",
        action: None,
        kind: Transience::Brief,
    },
    // ECS flow control as the API error centre lists it (Rejected.Throttling, HTTP 400).
    Transient {
        code: "Rejected.Throttling",
        action: None,
        kind: Transience::Brief,
    },
    // retry_config.json, ecs 2014-05-26, RetryableNormalErrors (the next three).
    Transient {
        code: "InternalError",
        action: None,
        kind: Transience::Brief,
    },
    Transient {
        code: "UnknownError",
        action: None,
        kind: Transience::Brief,
    },
    Transient {
        code: "ServiceUnavailable",
        action: None,
        kind: Transience::Brief,
    },
    // Another operation on the same resource is in progress; terraform-provider-alicloud
    // retries it for ECS and VPC resources (`IsExpectedErrors(err, {"OperationConflict", ...})`).
    Transient {
        code: "OperationConflict",
        action: None,
        kind: Transience::Brief,
    },
    // A request with the same ClientToken is still being processed; terraform-provider-alicloud
    // retries it (alicloud_ecs_disk create, alicloud_instance delete, VPC resources).
    Transient {
        code: "LastTokenProcessing",
        action: None,
        kind: Transience::Brief,
    },
    // CopyImage API reference, error codes: 403 OperationDenied.ImageCopying, "the source
    // image is being copied. Try again later." The ClientToken keeps a retry from copying twice.
    Transient {
        code: "OperationDenied.ImageCopying",
        action: Some("CopyImage"),
        kind: Transience::Busy,
    },
    // DeleteImage API reference, error codes: 403 OperationDenied.ImageCopying ("The Image is
    // coping."), seen right after a copy ends and while the image is the source of a copy.
    Transient {
        code: "OperationDenied.ImageCopying",
        action: Some("DeleteImage"),
        kind: Transience::Busy,
    },
];

/// Whether `code`, answered to `action`, is worth another attempt, and for how long.
pub fn transience(action: &str, code: &str) -> Option<Transience> {
    if code.starts_with("Throttling.") {
        return Some(Transience::Brief);
    }
    TRANSIENT
        .iter()
        .find(|t| t.code == code && t.action.is_none_or(|a| a == action))
        .map(|t| t.kind)
}

/// Codes that mean the named resource does not exist (already gone, or never was).
const NOT_FOUND_CODES: &[&str] = &[
    "InvalidImageId.NotFound",
    "InvalidImage.NotFound",
    "InvalidSnapshotId.NotFound",
    "InvalidSnapshot.NotFound",
    "InvalidResourceId.NotFound",
];

impl EcsError {
    /// The ECS error code of an API error.
    pub fn code(&self) -> Option<&str> {
        match self {
            EcsError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            EcsError::Api { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// Worth another attempt: throttling and server-side failures, 5xx of any shape, and
    /// every transport failure (timeouts, refused or dropped connections) — the operations
    /// used here are idempotent or carry a ClientToken.
    pub fn is_retryable(&self) -> bool {
        self.transience().is_some()
    }

    /// How a retryable failure should be waited out; `None` when retrying cannot help.
    pub fn transience(&self) -> Option<Transience> {
        match self {
            EcsError::Api {
                action,
                code,
                http_status,
                ..
            } => transience(action, code).or((*http_status >= 500).then_some(Transience::Brief)),
            EcsError::Transport { .. } => Some(Transience::Brief),
            EcsError::Decode { http_status, .. } => {
                (*http_status >= 500).then_some(Transience::Brief)
            }
            EcsError::DeadlineExceeded { .. } | EcsError::Endpoint(_) => None,
        }
    }

    /// The last answer behind a give-up, or the error itself.
    pub fn last_answer(&self) -> &EcsError {
        match self {
            EcsError::DeadlineExceeded {
                last: Some(last), ..
            } => last.last_answer(),
            other => other,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code()
            .is_some_and(|code| NOT_FOUND_CODES.contains(&code))
    }
}

/// Values that must never be echoed; applied to any text that came from the server.
#[derive(Default)]
pub struct Redactor {
    needles: Vec<String>,
}

impl Redactor {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut needles = Vec::new();
        for secret in secrets.into_iter().filter(|s| s.len() >= 4) {
            // A server may echo a value raw, or inside an (encoded) string to sign.
            let once = super::encode::percent_encode(secret);
            let twice = super::encode::percent_encode(&once);
            needles.extend([secret.to_string(), once, twice]);
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Redactor { needles }
    }

    pub fn redact(&self, text: &str) -> String {
        // ECS's SignatureDoesNotMatch message carries the server's string to sign, which
        // includes the SecurityToken; the rest of the message is enough to act on.
        let mut text = match text.find("string to sign is:") {
            Some(pos) => format!("{}string to sign is: <redacted>", &text[..pos]),
            None => text.to_string(),
        };
        for needle in &self.needles {
            if text.contains(needle.as_str()) {
                text = text.replace(needle.as_str(), "***");
            }
        }
        strip_url_queries(&text)
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorBody {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

/// Turns a non-2xx answer into an error: the JSON error body when there is one, a
/// [`EcsError::Decode`] with a short snippet otherwise (proxy HTML pages, a bare 414).
pub fn error_from_response(
    action: &str,
    http_status: u16,
    body: &[u8],
    redactor: &Redactor,
) -> EcsError {
    if let Ok(ErrorBody {
        code: Some(code),
        message,
        request_id,
    }) = serde_json::from_slice::<ErrorBody>(body)
    {
        return EcsError::Api {
            action: action.to_string(),
            http_status,
            code: redactor.redact(&code),
            message: redactor.redact(message.as_deref().unwrap_or("")),
            request_id: request_id.map(|id| redactor.redact(&id)),
        };
    }
    EcsError::Decode {
        action: action.to_string(),
        http_status,
        detail: body_snippet(body, redactor),
    }
}

const SNIPPET_CHARS: usize = 160;

/// A short, single-line, printable description of an unexpected body.
pub fn body_snippet(body: &[u8], redactor: &Redactor) -> String {
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        return "empty body".to_string();
    }
    let lower = text.to_ascii_lowercase();
    let text = match (lower.find("<title>"), lower.find("</title>")) {
        (Some(start), Some(end)) if start + 7 <= end => {
            format!("HTML page {:?}", &text[start + 7..end].trim())
        }
        _ => text.split_whitespace().collect::<Vec<_>>().join(" "),
    };
    let clean: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(SNIPPET_CHARS)
        .collect();
    let mut snippet = redactor.redact(&clean);
    if text.chars().count() > SNIPPET_CHARS {
        snippet.push('…');
    }
    snippet
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Redactor {
        Redactor::default()
    }

    #[test]
    fn parses_the_json_error_body() {
        let body = br#"{"RequestId":"R-1","HostId":"ecs.aliyuncs.com","Code":"InvalidImageId.NotFound","Message":"The specified ImageId does not exist.","Recommend":"https://api.aliyun.com/troubleshoot?q=x"}"#;
        let err = error_from_response("DescribeImages", 404, body, &none());
        assert_eq!(
            err,
            EcsError::Api {
                action: "DescribeImages".into(),
                http_status: 404,
                code: "InvalidImageId.NotFound".into(),
                message: "The specified ImageId does not exist.".into(),
                request_id: Some("R-1".into()),
            }
        );
        assert_eq!(err.code(), Some("InvalidImageId.NotFound"));
        assert_eq!(err.request_id(), Some("R-1"));
        assert!(err.is_not_found());
        assert!(!err.is_retryable());
        let shown = err.to_string();
        assert!(
            shown.contains("InvalidImageId.NotFound") && shown.contains("R-1"),
            "{shown}"
        );
    }

    #[test]
    fn html_from_a_proxy_is_a_decode_error_with_its_title() {
        let body = b"<html>\n<head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
        let err = error_from_response("CopyImage", 502, body, &none());
        match &err {
            EcsError::Decode {
                http_status,
                detail,
                ..
            } => {
                assert_eq!(*http_status, 502);
                assert_eq!(detail, "HTML page \"502 Bad Gateway\"");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.is_retryable());
    }

    #[test]
    fn empty_and_414_bodies_are_decode_errors() {
        let err = error_from_response("TagResources", 414, b"", &none());
        assert!(
            matches!(&err, EcsError::Decode { http_status: 414, detail, .. } if detail == "empty body")
        );
        assert!(!err.is_retryable());
        let err = error_from_response("TagResources", 414, b"Request-URI Too Large", &none());
        assert!(
            err.to_string().contains("414") && err.to_string().contains("Request-URI Too Large")
        );
    }

    #[test]
    fn long_bodies_are_cut_to_one_short_line() {
        let body = format!("line one\n\tline two {}", "x".repeat(1000));
        let detail = body_snippet(body.as_bytes(), &none());
        assert!(detail.starts_with("line one line two xxx"), "{detail}");
        assert!(detail.chars().count() <= SNIPPET_CHARS + 1);
        assert!(detail.ends_with('…'));
    }

    #[test]
    fn classifies_retryable_codes() {
        for code in [
            "Throttling",
            "Throttling.User",
            "Throttling.Api",
            "Rejected.Throttling",
            "ServiceUnavailable",
            "InternalError",
            "UnknownError",
        ] {
            assert_eq!(
                transience("DescribeImages", code),
                Some(Transience::Brief),
                "{code}"
            );
        }
        for code in [
            "IncorrectImageStatus",
            "ThrottlingX",
            "Forbidden",
            "InvalidImageId.NotFound",
        ] {
            assert_eq!(transience("DescribeImages", code), None, "{code}");
        }
        let api = |code: &str, status: u16| EcsError::Api {
            action: "A".into(),
            http_status: status,
            code: code.into(),
            message: String::new(),
            request_id: None,
        };
        assert!(api("Throttling.User", 400).is_retryable());
        assert!(api("SomethingNew", 503).is_retryable());
        assert!(!api("QuotaExceed.Image", 403).is_retryable());
        for source in [
            TransportError::Timeout(std::time::Duration::from_secs(1)),
            TransportError::Connect("refused".into()),
            TransportError::Other("connection closed before message completed".into()),
        ] {
            assert!(EcsError::Transport {
                action: "A".into(),
                source
            }
            .is_retryable());
        }
        let gave_up = EcsError::DeadlineExceeded {
            action: "A".into(),
            attempts: 3,
            last: Some(Box::new(api("Throttling", 400))),
        };
        assert!(!gave_up.is_retryable());
        assert!(gave_up
            .to_string()
            .contains("deadline passed after 3 attempt(s)"));
        assert!(gave_up.to_string().contains("Throttling"));
    }

    #[test]
    fn busy_and_in_flight_codes_are_retried_only_where_they_mean_later() {
        let api = |action: &str, code: &str, status: u16| EcsError::Api {
            action: action.into(),
            http_status: status,
            code: code.into(),
            message: String::new(),
            request_id: None,
        };
        for action in ["CopyImage", "DeleteImage"] {
            assert_eq!(
                api(action, "OperationDenied.ImageCopying", 403).transience(),
                Some(Transience::Busy),
                "{action}"
            );
        }
        // Elsewhere the code means the request itself cannot work (e.g. ModifyImageAttribute).
        assert!(!api("CancelCopyImage", "OperationDenied.ImageCopying", 403).is_retryable());
        for code in ["OperationConflict", "LastTokenProcessing"] {
            assert_eq!(
                api("TagResources", code, 400).transience(),
                Some(Transience::Brief)
            );
        }
        for status in [500, 502, 503, 504, 599] {
            assert!(
                api("CopyImage", "Anything", status).is_retryable(),
                "{status}"
            );
        }
        let gave_up = EcsError::DeadlineExceeded {
            action: "CopyImage".into(),
            attempts: 2,
            last: Some(Box::new(api(
                "CopyImage",
                "OperationDenied.ImageCopying",
                403,
            ))),
        };
        assert_eq!(
            gave_up.last_answer().code(),
            Some("OperationDenied.ImageCopying")
        );
    }

    #[test]
    fn not_found_covers_images_and_snapshots_only() {
        let api = |code: &str| EcsError::Api {
            action: "A".into(),
            http_status: 404,
            code: code.into(),
            message: String::new(),
            request_id: None,
        };
        for code in NOT_FOUND_CODES {
            assert!(api(code).is_not_found());
        }
        assert!(!api("InvalidRegionId.NotFound").is_not_found());
        assert!(!api("IncorrectImageStatus").is_not_found());
    }

    #[test]
    fn redacts_secrets_in_any_encoding_and_the_string_to_sign() {
        let redactor = Redactor::new(["TOKEN/canary+1=="]);
        let encoded = crate::ecs::encode::percent_encode("TOKEN/canary+1==");
        let twice = crate::ecs::encode::percent_encode(&encoded);
        for text in [
            "x TOKEN/canary+1== y".to_string(),
            format!("x {encoded} y"),
            format!("x {twice} y"),
        ] {
            assert_eq!(redactor.redact(&text), "x *** y");
        }
        let message = format!("Specified signature is not matched with our calculation. server string to sign is:GET&%2F&SecurityToken%3D{twice}");
        let body =
            format!(r#"{{"Code":"SignatureDoesNotMatch","Message":"{message}","RequestId":"R"}}"#);
        let err = error_from_response(
            "DescribeRegions",
            400,
            body.as_bytes(),
            &Redactor::default(),
        );
        assert_eq!(
            err.to_string(),
            "DescribeRegions failed: HTTP 400 SignatureDoesNotMatch: Specified signature is not matched with our calculation. server string to sign is: <redacted> (RequestId R)"
        );
    }
}
