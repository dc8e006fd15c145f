//! Structured logs: JSON on Lambda (unless the function's log format is set to `Text`) and
//! wherever `AWS_LAMBDA_LOG_FORMAT=JSON`; readable text elsewhere. Level from `RUST_LOG`,
//! else `AWS_LAMBDA_LOG_LEVEL`, else info.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
}

fn wants_json(log_format: Option<&str>, on_lambda: bool) -> bool {
    match log_format {
        Some(format) => format.eq_ignore_ascii_case("json"),
        None => on_lambda,
    }
}

#[cfg(test)]
mod tests {
    use super::wants_json;

    #[test]
    fn json_on_lambda_unless_text_is_asked_for() {
        assert!(wants_json(None, true));
        assert!(wants_json(Some("JSON"), false));
        assert!(!wants_json(Some("Text"), true));
        assert!(!wants_json(None, false));
    }
}
