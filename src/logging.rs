//! Structured logs: JSON on Lambda (unless the function's log format is set to `Text`) and
//! wherever `AWS_LAMBDA_LOG_FORMAT=JSON`; readable text elsewhere. Level from `RUST_LOG`,
//! else `AWS_LAMBDA_LOG_LEVEL`, else info. Lines written inside a [`capture`] span are also
//! kept, for shipping to the registry user's log group (`crate::aws::logs`).

pub mod capture;

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::Span;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::envelope::{AnswerTarget, RequestType};

/// Whether log lines are JSON (machine-read: every field) or text (read by people).
static JSON: AtomicBool = AtomicBool::new(false);

pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var("AWS_LAMBDA_LOG_LEVEL").ok())
        .map(|level| level.to_ascii_lowercase())
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let json = wants_json(
        std::env::var("AWS_LAMBDA_LOG_FORMAT").ok().as_deref(),
        std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some(),
    );
    JSON.store(json, Ordering::Relaxed);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let capture = capture::CaptureLayer { json };
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .finish()
            .with(capture)
            .try_init()
    } else {
        builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .finish()
            .with(capture)
            .try_init()
    };
}

/// The span every line logged for one event carries. JSON keeps the event's whole identity
/// for log queries; text shows what a person needs to tell events apart (the stack name and
/// the logical id), since a full stack ARN on every line buries the message.
pub fn event_span(
    request_type: Option<RequestType>,
    target: &AnswerTarget,
    stack_name: Option<&str>,
) -> Span {
    let request_type = request_type.map_or_else(|| "?".to_string(), |r| r.to_string());
    if JSON.load(Ordering::Relaxed) {
        tracing::info_span!(
            "event",
            request_type = %request_type,
            logical_resource_id = %target.logical_resource_id,
            stack_id = %target.stack_id,
            request_id = %target.request_id,
        )
    } else {
        tracing::info_span!(
            "event",
            request = %request_type,
            stack = %clip(short_stack_name(&target.stack_id, stack_name), 48),
            resource = %clip(&target.logical_resource_id, 48),
        )
    }
}

/// `arn:aws:cloudformation:<region>:<account>:stack/<name>/<guid>` → `<name>`; ROS sends the
/// name itself.
fn short_stack_name<'a>(stack_id: &'a str, stack_name: Option<&'a str>) -> &'a str {
    if let Some(name) = stack_name.filter(|n| !n.is_empty()) {
        return name;
    }
    stack_id
        .split_once(":stack/")
        .and_then(|(_, rest)| rest.split('/').next())
        .filter(|n| !n.is_empty())
        .unwrap_or(stack_id)
}

fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn wants_json(log_format: Option<&str>, on_lambda: bool) -> bool {
    match log_format {
        Some(format) => format.eq_ignore_ascii_case("json"),
        None => on_lambda,
    }
}

#[cfg(test)]
mod tests {
    use super::{clip, short_stack_name, wants_json};

    #[test]
    fn text_logs_name_the_stack_briefly() {
        let arn = "arn:aws:cloudformation:us-east-1:123456789012:stack/web-images/0f1e2d3c-aaaa";
        assert_eq!(short_stack_name(arn, None), "web-images");
        assert_eq!(
            short_stack_name("5f2b7c8d-ros", Some("ros-stack")),
            "ros-stack"
        );
        assert_eq!(short_stack_name("plain-id", None), "plain-id");
        assert_eq!(clip(&"x".repeat(600), 48).chars().count(), 49);
        assert_eq!(clip("short", 48), "short");
    }

    #[test]
    fn json_on_lambda_unless_text_is_asked_for() {
        assert!(wants_json(None, true));
        assert!(wants_json(Some("JSON"), false));
        assert!(!wants_json(Some("Text"), true));
        assert!(!wants_json(None, false));
    }
}
