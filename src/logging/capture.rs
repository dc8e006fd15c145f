//! Copies of the log lines emitted inside a capture span, kept for shipping elsewhere (the
//! registry handler's lines go to the user's CloudWatch Logs group: `crate::aws::logs`).
//!
//! Why a span and not a task-local: the handler runs its lifecycle in a task of its own
//! (`handler::bounded`) instrumented with the current span, so the span reaches every line
//! the work writes, on whichever task or thread. Each capture span has its own buffer keyed
//! by the span's id, so two invocations running at once never mix their lines; a line goes
//! to the innermost capture around it only.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Span, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The name of the span whose lines are captured. ERROR level, so that no level filter short
/// of `off` disables it (a disabled span would capture nothing).
pub const CAPTURE_SPAN: &str = "provider";

/// One captured line: when it was written (ms since the epoch) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedLine {
    pub timestamp_ms: i64,
    pub message: String,
}

/// Marks a span (in its extensions) as a capture; its lines live in [`buffers`].
struct Capturing;

/// Installed once with the process's subscriber (`logging::init`): inert until a capture
/// span opens.
pub struct CaptureLayer {
    pub json: bool,
}

fn buffers() -> MutexGuard<'static, HashMap<u64, Vec<CapturedLine>>> {
    static BUFFERS: LazyLock<Mutex<HashMap<u64, Vec<CapturedLine>>>> =
        LazyLock::new(Mutex::default);
    // A panic while holding the lock leaves only a list of lines: still usable.
    BUFFERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A new capture span (a child of the current span) and whether capturing works: it does not
/// without [`CaptureLayer`] in the subscriber, or when the span is disabled.
pub fn capture_span() -> Span {
    tracing::span!(Level::ERROR, CAPTURE_SPAN)
}

/// The lines captured so far under `span`, in the order written; the buffer is emptied.
pub fn take_lines(span: &Span) -> Vec<CapturedLine> {
    span.id()
        .and_then(|id| buffers().get_mut(&id.into_u64()).map(std::mem::take))
        .unwrap_or_default()
}

impl<S> Layer<S> for CaptureLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let metadata = attrs.metadata();
        if metadata.name() != CAPTURE_SPAN || metadata.target() != module_path!() {
            return;
        }
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Capturing);
            buffers().insert(id.into_u64(), Vec::new());
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        let Some(capture) = scope
            .into_iter()
            .find(|span| span.extensions().get::<Capturing>().is_some())
        else {
            return;
        };
        let line = CapturedLine {
            timestamp_ms: now_ms(),
            message: format_line(event, self.json),
        };
        if let Some(lines) = buffers().get_mut(&capture.id().into_u64()) {
            lines.push(line);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let capturing = ctx
            .span(&id)
            .is_some_and(|span| span.extensions().get::<Capturing>().is_some());
        if capturing {
            // The id may be given to a new span now: its buffer must start empty.
            buffers().remove(&id.into_u64());
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The line as the user reads it in CloudWatch Logs (which stamps the time itself): JSON when
/// the process logs JSON (queryable with Logs Insights), else `LEVEL message key=value ...`.
fn format_line(event: &Event<'_>, json: bool) -> String {
    let mut fields = Fields::default();
    event.record(&mut fields);
    let level = event.metadata().level().as_str();
    if json {
        let mut object = serde_json::Map::new();
        object.insert("level".into(), level.into());
        object.insert("message".into(), fields.message.into());
        for (name, value) in fields.others {
            object.insert(name, value);
        }
        serde_json::Value::Object(object).to_string()
    } else {
        let mut line = format!("{level} {}", fields.message);
        for (name, value) in fields.others {
            match value {
                serde_json::Value::String(text) => write!(line, " {name}={text}"),
                other => write!(line, " {name}={other}"),
            }
            .expect("writing to a String cannot fail");
        }
        line
    }
}

/// The event's fields: numbers and booleans stay typed for JSON lines.
#[derive(Default)]
struct Fields {
    message: String,
    others: Vec<(String, serde_json::Value)>,
}

impl Visit for Fields {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record(field, value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.record(field, value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record(field, format!("{value:?}").into());
    }
}

impl Fields {
    fn record(&mut self, field: &Field, value: serde_json::Value) {
        if field.name() == "message" {
            self.message = match value {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
        } else {
            self.others.push((field.name().to_string(), value));
        }
    }
}

#[cfg(test)]
mod tests {
    use tracing::instrument::WithSubscriber;
    use tracing::Instrument;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    fn subscriber(json: bool) -> impl Subscriber + Send + Sync {
        tracing_subscriber::registry().with(CaptureLayer { json })
    }

    #[test]
    fn lines_inside_a_capture_are_kept_with_their_fields_and_others_are_not() {
        let _guard = tracing::subscriber::set_default(subscriber(false));
        tracing::info!("before");
        let span = capture_span();
        span.in_scope(|| {
            tracing::info!(image_id = "m-1", attempt = 2, "copy started");
            tracing::warn_span!("event", resource = "Copy").in_scope(|| {
                tracing::warn!(error = %"Throttling", "retrying");
            });
        });
        tracing::info!("after");
        let lines: Vec<String> = take_lines(&span).into_iter().map(|l| l.message).collect();
        assert_eq!(
            lines,
            [
                "INFO copy started image_id=m-1 attempt=2",
                "WARN retrying error=Throttling"
            ]
        );
        assert!(take_lines(&span).is_empty(), "taking empties the buffer");
    }

    #[test]
    fn json_lines_carry_level_message_and_fields() {
        let _guard = tracing::subscriber::set_default(subscriber(true));
        let span = capture_span();
        span.in_scope(|| {
            tracing::error!(status = 400, retried = true, code = "Throttling", "refused")
        });
        let lines = take_lines(&span);
        let line: serde_json::Value = serde_json::from_str(&lines[0].message).unwrap();
        assert_eq!(
            line,
            serde_json::json!({
                "level": "ERROR",
                "message": "refused",
                "status": 400,
                "retried": true,
                "code": "Throttling"
            })
        );
        assert!(lines[0].timestamp_ms > 1_700_000_000_000);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_captures_never_mix_lines_even_across_spawned_tasks() {
        let dispatch = tracing::Dispatch::new(subscriber(false));
        let run = |name: &'static str| {
            async move {
                let span = capture_span();
                let work = async move {
                    for i in 0..50 {
                        tracing::info!(i, "{name}");
                        tokio::task::yield_now().await;
                    }
                    // Like handler::bounded: the lifecycle in a task of its own.
                    let spawned = async move { tracing::info!("{name} spawned") };
                    tokio::spawn(spawned.in_current_span().with_current_subscriber())
                        .await
                        .unwrap();
                };
                work.instrument(span.clone()).await;
                take_lines(&span)
            }
            .with_subscriber(dispatch.clone())
        };
        let (a, b) = tokio::join!(tokio::spawn(run("a")), tokio::spawn(run("b")));
        for (name, lines) in [("a", a.unwrap()), ("b", b.unwrap())] {
            assert_eq!(lines.len(), 51, "{lines:?}");
            assert!(lines
                .iter()
                .all(|l| l.message.starts_with(&format!("INFO {name}"))));
            assert_eq!(lines[50].message, format!("INFO {name} spawned"));
        }
    }
}
