//! The image copy as a resource: create, update and delete in one place.
//!
//! Each operation works on validated [`CopySpec`]s and talks to ECS only through the few
//! operations of [`EcsImages`] ([`EcsClient`] in production, an in-memory fake in the unit
//! tests). It acts only on images the caller has found to be this handler's (the handler
//! decides an id it cannot have made before anything else). Every failure path either removes what it started or reports the image
//! that still exists, so the stack engine's rollback can remove it: nothing is orphaned.
//! A wait that outlives the invocation either ends FAILED with the copy cancelled, or (when
//! the caller can continue elsewhere) comes back [`Progress::Pending`] to be resumed.

mod ecs_images;
mod error;
#[cfg(test)]
mod fake;
pub mod look;
mod physical_id;
mod progress;
pub mod schedule;
mod steps;
mod wait;

use std::time::Duration;

use tokio::time::Instant;

pub use ecs_images::EcsImages;
pub use error::LifecycleError;
use look::CopyWatch;
pub use physical_id::PhysicalId;
pub use progress::{Bound, Budget, Failure, Journal, Pending, Progress, WaitKind};
pub use steps::StartedRemoval;
use wait::{watch_copy, WaitEnd};

use crate::ecs::{CopyImageRequest, EcsClient, Tag as EcsTag};
use crate::model::CopySpec;

/// The physical id answered for a Create that left no image behind. The rollback Delete
/// recognises it and makes no calls.
pub const FAILED_CREATE_MARKER: &str = "ecs-image-copy:create-failed";

pub struct Lifecycle<'a, E: EcsImages = EcsClient> {
    ecs: &'a E,
    journal: Journal,
}

impl<'a, E: EcsImages> Lifecycle<'a, E> {
    pub fn new(ecs: &'a E, journal: Journal) -> Self {
        Lifecycle { ecs, journal }
    }

    /// Copies the image and waits until the copy is usable. `client_token` makes a repeated
    /// delivery of the same event find the same copy instead of starting another.
    ///
    /// Once CopyImage has answered an id, a failure names it even when the copy was seen
    /// removed: a copy ECS does not list yet looks the same as one already gone, and a
    /// duplicated delivery (handed the same id for its ClientToken) must answer alike. The
    /// rollback's Delete of an image that is gone makes one DescribeImages call.
    pub async fn create(
        &self,
        spec: &CopySpec,
        client_token: &str,
        budget: Budget,
    ) -> Result<Progress, Failure> {
        self.start_copy(spec, client_token, budget)
            .await
            .map_err(|mut failure| {
                if failure.leftover_image_id.is_none() {
                    failure.leftover_image_id = self.journal.started_image();
                }
                failure
            })
    }

    /// Create's work without the naming rule: an Update's failed replacement is never the
    /// stack's to remove, so it must be removed here or reported as left behind.
    async fn start_copy(
        &self,
        spec: &CopySpec,
        client_token: &str,
        budget: Budget,
    ) -> Result<Progress, Failure> {
        if spec.is_same_region_no_copy() {
            return self.confirm_source(spec, budget).await.map(Progress::Done);
        }
        let request = copy_request(spec, client_token);
        let started = Instant::now();
        // A busy source is retried (see `ecs::error::TRANSIENT`) for as long as the copy
        // itself could be waited for.
        let copy_deadline = budget.stop_waiting_at.min(started + spec.create_timeout);
        let image_id = self
            .ecs
            .copy_image(&request, copy_deadline)
            .await
            .map_err(|source| LifecycleError::from_copy_image(spec, source))?;
        tracing::info!(%image_id, from = %spec.source_region_id, to = %spec.destination_region_id, "copy started");
        self.await_copy(spec, &image_id, started, None, budget)
            .await
    }

