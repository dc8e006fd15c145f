//! The part of handling an event that talks to ECS: the lifecycle operation and, when it
//! cannot finish in this invocation, the hand-over to the next. Run as its own task so that
//! a panic inside is caught and still answered.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;
use tokio::time::Instant;

use super::Handled;
use crate::ecs::EcsClient;
use crate::envelope::{AnswerTarget, RequestType};
use crate::handover::{Continuation, Invoker, CONTINUATION_KEY};
use crate::lifecycle::{
    Budget, Failure, Journal, Lifecycle, LifecycleError, Pending, Progress, WaitKind,
};
use crate::model::CopySpec;

/// What a hand-over needs: present only when this function can invoke itself.
#[derive(Clone)]
pub(super) struct HandOverContext {
    pub invoker: Invoker,
    /// Signs continuation records.
    pub key: Vec<u8>,
    pub target: AnswerTarget,
    /// The event as received, re-delivered with the record added.
    pub raw: Value,
    pub hand_overs_so_far: u32,
    /// Recorded so that the resumed wait looks where the copy is (TF type only).
    pub region_id: Option<String>,
    /// The engine's deadline, carried so that no invocation in the chain outlives it.
    pub answer_by: Option<SystemTime>,
}

pub(super) struct Work {
    pub ecs: Arc<EcsClient>,
    pub journal: Journal,
    pub request_type: RequestType,
    pub spec: CopySpec,
    pub old_spec: Option<CopySpec>,
    /// The image acted on (the plain id out of a region-qualified physical id), or the
    /// physical id as given when it names none (the failed-create marker). A Delete always
    /// names a copy: `prepare` answered the others.
    pub physical_id: String,
    /// The copy the stack holds, when its physical id names one.
    pub held_image: Option<String>,
    pub client_token: String,
    pub budget: Budget,
    /// Set when this invocation resumes a wait an earlier one handed over.
    pub resume: Option<Continuation>,
    pub hand_over: Option<HandOverContext>,
}

/// `Answered` carries the image id to answer with.
pub(super) type Outcome = Handled<String>;

impl Work {
    pub(super) async fn run(self) -> Result<Outcome, Failure> {
        let lifecycle = Lifecycle::new(self.ecs.as_ref(), self.journal.clone());
        let (spec, budget) = (&self.spec, self.budget);
        let progress = match (&self.resume, self.request_type) {
            (Some(record), RequestType::Delete) => {
                let started = instant_of(record.started());
                lifecycle
                    .delete(
                        spec,
                        &self.physical_id,
                        started,
                        &record.snapshot_ids,
                        budget,
                    )
                    .await
            }
            (Some(record), _) => {
                let started = instant_of(record.started());
                tracing::info!(image_id = %record.image_id, hand_overs = record.hand_overs, "resuming the wait");
                lifecycle
                    .await_copy(
                        spec,
                        &record.image_id,
                        started,
                        record.watch.clone(),
                        budget,
                    )
                    .await
            }
            (None, RequestType::Create) => lifecycle.create(spec, &self.client_token, budget).await,
            (None, RequestType::Update) => match &self.old_spec {
                Some(old) => {
                    lifecycle
                        .update(
                            old,
                            spec,
                            self.held_image.as_deref(),
                            &self.client_token,
                            budget,
                        )
                        .await
                }
                None => lifecycle.create(spec, &self.client_token, budget).await,
            },
            (None, RequestType::Delete) => {
                lifecycle
                    .delete(spec, &self.physical_id, Instant::now(), &[], budget)
                    .await
            }
        }?;
        match progress {
            Progress::Done(image_id) => Ok(Handled::Answered(image_id)),
            Progress::Kept => Ok(Handled::Answered(self.physical_id.clone())),
            Progress::Pending(pending) => self.hand_over(&lifecycle, pending).await,
        }
    }

    /// Invokes the function again with a continuation record; if that fails, gives up
    /// the way an invocation without hand-over would (cancel the copy, answer FAILED).
    async fn hand_over(
        &self,
        lifecycle: &Lifecycle<'_>,
        pending: Pending,
    ) -> Result<Outcome, Failure> {
        let Some(context) = &self.hand_over else {
            // The lifecycle only pends when told it may continue elsewhere.
            return Err(LifecycleError::Internal(
                "a wait was left pending without a way to hand it over".into(),
            )
            .into());
        };
        let hand_overs = context.hand_overs_so_far + 1;
        let record = Continuation::new(
            pending.kind,
            &pending.image_id,
            wall_clock_of(pending.started),
            hand_overs,
            &pending.snapshot_ids,
            &context.target,
            &context.key,
        )
        .scoped(context.region_id.clone(), context.answer_by, &context.key)
        .watching(pending.watch.clone().map(|watch| *watch), &context.key);
        let mut payload = context.raw.clone();
        if let Some(fields) = payload.as_object_mut() {
            fields.insert(
                CONTINUATION_KEY.to_string(),
                serde_json::to_value(&record).expect("a record of strings and numbers serializes"),
            );
        }
        let body = serde_json::to_vec(&payload).expect("JSON values serialize");
        match context
            .invoker
            .invoke_async(&body, self.budget.cleanup_by)
            .await
        {
            Ok(()) => {
                tracing::info!(
                    image_id = %pending.image_id,
                    hand_overs,
                    progress = %pending.last_seen,
                    function = %context.invoker.function_name(),
                    "handed the wait over to a new invocation"
                );
                Ok(Handled::HandedOver {
                    image_id: pending.image_id,
                    hand_overs,
                })
            }
            Err(e) => {
                tracing::error!(error = %e, image_id = %pending.image_id, "hand-over failed");
                let error = LifecycleError::HandOverFailed {
                    image_id: pending.image_id.clone(),
                    progress: pending.last_seen.clone(),
                    detail: e.to_string(),
                };
                match pending.kind {
                    WaitKind::Copy => Err(lifecycle
                        .abandon_copy(&self.spec, &pending.image_id, error, self.budget)
                        .await),
                    WaitKind::Delete => Err(Failure {
                        error,
                        leftover_image_id: Some(pending.image_id),
                    }),
                }
            }
        }
    }
}

pub(super) fn failure_with_journal(journal: &Journal, reason: String) -> Failure {
    Failure {
        error: LifecycleError::Internal(reason),
        leftover_image_id: journal.started_image(),
    }
}

/// Monotonic clocks do not survive a hand-over; wall-clock time does. These convert at
/// the boundary.
fn wall_clock_of(instant: Instant) -> SystemTime {
    SystemTime::now() - Instant::now().saturating_duration_since(instant)
}

fn instant_of(wall: SystemTime) -> Instant {
    let ago = SystemTime::now().duration_since(wall).unwrap_or_default();
    Instant::now().checked_sub(ago).unwrap_or_else(|| {
        tracing::warn!(
            ?ago,
            "operation start predates this clock; counting its timeout from now"
        );
        Instant::now()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn instants_survive_a_round_trip_through_wall_clock_time() {
        let earlier = Instant::now() - Duration::from_secs(90);
        let back = instant_of(wall_clock_of(earlier));
        let drift = if back > earlier {
            back - earlier
        } else {
            earlier - back
        };
        assert!(drift < Duration::from_millis(50), "{drift:?}");
    }
}
