//! Delivering the answer to the stack engine's `ResponseURL`.
//!
//! CloudFormation's URL is a presigned S3 `PUT` whose signature covers an empty
//! `Content-Type`; ROS takes a JSON `POST` with a `Date` header. Both are retried on 5xx and
//! network errors while the deadline allows: a stack that is never answered hangs for an hour.

use std::time::Duration;

use tokio::time::Instant;

use crate::envelope::{redact_url, AnswerBody, AnswerTarget, Engine};
use crate::retry::{Backoff, Jitter, Retry, RetryPolicy, Stopped};

/// Quick retries first (a flaky proxy usually recovers within seconds), then slower ones,
/// with ±20 % jitter so that many functions answering one flaky endpoint do not retry in
/// lockstep.
const QUICK_DELAYS: [Duration; 3] = [
    Duration::from_millis(200),
    Duration::from_millis(500),
    Duration::from_millis(1000),
];
const DELAYS: Backoff = Backoff::doubling(
    Duration::from_secs(2),
    Duration::from_secs(10),
    Jitter::Spread(0.2),
)
.after_steps(&QUICK_DELAYS);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// A stack that is never answered hangs for an hour: the answer is sent at least once, even
/// when the deadline has passed, and retried while it allows.
fn delivery_policy() -> RetryPolicy {
    RetryPolicy::with_backoff(DELAYS, ATTEMPT_TIMEOUT).with_first_attempt_past_deadline()
}

/// Why one attempt did not deliver.
enum Undelivered {
    Status(u16),
    Failed(String),
}

impl std::fmt::Display for Undelivered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Undelivered::Status(status) => write!(f, "HTTP {status}"),
            Undelivered::Failed(detail) => f.write_str(detail),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub attempts: u32,
    pub http_status: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error(
        "the response URL {url} refused the answer with HTTP {status} after {attempts} attempt(s)"
    )]
    Refused {
        url: String,
        status: u16,
        attempts: u32,
    },
    #[error("could not deliver the answer to {url} before the deadline after {attempts} attempt(s); last error: {last}")]
    DeadlinePassed {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("the response URL {url} is not usable: {detail}")]
    BadUrl { url: String, detail: String },
}

/// Sends the answer to the engine's `ResponseURL` over the process-wide HTTPS client,
/// retrying while `deadline` allows.
pub async fn deliver(
    target: &AnswerTarget,
    body: &AnswerBody,
    deadline: Instant,
) -> Result<Delivery, CallbackError> {
    let shown_url = redact_url(&target.response_url);
    let url = reqwest::Url::parse(&target.response_url).map_err(|e| CallbackError::BadUrl {
        url: shown_url.clone(),
        detail: crate::tls::non_ascii_host(&target.response_url)
            .map_or_else(|| e.to_string(), crate::tls::non_ascii_host_problem),
    })?;
    if url.as_str() != target.response_url {
        // The URL crate re-encodes a few characters; a presigned signature over the
        // original bytes may then fail, which the status check below will report.
        tracing::warn!(url = %shown_url, "response URL is not in canonical form; it may be re-encoded");
    }
    let attempt = |number: u32, timeout| {
        let url = url.clone();
        async move {
            match send_once(target.engine, url, body, timeout).await {
                Ok(status) if (200..300).contains(&status) => Ok((status, number)),
                Ok(status) => Err(Undelivered::Status(status)),
                Err(detail) => Err(Undelivered::Failed(detail)),
            }
        }
    };
    let classify = |failure: &Undelivered, attempts: u32| match failure {
        Undelivered::Status(status) if !is_retryable_status(*status) => Retry::No,
        _ => {
            tracing::warn!(url = %shown_url, attempts, error = %failure, "answer not delivered; retrying");
            Retry::Soon
        }
    };
    let timed_out = |timeout| Undelivered::Failed(format!("no answer within {timeout:?}"));
    match delivery_policy()
        .run_with(deadline, attempt, classify, timed_out)
        .await
    {
        Ok((status, attempts)) => {
            tracing::info!(url = %shown_url, status, attempts, "answer delivered");
            Ok(Delivery {
                attempts,
                http_status: status,
            })
        }
        Err(Stopped::Final {
            error: Undelivered::Status(status),
            attempts,
        }) => {
            tracing::error!(url = %shown_url, status, attempts, "answer refused");
            Err(CallbackError::Refused {
                url: shown_url,
                status,
                attempts,
            })
        }
        // Only a refusing status is final; anything else ends at the deadline.
        Err(Stopped::Final { error, attempts }) => Err(CallbackError::DeadlinePassed {
            url: shown_url,
            attempts,
            last: error.to_string(),
        }),
        Err(Stopped::GaveUp { attempts, last }) => Err(CallbackError::DeadlinePassed {
            url: shown_url,
            attempts,
            last: last.map(|failure| failure.to_string()).unwrap_or_default(),
        }),
    }
}

async fn send_once(
    engine: Engine,
    url: reqwest::Url,
    body: &AnswerBody,
    timeout: Duration,
) -> Result<u16, String> {
    let http = crate::tls::shared_client();
    let request = match engine {
        Engine::CloudFormation => http.put(url).header(reqwest::header::CONTENT_TYPE, ""),
        Engine::Ros => http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::DATE,
                httpdate::fmt_http_date(std::time::SystemTime::now()),
            ),
    };
    let response = request
        .body(body.json.clone())
        .timeout(timeout)
        .send()
        .await
        // reqwest prints the URL in its errors; the query holds the signature.
        .map_err(|e| crate::tls::error_chain(&e.without_url()))?;
    Ok(response.status().as_u16())
}

fn is_retryable_status(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_quick_retries_within_a_few_seconds_then_slower() {
        let policy = delivery_policy();
        let retry_delay = |attempts| policy.wait(&policy.backoff, attempts);
        let first_three: Duration = (1..=3).map(retry_delay).sum();
        assert!(first_three < Duration::from_secs(3), "{first_three:?}");
        assert!(retry_delay(4) >= Duration::from_millis(1600));
        assert!(retry_delay(20) <= DELAYS.cap.mul_f64(1.2));
    }

    #[tokio::test]
    async fn a_unicode_response_url_host_is_refused_naming_it_and_without_the_signature() {
        let target = AnswerTarget {
            engine: Engine::CloudFormation,
            response_url: "https://bücher.example/cfn?X-Amz-Signature=secret-sig".to_string(),
            stack_id: "stack".to_string(),
            request_id: "request".to_string(),
            logical_resource_id: "Copy".to_string(),
            physical_resource_id: None,
        };
        let body = AnswerBody {
            json: "{}".to_string(),
            status: crate::envelope::Status::Success,
            physical_resource_id: "m-1".to_string(),
            reason_truncated: false,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        let error = deliver(&target, &body, deadline).await.unwrap_err();
        assert!(matches!(error, CallbackError::BadUrl { .. }), "{error:?}");
        let text = error.to_string();
        assert!(text.contains("\"bücher.example\" is not ASCII"), "{text}");
        assert!(text.contains("xn--"), "{text}");
        assert!(!text.contains("secret-sig"), "{text}");
    }

    #[test]
    fn only_server_side_and_throttling_statuses_are_retried() {
        for s in [500, 502, 503, 504, 408, 429] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [400, 403, 404, 414] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }
}