    /// Waits for a started copy (also when resuming in a later invocation, going on from
    /// the `watch` handed over), cleaning up when it fails or its create timeout passes.
    /// `started` is when the copy began. The one place a copy is journalled: every wait,
    /// fresh or resumed, begins here.
    pub async fn await_copy(
        &self,
        spec: &CopySpec,
        image_id: &str,
        started: Instant,
        watch: Option<CopyWatch>,
        budget: Budget,
    ) -> Result<Progress, Failure> {
        let mut watch = watch.unwrap_or_default();
        self.journal.record(image_id);
        let region = &spec.destination_region_id;
        let timeout_at = started + spec.create_timeout;
        let invocation_limited = timeout_at > budget.stop_waiting_at;
        let stop_at = timeout_at.min(budget.stop_waiting_at);
        let waited = watch_copy(self.ecs, region, image_id, started, stop_at, &mut watch).await;
        let error = match waited {
            Ok(WaitEnd::Available) => {
                tracing::info!(%image_id, %region, "copy available");
                return Ok(Progress::Done(image_id.to_string()));
            }
            Ok(WaitEnd::Vanished) => {
                // Named all the same: an image ECS lists late may still appear, and the
                // rollback's Delete of an image that is gone costs one look.
                return Err(Failure {
                    error: LifecycleError::Vanished {
                        image_id: image_id.to_string(),
                        region: region.clone(),
                    },
                    leftover_image_id: Some(image_id.to_string()),
                });
            }
            Ok(WaitEnd::TimedOut { progress })
                if invocation_limited && budget.may_continue_elsewhere =>
            {
                return Ok(Progress::Pending(Pending {
                    kind: WaitKind::Copy,
                    image_id: image_id.to_string(),
                    started,
                    snapshot_ids: Vec::new(),
                    last_seen: progress,
                    watch: Some(Box::new(watch)),
                }));
            }
            Ok(WaitEnd::Failed(status)) => LifecycleError::CopyFailed {
                image_id: image_id.to_string(),
                region: region.clone(),
                status,
            },
            Ok(WaitEnd::TimedOut { progress }) => LifecycleError::CopyTimedOut {
                image_id: image_id.to_string(),
                limit: if invocation_limited {
                    budget.bound.to_string()
                } else {
                    format!("create timeout of {}", show(spec.create_timeout))
                },
                progress,
            },
            Err(source) => LifecycleError::Ecs {
                step: "DescribeImages",
                source,
            },
        };
        Err(self.abandon_copy(spec, image_id, error, budget).await)
    }

    /// Cancels or removes a copy that will not be used, and says what is left: the image is
    /// named unless it was seen listed and then seen gone, so that the rollback's Delete
    /// finishes a cancel that takes longer than this invocation has left, and finds a copy
    /// too new to be listed yet.
    pub async fn abandon_copy(
        &self,
        spec: &CopySpec,
        image_id: &str,
        error: LifecycleError,
        budget: Budget,
    ) -> Failure {
        match self
            .remove_image(spec, image_id, &[], budget.cleanup_by)
            .await
        {
            Ok(removal) => {
                let confirmed = removal.gone && removal.was_listed;
                if !removal.gone {
                    tracing::info!(%image_id, "removal under way; the stack's rollback finishes it");
                }
                Failure {
                    error,
                    leftover_image_id: (!confirmed).then(|| image_id.to_string()),
                }
            }
            Err(cleanup) => Failure {
                error: LifecycleError::CleanupFailed {
                    context: Box::new(error),
                    image_id: image_id.to_string(),
                    cleanup: Box::new(cleanup),
                },
                leftover_image_id: Some(image_id.to_string()),
            },
        }
    }

