//! Delivering the answer to the stack engine's `ResponseURL`.
//!
//! CloudFormation's URL is a presigned S3 `PUT` whose signature covers an empty
//! `Content-Type`; ROS takes a JSON `POST` with a `Date` header. Both are retried on 5xx and
//! network errors while the deadline allows: a stack that is never answered hangs for an hour.

use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use crate::envelope::{redact_url, AnswerBody, AnswerTarget, Engine};

/// Quick retries first (a flaky proxy usually recovers within seconds), then slower ones.
const QUICK_DELAYS: [Duration; 3] = [
    Duration::from_millis(200),
    Duration::from_millis(500),
    Duration::from_millis(1000),
];
const SLOW_DELAY_START: Duration = Duration::from_secs(2);
const SLOW_DELAY_CAP: Duration = Duration::from_secs(10);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

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
        detail: e.to_string(),
    })?;
    if url.as_str() != target.response_url {
        // The URL crate re-encodes a few characters; a presigned signature over the
        // original bytes may then fail, which the status check below will report.
        tracing::warn!(url = %shown_url, "response URL is not in canonical form; it may be re-encoded");
    }
    let mut attempts = 0u32;
    let mut last_error;
    loop {
        attempts += 1;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let timeout = remaining.min(ATTEMPT_TIMEOUT);
        match send_once(target.engine, url.clone(), body, timeout).await {
            Ok(status) if (200..300).contains(&status) => {
                tracing::info!(url = %shown_url, status, attempts, "answer delivered");
                return Ok(Delivery {
                    attempts,
                    http_status: status,
                });
            }
            Ok(status) if !is_retryable_status(status) => {
                tracing::error!(url = %shown_url, status, attempts, "answer refused");
                return Err(CallbackError::Refused {
                    url: shown_url,
                    status,
                    attempts,
                });
            }
            Ok(status) => last_error = format!("HTTP {status}"),
            Err(e) => last_error = e,
        }
        let delay = retry_delay(attempts);
        tracing::warn!(url = %shown_url, attempts, error = %last_error, ?delay, "answer not delivered; retrying");
        if Instant::now() + delay >= deadline {
            return Err(CallbackError::DeadlinePassed {
                url: shown_url,
                attempts,
                last: last_error,
            });
        }
        tokio::time::sleep(delay).await;
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

/// Delay before attempt `attempts + 1`, with ±20 % jitter so that many functions answering
/// one flaky endpoint do not retry in lockstep.
fn retry_delay(attempts: u32) -> Duration {
    let base = match QUICK_DELAYS.get(attempts as usize - 1) {
        Some(d) => *d,
        None => {
            let doublings = attempts as usize - 1 - QUICK_DELAYS.len();
            SLOW_DELAY_START
                .saturating_mul(1u32 << doublings.min(8))
                .min(SLOW_DELAY_CAP)
        }
    };
    base.mul_f64(rand::rng().random_range(0.8..1.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_quick_retries_within_a_few_seconds_then_slower() {
        let first_three: Duration = (1..=3).map(retry_delay).sum();
        assert!(first_three < Duration::from_secs(3), "{first_three:?}");
        assert!(retry_delay(4) >= Duration::from_millis(1600));
        assert!(retry_delay(20) <= SLOW_DELAY_CAP.mul_f64(1.2));
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
