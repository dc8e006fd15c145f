//! The account's resources: images, snapshots and copy tasks, with time passed in explicitly so
//! state transitions can be tested with a fake clock.
//!
//! A copy task never runs in the background. Before any read or write, [`State::advance`] replays
//! what would have happened up to `now`: one copy runs per destination region, in FIFO order,
//! each for its own duration; a copy marked to fail stops halfway as `CreateFailed`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

use super::{regions, EmulatorConfig, Realism, SourceImage};

/// The image states ECS reports (`Status` in DescribeImages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageStatus {
    Waiting,
    Creating,
    Available,
    CreateFailed,
}

impl ImageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::Waiting => "Waiting",
            ImageStatus::Creating => "Creating",
            ImageStatus::Available => "Available",
            ImageStatus::CreateFailed => "CreateFailed",
        }
    }

    /// Case-insensitive, as the API accepts `available` too.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            ImageStatus::Waiting,
            ImageStatus::Creating,
            ImageStatus::Available,
            ImageStatus::CreateFailed,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(raw))
    }

    pub fn is_copying(self) -> bool {
        matches!(self, ImageStatus::Waiting | ImageStatus::Creating)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CopyTask {
    pub source_image_id: String,
    pub started_at: Option<Instant>,
    pub duration: Duration,
    pub fails: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Image {
    pub id: String,
    pub region_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: ImageStatus,
    /// Progress frozen when the copy finished or failed.
    pub final_progress: u8,
    /// Creation order; newest images are listed first.
    pub seq: u64,
    pub creation_time: String,
    pub size_gib: u32,
    pub resource_group_id: Option<String>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub snapshot_ids: Vec<String>,
    /// Kept after the copy ends, so the image still knows where it came from.
    pub copied_from: Option<(String, String)>,
    pub copy: Option<CopyTask>,
    /// DescribeImages lists the image from this moment on (`None`: always).
    pub listed_from: Option<Instant>,
    /// When the copy ended (Available or CreateFailed); `None` for images never copied.
    pub copy_ended_at: Option<Instant>,
    /// A cancel is under way; the image and its snapshots go at this moment.
    pub cancel_done_at: Option<Instant>,
}

#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub id: String,
    pub region_id: String,
    pub size_gib: u32,
    pub device: String,
    pub disk_type: &'static str,
    /// The image built on this snapshot; while set, the snapshot cannot be deleted.
    pub image_id: Option<String>,
}

/// The settings of a copy after its parameters were validated.
#[derive(Debug, Clone, Default)]
pub(crate) struct CopyRequest {
    pub source_region_id: String,
    pub source_image_id: String,
    pub destination_region_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub resource_group_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub client_token: Option<String>,
    /// Canonical form of every operation parameter, to tell a replay from a conflicting reuse.
    pub fingerprint: String,
}

pub(crate) struct State {
    pub regions: Vec<String>,
    pub images: BTreeMap<String, Image>,
    pub snapshots: BTreeMap<String, Snapshot>,
    pub copy_duration: Duration,
    pub fail_next_copies: u32,
    pub image_quota: Option<usize>,
    pub realism: Realism,
    /// `ClientToken` → (parameter fingerprint, image id, when first seen).
    pub(super) client_tokens: HashMap<String, (String, String, Instant)>,
    rng: StdRng,
    next_seq: u64,
}

pub(super) fn wall_clock_text() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    now.format(&format).unwrap_or_default()
}

impl State {
    pub fn new(config: &EmulatorConfig) -> Self {
        let mut state = State {
            regions: config.regions.clone(),
            images: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            copy_duration: config.copy_duration,
            fail_next_copies: 0,
            image_quota: None,
            realism: config.realism,
            client_tokens: HashMap::new(),
            rng: StdRng::seed_from_u64(config.seed),
            next_seq: 0,
        };
        for image in &config.images {
            state.add_source_image(image);
        }
        state
    }

    pub fn has_region(&self, region: &str) -> bool {
        self.regions.iter().any(|r| r == region)
    }

