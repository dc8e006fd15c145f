//! State changes requested through the API: starting, cancelling and deleting copies and
//! images, deleting snapshots. Each first replays due transitions with [`State::advance`].

use tokio::time::Instant;

use super::error::ApiError;
use super::state::{wall_clock_text, CopyRequest, CopyTask, Image, ImageStatus, State};

impl State {
    fn region_busy(&self, region: &str) -> bool {
        self.images
            .values()
            .any(|i| i.region_id == region && i.status.is_copying())
    }

    /// Starts (or queues) a copy; answers the same image for a replayed `ClientToken`.
    pub fn copy_image(&mut self, request: CopyRequest, now: Instant) -> Result<String, ApiError> {
        self.advance(now);
        if let Some(token) = &request.client_token {
            if let Some((fingerprint, image_id, first_seen)) = self.client_tokens.get(token) {
                if *fingerprint == request.fingerprint {
                    if now < *first_seen + self.realism.token_processing {
                        return Err(ApiError::new(
                            400,
                            "LastTokenProcessing",
                            "The last token request is processing.",
                        ));
                    }
                    return Ok(image_id.clone());
                }
                return Err(ApiError::new(
                    400,
                    "IdempotentParameterMismatch",
                    "The specified parameters are different from before.",
                ));
            }
        }
        let source = self
            .images
            .get(&request.source_image_id)
            .filter(|i| i.region_id == request.source_region_id)
            .ok_or_else(ApiError::image_not_found)?;
        if source.status != ImageStatus::Available {
            return Err(ApiError::incorrect_image_status());
        }
        if self.realism.busy_source && self.has_copy_in_flight(&request.source_image_id) {
            return Err(ApiError::image_copying());
        }
        let destination = request.destination_region_id.as_str();
        if let Some(name) = &request.name {
            let taken = self
                .images
                .values()
                .any(|i| i.region_id == destination && i.name.as_deref() == Some(name));
            if taken {
                return Err(ApiError::new(
                    400,
                    "InvalidImageName.Duplicated",
                    "The destination image is exist.",
                ));
            }
        }
        if let Some(quota) = self.image_quota {
            let used = self
                .images
                .values()
                .filter(|i| i.region_id == destination)
                .count();
            if used >= quota {
                return Err(ApiError::new(
                    403,
                    "QuotaExceed.Image",
                    "The Image Quota exceeds.",
                ));
            }
        }
        let source_snapshot_sizes: Vec<u32> = source
            .snapshot_ids
            .iter()
            .map(|s| self.snapshots.get(s).map_or(40, |s| s.size_gib))
            .collect();
        let size_gib = source.size_gib;
        let image_id = self.new_id("m", destination);
        let snapshot_ids = source_snapshot_sizes
            .iter()
            .enumerate()
            .map(|(disk, size)| self.new_snapshot(destination, &image_id, disk, *size))
            .collect();
        let fails = self.fail_next_copies > 0;
        self.fail_next_copies = self.fail_next_copies.saturating_sub(1);
        let starts_now = !self.region_busy(destination);
        let seq = self.next_seq();
        let image = Image {
            id: image_id.clone(),
            region_id: destination.to_string(),
            name: request.name,
            description: request.description,
            status: if starts_now {
                ImageStatus::Creating
            } else {
                ImageStatus::Waiting
            },
            final_progress: 0,
            seq,
            creation_time: wall_clock_text(),
            size_gib,
            resource_group_id: request.resource_group_id,
            encrypted: request.encrypted,
            kms_key_id: request.kms_key_id,
            tags: request.tags,
            snapshot_ids,
            copied_from: Some((request.source_image_id.clone(), request.source_region_id)),
            copy: Some(CopyTask {
                source_image_id: request.source_image_id,
                started_at: starts_now.then_some(now),
                duration: self.copy_duration,
                fails,
            }),
            listed_from: Some(now + self.realism.invisible_for)
                .filter(|_| !self.realism.invisible_for.is_zero()),
            copy_ended_at: None,
            cancel_done_at: None,
        };
        self.images.insert(image_id.clone(), image);
        if let Some(token) = request.client_token {
            self.client_tokens
                .insert(token, (request.fingerprint, image_id.clone(), now));
        }
        Ok(image_id)
    }

