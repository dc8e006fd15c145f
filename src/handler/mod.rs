//! One event in, one answer out: the envelope around the resource lifecycle.
//!
//! Whatever happens inside (bad input, ECS errors, a panic, a lifecycle that overruns), the
//! stack gets an answer before the deadline — or, on Lambda, the wait is handed over to a
//! fresh invocation that answers later. Errors become the answer's `Reason` here and
//! nowhere else.

mod bounded;
mod deadline;
mod prepare;
mod routing;
mod work;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::time::Instant;
use tracing::Instrument;

use bounded::{run_bounded, Bounded};
use deadline::effective_deadline;
use prepare::Ready;
pub use routing::{budget_for, client_token, effective_properties, flavour_of};
use work::{failure_with_journal, Outcome, Work};

use crate::callback::{self, CallbackError, Delivery};
use crate::ecs::EcsClient;
use crate::envelope::{
    self, Answer, AnswerBody, AnswerTarget, Event, EventError, Rejected, RequestType,
};
use crate::handover::Invoker;
use crate::lifecycle::{is_foreign_physical_id, Journal, FAILED_CREATE_MARKER};
use crate::logging::event_span;
use crate::model;
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
                let span = event_span(
                    Some(event.request_type),
                    &event.target,
                    event.stack_name.as_deref(),
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
            Err(Rejected::Invalid {
                target,
                request_type,
                error,
            }) => {
                let span = event_span(request_type, &target, None);
                async {
                    tracing::warn!(%error, "malformed event");
                    let answer = malformed_event_answer(&target, request_type, &error);
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
            Err(Rejected::Invalid {
                target,
                request_type,
                error,
            }) => {
                let answer = malformed_event_answer(&target, request_type, &error);
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

    /// Runs the lifecycle against ECS and turns its outcome into the answer (or hand-over).
    async fn run(&self, event: &Event, ready: Ready, deadline: Instant) -> Decision {
        let (deadline, bound, may_continue_elsewhere) =
            effective_deadline(deadline, ready.engine_deadline, ready.hand_over.is_some());
        let budget = budget_for(deadline, may_continue_elsewhere, bound);
        let journal = Journal::default();
        let work = Work {
            ecs: Arc::clone(&ready.ecs),
            journal: journal.clone(),
            request_type: event.request_type,
            spec: ready.spec.clone(),
            old_spec: ready.old_spec.clone(),
            physical_id: ready.image_in.clone(),
            client_token: client_token(&event.target),
            budget,
            resume: ready.resume.clone(),
            hand_over: ready.hand_over.clone(),
        };
        let overrun_at = budget.cleanup_by + (deadline - budget.cleanup_by) / 2;
        let result = match run_bounded(work.run().in_current_span(), overrun_at).await {
            Bounded::Finished(result) => result,
            Bounded::Panicked(detail) => {
                tracing::error!(%detail, "the lifecycle panicked");
                Err(failure_with_journal(
                    &journal,
                    format!("internal error: {detail}"),
                ))
            }
            Bounded::Aborted => {
                tracing::error!("the lifecycle overran its budget and was stopped");
                Err(failure_with_journal(
                    &journal,
                    "internal error: the operation overran its time budget".into(),
                ))
            }
        };
        match result {
            Ok(Outcome::Done(image_id)) => {
                let data = model::attributes(ready.flavour, &ready.spec, &image_id)
                    .into_iter()
                    .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                    .collect();
                Decision::Answer(Answer::success(ready.physical_id_for(&image_id), data))
            }
            Ok(Outcome::HandedOver {
                image_id,
                hand_overs,
            }) => Decision::HandedOver {
                image_id,
                hand_overs,
            },
            Err(failure) => {
                let physical = match (event.request_type, &failure.leftover_image_id) {
                    (RequestType::Create, Some(left)) => ready.physical_id_for(left),
                    _ => ready.physical_in.clone(),
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

/// A Delete that names nothing this handler can have made is answered SUCCESS even when the
/// rest of the event is broken: the id decides first, so a rollback never fails on it.
fn malformed_event_answer(
    target: &AnswerTarget,
    request_type: Option<RequestType>,
    error: &EventError,
) -> Answer {
    let physical = target
        .physical_resource_id
        .clone()
        .unwrap_or_else(|| FAILED_CREATE_MARKER.to_string());
    if request_type == Some(RequestType::Delete) && is_foreign_physical_id(&physical) {
        tracing::info!(physical_resource_id = %physical, "nothing was created; delete succeeds without calls");
        return Answer::success(physical, HashMap::new());
    }
    Answer::failed(physical, format!("Malformed event: {error}"))
}