    fn random_suffix(&mut self, length: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        (0..length)
            .map(|_| ALPHABET[self.rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    }

    pub(super) fn new_id(&mut self, kind: &str, region: &str) -> String {
        format!(
            "{kind}-{}{}",
            regions::id_prefix(region),
            self.random_suffix(18)
        )
    }

    /// Upper-case UUID-shaped, like ECS request ids.
    pub fn request_id(&mut self) -> String {
        let hex: String = (0..32)
            .map(|_| char::from_digit(self.rng.random_range(0..16), 16).unwrap_or('0'))
            .collect::<String>()
            .to_ascii_uppercase();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    pub(super) fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// A system disk snapshot, plus a data disk snapshot for every other image.
    pub fn add_source_image(&mut self, source: &SourceImage) {
        let seq = self.next_seq();
        let disks = if seq % 2 == 0 { 2 } else { 1 };
        let snapshot_ids = (0..disks)
            .map(|disk| self.new_snapshot(&source.region_id, &source.image_id, disk, 40))
            .collect();
        self.images.insert(
            source.image_id.clone(),
            Image {
                id: source.image_id.clone(),
                region_id: source.region_id.clone(),
                name: source.name.clone(),
                description: None,
                status: ImageStatus::Available,
                final_progress: 100,
                seq,
                creation_time: wall_clock_text(),
                size_gib: 40,
                resource_group_id: None,
                encrypted: false,
                kms_key_id: None,
                tags: BTreeMap::new(),
                snapshot_ids,
                copied_from: None,
                copy: None,
                listed_from: None,
                copy_ended_at: None,
                cancel_done_at: None,
            },
        );
    }

    pub(super) fn new_snapshot(
        &mut self,
        region: &str,
        image_id: &str,
        disk: usize,
        size: u32,
    ) -> String {
        let id = self.new_id("s", region);
        let (device, disk_type) = if disk == 0 {
            ("/dev/xvda".to_string(), "system")
        } else {
            (format!("/dev/xvd{}", (b'a' + disk as u8) as char), "data")
        };
        self.snapshots.insert(
            id.clone(),
            Snapshot {
                id: id.clone(),
                region_id: region.to_string(),
                size_gib: size,
                device,
                disk_type,
                image_id: Some(image_id.to_string()),
            },
        );
        id
    }

    /// Percent shown for an image at `now`.
    pub fn progress(&self, image: &Image, now: Instant) -> u8 {
        if image.cancel_done_at.is_some() {
            return image.final_progress;
        }
        match (&image.status, &image.copy) {
            (ImageStatus::Creating, Some(task)) => {
                let started = task.started_at.unwrap_or(now);
                let elapsed = now.saturating_duration_since(started).as_secs_f64();
                let total = task.duration.as_secs_f64().max(f64::EPSILON);
                ((elapsed / total) * 100.0).clamp(0.0, 99.0) as u8
            }
            (ImageStatus::Waiting, _) => 0,
            _ => image.final_progress,
        }
    }

    /// Replays every copy-task transition due by `now`.
    pub fn advance(&mut self, now: Instant) {
        // Queued copies being cancelled hold no region: they simply go when due.
        let cancelled: Vec<String> = self
            .images
            .values()
            .filter(|i| i.status == ImageStatus::Waiting)
            .filter(|i| i.cancel_done_at.is_some_and(|done| done <= now))
            .map(|i| i.id.clone())
            .collect();
        for id in cancelled {
            self.remove_snapshots_of(&id);
            self.images.remove(&id);
        }
        let destinations: Vec<String> = self
            .images
            .values()
            .filter(|i| i.status.is_copying())
            .map(|i| i.region_id.clone())
            .collect();
        for region in destinations {
            self.advance_region(&region, now);
        }
    }

    fn advance_region(&mut self, region: &str, now: Instant) {
        let mut free_since: Option<Instant> = None;
        loop {
            let running = self.images.values_mut().find(|i| {
                i.region_id == region && i.status == ImageStatus::Creating && i.copy.is_some()
            });
            if let Some(image) = running {
                if let Some(done) = image.cancel_done_at {
                    // A cancel holds the region until the image is gone.
                    if done > now {
                        return;
                    }
                    let id = image.id.clone();
                    self.remove_snapshots_of(&id);
                    self.images.remove(&id);
                    free_since = Some(done);
                    continue;
                }
                let task = image.copy.as_ref().expect("filtered on copy");
                let fails = task.fails;
                let started = task.started_at.unwrap_or(now);
                let run_for = if fails {
                    task.duration / 2
                } else {
                    task.duration
                };
                let ends = started + run_for;
                if ends > now {
                    return;
                }
                if fails {
                    image.status = ImageStatus::CreateFailed;
                    image.final_progress = 50;
                } else {
                    image.status = ImageStatus::Available;
                    image.final_progress = 100;
                }
                image.copy = None;
                image.copy_ended_at = Some(ends);
                let failed = image.status == ImageStatus::CreateFailed;
                let id = image.id.clone();
                if failed {
                    // A failed copy leaves no data behind in the destination region.
                    self.remove_snapshots_of(&id);
                }
                free_since = Some(ends);
                continue;
            }
            let next = self
                .images
                .values_mut()
                .filter(|i| {
                    i.region_id == region
                        && i.status == ImageStatus::Waiting
                        && i.cancel_done_at.is_none()
                })
                .min_by_key(|i| i.seq);
            match next {
                Some(image) => {
                    image.status = ImageStatus::Creating;
                    if let Some(task) = image.copy.as_mut() {
                        task.started_at = Some(free_since.unwrap_or(now));
                    }
                }
                None => return,
            }
        }
    }

    /// Listed by DescribeImages at `now` (a new copy may not be yet).
    pub fn is_listed(image: &Image, now: Instant) -> bool {
        image.listed_from.is_none_or(|from| from <= now)
    }

    /// `Usable` as DescribeImages reports it: Available, and past the lag after the copy.
    pub fn is_usable(&self, image: &Image, now: Instant) -> bool {
        image.status == ImageStatus::Available
            && image
                .copy_ended_at
                .is_none_or(|ended| ended + self.realism.usable_lag <= now)
    }

    /// Snapshot ids DescribeImages shows in `DiskDeviceMappings`.
    pub fn listed_snapshots<'a>(&self, image: &'a Image) -> &'a [String] {
        if self.realism.late_snapshots && image.status != ImageStatus::Available {
            &[]
        } else {
            &image.snapshot_ids
        }
    }

    pub(super) fn remove_snapshots_of(&mut self, image_id: &str) {
        if let Some(image) = self.images.get_mut(image_id) {
            for snapshot in std::mem::take(&mut image.snapshot_ids) {
                self.snapshots.remove(&snapshot);
            }
        }
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "realism_tests.rs"]
mod realism_tests;
