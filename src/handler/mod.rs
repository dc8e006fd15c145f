//! One event in, one answer out: the envelope around the resource lifecycle.
//!
//! Whatever happens inside (bad input, ECS errors, a panic, a lifecycle that overruns), the
//! stack gets an answer before the deadline — or, on Lambda, the wait is handed over to a
//! fresh invocation that answers later. Errors become the answer's `Reason` here and
//! nowhere else.

mod routing;
mod work;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::time::Instant;
use tracing::Instrument;

pub use routing::{budget_for, client_token, effective_properties, flavour_of};
use work::{failure_with_journal, panic_message, HandOverContext, Outcome, Work};

use crate::callback::{self, CallbackError, Delivery};
use crate::ecs::EcsClient;
use crate::envelope::{
    self, Answer, AnswerBody, AnswerTarget, Event, EventError, Rejected, RequestType,
};
use crate::handover::{Continuation, Invoker, MAX_HAND_OVERS};
use crate::lifecycle::{Journal, FAILED_CREATE_MARKER};
use crate::model::{self, Context};
use crate::settings::Settings;

#[derive(Debug)]
pub struct Handled {
    pub body: AnswerBody,
    pub delivery: Delivery,
}

/// Why this invocation delivered no answer.
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
    /// Not a failure: the copy is still under way and a fresh invocation carries on the
    /// wait; it will answer the stack.
    #[error(
        "the wait for {image_id} was handed over to a new invocation (hand-over {hand_overs})"
    )]
    HandedOver { image_id: String, hand_overs: u32 },
}

pub struct Handler {
    ecs: Result<Arc<EcsClient>, String>,
    invoker: Option<Invoker>,
    settings: Settings,
}

impl Handler {
    /// Builds the ECS client from the settings; a configuration problem is kept and reported
    /// to each stack that needs ECS, rather than crashing the function.
    pub fn new(settings: Settings) -> Self {
        let ecs = settings.ecs_client().map(Arc::new);
        Self::build(ecs, settings)
    }

    pub fn with_client(ecs: EcsClient, settings: Settings) -> Self {
        Self::build(Ok(Arc::new(ecs)), settings)
    }

    fn build(ecs: Result<Arc<EcsClient>, String>, settings: Settings) -> Self {
        Handler {
            ecs,
            invoker: settings.handover.clone().map(Invoker::new),
            settings,
        }
    }

