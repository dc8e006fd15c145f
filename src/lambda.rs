//! The AWS Lambda entry: one warm process handles many events in a row.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tokio::time::Instant;

use crate::ecs::Endpoints;
use crate::handler::{Handled, Handler};
use crate::provider::{self, ProgressEvent};
use crate::settings::Settings;

/// An invocation's result, serialised once by the runtime.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Invocation {
    /// The registry protocol's answer: the engine reads it as the result.
    Provider(ProgressEvent),
    /// A custom-resource event: what was answered, for the invocation's log and tests.
    #[serde(rename_all = "PascalCase")]
    Answered {
        answered: &'static str,
        attempts: u32,
    },
    #[serde(rename_all = "PascalCase")]
    HandedOver {
        handed_over: String,
        hand_overs: u32,
    },
}

pub async fn run() -> Result<(), Error> {
    let settings = Settings::load().await;
    // The registry handler takes its credentials from each request's type configuration;
    // only where ECS is comes from the function's settings.
    let endpoints = Arc::new(settings.ecs_endpoints.clone().map_err(|e| e.to_string()));
    let handler = Arc::new(Handler::new(settings));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = Arc::clone(&handler);
        let endpoints = Arc::clone(&endpoints);
        async move {
            if provider::is_provider_request(&event.payload) {
                let deadline = instant_from_epoch_millis(event.context.deadline);
                return answer_provider_request(&event.payload, deadline, &endpoints).await;
            }
            invoke(&handler, event).await
        }
    }))
    .await
}

/// A resource-provider HandlerRequest: its ProgressEvent is the invocation's result (the
/// engine invokes synchronously). Every outcome, FAILED included, is a normal return: an
/// error payload would reach the engine as a handler crash. The raw request is at hand
/// here for shipping this invocation's logs to `providerLogGroupName`.
async fn answer_provider_request(
    raw: &Value,
    deadline: Instant,
    endpoints: &Result<Endpoints, String>,
) -> Result<Invocation, Error> {
    // The engine's own limit for this action, not the function's timeout, bounds the
    // shipping: lines that arrive after the engine gave up help nobody.
    let limit = match raw.get("action").and_then(Value::as_str) {
        Some("READ" | "LIST") => Duration::from_secs(30),
        _ => Duration::from_secs(60),
    };
    let answer_by = deadline.min(Instant::now() + limit);
    let ship_by = answer_by
        .checked_sub(Duration::from_secs(1))
        .unwrap_or(answer_by);
    let event = crate::aws::logs::ship_provider_logs(
        raw,
        ship_by,
        provider::answer(raw, deadline, endpoints),
    )
    .await;
    Ok(Invocation::Provider(event))
}

/// Stack engines invoke asynchronously and Lambda retries a failed asynchronous invocation,
/// which would repeat the work: so an invocation that answered the stack (SUCCESS or FAILED)
/// returns normally, as does one that handed its wait over to a fresh invocation; only one
/// that could not answer returns an error.
async fn invoke(handler: &Handler, event: LambdaEvent<Value>) -> Result<Invocation, Error> {
    let deadline = instant_from_epoch_millis(event.context.deadline);
    tracing::debug!(
        deadline_ms = event.context.deadline,
        remaining_ms = deadline
            .saturating_duration_since(Instant::now())
            .as_millis() as u64,
        "invocation deadline"
    );
    match handler.handle_value(event.payload, deadline).await? {
        Handled::Answered(answered) => Ok(Invocation::Answered {
            answered: answered.body.status.as_str(),
            attempts: answered.delivery.attempts,
        }),
        Handled::HandedOver {
            image_id,
            hand_overs,
        } => Ok(Invocation::HandedOver {
            handed_over: image_id,
            hand_overs,
        }),
    }
}

/// Lambda gives the deadline as Unix epoch milliseconds, but `cargo lambda watch` gives the
/// function's timeout in milliseconds instead; a value too small to be a date is read as
/// a duration from now.
fn instant_from_epoch_millis(deadline_ms: u64) -> Instant {
    const YEAR_2001_MS: u64 = 978_307_200_000;
    if deadline_ms < YEAR_2001_MS {
        return Instant::now() + Duration::from_millis(deadline_ms);
    }
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_result_keeps_the_shape_it_had() {
        let shown = |invocation: Invocation| serde_json::to_value(invocation).unwrap();
        let answered = Invocation::Answered {
            answered: "FAILED",
            attempts: 2,
        };
        assert_eq!(
            shown(answered),
            json!({"Answered": "FAILED", "Attempts": 2})
        );
        let handed_over = Invocation::HandedOver {
            handed_over: "m-copy".into(),
            hand_overs: 3,
        };
        assert_eq!(
            shown(handed_over),
            json!({"HandedOver": "m-copy", "HandOvers": 3})
        );
        let event = ProgressEvent::failed(provider::HandlerErrorCode::NotFound, "gone");
        let expected = serde_json::to_value(&event).unwrap();
        assert_eq!(
            shown(Invocation::Provider(event)),
            expected,
            "as the engine reads it"
        );
    }

    #[test]
    fn epoch_deadlines_and_cargo_lambda_timeouts_both_give_the_time_left() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let left = |ms| instant_from_epoch_millis(ms).saturating_duration_since(Instant::now());
        let real = left(now_ms + 900_000);
        assert!(
            real > Duration::from_secs(899) && real <= Duration::from_secs(900),
            "{real:?}"
        );
        let watch = left(600_000);
        assert!(
            watch > Duration::from_secs(599) && watch <= Duration::from_secs(600),
            "{watch:?}"
        );
        assert_eq!(left(now_ms - 1_000), Duration::ZERO);
    }
}
