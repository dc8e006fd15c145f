//! The ECS steps the lifecycle is built from.

use tokio::time::Instant;

use super::wait::wait_until_gone;
use super::{to_ecs_tag, Budget, EcsImages, Failure, Lifecycle, LifecycleError};
use crate::ecs::{Image, ImageStatus, Tag as EcsTag};
use crate::model::CopySpec;

/// The result of removing an image.
pub(super) struct Removal {
    pub gone: bool,
    /// Snapshots the image was built on (known before, or read before removing it).
    pub snapshot_ids: Vec<String>,
    /// DescribeImages listed the image when the removal began: a "gone" afterwards is the
    /// removal's doing, not a copy too new to be listed.
    pub was_listed: bool,
}

/// A removal begun: what the image was built on, and whether it was listed then.
#[derive(Debug, Clone)]
pub struct StartedRemoval {
    pub snapshot_ids: Vec<String>,
    pub was_listed: bool,
    /// False when ECS knew no such image at all (neither listed nor cancellable).
    pub existed: bool,
}

fn merge(into: &mut Vec<String>, ids: Vec<String>) {
    for id in ids {
        if !into.contains(&id) {
            into.push(id);
        }
    }
}

impl<E: EcsImages> Lifecycle<'_, E> {
    /// A same-region "copy" is the source image itself: make sure it exists.
    pub(super) async fn confirm_source(
        &self,
        spec: &CopySpec,
        budget: Budget,
    ) -> Result<String, Failure> {
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

    pub async fn update_in_place(
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

    /// Cancels a running copy or deletes a finished one and waits until it is gone; then
    /// deletes its snapshots when the spec asks for it. Not gone by `stop_at` is
    /// `gone: false`, not an error: the caller decides whether that is a failure.
    pub(super) async fn remove_image(
        &self,
        spec: &CopySpec,
        image_id: &str,
        known_snapshots: &[String],
        stop_at: Instant,
    ) -> Result<Removal, LifecycleError> {
        let region = &spec.destination_region_id;
        let started = self
            .start_removal(spec, image_id, known_snapshots, stop_at)
            .await?;
        let gone = wait_until_gone(self.ecs, region, image_id, stop_at)
            .await
            .map_err(LifecycleError::ecs("DescribeImages"))?;
        if gone {
            self.finish_removal(spec, &started.snapshot_ids, stop_at)
                .await?;
        }
        Ok(Removal {
            gone,
            snapshot_ids: started.snapshot_ids,
            was_listed: started.was_listed,
        })
    }

    /// The first half of a removal, without waiting: cancels a running copy or deletes a
    /// finished one. A driver that cannot wait (the registry handler) looks again later and
    /// calls [`Lifecycle::finish_removal`] once the image is gone.
    pub async fn start_removal(
        &self,
        spec: &CopySpec,
        image_id: &str,
        known_snapshots: &[String],
        stop_at: Instant,
    ) -> Result<StartedRemoval, LifecycleError> {
        let region = &spec.destination_region_id;
        let mut snapshot_ids = known_snapshots.to_vec();
        let found = self
            .ecs
            .describe_image(region, image_id, stop_at)
            .await
            .map_err(LifecycleError::ecs("DescribeImages"))?;
        let was_listed = found.is_some();
        let existed = match found {
            Some(image) => {
                self.stop_image(spec, image, &mut snapshot_ids, stop_at)
                    .await?;
                true
            }
            None => self.stop_unlisted(spec, image_id, stop_at).await?,
        };
        Ok(StartedRemoval {
            snapshot_ids,
            was_listed,
            existed,
        })
    }

    /// Removes what outlives a removed image: its snapshots, when the spec asks for it.
    pub async fn finish_removal(
        &self,
        spec: &CopySpec,
        snapshot_ids: &[String],
        stop_at: Instant,
    ) -> Result<(), LifecycleError> {
        if spec.delete_auto_snapshot {
            self.delete_snapshots(&spec.destination_region_id, snapshot_ids, stop_at)
                .await?;
        }
        Ok(())
    }

    /// Looks once more at an image being removed: still there and copying (a slow cancel),
    /// or finished after all (a cancel that lost the race): then it is deleted. `Ok(true)`
    /// once ECS no longer lists it.
    pub async fn removal_done(
        &self,
        spec: &CopySpec,
        image_id: &str,
        snapshot_ids: &mut Vec<String>,
        stop_at: Instant,
    ) -> Result<bool, LifecycleError> {
        let found = self
            .ecs
            .describe_image(&spec.destination_region_id, image_id, stop_at)
            .await
            .map_err(LifecycleError::ecs("DescribeImages"))?;
        let Some(image) = found else {
            return Ok(true);
        };
        merge(snapshot_ids, image.snapshot_ids.clone());
        if !matches!(image.status, ImageStatus::Waiting | ImageStatus::Creating) {
            self.delete_image(spec, image_id, stop_at).await?;
        }
        Ok(false)
    }

    /// Cancels `image` if it is still copying, else deletes it. The snapshots it lists are
    /// added to `snapshot_ids` (a copy lists them only once Available, so they are read
    /// again whenever the image may have changed since the first look).
    async fn stop_image(
        &self,
        spec: &CopySpec,
        image: Image,
        snapshot_ids: &mut Vec<String>,
        stop_at: Instant,
    ) -> Result<(), LifecycleError> {
        let region = &spec.destination_region_id;
        let image_id = image.image_id.clone();
        merge(snapshot_ids, image.snapshot_ids);
        if !matches!(image.status, ImageStatus::Waiting | ImageStatus::Creating) {
            return self.delete_image(spec, &image_id, stop_at).await;
        }
        tracing::info!(%image_id, %region, "cancelling the unfinished copy");
        let error = match self.ecs.cancel_copy_image(region, &image_id, stop_at).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) if e.last_answer().code() == Some("IncorrectImageStatus") => e,
            Err(source) => {
                return Err(LifecycleError::Ecs {
                    step: "CancelCopyImage",
                    source,
                })
            }
        };
        // Not cancellable: a cancel is already under way (ours, whose answer was lost, or
        // another invocation's), or the copy finished in between. Look again to tell which.
        let now = self
            .ecs
            .describe_image(region, &image_id, stop_at)
            .await
            .map_err(LifecycleError::ecs("DescribeImages"))?;
        match now {
            None => Ok(()),
            Some(image) if matches!(image.status, ImageStatus::Waiting | ImageStatus::Creating) => {
                tracing::info!(%image_id, %region, %error, "a cancel is already under way");
                Ok(())
            }
            Some(image) => {
                merge(snapshot_ids, image.snapshot_ids);
                self.delete_image(spec, &image_id, stop_at).await
            }
        }
    }

    /// DescribeImages does not list the image: it is gone, or a copy too new to be listed
    /// (a rollback right after a Create that failed early). CancelCopyImage tells them apart;
    /// `Ok(false)` when it was gone.
    async fn stop_unlisted(
        &self,
        spec: &CopySpec,
        image_id: &str,
        stop_at: Instant,
    ) -> Result<bool, LifecycleError> {
        let region = &spec.destination_region_id;
        match self.ecs.cancel_copy_image(region, image_id, stop_at).await {
            Ok(()) => {
                tracing::info!(%image_id, %region, "cancelled a copy not listed yet");
                Ok(true)
            }
            Err(e) if e.is_not_found() => {
                tracing::info!(%image_id, %region, "already gone");
                Ok(false)
            }
            // Exists but not copying: finished before it was listed, or a cancel is under way.
            Err(e) if e.last_answer().code() == Some("IncorrectImageStatus") => self
                .delete_image(spec, image_id, stop_at)
                .await
                .map(|()| true),
            Err(source) => Err(LifecycleError::Ecs {
                step: "CancelCopyImage",
                source,
            }),
        }
    }

    async fn delete_image(
        &self,
        spec: &CopySpec,
        image_id: &str,
        stop_at: Instant,
    ) -> Result<(), LifecycleError> {
        let region = &spec.destination_region_id;
        tracing::info!(%image_id, %region, force = spec.force_delete, "deleting image");
        match self
            .ecs
            .delete_image(region, image_id, spec.force_delete, stop_at)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(source) => Err(LifecycleError::Ecs {
                step: "DeleteImage",
                source,
            }),
        }
    }

    async fn delete_snapshots(
        &self,
        region: &str,
        snapshot_ids: &[String],
        stop_at: Instant,
    ) -> Result<(), LifecycleError> {
        for snapshot_id in snapshot_ids {
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
        Ok(())
    }
}