    /// The image in `region`, or `InvalidImageId.NotFound`.
    pub fn image_in(&self, region: &str, image_id: &str) -> Result<&Image, ApiError> {
        self.images
            .get(image_id)
            .filter(|i| i.region_id == region)
            .ok_or_else(ApiError::image_not_found)
    }

    /// A copy of `source_image_id` is queued, running or being cancelled.
    fn has_copy_in_flight(&self, source_image_id: &str) -> bool {
        self.images.values().any(|i| {
            i.status.is_copying()
                && i.copy
                    .as_ref()
                    .is_some_and(|task| task.source_image_id == source_image_id)
        })
    }

    /// Stops a Waiting or Creating copy and removes it with its snapshots, at once or (with
    /// [`Realism::cancel_takes`](super::Realism)) after a while; a second cancel meanwhile is
    /// refused like a cancel of a finished image.
    pub fn cancel_copy(
        &mut self,
        region: &str,
        image_id: &str,
        now: Instant,
    ) -> Result<(), ApiError> {
        self.advance(now);
        let image = self.image_in(region, image_id)?;
        if !image.status.is_copying() || image.cancel_done_at.is_some() {
            return Err(ApiError::incorrect_image_status());
        }
        let delay = self.realism.cancel_takes;
        if !delay.is_zero() {
            let progress = self.progress(image, now);
            let image = self.images.get_mut(image_id).expect("looked up above");
            image.final_progress = progress;
            image.cancel_done_at = Some(now + delay);
            return Ok(());
        }
        self.remove_snapshots_of(image_id);
        self.images.remove(image_id);
        // The next queued copy starts from the moment the region became free.
        self.advance(now);
        Ok(())
    }

    /// Removes an image; its snapshots stay (as ECS retains copies' snapshots) and become free.
    pub fn delete_image(
        &mut self,
        region: &str,
        image_id: &str,
        now: Instant,
    ) -> Result<(), ApiError> {
        self.advance(now);
        let image = self.image_in(region, image_id)?;
        let source_of_running_copy = self.images.values().any(|i| {
            i.copy
                .as_ref()
                .is_some_and(|task| task.source_image_id == image_id)
        });
        let just_copied = image
            .copy_ended_at
            .is_some_and(|ended| now < ended + self.realism.delete_denied_after_copy);
        if image.status.is_copying() || source_of_running_copy || just_copied {
            return Err(ApiError::image_copying());
        }
        let image = self.images.remove(image_id).expect("checked above");
        for snapshot in image.snapshot_ids {
            if let Some(s) = self.snapshots.get_mut(&snapshot) {
                s.image_id = None;
            }
        }
        Ok(())
    }

    pub fn delete_snapshot(&mut self, snapshot_id: &str, now: Instant) -> Result<(), ApiError> {
        self.advance(now);
        let snapshot = self.snapshots.get(snapshot_id).ok_or_else(|| {
            ApiError::new(
                404,
                "InvalidSnapshotId.NotFound",
                "The specified SnapshotId does not exist.",
            )
        })?;
        if snapshot.image_id.is_some() {
            return Err(ApiError::new(
                403,
                "SnapshotCreatedImage",
                "The snapshot has been used to create user defined image(s).",
            ));
        }
        self.snapshots.remove(snapshot_id);
        Ok(())
    }

    pub fn copy_tasks_running(&mut self, now: Instant) -> usize {
        self.advance(now);
        self.images
            .values()
            .filter(|i| i.status.is_copying())
            .count()
    }
}
