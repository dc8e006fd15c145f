//! An in-memory ECS for the lifecycle's unit tests: copies that get listed, progress and end
//! on tokio's clock (paused in the tests, so minutes of ECS time pass in microseconds),
//! removals that take effect after a set lag, every call recorded, and errors injected per
//! action. What the HTTP client itself does is tested against the emulator, not here.

use std::collections::{HashMap, VecDeque};
use std::future::{ready, Future};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

mod image;

use image::FakeImage;
pub(super) use image::Timing;

use super::EcsImages;
use crate::ecs::{CopyImageRequest, EcsError, Image, ImageStatus, Tag};

#[derive(Default)]
struct State {
    images: HashMap<String, FakeImage>,
    calls: Vec<String>,
    failures: HashMap<&'static str, VecDeque<EcsError>>,
    /// How the copies CopyImage starts behave.
    copy_timing: Timing,
    /// How long a cancel or delete takes to remove the image.
    removal_lag: Duration,
    copies: u32,
    deleted_snapshots: Vec<String>,
}

#[derive(Default)]
pub(super) struct FakeEcs {
    state: Mutex<State>,
}

/// An ECS API error as the client reports it.
pub(super) fn api_error(action: &str, code: &str) -> EcsError {
    EcsError::Api {
        action: action.to_string(),
        http_status: if code.ends_with(".NotFound") {
            404
        } else {
            403
        },
        code: code.to_string(),
        message: format!("{code} (fake)"),
        request_id: None,
    }
}

impl FakeEcs {
    /// Copies started by CopyImage behave as `timing`.
    pub fn copying(timing: Timing) -> Self {
        let fake = FakeEcs::default();
        fake.state().copy_timing = timing;
        fake
    }

    pub fn with_removal_lag(self, lag: Duration) -> Self {
        self.state().removal_lag = lag;
        self
    }

    /// An image that exists already (started now), in `region_id`.
    pub fn add_image(&self, image_id: &str, region_id: &str, timing: Timing) {
        let image = FakeImage {
            region_id: region_id.to_string(),
            started: Instant::now(),
            timing,
            name: None,
            description: None,
            tags: Vec::new(),
            client_token: None,
            cancel_requested: false,
            gone_at: None,
        };
        self.state().images.insert(image_id.to_string(), image);
    }

    /// The next call of `action` fails with `error`.
    pub fn fail_next(&self, action: &'static str, error: EcsError) {
        self.state()
            .failures
            .entry(action)
            .or_default()
            .push_back(error);
    }

    /// Every call so far, as `Action id`.
    pub fn calls(&self) -> Vec<String> {
        self.state().calls.clone()
    }

    /// How many calls of `action` were made.
    pub fn count(&self, action: &str) -> usize {
        let prefix = format!("{action} ");
        self.state()
            .calls
            .iter()
            .filter(|call| call.starts_with(&prefix))
            .count()
    }

    pub fn deleted_snapshots(&self) -> Vec<String> {
        self.state().deleted_snapshots.clone()
    }

