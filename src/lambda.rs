//! The AWS Lambda entry: one warm process handles many events in a row.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::handler::{HandleError, Handler};
use crate::settings::Settings;

pub async fn run() -> Result<(), Error> {
    let handler = Arc::new(Handler::new(Settings::from_env()));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = Arc::clone(&handler);
        async move { invoke(&handler, event).await }
    }))
    .await
}

/// Stack engines invoke asynchronously and Lambda retries a failed asynchronous invocation,
/// which would repeat the work: so an invocation that answered the stack (SUCCESS or FAILED)
/// returns normally, as does one that handed its wait over to a fresh invocation; only one
/// that could not answer returns an error.
async fn invoke(handler: &Handler, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let deadline = instant_from_epoch_millis(event.context.deadline);
    let raw = serde_json::to_vec(&event.payload)?;
    match handler.handle(&raw, deadline).await {
        Ok(handled) => Ok(json!({
            "Answered": format!("{:?}", handled.body.status).to_uppercase(),
            "Attempts": handled.delivery.attempts,
        })),
        Err(HandleError::HandedOver {
            image_id,
            hand_overs,
        }) => Ok(json!({ "HandedOver": image_id, "HandOvers": hand_overs })),
        Err(e @ HandleError::Unanswerable(_)) | Err(e @ HandleError::NotDelivered { .. }) => {
            Err(Box::new(e))
        }
    }
}

fn instant_from_epoch_millis(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}
