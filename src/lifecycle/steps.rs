//! The ECS steps the lifecycle is built from.

use tokio::time::Instant;

use super::wait::wait_until_gone;
use super::{to_ecs_tag, Budget, Failure, Lifecycle, LifecycleError};
use crate::ecs::{ImageStatus, Tag as EcsTag};
use crate::model::CopySpec;

/// The result of removing an image.
pub(super) struct Removal {
    pub gone: bool,
    /// Snapshots the image was built on (known before, or read before removing it).
    pub snapshot_ids: Vec<String>,
}

impl Lifecycle<'_> {
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

    pub(super) async fn update_in_place(
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
        let mut snapshot_ids = known_snapshots.to_vec();
        let found = self
            .ecs
            .describe_image(region, image_id, stop_at)
            .await
            .map_err(LifecycleError::ecs("DescribeImages"))?;
        if let Some(image) = found {
            for id in image.snapshot_ids {
                if !snapshot_ids.contains(&id) {
                    snapshot_ids.push(id);
                }
            }
            let (step, result) = match image.status {
                ImageStatus::Waiting | ImageStatus::Creating => {
                    tracing::info!(%image_id, %region, "cancelling the unfinished copy");
                    (
                        "CancelCopyImage",
                        self.ecs.cancel_copy_image(region, image_id, stop_at).await,
                    )
                }
                _ => {
                    tracing::info!(%image_id, %region, force = spec.force_delete, "deleting image");
                    (
                        "DeleteImage",
                        self.ecs
                            .delete_image(region, image_id, spec.force_delete, stop_at)
                            .await,
                    )
                }
            };
            match result {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(source) => return Err(LifecycleError::Ecs { step, source }),
            }
        } else {
            tracing::info!(%image_id, %region, "already gone");
        }
        let gone = wait_until_gone(self.ecs, region, image_id, stop_at)
            .await
            .map_err(LifecycleError::ecs("DescribeImages"))?;
        if gone && spec.delete_auto_snapshot {
            self.delete_snapshots(region, &snapshot_ids, stop_at)
                .await?;
        }
        Ok(Removal { gone, snapshot_ids })
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
