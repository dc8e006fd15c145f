//! One event in, one answer out: the envelope around the resource lifecycle.
//!
//! Whatever happens inside (bad input, ECS errors, a panic, a lifecycle that overruns), the
//! stack gets an answer before the deadline. Errors become the answer's `Reason` here and
//! nowhere else.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sha1::{Digest, Sha1};
use tokio::time::Instant;
use tracing::Instrument;

use crate::callback::{Callback, CallbackError, Delivery};
use crate::ecs::EcsClient;
use crate::envelope::{
    self, Answer, AnswerBody, AnswerTarget, Event, EventError, Rejected, RequestType,
};
use crate::lifecycle::{Budget, Failure, Journal, Lifecycle, FAILED_CREATE_MARKER};
use crate::model::{self, Context, CopySpec, Flavour};
use crate::settings::Settings;

/// Resource types whose properties, not their type name, say which flavour they are.
const GENERIC_TYPES: [&str; 2] = [
    "AWS::CloudFormation::CustomResource",
    "ALIYUN::ROS::CustomResource",
];

#[derive(Debug)]
pub struct Handled {
    pub body: AnswerBody,
    pub delivery: Delivery,
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error("the event cannot be answered: {0}")]
    Unanswerable(EventError),
    #[error("the answer could not be delivered: {source}")]
    NotDelivered {
        body: Box<AnswerBody>,
        #[source]
        source: CallbackError,
    },
}

/// The HTTP clients are built on first use: each loads the system's root certificates
/// (about 6 ms), which would otherwise delay the Lambda runtime's first poll for work.
pub struct Handler {
    ecs: OnceLock<Result<Arc<EcsClient>, String>>,
    callback: OnceLock<Callback>,
    settings: Settings,
}

impl Handler {
    pub fn new(settings: Settings) -> Self {
        Handler {
            ecs: OnceLock::new(),
            callback: OnceLock::new(),
            settings,
        }
    }

    /// Builds the ECS client from the settings; a configuration problem is kept and reported
    /// to each stack that needs ECS, rather than crashing the function.
    fn ecs(&self) -> &Result<Arc<EcsClient>, String> {
        self.ecs.get_or_init(|| match &self.settings.credentials {
            Ok(Some(credentials)) => {
                EcsClient::new(credentials.clone(), self.settings.ecs_endpoint.as_deref())
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            }
            Ok(None) => Err(
                "no Alibaba Cloud credentials are configured: set ALIBABA_CLOUD_ACCESS_KEY_ID \
                             and ALIBABA_CLOUD_ACCESS_KEY_SECRET"
                    .to_string(),
            ),
            Err(e) => Err(e.clone()),
        })
    }

    pub fn with_client(ecs: EcsClient, settings: Settings) -> Self {
        Handler {
            ecs: OnceLock::from(Ok(Arc::new(ecs))),
            callback: OnceLock::new(),
            settings,
        }
    }

    /// Handles one raw event and delivers its answer before `deadline`.
    pub async fn handle(&self, raw: &[u8], deadline: Instant) -> Result<Handled, HandleError> {
        match envelope::parse(raw) {
            Ok(event) => {
                // Every line logged for this event, the answer included, carries its identity.
                let span = tracing::info_span!(
                    "event",
                    request_type = %event.request_type,
                    logical_resource_id = %event.target.logical_resource_id,
                    stack_id = %event.target.stack_id,
                    request_id = %event.target.request_id,
                );
                async {
                    let answer = self.decide(&event, deadline).await;
                    self.answer(&event.target, &answer, deadline).await
                }
                .instrument(span)
                .await
            }
            Err(Rejected::Unanswerable(error)) => {
                tracing::error!(%error, "event has no usable ResponseURL; nobody can be answered");
                Err(HandleError::Unanswerable(error))
            }
            Err(Rejected::Invalid { target, error }) => {
                let span = tracing::info_span!(
                    "event",
                    logical_resource_id = %target.logical_resource_id,
                    stack_id = %target.stack_id,
                    request_id = %target.request_id,
                );
                async {
                    tracing::warn!(%error, "malformed event");
                    let physical = target
                        .physical_resource_id
                        .clone()
                        .unwrap_or_else(|| FAILED_CREATE_MARKER.to_string());
                    let answer = Answer::failed(physical, format!("Malformed event: {error}"));
                    self.answer(&target, &answer, deadline).await
                }
                .instrument(span)
                .await
            }
        }
    }

