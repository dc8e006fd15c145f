//! Invoking this Lambda function again, asynchronously, to carry on a wait.

use std::time::Duration;

use tokio::time::Instant;

pub use crate::aws::AwsCredentials;
use crate::aws::{endpoint_url, signed_post};
use crate::retry::{Backoff, Jitter, Retry, RetryPolicy, Stopped};

/// One attempt of at most ten seconds, made even when the deadline has passed (its failure
/// is then answered), and never repeated: an `Event` invocation that reached Lambda but whose
/// answer was lost would, sent again, queue a second continuation of the same wait.
fn invoke_policy() -> RetryPolicy {
    let never = Backoff::doubling(Duration::ZERO, Duration::ZERO, Jitter::None);
    RetryPolicy::with_backoff(never, Duration::from_secs(10))
        .with_max_attempts(1)
        .with_first_attempt_past_deadline()
}

/// Everything needed to invoke this function again; present only on Lambda.
#[derive(Debug, Clone)]
pub struct HandoverSettings {
    pub function_name: String,
    pub region: String,
    pub credentials: AwsCredentials,
    /// `AWS_ENDPOINT_URL_LAMBDA` (or `AWS_ENDPOINT_URL`), as the AWS SDKs honour; else the
    /// regional endpoint.
    pub endpoint: String,
}

impl HandoverSettings {
    /// `None` unless running as a Lambda function with credentials: then the wait cannot be
    /// handed over and a long copy is answered FAILED in time instead.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let region = get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION"))?;
        let endpoint = endpoint_url(
            &lookup,
            "AWS_ENDPOINT_URL_LAMBDA",
            format!("https://lambda.{region}.amazonaws.com"),
        );
        Some(HandoverSettings {
            function_name: get("AWS_LAMBDA_FUNCTION_NAME")?,
            credentials: AwsCredentials::from_lookup(&lookup)?,
            endpoint,
            region,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("Lambda Invoke was refused with HTTP {status}: {detail}")]
    Refused { status: u16, detail: String },
    #[error("Lambda Invoke could not be sent: {0}")]
    Transport(String),
    #[error("Lambda Invoke could not be signed: {0}")]
    Signing(String),
}

/// Function names are letters, digits, `-` and `_` (ARNs add `:`); anything else is encoded.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[derive(Debug, Clone)]
pub struct Invoker {
    settings: HandoverSettings,
}

impl Invoker {
    pub fn new(settings: HandoverSettings) -> Self {
        Invoker { settings }
    }

    pub fn function_name(&self) -> &str {
        &self.settings.function_name
    }

    /// Queues an asynchronous invocation (`InvocationType=Event`) with `payload`.
    pub async fn invoke_async(&self, payload: &[u8], deadline: Instant) -> Result<(), InvokeError> {
        let url = format!(
            "{}/2015-03-31/functions/{}/invocations",
            self.settings.endpoint,
            percent_encoding::utf8_percent_encode(&self.settings.function_name, PATH_SEGMENT)
        );
        let headers = [
            ("content-type", "application/json"),
            ("x-amz-invocation-type", "Event"),
        ];
        let send = |_, timeout| {
            let request = signed_post(
                &self.settings.credentials,
                &self.settings.region,
                "lambda",
                &url,
                &headers,
                payload.to_vec(),
            );
            async move {
                let response = request
                    .map_err(|e| InvokeError::Signing(e.to_string()))?
                    .timeout(timeout)
                    .send()
                    .await
                    .map_err(|e| InvokeError::Transport(e.without_url().to_string()))?;
                let status = response.status().as_u16();
                if status == 202 {
                    return Ok(());
                }
                let detail: String = response
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect();
                Err(InvokeError::Refused { status, detail })
            }
        };
        let timed_out = |timeout| InvokeError::Transport(format!("no answer within {timeout:?}"));
        invoke_policy()
            .run_with(deadline, send, |_, _| Retry::No, timed_out)
            .await
            .map_err(|stopped| match stopped {
                Stopped::Final { error, .. } => error,
                Stopped::GaveUp { last, .. } => last.unwrap_or_else(|| timed_out(Duration::ZERO)),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_env::env;

    const LAMBDA_ENV: [(&str, &str); 5] = [
        ("AWS_LAMBDA_FUNCTION_NAME", "copy-fn"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "token"),
    ];

    #[test]
    fn settings_come_from_the_lambda_environment() {
        let s = HandoverSettings::from_lookup(env(&LAMBDA_ENV)).unwrap();
        assert_eq!(s.function_name, "copy-fn");
        assert_eq!(s.endpoint, "https://lambda.eu-west-1.amazonaws.com");
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("secret\"") && !shown.contains("\"token"),
            "{shown}"
        );
    }

    #[test]
    fn the_endpoint_can_be_overridden_as_the_sdks_allow() {
        let mut vars = LAMBDA_ENV.to_vec();
        vars.push(("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:9001/"));
        let s = HandoverSettings::from_lookup(env(&vars)).unwrap();
        assert_eq!(s.endpoint, "http://127.0.0.1:9001");
    }

    #[test]
    fn without_a_function_name_or_credentials_there_is_no_hand_over() {
        for missing in [
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_REGION",
        ] {
            let vars: Vec<_> = LAMBDA_ENV
                .iter()
                .copied()
                .filter(|(k, _)| *k != missing)
                .collect();
            assert!(
                HandoverSettings::from_lookup(env(&vars)).is_none(),
                "{missing}"
            );
        }
    }
}
