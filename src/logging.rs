//! Structured logs: JSON on Lambda (unless the function's log format is set to `Text`) and
//! wherever `AWS_LAMBDA_LOG_FORMAT=JSON`; readable text elsewhere. Level from `RUST_LOG`,
//! else `AWS_LAMBDA_LOG_LEVEL`, else info. Lines written inside a [`capture`] span are also
//! kept, for shipping to the registry user's log group (`crate::aws::logs`).
//!
//! `RUST_LOG` is read as a list of `level`, `target` and `target=level` directives
//! (`warn`, `info,ecs_image_copy::ecs=debug`), the forms `EnvFilter` reads. Its span and field
//! directives (`[span{field=value}]=debug`) are not supported: `EnvFilter` needs a regex
//! engine and cost about 0.1 MiB of the binary, and a spec using them falls back to info, as
//! any spec `EnvFilter` could not parse did.

pub mod capture;

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::Span;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::envelope::{AnswerTarget, RequestType};

/// Whether log lines are JSON (machine-read: every field) or text (read by people).
static JSON: AtomicBool = AtomicBool::new(false);

pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var("AWS_LAMBDA_LOG_LEVEL").ok())
        .and_then(|spec| filter_from(&spec))
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    let json = wants_json(
        std::env::var("AWS_LAMBDA_LOG_FORMAT").ok().as_deref(),
        std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some(),
    );
    JSON.store(json, Ordering::Relaxed);
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(capture::CaptureLayer { json });
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let _ = if json {
        registry
            .with(lines.json().flatten_event(true).with_current_span(true))
            .try_init()
    } else {
        registry
            .with(
                lines
                    .with_target(false)
                    .with_ansi(std::io::stderr().is_terminal()),
            )
            .try_init()
    };
}

/// The filter a `RUST_LOG`-style spec asks for, read as `EnvFilter` read it (case-insensitive,
/// empty directives skipped, an empty spec logging nothing); `None` when it is not one
/// (a typo, or a span/field directive), so that the caller falls back to info.
fn filter_from(spec: &str) -> Option<Targets> {
    let spec = spec.to_ascii_lowercase();
    let directives: Vec<&str> = spec.split(',').filter(|d| !d.is_empty()).collect();
    let plain = |d: &&str| {
        d.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | ':' | '_' | '='))
    };
    if !directives.iter().all(plain) {
        return None;
    }
    if directives.is_empty() {
        return Some(Targets::new());
    }
    directives.join(",").parse().ok()
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
    use tracing::Level;
    use tracing_subscriber::filter::LevelFilter;

    use super::{clip, filter_from, short_stack_name, wants_json};

    #[test]
    fn rust_log_takes_a_level_or_target_level_directives() {
        let warn = filter_from("WARN").unwrap();
        assert!(warn.would_enable("ecs_image_copy::ecs", &Level::WARN));
        assert!(!warn.would_enable("ecs_image_copy::ecs", &Level::INFO));

        let mixed = filter_from("info,ecs_image_copy::ecs=debug,,hyper=off").unwrap();
        assert!(mixed.would_enable("ecs_image_copy::ecs::client", &Level::DEBUG));
        assert!(!mixed.would_enable("ecs_image_copy::lifecycle", &Level::DEBUG));
        assert!(mixed.would_enable("ecs_image_copy::lifecycle", &Level::INFO));
        assert!(!mixed.would_enable("hyper::proto", &Level::ERROR));

        let only_ours = filter_from("ecs_image_copy=trace").unwrap();
        assert!(only_ours.would_enable("ecs_image_copy", &Level::TRACE));
        assert!(!only_ours.would_enable("reqwest", &Level::ERROR));

        let nothing = filter_from("").unwrap();
        assert_eq!(nothing.default_level(), None);
        assert!(!nothing.would_enable("ecs_image_copy", &Level::ERROR));
        assert_eq!(
            filter_from("off").unwrap().default_level(),
            Some(LevelFilter::OFF)
        );
    }

    #[test]
    fn rust_log_that_is_not_a_plain_filter_falls_back_to_info() {
        for spec in [
            "verbose=loud",
            "info, ecs_image_copy=debug",
            "ecs_image_copy[event]=debug",
            "[event{request_type=Create}]=trace",
            "a=b=c",
        ] {
            assert!(filter_from(spec).is_none(), "{spec}");
        }
    }

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
