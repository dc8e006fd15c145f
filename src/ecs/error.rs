//! Typed errors for ECS calls. Every message is built from sanitized parts: no secret,
//! token, signature or signed URL can reach one.

use super::endpoint::EndpointError;
use super::transport::TransportError;
use crate::redact::strip_url_queries;

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

/// Every ECS answer this client retries, in one place: `(code, only for this action,
/// transience)`. Any HTTP 5xx is retried as well (aliyun-python-sdk-core
/// `retry/retry_condition.py`, `RetryOnHttpStatusCondition`: 500, 502, 503, 504), and
/// `Throttling.*` is `Throttling` (`Throttling.User`, `Throttling.Api`, ...).
#[rustfmt::skip]
const TRANSIENT: &[(&str, Option<&str>, Transience)] = &[
    // aliyun-python-sdk-core `data/retry_config.json`, ecs 2014-05-26: RetryableThrottlingErrors.
    ("Throttling", None, Transience::Brief),
    // ECS flow control as the API error centre lists it (HTTP 400).
    ("Rejected.Throttling", None, Transience::Brief),
    // retry_config.json, ecs 2014-05-26: RetryableNormalErrors.
    ("InternalError", None, Transience::Brief),
    ("UnknownError", None, Transience::Brief),
    ("ServiceUnavailable", None, Transience::Brief),
    // Another operation on the same resource is under way; terraform-provider-alicloud
    // retries it for ECS and VPC resources (`IsExpectedErrors(err, {"OperationConflict", ...})`).
    ("OperationConflict", None, Transience::Brief),
    // A request with the same ClientToken is still being processed; terraform-provider-alicloud
    // retries it (alicloud_ecs_disk create, alicloud_instance delete, VPC resources).
    ("LastTokenProcessing", None, Transience::Brief),
    // CopyImage API reference, error codes: 403 OperationDenied.ImageCopying, "the source image
    // is being copied. Try again later." The ClientToken keeps a retry from copying twice.
    ("OperationDenied.ImageCopying", Some("CopyImage"), Transience::Busy),
    // DeleteImage API reference, error codes: 403 OperationDenied.ImageCopying ("The Image is
    // coping."): right after a copy ends, and while the image is the source of a copy.
    ("OperationDenied.ImageCopying", Some("DeleteImage"), Transience::Busy),
];

/// Whether `code`, answered to `action`, is worth another attempt, and for how long.
pub fn transience(action: &str, code: &str) -> Option<Transience> {
    if code.starts_with("Throttling.") {
        return Some(Transience::Brief);
    }
    TRANSIENT
        .iter()
        .find(|(c, only_for, _)| *c == code && only_for.is_none_or(|a| a == action))
        .map(|(_, _, kind)| *kind)
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
#[path = "error_tests.rs"]
mod tests;
