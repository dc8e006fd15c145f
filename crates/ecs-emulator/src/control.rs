//! Test access to the emulator's state, without going through the ECS API.

use std::collections::BTreeMap;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::faults::Faults;
use super::realism::Realism;
use super::server::{Inner, Shared};
use super::state::{Image, ImageStatus, State};
use super::SourceImage;

/// An image as the emulator holds it, at the moment it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageView {
    pub image_id: String,
    pub region_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: ImageStatus,
    /// 0–100.
    pub progress: u8,
    pub tags: BTreeMap<String, String>,
    pub snapshot_ids: Vec<String>,
    pub source_image_id: Option<String>,
    pub source_region_id: Option<String>,
    pub is_copy: bool,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub resource_group_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotView {
    pub snapshot_id: String,
    pub region_id: String,
    pub size_gib: u32,
    /// The image built on it; `None` once that image is deleted (the snapshot is then deletable).
    pub image_id: Option<String>,
}

/// One request as the emulator saw it. `params` never holds the values of `Signature` or
/// `SecurityToken` (present keys are kept with the value `<redacted>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub action: String,
    pub region_id: Option<String>,
    pub params: BTreeMap<String, String>,
    /// `None` when the connection was dropped without an answer.
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
}

/// Cheap to clone; every clone sees the same emulator.
#[derive(Clone)]
pub struct Control {
    pub(crate) shared: Arc<Shared>,
}

fn view(state: &State, image: &Image, now: Instant) -> ImageView {
    ImageView {
        image_id: image.id.clone(),
        region_id: image.region_id.clone(),
        name: image.name.clone(),
        description: image.description.clone(),
        status: image.status,
        progress: state.progress(image, now),
        tags: image.tags.clone(),
        snapshot_ids: image.snapshot_ids.clone(),
        source_image_id: image.copied_from.as_ref().map(|(id, _)| id.clone()),
        source_region_id: image.copied_from.as_ref().map(|(_, r)| r.clone()),
        is_copy: image.copied_from.is_some(),
        encrypted: image.encrypted,
        kms_key_id: image.kms_key_id.clone(),
        resource_group_id: image.resource_group_id.clone(),
    }
}

impl Control {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.shared.lock()
    }

    /// Every image, oldest first.
    pub fn images(&self) -> Vec<ImageView> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.state.advance(now);
        let mut images: Vec<&Image> = inner.state.images.values().collect();
        images.sort_by_key(|i| i.seq);
        images
            .into_iter()
            .map(|i| view(&inner.state, i, now))
            .collect()
    }

    pub fn image(&self, image_id: &str) -> Option<ImageView> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.state.advance(now);
        let state = &inner.state;
        state.images.get(image_id).map(|i| view(state, i, now))
    }

    pub fn snapshots(&self) -> Vec<SnapshotView> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.state.advance(now);
        inner
            .state
            .snapshots
            .values()
            .map(|s| SnapshotView {
                snapshot_id: s.id.clone(),
                region_id: s.region_id.clone(),
                size_gib: s.size_gib,
                image_id: s.image_id.clone(),
            })
            .collect()
    }

    pub fn calls(&self) -> Vec<CallRecord> {
        self.lock().calls.clone()
    }

    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    pub fn regions(&self) -> Vec<String> {
        self.lock().state.regions.clone()
    }

    /// Adds an `Available` custom image, e.g. a source for a copy.
    pub fn add_image(&self, image: SourceImage) {
        self.lock().state.add_source_image(&image);
    }

    /// Also restarts the fault sequence from the seed.
    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults.set(faults);
    }

    /// Applies to copies started from now on.
    pub fn set_copy_duration(&self, duration: Duration) {
        self.lock().state.copy_duration = duration;
    }

    /// Applies from the next request on (copies already started keep their listing time).
    pub fn set_realism(&self, realism: Realism) {
        self.lock().state.realism = realism;
    }

    pub fn realism(&self) -> Realism {
        self.lock().state.realism
    }

    /// The next `n` copies go `CreateFailed` halfway through.
    pub fn fail_next_copies(&self, n: u32) {
        self.lock().state.fail_next_copies = n;
    }

    /// Most images per region; `None` for no limit.
    pub fn set_image_quota(&self, quota: Option<usize>) {
        self.lock().state.image_quota = quota;
    }

    /// Copies still `Waiting` or `Creating`.
    pub fn copy_tasks_running(&self) -> usize {
        self.lock().state.copy_tasks_running(Instant::now())
    }
}
