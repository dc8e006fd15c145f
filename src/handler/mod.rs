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

use std::sync::Arc;

use tokio::time::Instant;
use tracing::Instrument;

use bounded::{run_bounded, Bounded};
use deadline::effective_deadline;
use prepare::{decided_by_physical_id, Ready};
pub use routing::{budget_for, client_token, effective_properties, flavour_of};
use work::{failure_with_journal, Work};

use crate::callback::{self, CallbackError, Delivery};
use crate::ecs::EcsClient;
use crate::envelope::{
    self, Answer, AnswerBody, AnswerTarget, Event, EventError, Rejected, RequestType,
};
use crate::handover::Invoker;
use crate::lifecycle::{Journal, FAILED_CREATE_MARKER};
use crate::logging::event_span;
use crate::model;
use crate::settings::Settings;

/// How an event ended in this invocation. `A` is what an answered event carries at each
/// stage: the image id the lifecycle finished with, then the answer decided, then (what
/// callers of [`Handler::handle`] see) the answer delivered.
#[derive(Debug)]
pub enum Handled<A = Answered> {
    Answered(A),
    /// The copy is still under way and a fresh invocation carries on the wait; it will
    /// answer the stack.
    HandedOver {
        image_id: String,
        hand_overs: u32,
    },
}

/// An answer the stack engine accepted.
#[derive(Debug)]
pub struct Answered {
    pub body: AnswerBody,
    pub delivery: Delivery,
}

/// Why this invocation delivered no answer (and none will follow).
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

    /// Handles one event that arrived as bytes and delivers its answer before `deadline`.
    pub async fn handle(&self, raw: &[u8], deadline: Instant) -> Result<Handled, HandleError> {
        self.handle_parsed(envelope::parse(raw), deadline).await
    }

    /// [`Handler::handle`] for an event already parsed as JSON (Lambda's payload).
    pub async fn handle_value(
        &self,
        event: serde_json::Value,
        deadline: Instant,
    ) -> Result<Handled, HandleError> {
        self.handle_parsed(envelope::parse_value(event), deadline)
            .await
    }

    async fn handle_parsed(
        &self,
        parsed: Result<Event, Rejected>,
        deadline: Instant,
    ) -> Result<Handled, HandleError> {
        match parsed {
            Ok(event) => {
                // Every line logged for this event, the answer included, carries its identity.
                let span = event_span(
                    Some(event.request_type),
                    &event.target,
                    event.stack_name.as_deref(),
                );
                async {
                    let decided = match self.prepare(&event) {
                        Ok(ready) => self.run(&event, ready, deadline).await,
                        Err(answer) => Handled::Answered(answer),
                    };
                    match decided {
                        Handled::Answered(answer) => self
                            .answer(&event.target, &answer, deadline)
                            .await
                            .map(Handled::Answered),
                        Handled::HandedOver {
                            image_id,
                            hand_overs,
                        } => Ok(Handled::HandedOver {
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
                    self.answer(&target, &answer, deadline)
                        .await
                        .map(Handled::Answered)
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
    ) -> Result<Answered, HandleError> {
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
            Ok(delivery) => Ok(Answered { body, delivery }),
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
    async fn run(&self, event: &Event, ready: Ready, deadline: Instant) -> Handled<Answer> {
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
            held_image: ready.held_image.clone(),
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
            Ok(Handled::Answered(image_id)) => {
                let data = model::attributes(ready.flavour, &ready.spec, &image_id)
                    .into_iter()
                    .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                    .collect();
                Handled::Answered(Answer::success(ready.physical_id_for(&image_id), data))
            }
            Ok(Handled::HandedOver {
                image_id,
                hand_overs,
            }) => Handled::HandedOver {
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
                Handled::Answered(Answer::failed(physical, reason))
            }
        }
    }
}

/// A malformed event is answered FAILED, except a Delete that names nothing this handler
/// can have made: [`decided_by_physical_id`] answers it SUCCESS before anything else, so a
/// rollback never fails on a broken event either.
fn malformed_event_answer(
    target: &AnswerTarget,
    request_type: Option<RequestType>,
    error: &EventError,
) -> Answer {
    let physical = target
        .physical_resource_id
        .clone()
        .unwrap_or_else(|| FAILED_CREATE_MARKER.to_string());
    match decided_by_physical_id(request_type, physical) {
        Ok((physical, _)) => Answer::failed(physical, format!("Malformed event: {error}")),
        Err(answer) => answer,
    }
}