    /// Name, description and tags as ECS holds them.
    pub fn attributes(&self, image_id: &str) -> (Option<String>, Option<String>, Vec<Tag>) {
        let state = self.state();
        let image = &state.images[image_id];
        (
            image.name.clone(),
            image.description.clone(),
            image.tags.clone(),
        )
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the call and takes an injected failure for it, if any.
    fn call(
        &self,
        action: &'static str,
        id: &str,
    ) -> (MutexGuard<'_, State>, Result<(), EcsError>) {
        let mut state = self.state();
        state.calls.push(format!("{action} {id}"));
        let injected = state.failures.get_mut(action).and_then(VecDeque::pop_front);
        (state, injected.map_or(Ok(()), Err))
    }

    fn copy(&self, request: &CopyImageRequest) -> Result<String, EcsError> {
        let (mut state, injected) = self.call("CopyImage", &request.image_id);
        injected?;
        let known = state.images.iter().find(|(_, image)| {
            image.client_token.is_some() && image.client_token == request.client_token
        });
        if let Some((image_id, _)) = known {
            return Ok(image_id.clone());
        }
        state.copies += 1;
        let image_id = format!("m-copy{}", state.copies);
        let image = FakeImage {
            region_id: request.destination_region_id.clone(),
            started: Instant::now(),
            timing: state.copy_timing.clone(),
            name: request.destination_image_name.clone(),
            description: request.destination_description.clone(),
            tags: request.tags.clone(),
            client_token: request.client_token.clone(),
            cancel_requested: false,
            gone_at: None,
        };
        state.images.insert(image_id.clone(), image);
        Ok(image_id)
    }

    fn describe(&self, region_id: &str, image_id: &str) -> Result<Option<Image>, EcsError> {
        let (state, injected) = self.call("DescribeImages", image_id);
        injected?;
        let Some(image) = state.images.get(image_id) else {
            return Ok(None);
        };
        if image.region_id != region_id
            || image.is_gone()
            || image.since() < image.timing.listed_after
        {
            return Ok(None);
        }
        let status = image.status();
        let since = image.since().as_secs_f64();
        let copying = image.timing.copying_for.as_secs_f64();
        Ok(Some(Image {
            image_id: image_id.to_string(),
            image_name: image.name.clone(),
            description: image.description.clone(),
            progress: Some(if image.is_copying() {
                (since / copying * 100.0).min(99.0) as u8
            } else {
                100
            }),
            usable: (status == ImageStatus::Available)
                .then(|| image.since() >= image.timing.copying_for + image.timing.usable_after),
            // A copy lists its snapshots only once it is Available.
            snapshot_ids: if status == ImageStatus::Available {
                vec![format!("s-of-{image_id}")]
            } else {
                Vec::new()
            },
            status,
            region_id: region_id.to_string(),
            tags: image.tags.clone(),
            creation_time: None,
        }))
    }

    fn cancel(&self, image_id: &str) -> Result<(), EcsError> {
        let action = "CancelCopyImage";
        let (mut state, injected) = self.call(action, image_id);
        injected?;
        let lag = state.removal_lag;
        match state.images.get_mut(image_id) {
            Some(image) if !image.is_gone() => {
                if !image.is_copying() || image.cancel_requested {
                    return Err(api_error(action, "IncorrectImageStatus"));
                }
                image.cancel_requested = true;
                image.gone_at = Some(Instant::now() + lag);
                Ok(())
            }
            _ => Err(api_error(action, "InvalidImageId.NotFound")),
        }
    }

    fn delete(&self, image_id: &str) -> Result<(), EcsError> {
        let action = "DeleteImage";
        let (mut state, injected) = self.call(action, image_id);
        injected?;
        let lag = state.removal_lag;
        match state.images.get_mut(image_id) {
            Some(image) if !image.is_gone() => {
                if image.is_copying() {
                    return Err(api_error(action, "IncorrectImageStatus"));
                }
                let at = Instant::now() + lag;
                image.gone_at = Some(image.gone_at.map_or(at, |gone| gone.min(at)));
                Ok(())
            }
            _ => Err(api_error(action, "InvalidImageId.NotFound")),
        }
    }

    fn change(
        &self,
        action: &'static str,
        image_id: &str,
        change: impl FnOnce(&mut FakeImage),
    ) -> Result<(), EcsError> {
        let (mut state, injected) = self.call(action, image_id);
        injected?;
        match state.images.get_mut(image_id) {
            Some(image) if !image.is_gone() => {
                change(image);
                Ok(())
            }
            _ => Err(api_error(action, "InvalidImageId.NotFound")),
        }
    }
}

impl EcsImages for FakeEcs {
    fn copy_image(
        &self,
        request: &CopyImageRequest,
        _deadline: Instant,
    ) -> impl Future<Output = Result<String, EcsError>> + Send {
        ready(self.copy(request))
    }

    fn describe_image(
        &self,
        region_id: &str,
        image_id: &str,
        _deadline: Instant,
    ) -> impl Future<Output = Result<Option<Image>, EcsError>> + Send {
        ready(self.describe(region_id, image_id))
    }

    fn cancel_copy_image(
        &self,
        _region_id: &str,
        image_id: &str,
        _deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send {
        ready(self.cancel(image_id))
    }

    fn delete_image(
        &self,
        _region_id: &str,
        image_id: &str,
        _force: bool,
        _deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send {
        ready(self.delete(image_id))
    }

    fn delete_snapshot(
        &self,
        _region_id: &str,
        snapshot_id: &str,
        _force: bool,
        _deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send {
        let (mut state, injected) = self.call("DeleteSnapshot", snapshot_id);
        if injected.is_ok() {
            state.deleted_snapshots.push(snapshot_id.to_string());
        }
        ready(injected)
    }

    fn modify_image_attribute(
        &self,
        _region_id: &str,
        image_id: &str,
        name: Option<&str>,
        description: Option<&str>,
        _deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send {
        ready(self.change("ModifyImageAttribute", image_id, |image| {
            if let Some(name) = name {
                image.name = Some(name.to_string());
            }
            if let Some(description) = description {
                image.description = Some(description.to_string());
            }
        }))
    }

    fn tag_resources(
        &self,
        _region_id: &str,
        image_id: &str,
        tags: &[Tag],
        _deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send {
        ready(self.change("TagResources", image_id, |image| {
            for tag in tags {
                image.tags.retain(|t| t.key != tag.key);
                image.tags.push(tag.clone());
            }
        }))
    }

    fn untag_resources(
        &self,
        _region_id: &str,
        image_id: &str,
        keys: &[String],
        _deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send {
        ready(self.change("UntagResources", image_id, |image| {
            image.tags.retain(|t| !keys.contains(&t.key));
        }))
    }
}
