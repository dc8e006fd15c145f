//! The registry handler's log lines, shipped to the user's CloudWatch Logs group.
//!
//! A registry type's handler runs in the type publisher's account, so what it writes to
//! stderr reaches the publisher, never the user. CloudFormation passes the user's log group
//! (`requestData.providerLogGroupName`) and credentials allowed to write to it
//! (`requestData.providerCredentials`); the handler must ship its lines itself. As the
//! Python plugin (`cloudformation-cli-python-lib`, `log_delivery.py`) does, one stream per
//! resource, `<stackId>/<logicalResourceId>` (`<awsAccountId>-<region>` without a stack),
//! `:` written `__`; `PutLogEvents` first, and only when it answers `ResourceNotFoundException`
//! create the group (if that is what is missing) and the stream, ignoring
//! `ResourceAlreadyExistsException`, then put again. Unlike the plugins (one `PutLogEvents`
//! per line, during the work), the lines of one invocation go in as few batches as the
//! limits allow, after the work: the answer never waits on more than the deadline allows,
//! and a failure to ship is written to stderr only — it never fails the handler or changes
//! its answer (the Go plugin, too, falls back to stdout when CloudWatch Logs refuses).
//!
//! # The seam
//! ```ignore
//! let event = ecs_image_copy::aws::logs::ship_provider_logs(&request, deadline, async {
//!     answer_the_request(&request).await // every line logged in here is shipped
//! })
//! .await;
//! ```
//! Lines are captured by [`crate::logging::capture`], installed by `logging::init`. What the
//! work logs is captured on whichever task it runs, as long as the spans it enters are created
//! inside it (a span made before the call and entered inside would hide its lines) and tasks
//! it spawns are `.in_current_span()`, as `handler::bounded` does.
//!
//! Secrets: the lines are those the process logs, which never hold a secret; in case one slips
//! through, every credential the request carries (the provider and caller secrets and tokens,
//! the type configuration's secrets) is blanked out of each line before shipping.

use std::future::Future;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;
use tracing::Instrument;

use super::{endpoint_url, signed_post, AwsCredentials, SigningError};
use crate::logging::capture::{self, CapturedLine};

pub const ENV_LOGS_ENDPOINT: &str = "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS";
/// `PutLogEvents` limits: events per batch, bytes per batch (each event's UTF-8 message plus
/// 26), bytes per event.
const MAX_BATCH_EVENTS: usize = 10_000;
const MAX_BATCH_BYTES: usize = 1_048_576;
const EVENT_OVERHEAD: usize = 26;
const MAX_EVENT_BYTES: usize = 256 * 1024 - EVENT_OVERHEAD;
const BLANKED: &str = "***";

/// Runs `work`, then ships the lines it logged to the request's `providerLogGroupName` with
/// its `providerCredentials`, giving up at `deadline`; without both (or without a region) the
/// work just runs. Returns the work's output whatever happened to the lines.
pub async fn ship_provider_logs<F: Future>(
    request: &Value,
    deadline: Instant,
    work: F,
) -> F::Output {
    let Some(destination) = LogDestination::from_request(request, |name| std::env::var(name).ok())
    else {
        return work.await;
    };
    capture_and_ship(&destination, &secrets_in(request), deadline, work).await
}

async fn capture_and_ship<F: Future>(
    destination: &LogDestination,
    secrets: &[String],
    deadline: Instant,
    work: F,
) -> F::Output {
    let span = capture::capture_span();
    let output = work.instrument(span.clone()).await;
    let lines = capture::take_lines(&span);
    drop(span);
    if lines.is_empty() {
        return output;
    }
    let events = blank_secrets(lines, secrets);
    match tokio::time::timeout_at(deadline, destination.ship(events, deadline)).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(
            %error,
            group = %destination.group,
            "the handler's log lines were not shipped to the provider log group"
        ),
        Err(_) => tracing::warn!(
            group = %destination.group,
            "the handler's log lines were not shipped to the provider log group in time"
        ),
    }
    output
}

#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    #[error("the request could not be signed: {0}")]
    Signing(#[from] SigningError),
    #[error("CloudWatch Logs at {endpoint} could not be reached: {detail}")]
    Unreachable { endpoint: String, detail: String },
    #[error("CloudWatch Logs refused {action} (HTTP {status} {code}): {message}")]
    Refused {
        action: &'static str,
        status: u16,
        code: String,
        message: String,
    },
}