    /// Applies a change: in place when only name, description or tags changed and the type
    /// allows it, else by a new copy (the engine deletes the old one afterwards). `held` is
    /// the copy the stack holds, when its physical id names one.
    pub async fn update(
        &self,
        old: &CopySpec,
        new: &CopySpec,
        held: Option<&str>,
        client_token: &str,
        budget: Budget,
    ) -> Result<Progress, Failure> {
        if same_copy(old, new) {
            if let Some(image_id) = held.filter(|_| new.updatable_in_place) {
                self.update_in_place(old, new, image_id, budget).await?;
            }
            return Ok(Progress::Kept);
        }
        let old_copy = held.filter(|_| !old.is_same_region_no_copy());
        if let (Some(name), Some(old_image_id)) = (&new.image_name, old_copy) {
            if old.image_name.as_ref() == Some(name)
                && old.destination_region_id == new.destination_region_id
                && !new.is_same_region_no_copy()
            {
                return Err(LifecycleError::NameCollision {
                    name: name.clone(),
                    region: new.destination_region_id.clone(),
                    old_image_id: old_image_id.to_string(),
                }
                .into());
            }
        }
        tracing::info!(
            old = held.unwrap_or("none"),
            "create-only property changed; replacing the copy"
        );
        self.start_copy(new, client_token, budget).await
    }

    /// Removes the copy `physical_id` names (an id this handler made: the caller has
    /// answered the others). The source image of a no-copy and images already gone succeed
    /// without harm. `started` is when the delete began (earlier than now when resuming);
    /// `known_snapshots` are those recorded then.
    pub async fn delete(
        &self,
        spec: &CopySpec,
        physical_id: &str,
        started: Instant,
        known_snapshots: &[String],
        budget: Budget,
    ) -> Result<Progress, Failure> {
        if physical_id == spec.source_image_id {
            tracing::info!(%physical_id, "the source image stands in for a same-region copy; kept");
            return Ok(Progress::Done(physical_id.to_string()));
        }
        let timeout_at = started + spec.delete_timeout;
        let invocation_limited = timeout_at > budget.stop_waiting_at;
        let stop_at = timeout_at.min(budget.stop_waiting_at);
        let leftover = |error| Failure {
            error,
            leftover_image_id: Some(physical_id.to_string()),
        };
        let removal = self
            .remove_image(spec, physical_id, known_snapshots, stop_at)
            .await
            .map_err(leftover)?;
        if removal.gone {
            return Ok(Progress::Done(physical_id.to_string()));
        }
        if invocation_limited && budget.may_continue_elsewhere {
            return Ok(Progress::Pending(Pending {
                kind: WaitKind::Delete,
                image_id: physical_id.to_string(),
                started,
                snapshot_ids: removal.snapshot_ids,
                last_seen: "still present after DeleteImage".to_string(),
                watch: None,
            }));
        }
        Err(leftover(LifecycleError::DeleteTimedOut {
            image_id: physical_id.to_string(),
            timeout: spec.delete_timeout,
        }))
    }
}

/// The CopyImage call a spec asks for; `client_token` makes a repeated call find the copy
/// the first one started.
pub fn copy_request(spec: &CopySpec, client_token: &str) -> CopyImageRequest {
    CopyImageRequest {
        source_region_id: spec.source_region_id.clone(),
        image_id: spec.source_image_id.clone(),
        destination_region_id: spec.destination_region_id.clone(),
        destination_image_name: spec.image_name.clone(),
        destination_description: spec.description.clone(),
        encrypted: spec.encrypted.then_some(true),
        kms_key_id: spec.kms_key_id.clone(),
        resource_group_id: spec.resource_group_id.clone(),
        tags: spec.tags.iter().map(to_ecs_tag).collect(),
        client_token: Some(client_token.to_string()),
    }
}

/// The copy itself is the same: only in-place attributes or behaviour may differ.
fn same_copy(old: &CopySpec, new: &CopySpec) -> bool {
    old.changed_copy_fields(new).is_empty() && (new.updatable_in_place || old.same_attributes(new))
}

fn to_ecs_tag(tag: &crate::model::Tag) -> EcsTag {
    EcsTag {
        key: tag.key.clone(),
        value: tag.value.clone(),
    }
}

fn show(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod operations_tests;