    /// Continuation records are signed with the Alibaba Cloud secret: only this function
    /// (or whoever holds its secret) can write one.
    fn record_key(&self) -> Option<Vec<u8>> {
        match &self.settings.credentials {
            Ok(Some(credentials)) => Some(credentials.secret().as_bytes().to_vec()),
            _ => None,
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
                    let decision = match self.prepare(&event) {
                        Ok(ready) => self.run(&event, ready, deadline).await,
                        Err(answer) => Decision::Answer(answer),
                    };
                    match decision {
                        Decision::Answer(answer) => {
                            self.answer(&event.target, &answer, deadline).await
                        }
                        Decision::HandedOver {
                            image_id,
                            hand_overs,
                        } => Err(HandleError::HandedOver {
                            image_id,
                            hand_overs,
                        }),
                    }
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
                    let answer = malformed_event_answer(&target, &error);
                    self.answer(&target, &answer, deadline).await
                }
                .instrument(span)
                .await
            }
        }
    }

    /// The answer `handle` would send for `raw` when it is decided before any ECS call
    /// (a malformed event, an unknown type, invalid properties, a configuration problem, a
    /// refused continuation, a Delete of an id this handler never created), without sending
    /// it. `Ok(None)`: the event needs ECS. `Err`: the event cannot be answered at all. It
    /// shares every step with `handle`, so property tests can afford many cases without HTTP.
    pub fn answer_without_ecs(
        &self,
        raw: &[u8],
    ) -> Result<Option<(AnswerTarget, Answer)>, EventError> {
        match envelope::parse(raw) {
            Ok(event) => Ok(self
                .prepare(&event)
                .err()
                .map(|answer| (event.target, answer))),
            Err(Rejected::Unanswerable(error)) => Err(error),
            Err(Rejected::Invalid { target, error }) => {
                let answer = malformed_event_answer(&target, &error);
                Ok(Some((*target, answer)))
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
        match callback::deliver(target, &body, deadline).await {
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

    /// Everything decided before ECS; `Err` is the answer when that is already the end.
    fn prepare(&self, event: &Event) -> Result<Ready, Answer> {
        let physical_in = event
            .target
            .physical_resource_id
            .clone()
            .unwrap_or_else(|| FAILED_CREATE_MARKER.to_string());
        let fail = |reason: String| Answer::failed(physical_in.clone(), reason);
        let properties = effective_properties(&event.properties);
        let flavour = match flavour_of(&event.resource_type, &properties) {
            Ok(f) => f,
            Err(reason) => return Err(fail(reason)),
        };
        if event.request_type == RequestType::Delete
            && crate::lifecycle::is_foreign_physical_id(&physical_in)
        {
            tracing::info!(physical_resource_id = %physical_in, "nothing was created; delete succeeds without calls");
            return Err(Answer::success(physical_in, HashMap::new()));
        }
        let ctx = Context {
            stack_region_id: event.region_id.clone(),
            configured_region_id: self.settings.region_id.clone(),
            default_timeout: self.settings.ros_timeout,
        };
        let spec = match model::validate(flavour, &properties, &ctx) {
            Ok(spec) => spec,
            Err(violations) => {
                return Err(fail(format!(
                    "Invalid properties for {}: {violations}",
                    flavour.type_name()
                )))
            }
        };
        let ecs = match &self.ecs {
            Ok(ecs) => Arc::clone(ecs),
            Err(problem) => return Err(fail(format!("Configuration error: {problem}"))),
        };
        let key = self.record_key();
        let resume = match Continuation::from_event(
            &event.raw,
            &event.target,
            event.request_type,
            key.as_deref(),
        ) {
            Ok(resume) => resume,
            Err(refused) => return Err(fail(format!("Refused to resume: {refused}"))),
        };
        let hand_overs_so_far = resume.as_ref().map_or(0, |r| r.hand_overs);
        let hand_over = match (&self.invoker, key) {
            (Some(invoker), Some(key)) if hand_overs_so_far < MAX_HAND_OVERS => {
                Some(HandOverContext {
                    invoker: invoker.clone(),
                    key,
                    target: event.target.clone(),
                    raw: event.raw.clone(),
                    hand_overs_so_far,
                })
            }
            _ => None,
        };
        let old_spec = event
            .old_properties
            .as_ref()
            .and_then(|old| model::validate(flavour, &effective_properties(old), &ctx).ok());
        Ok(Ready {
            flavour,
            spec,
            old_spec,
            ecs,
            physical_in,
            resume,
            hand_over,
        })
    }

    /// Runs the lifecycle against ECS and turns its outcome into the answer (or hand-over).
    async fn run(&self, event: &Event, ready: Ready, deadline: Instant) -> Decision {
        let Ready {
            flavour,
            spec,
            old_spec,
            ecs,
            physical_in,
            resume,
            hand_over,
        } = ready;
        let budget = budget_for(deadline, hand_over.is_some());
        let journal = Journal::default();
        let work = Work {
            ecs,
            journal: journal.clone(),
            request_type: event.request_type,
            spec: spec.clone(),
            old_spec,
            physical_id: physical_in.clone(),
            client_token: client_token(&event.target),
            budget,
            resume,
            hand_over,
        };
        // Spawned so that a panic inside the lifecycle is caught and still answered.
        let task = tokio::spawn(work.run().in_current_span());
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
            Ok(Outcome::Done(image_id)) => {
                let data = model::attributes(flavour, &spec, &image_id)
                    .into_iter()
                    .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                    .collect();
                Decision::Answer(Answer::success(image_id, data))
            }
            Ok(Outcome::HandedOver {
                image_id,
                hand_overs,
            }) => Decision::HandedOver {
                image_id,
                hand_overs,
            },
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
                Decision::Answer(Answer::failed(physical, reason))
            }
        }
    }
}

enum Decision {
    Answer(Answer),
    HandedOver { image_id: String, hand_overs: u32 },
}

/// What ECS work needs, once the event passed every check.
struct Ready {
    flavour: crate::model::Flavour,
    spec: crate::model::CopySpec,
    old_spec: Option<crate::model::CopySpec>,
    ecs: Arc<EcsClient>,
    physical_in: String,
    resume: Option<Continuation>,
    hand_over: Option<HandOverContext>,
}

fn malformed_event_answer(target: &AnswerTarget, error: &EventError) -> Answer {
    let physical = target
        .physical_resource_id
        .clone()
        .unwrap_or_else(|| FAILED_CREATE_MARKER.to_string());
    Answer::failed(physical, format!("Malformed event: {error}"))
}