impl ShipError {
    fn code(&self) -> Option<&str> {
        match self {
            ShipError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Where one request's lines go, and with what credentials.
#[derive(Debug)]
pub struct LogDestination {
    pub group: String,
    pub stream: String,
    pub region: String,
    pub endpoint: String,
    credentials: AwsCredentials,
}

impl LogDestination {
    /// From a resource-provider request: `None` unless it names a log group and carries
    /// provider credentials and a region.
    pub fn from_request(request: &Value, lookup: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let text = |pointer: &str| {
            request
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
        };
        let group = text("/requestData/providerLogGroupName")?;
        let region = text("/region")?;
        let credentials = AwsCredentials {
            access_key_id: text("/requestData/providerCredentials/accessKeyId")?.into(),
            secret_access_key: text("/requestData/providerCredentials/secretAccessKey")?.into(),
            session_token: text("/requestData/providerCredentials/sessionToken").map(Into::into),
        };
        let stream = match (text("/stackId"), text("/requestData/logicalResourceId")) {
            (Some(stack), Some(logical)) => format!("{stack}/{logical}"),
            _ => format!("{}-{region}", text("/awsAccountId").unwrap_or("unknown")),
        };
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        Some(LogDestination {
            group: group.into(),
            // `:` and `*` are not allowed in a stream name.
            stream: stream.replace(':', "__").replace('*', "_"),
            region: region.into(),
            endpoint: endpoint_url(
                lookup,
                ENV_LOGS_ENDPOINT,
                format!("https://logs.{region}.{suffix}"),
            ),
            credentials,
        })
    }

    async fn ship(&self, events: Vec<CapturedLine>, deadline: Instant) -> Result<(), ShipError> {
        for batch in batches(events) {
            self.put_batch(&batch, deadline).await?;
        }
        Ok(())
    }

    async fn put_batch(&self, batch: &[CapturedLine], deadline: Instant) -> Result<(), ShipError> {
        let events: Vec<Value> = batch
            .iter()
            .map(|e| json!({"timestamp": e.timestamp_ms, "message": e.message}))
            .collect();
        let put = json!({
            "logGroupName": self.group,
            "logStreamName": self.stream,
            "logEvents": events,
        });
        let missing = match self.call("PutLogEvents", &put, deadline).await {
            Ok(answer) => {
                report_rejected(&answer);
                return Ok(());
            }
            Err(error) if error.code() == Some("ResourceNotFoundException") => error,
            Err(error) => return Err(error),
        };
        if let ShipError::Refused { message, .. } = &missing {
            if message.to_ascii_lowercase().contains("log group") {
                self.create(
                    "CreateLogGroup",
                    json!({"logGroupName": self.group}),
                    deadline,
                )
                .await?;
            }
        }
        let stream = json!({"logGroupName": self.group, "logStreamName": self.stream});
        self.create("CreateLogStream", stream, deadline).await?;
        report_rejected(&self.call("PutLogEvents", &put, deadline).await?);
        Ok(())
    }

    /// A create that finds the thing there already has done its job.
    async fn create(
        &self,
        action: &'static str,
        body: Value,
        deadline: Instant,
    ) -> Result<(), ShipError> {
        match self.call(action, &body, deadline).await {
            Err(error) if error.code() != Some("ResourceAlreadyExistsException") => Err(error),
            _ => Ok(()),
        }
    }

    /// One CloudWatch Logs call (AWS JSON 1.1), its answer on success.
    async fn call(
        &self,
        action: &'static str,
        body: &Value,
        deadline: Instant,
    ) -> Result<Value, ShipError> {
        let url = format!("{}/", self.endpoint);
        let body = serde_json::to_vec(body).expect("a JSON value serialises");
        let target = format!("Logs_20140328.{action}");
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.as_str()),
        ];
        let request = signed_post(
            &self.credentials,
            &self.region,
            "logs",
            &url,
            &headers,
            body,
        )?;
        let unreachable = |e: reqwest::Error| ShipError::Unreachable {
            endpoint: self.endpoint.clone(),
            detail: crate::tls::error_chain(&e.without_url()),
        };
        let timeout = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        let response = request.timeout(timeout).send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(unreachable)?;
        if status == 200 {
            Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
        } else {
            Err(refusal(action, status, &text))
        }
    }
}

/// Events CloudWatch Logs accepted the batch but not (too old, too new, expired): stderr.
fn report_rejected(answer: &Value) {
    if let Some(rejected) = answer.get("rejectedLogEventsInfo") {
        tracing::warn!(%rejected, "CloudWatch Logs rejected some of the handler's log lines");
    }
}

fn refusal(action: &'static str, status: u16, body: &str) -> ShipError {
    let (code, message) = super::refusal_of(body);
    ShipError::Refused {
        action,
        status,
        code,
        message,
    }
}

/// Every credential the request carries: the provider's and the caller's secret key and
/// token, and any type-configuration value whose key names a secret or a token.
fn secrets_in(request: &Value) -> Vec<String> {
    fn walk(value: &Value, key: &str, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => map.iter().for_each(|(k, v)| walk(v, k, found)),
            Value::Array(items) => items.iter().for_each(|v| walk(v, key, found)),
            Value::String(s) => {
                let key = key.to_ascii_lowercase();
                if !s.is_empty() && (key.contains("secret") || key.contains("token")) {
                    found.push(s.clone());
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for part in [
        "providerCredentials",
        "callerCredentials",
        "typeConfiguration",
    ] {
        if let Some(value) = request.get("requestData").and_then(|d| d.get(part)) {
            walk(value, "", &mut found);
        }
    }
    // Longest first: a secret containing another is blanked whole.
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found.dedup();
    found
}

fn blank_secrets(lines: Vec<CapturedLine>, secrets: &[String]) -> Vec<CapturedLine> {
    lines
        .into_iter()
        .map(|mut line| {
            for secret in secrets {
                if line.message.contains(secret.as_str()) {
                    line.message = line.message.replace(secret.as_str(), BLANKED);
                }
            }
            line
        })
        .collect()
}

/// In chronological order (lines from several threads may be stamped a little out of order),
/// each message cut to the event limit, grouped into batches within `PutLogEvents`' limits.
fn batches(mut events: Vec<CapturedLine>) -> Vec<Vec<CapturedLine>> {
    events.sort_by_key(|e| e.timestamp_ms);
    let mut batches = Vec::new();
    let mut batch: Vec<CapturedLine> = Vec::new();
    let mut bytes = 0;
    for mut event in events {
        truncate_to(&mut event.message, MAX_EVENT_BYTES);
        let size = event.message.len() + EVENT_OVERHEAD;
        if batch.len() == MAX_BATCH_EVENTS || bytes + size > MAX_BATCH_BYTES {
            batches.push(std::mem::take(&mut batch));
            bytes = 0;
        }
        bytes += size;
        batch.push(event);
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

fn truncate_to(text: &mut String, max_bytes: usize) {
    if text.len() > max_bytes {
        let mut cut = max_bytes;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