    async fn answer(
        &self,
        target: &AnswerTarget,
        answer: &Answer,
        deadline: Instant,
    ) -> Result<Handled, HandleError> {
        let body = answer.to_body(target);
        if body.reason_truncated {
            tracing::warn!("reason truncated to fit the response size limit");
        }
        tracing::info!(
            status = ?body.status,
            physical_resource_id = %answer.physical_resource_id,
            reason = answer.reason.as_deref().unwrap_or(""),
            url = %envelope::redact_url(&target.response_url),
            "answering"
        );
        match self
            .callback
            .get_or_init(Callback::new)
            .deliver(target, &body, deadline)
            .await
        {
            Ok(delivery) => Ok(Handled { body, delivery }),
            Err(source) => {
                tracing::error!(error = %source, "answer not delivered");
                Err(HandleError::NotDelivered {
                    body: Box::new(body),
                    source,
                })
            }
        }
    }

    async fn decide(&self, event: &Event, deadline: Instant) -> Answer {
        let physical_in = event
            .target
            .physical_resource_id
            .clone()
            .unwrap_or_else(|| FAILED_CREATE_MARKER.to_string());
        let flavour = match flavour_of(event) {
            Ok(f) => f,
            Err(reason) => return Answer::failed(physical_in, reason),
        };
        if event.request_type == RequestType::Delete
            && crate::lifecycle::is_foreign_physical_id(&physical_in)
        {
            tracing::info!(physical_resource_id = %physical_in, "nothing was created; delete succeeds without calls");
            return Answer::success(physical_in, HashMap::new());
        }
        let ctx = Context {
            stack_region_id: event.region_id.clone(),
            configured_region_id: self.settings.region_id.clone(),
            default_timeout: self.settings.ros_timeout,
        };
        let spec = match model::validate(flavour, &effective_properties(&event.properties), &ctx) {
            Ok(spec) => spec,
            Err(violations) => {
                return Answer::failed(
                    physical_in,
                    format!(
                        "Invalid properties for {}: {violations}",
                        flavour.type_name()
                    ),
                )
            }
        };
        let ecs = match self.ecs() {
            Ok(ecs) => Arc::clone(ecs),
            Err(problem) => {
                return Answer::failed(physical_in, format!("Configuration error: {problem}"))
            }
        };
        let old_spec = event
            .old_properties
            .as_ref()
            .and_then(|old| model::validate(flavour, &effective_properties(old), &ctx).ok());
        let budget = budget_for(deadline);
        let journal = Journal::default();
        let work = run_lifecycle(
            ecs,
            journal.clone(),
            event.request_type,
            spec.clone(),
            old_spec,
            physical_in.clone(),
            client_token(&event.target),
            budget,
        );
        // Spawned so that a panic inside the lifecycle is caught and still answered.
        let task = tokio::spawn(work.in_current_span());
        let overrun_at = budget.cleanup_by + (deadline - budget.cleanup_by) / 2;
        let result = match tokio::time::timeout_at(overrun_at, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join_error)) => {
                let detail = panic_message(join_error);
                tracing::error!(%detail, "the lifecycle panicked");
                Err(failure_with_journal(
                    &journal,
                    format!("internal error: {detail}"),
                ))
            }
            Err(_) => {
                tracing::error!("the lifecycle overran its budget");
                Err(failure_with_journal(
                    &journal,
                    "internal error: the operation overran its time budget".into(),
                ))
            }
        };
        match result {
            Ok(image_id) => {
                let data = model::attributes(flavour, &spec, &image_id)
                    .into_iter()
                    .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                    .collect();
                Answer::success(image_id, data)
            }
            Err(failure) => {
                let physical = match event.request_type {
                    RequestType::Create => failure.leftover_image_id.clone().unwrap_or(physical_in),
                    _ => physical_in,
                };
                let mut reason = failure.error.to_string();
                if let (RequestType::Update, Some(left)) =
                    (event.request_type, &failure.leftover_image_id)
                {
                    reason.push_str(&format!(
                        " (the unfinished replacement {left} could not be removed)"
                    ));
                }
                Answer::failed(physical, reason)
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_lifecycle(
    ecs: Arc<EcsClient>,
    journal: Journal,
    request_type: RequestType,
    spec: CopySpec,
    old_spec: Option<CopySpec>,
    physical_id: String,
    client_token: String,
    budget: Budget,
) -> Result<String, Failure> {
    let lifecycle = Lifecycle::new(&ecs, journal);
    match request_type {
        RequestType::Create => lifecycle.create(&spec, &client_token, budget).await,
        RequestType::Update => match &old_spec {
            Some(old) => {
                lifecycle
                    .update(old, &spec, &physical_id, &client_token, budget)
                    .await
            }
            None => lifecycle.create(&spec, &client_token, budget).await,
        },
        RequestType::Delete => lifecycle
            .delete(&spec, &physical_id, budget)
            .await
            .map(|()| physical_id),
    }
}

fn failure_with_journal(journal: &Journal, reason: String) -> Failure {
    Failure {
        error: crate::lifecycle::LifecycleError::Internal(reason),
        leftover_image_id: journal.started_image(),
    }
}

fn panic_message(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            format!("panic: {text}")
        }
        Err(e) => format!("the task was cancelled: {e}"),
    }
}

