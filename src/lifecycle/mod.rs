//! The image copy as a resource: create, update and delete in one place.
//!
//! Each operation works on validated [`CopySpec`]s and talks to ECS only through
//! [`EcsClient`]. Every failure path either removes what it started or reports the image
//! that still exists, so the stack engine's rollback can remove it: nothing is orphaned.

mod error;
pub mod schedule;
mod wait;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

pub use error::LifecycleError;
use wait::{wait_for_copy, WaitEnd};

use crate::ecs::{CopyImageRequest, EcsClient, ImageStatus, Tag as EcsTag};
use crate::model::CopySpec;

/// The physical id answered for a Create that left no image behind. The rollback Delete
/// recognises it and makes no calls.
pub const FAILED_CREATE_MARKER: &str = "ecs-image-copy:create-failed";

/// Time limits for one operation.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Stop waiting for ECS here, leaving time to clean up and answer.
    pub stop_waiting_at: Instant,
    /// Cleanup calls (cancel, delete) must be done by here so the answer still goes out.
    pub cleanup_by: Instant,
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
    /// An image that exists and belongs to this resource (rollback must remove it).
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

/// True for ids that can only have come from a Create that made nothing, or from somewhere
/// else entirely: a Delete of those must not touch ECS.
pub fn is_foreign_physical_id(physical_id: &str) -> bool {
    let Some(rest) = physical_id.strip_prefix("m-") else {
        return true;
    };
    rest.is_empty()
        || rest.len() > 62
        || !rest
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
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
    pub async fn create(
        &self,
        spec: &CopySpec,
        client_token: &str,
        budget: Budget,
    ) -> Result<String, Failure> {
        if spec.is_same_region_no_copy() {
            return self.confirm_source(spec, budget).await;
        }
        let request = CopyImageRequest {
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
        };
        let image_id = self
            .ecs
            .copy_image(&request, budget.stop_waiting_at)
            .await
            .map_err(LifecycleError::ecs("CopyImage"))?;
        self.journal.record(&image_id);
        tracing::info!(%image_id, from = %spec.source_region_id, to = %spec.destination_region_id, "copy started");
        self.await_copy(spec, &image_id, Instant::now(), budget)
            .await
    }

    /// Waits for a started copy, cleaning up when it fails or runs out of time.
    /// `started` is when the copy began, which bounds it by the create timeout.
    pub async fn await_copy(
        &self,
        spec: &CopySpec,
        image_id: &str,
        started: Instant,
        budget: Budget,
    ) -> Result<String, Failure> {
        let region = &spec.destination_region_id;
        let timeout_at = started + spec.create_timeout;
        let (stop_at, limit) = if timeout_at <= budget.stop_waiting_at {
            (
                timeout_at,
                format!("create timeout of {}", show(spec.create_timeout)),
            )
        } else {
            (
                budget.stop_waiting_at,
                "time this invocation has left".to_string(),
            )
        };
        let end = wait_for_copy(self.ecs, region, image_id, stop_at).await;
        let error = match end {
            Ok(WaitEnd::Available) => {
                tracing::info!(%image_id, %region, "copy available");
                return Ok(image_id.to_string());
            }
            Ok(WaitEnd::Vanished) => {
                return Err(LifecycleError::Vanished {
                    image_id: image_id.to_string(),
                    region: region.clone(),
                }
                .into())
            }
            Ok(WaitEnd::Failed(status)) => LifecycleError::CopyFailed {
                image_id: image_id.to_string(),
                region: region.clone(),
                status,
            },
            Ok(WaitEnd::TimedOut { progress }) => LifecycleError::CopyTimedOut {
                image_id: image_id.to_string(),
                limit,
                progress,
            },
            Err(source) => LifecycleError::Ecs {
                step: "DescribeImages",
                source,
            },
        };
        Err(self.abandon_copy(spec, image_id, error, budget).await)
    }

    /// Cancels or removes a copy that will not be used, and says what is left.
    async fn abandon_copy(
        &self,
        spec: &CopySpec,
        image_id: &str,
        error: LifecycleError,
        budget: Budget,
    ) -> Failure {
        match self.remove_image(spec, image_id, budget.cleanup_by).await {
            Ok(()) => Failure {
                error,
                leftover_image_id: None,
            },
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

    async fn confirm_source(&self, spec: &CopySpec, budget: Budget) -> Result<String, Failure> {
        let found = self
            .ecs
            .describe_image(
                &spec.source_region_id,
                &spec.source_image_id,
                budget.stop_waiting_at,
            )
            .await
            .map_err(LifecycleError::ecs("DescribeImages"))?;
        match found {
            Some(_) => Ok(spec.source_image_id.clone()),
            None => Err(LifecycleError::SourceMissing {
                image_id: spec.source_image_id.clone(),
                region: spec.source_region_id.clone(),
            }
            .into()),
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
    ) -> Result<String, Failure> {
        if same_copy(old, new) {
            if new.updatable_in_place && !is_foreign_physical_id(physical_id) {
                self.update_in_place(old, new, physical_id, budget).await?;
            }
            return Ok(physical_id.to_string());
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
        self.create(new, client_token, budget).await
    }

    async fn update_in_place(
        &self,
        old: &CopySpec,
        new: &CopySpec,
        image_id: &str,
        budget: Budget,
    ) -> Result<(), Failure> {
        let region = &new.destination_region_id;
        let deadline = budget.stop_waiting_at;
        // An unset name or description cannot be cleared on ECS; it keeps its value, as
        // Terraform's provider does.
        let name = new
            .image_name
            .as_deref()
            .filter(|_| new.image_name != old.image_name);
        let description = new
            .description
            .as_deref()
            .filter(|_| new.description != old.description);
        if name.is_some() || description.is_some() {
            self.ecs
                .modify_image_attribute(region, image_id, name, description, deadline)
                .await
                .map_err(LifecycleError::ecs("ModifyImageAttribute"))?;
        }
        let removed: Vec<String> = old
            .tags
            .iter()
            .filter(|t| !new.tags.iter().any(|n| n.key == t.key))
            .map(|t| t.key.clone())
            .collect();
        if !removed.is_empty() {
            self.ecs
                .untag_resources(region, image_id, &removed, deadline)
                .await
                .map_err(LifecycleError::ecs("UntagResources"))?;
        }
        let added: Vec<EcsTag> = new
            .tags
            .iter()
            .filter(|t| !old.tags.contains(t))
            .map(to_ecs_tag)
            .collect();
        if !added.is_empty() {
            self.ecs
                .tag_resources(region, image_id, &added, deadline)
                .await
                .map_err(LifecycleError::ecs("TagResources"))?;
        }
        tracing::info!(%image_id, "updated in place");
        Ok(())
    }

    /// Removes the copy. Ids this handler never created, the source image of a no-copy,
    /// and images already gone all succeed without harm.
    pub async fn delete(
        &self,
        spec: &CopySpec,
        physical_id: &str,
        budget: Budget,
    ) -> Result<(), Failure> {
        if is_foreign_physical_id(physical_id) {
            tracing::info!(%physical_id, "not an image this handler created; nothing to delete");
            return Ok(());
        }
        if physical_id == spec.source_image_id {
            tracing::info!(%physical_id, "the source image stands in for a same-region copy; kept");
            return Ok(());
        }
        let stop_at = budget
            .stop_waiting_at
            .min(Instant::now() + spec.delete_timeout);
        self.remove_image(spec, physical_id, stop_at)
            .await
            .map_err(|error| Failure {
                error,
                leftover_image_id: Some(physical_id.to_string()),
            })
    }

    /// Cancels a running copy or deletes a finished one, waits until it is gone, then
    /// deletes its snapshots when asked to.
    async fn remove_image(
        &self,
        spec: &CopySpec,
        image_id: &str,
        stop_at: Instant,
    ) -> Result<(), LifecycleError> {
        let region = &spec.destination_region_id;
        let Some(image) = self
            .ecs
            .describe_image(region, image_id, stop_at)
            .await
            .map_err(LifecycleError::ecs("DescribeImages"))?
        else {
            tracing::info!(%image_id, %region, "already gone");
            return Ok(());
        };
        let result = match image.status {
            ImageStatus::Waiting | ImageStatus::Creating => {
                tracing::info!(%image_id, %region, "cancelling the unfinished copy");
                self.ecs.cancel_copy_image(region, image_id, stop_at).await
            }
            _ => {
                tracing::info!(%image_id, %region, force = spec.force_delete, "deleting image");
                self.ecs
                    .delete_image(region, image_id, spec.force_delete, stop_at)
                    .await
            }
        };
        match result {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(source) => {
                return Err(LifecycleError::Ecs {
                    step: "DeleteImage",
                    source,
                })
            }
        }
        wait::wait_until_gone(self.ecs, region, image_id, stop_at)
            .await
            .map_err(LifecycleError::ecs("DescribeImages"))?
            .then_some(())
            .ok_or_else(|| LifecycleError::DeleteTimedOut {
                image_id: image_id.to_string(),
                timeout: spec.delete_timeout,
            })?;
        if spec.delete_auto_snapshot {
            for snapshot_id in &image.snapshot_ids {
                match self
                    .ecs
                    .delete_snapshot(region, snapshot_id, true, stop_at)
                    .await
                {
                    Ok(()) => tracing::info!(%snapshot_id, "snapshot deleted"),
                    Err(e) if e.is_not_found() => {}
                    Err(source) => {
                        return Err(LifecycleError::Ecs {
                            step: "DeleteSnapshot",
                            source,
                        })
                    }
                }
            }
        }
        Ok(())
    }
}

/// The copy itself is the same: only in-place attributes or behaviour may differ.
fn same_copy(old: &CopySpec, new: &CopySpec) -> bool {
    let copy_fields = |s: &CopySpec| {
        (
            s.source_image_id.clone(),
            s.source_region_id.clone(),
            s.destination_region_id.clone(),
            s.encrypted,
            s.kms_key_id.clone(),
            s.resource_group_id.clone(),
            s.allow_copy_in_same_region,
        )
    };
    let attributes = |s: &CopySpec| (s.image_name.clone(), s.description.clone(), s.tags.clone());
    copy_fields(old) == copy_fields(new)
        && (new.updatable_in_place || attributes(old) == attributes(new))
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
