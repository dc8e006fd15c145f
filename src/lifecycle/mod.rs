//! The image copy as a resource: create, update and delete in one place.
//!
//! Each operation works on validated [`CopySpec`]s and talks to ECS only through
//! [`EcsClient`]. Every failure path either removes what it started or reports the image
//! that still exists, so the stack engine's rollback can remove it: nothing is orphaned.
//! A wait that outlives the invocation either ends FAILED with the copy cancelled, or (when
//! the caller can continue elsewhere) comes back [`Progress::Pending`] to be resumed.

mod error;
pub mod look;
mod physical_id;
pub mod schedule;
mod steps;
mod wait;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

pub use error::LifecycleError;
use look::CopyWatch;
pub use physical_id::{is_foreign_physical_id, PhysicalId};
pub use steps::StartedRemoval;
use wait::{watch_copy, WaitEnd};

use crate::ecs::{CopyImageRequest, EcsClient, Tag as EcsTag};
use crate::model::CopySpec;

/// The physical id answered for a Create that left no image behind. The rollback Delete
/// recognises it and makes no calls.
pub const FAILED_CREATE_MARKER: &str = "ecs-image-copy:create-failed";

/// Time limits for one operation within one invocation.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Stop waiting for ECS here, leaving time to clean up and answer.
    pub stop_waiting_at: Instant,
    /// Cleanup calls (cancel, delete) must be done by here so the answer still goes out.
    pub cleanup_by: Instant,
    /// When this invocation runs out before the operation's own timeout, hand back
    /// [`Progress::Pending`] instead of giving up (another invocation will resume).
    pub may_continue_elsewhere: bool,
    /// What set `cleanup_by`, for the reason of a copy that timed out against it.
    pub bound: Bound,
}

/// The limit a budget was cut to: this invocation's time, or the stack engine's wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Invocation,
    /// `key` is the template's setting (`ServiceTimeout`, `Timeout`) or the engine's default.
    Engine {
        key: &'static str,
        seconds: u32,
    },
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Invocation => f.write_str("time this invocation has left"),
            Bound::Engine { key, seconds } => write!(
                f,
                "time the stack engine waits for the answer ({key} {seconds}s, less a safety margin)"
            ),
        }
    }
}

/// What a pending operation is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaitKind {
    /// A copy becoming Available (Create, or Update by replacement).
    Copy,
    /// An image disappearing (Delete).
    Delete,
}

/// How far an operation got in this invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Finished; the image id to answer with.
    Done(String),
    /// Still under way when this invocation's time ran out, within the operation's timeout.
    Pending(Pending),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub kind: WaitKind,
    pub image_id: String,
    /// When the operation began; its timeout counts from here.
    pub started: Instant,
    /// Snapshots to delete once the image is gone (Delete with `DeleteAutoSnapshot`).
    pub snapshot_ids: Vec<String>,
    /// The last state seen, for logs.
    pub last_seen: String,
    /// What the copy wait has learnt, for the next driver to go on from (Copy only).
    pub watch: Option<Box<CopyWatch>>,
}

/// Records the image a Create started, so that even if the handler dies mid-way (a panic)
/// the answer can name the image and the rollback removes it.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Option<String>>>);

impl Journal {
    pub fn record(&self, image_id: &str) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(image_id.to_string());
    }

    pub fn started_image(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A failed operation and the image it leaves for the stack to own, if any.
#[derive(Debug)]
pub struct Failure {
    pub error: LifecycleError,
    /// An image that may still exist and belongs to this resource: the rollback's Delete
    /// removes it, or finds it gone.
    pub leftover_image_id: Option<String>,
}

impl From<LifecycleError> for Failure {
    fn from(error: LifecycleError) -> Self {
        Failure {
            error,
            leftover_image_id: None,
        }
    }
}

pub struct Lifecycle<'a> {
    ecs: &'a EcsClient,
    journal: Journal,
}

impl<'a> Lifecycle<'a> {
    pub fn new(ecs: &'a EcsClient, journal: Journal) -> Self {
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
        self.journal.record(&image_id);
        tracing::info!(%image_id, from = %spec.source_region_id, to = %spec.destination_region_id, "copy started");
        self.await_copy(spec, &image_id, started, None, budget)
            .await
    }

    /// Waits for a started copy (also when resuming in a later invocation, going on from
    /// the `watch` handed over), cleaning up when it fails or its create timeout passes.
    /// `started` is when the copy began.
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
    /// allows it, else by a new copy (the engine deletes the old one afterwards).
    pub async fn update(
        &self,
        old: &CopySpec,
        new: &CopySpec,
        physical_id: &str,
        client_token: &str,
        budget: Budget,
    ) -> Result<Progress, Failure> {
        if same_copy(old, new) {
            if new.updatable_in_place && !is_foreign_physical_id(physical_id) {
                self.update_in_place(old, new, physical_id, budget).await?;
            }
            return Ok(Progress::Done(physical_id.to_string()));
        }
        let old_is_a_copy = !old.is_same_region_no_copy() && !is_foreign_physical_id(physical_id);
        if let Some(name) = &new.image_name {
            if old_is_a_copy
                && old.image_name.as_ref() == Some(name)
                && old.destination_region_id == new.destination_region_id
                && !new.is_same_region_no_copy()
            {
                return Err(LifecycleError::NameCollision {
                    name: name.clone(),
                    region: new.destination_region_id.clone(),
                    old_image_id: physical_id.to_string(),
                }
                .into());
            }
        }
        tracing::info!(old = %physical_id, "create-only property changed; replacing the copy");
        self.start_copy(new, client_token, budget).await
    }

    /// Removes the copy. Ids this handler never created, the source image of a no-copy,
    /// and images already gone all succeed without harm. `started` is when the delete began
    /// (earlier than now when resuming); `known_snapshots` are those recorded then.
    pub async fn delete(
        &self,
        spec: &CopySpec,
        physical_id: &str,
        started: Instant,
        known_snapshots: &[String],
        budget: Budget,
    ) -> Result<Progress, Failure> {
        if is_foreign_physical_id(physical_id) {
            tracing::info!(%physical_id, "not an image this handler created; nothing to delete");
            return Ok(Progress::Done(physical_id.to_string()));
        }
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