/// Which of the two types an event is (see the README for the rule).
pub fn flavour_of(event: &Event) -> Result<Flavour, String> {
    let ty = event.resource_type.as_str();
    if let Some(flavour) = Flavour::from_type_name(ty) {
        return Ok(flavour);
    }
    if ty.starts_with("Custom::") || GENERIC_TYPES.contains(&ty) {
        return model::detect_flavour(&effective_properties(&event.properties)).ok_or_else(|| {
            format!(
                "ResourceType {ty}: the properties identify neither {} (ImageId + DestinationRegionId) \
                 nor {} (SourceImageId + SourceRegionId)",
                Flavour::ROS_TYPE,
                Flavour::TF_TYPE
            )
        });
    }
    Err(format!(
        "ResourceType {ty:?} is not handled by this function: expected {}, {}, or a custom resource type \
         (Custom::*, AWS::CloudFormation::CustomResource, ALIYUN::ROS::CustomResource)",
        Flavour::ROS_TYPE,
        Flavour::TF_TYPE
    ))
}

/// `ALIYUN::ROS::CustomResource` declares its inputs under `Parameters` (next to
/// `ServiceToken` and `Timeout`); depending on the engine they arrive nested or flattened.
/// Nested ones are lifted so that both shapes validate the same way.
pub fn effective_properties(properties: &serde_json::Value) -> serde_json::Value {
    let flavour_keys = ["ImageId", "SourceImageId"];
    match properties.get("Parameters") {
        Some(serde_json::Value::Object(inner))
            if !flavour_keys.iter().any(|k| properties.get(*k).is_some()) =>
        {
            serde_json::Value::Object(inner.clone())
        }
        _ => properties.clone(),
    }
}

/// Same event, same token: a duplicated delivery finds the copy the first one started.
/// ECS accepts at most 64 printable ASCII characters.
pub fn client_token(target: &AnswerTarget) -> String {
    let mut hasher = Sha1::new();
    for part in [
        &target.stack_id,
        &target.logical_resource_id,
        &target.request_id,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("eic-{hex}")
}

/// Splits the time left into waiting, cleaning up, and answering. Short deadlines (tests,
/// `invoke --timeout`) get proportionally short reserves.
pub fn budget_for(deadline: Instant) -> Budget {
    let total = deadline.saturating_duration_since(Instant::now());
    let answer_reserve = total
        .mul_f64(0.15)
        .clamp(Duration::from_millis(300), Duration::from_secs(10));
    let cleanup_reserve = total
        .mul_f64(0.15)
        .clamp(Duration::from_millis(300), Duration::from_secs(20));
    let cleanup_by = deadline.checked_sub(answer_reserve).unwrap_or(deadline);
    Budget {
        stop_waiting_at: cleanup_by
            .checked_sub(cleanup_reserve)
            .unwrap_or(cleanup_by),
        cleanup_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Engine;

    fn target(request: &str) -> AnswerTarget {
        AnswerTarget {
            engine: Engine::CloudFormation,
            response_url: "http://127.0.0.1:1/cb".into(),
            stack_id: "stack".into(),
            logical_resource_id: "Copy".into(),
            request_id: request.into(),
            physical_resource_id: None,
        }
    }

    #[test]
    fn client_tokens_are_stable_short_and_distinct_per_request() {
        let a = client_token(&target("r1"));
        assert_eq!(a, client_token(&target("r1")));
        assert_ne!(a, client_token(&target("r2")));
        assert!(a.len() <= 64 && a.bytes().all(|b| b.is_ascii_graphic()));
    }

    #[tokio::test(start_paused = true)]
    async fn budgets_leave_time_to_clean_up_and_answer() {
        let lambda = budget_for(Instant::now() + Duration::from_secs(900));
        let now = Instant::now();
        assert_eq!(lambda.cleanup_by - now, Duration::from_secs(890));
        assert_eq!(lambda.stop_waiting_at - now, Duration::from_secs(870));
        let short = budget_for(Instant::now() + Duration::from_secs(4));
        assert!(short.stop_waiting_at - now >= Duration::from_millis(2500));
        assert!(short.stop_waiting_at < short.cleanup_by);
    }
}
