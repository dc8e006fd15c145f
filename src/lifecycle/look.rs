//! The single "look once and decide" step of a copy wait, shared by every driver: the
//! in-invocation waiter calls it in a loop, the registry handler once per callback.
//!
//! Clock-free: it is told how long the wait and the copy have run, so its state can travel
//! in a `callbackContext` between processes and be replayed on a simulated clock.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::schedule::{Observed, PollSchedule, MIN_INTERVAL};
use super::wait::{LISTING_GRACE, USABLE_GRACE};
use crate::ecs::{Image, ImageStatus};

/// The longest pause between looks while a new copy is not listed yet.
pub(super) const UNLISTED_MAX_INTERVAL: Duration = Duration::from_secs(5);
/// Usable follows Available within moments: look again soon.
const USABLE_MAX_INTERVAL: Duration = Duration::from_secs(3);

/// What the wait has learnt so far; serialisable so that a fresh process can resume it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyWatch {
    schedule: PollSchedule,
    /// DescribeImages has listed the copy at least once.
    seen: bool,
    /// When (wait time) the copy was first seen Available with `Usable` false.
    available_since_ms: Option<u64>,
    /// The pause chosen after the last look.
    last_delay_ms: u64,
    /// When the next look is due, as time since the copy started: a driver resuming in
    /// another process sleeps only what is left of it.
    next_look_at_ms: u64,
    /// The last state seen, in words, for logs and a timeout's message.
    pub last_seen: String,
}

/// A watch of a copy not looked at yet.
impl Default for CopyWatch {
    fn default() -> Self {
        CopyWatch::new()
    }
}

/// The decision after one look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyLook {
    Available,
    /// The copy ended badly: the status as ECS says it.
    Failed(String),
    /// Not listed (any more): after being seen, or for longer than the listing grace.
    Vanished,
    /// Still under way: look again after `next_look_in`.
    Waiting {
        next_look_in: Duration,
    },
}

impl CopyWatch {
    pub fn new() -> Self {
        let schedule = PollSchedule::new();
        let first = schedule.first_delay().as_millis() as u64;
        CopyWatch {
            schedule,
            seen: false,
            available_since_ms: None,
            last_delay_ms: first,
            next_look_at_ms: first,
            last_seen: "not yet observed".to_string(),
        }
    }

    /// The pause before the first look.
    pub fn first_delay(&self) -> Duration {
        self.schedule.first_delay()
    }

    /// The pause before the next look, `since_copy` after the copy started: what is left
    /// of the pause the last look chose (none when it is already due).
    pub fn next_delay(&self, since_copy: Duration) -> Duration {
        Duration::from_millis(self.next_look_at_ms).saturating_sub(since_copy)
    }

    /// Whether the copy was complete but for the `Usable` flag: out of time or a failed
    /// look then still counts as Available.
    pub fn only_usable_outstanding(&self) -> bool {
        self.available_since_ms.is_some()
    }

    /// Decides from one DescribeImages answer. `waited` is the time since this wait began,
    /// `since_copy` the time since CopyImage answered (the listing grace counts from there).
    pub fn judge(
        &mut self,
        found: Option<&Image>,
        waited: Duration,
        since_copy: Duration,
    ) -> CopyLook {
        let Some(image) = found else {
            if self.seen || since_copy >= LISTING_GRACE {
                return CopyLook::Vanished;
            }
            self.last_seen = "not listed by DescribeImages yet".to_string();
            let delay = (Duration::from_millis(self.last_delay_ms) * 2)
                .clamp(MIN_INTERVAL, UNLISTED_MAX_INTERVAL);
            return self.wait(delay, waited);
        };
        self.seen = true;
        let observed = match &image.status {
            // ECS may report Available before the image can be used; `Usable` says when.
            ImageStatus::Available if image.usable != Some(false) => return CopyLook::Available,
            ImageStatus::Available => {
                let since = *self
                    .available_since_ms
                    .get_or_insert(waited.as_millis() as u64);
                if waited.saturating_sub(Duration::from_millis(since)) >= USABLE_GRACE {
                    tracing::warn!(image_id = %image.image_id, "Usable still false; accepting Available");
                    return CopyLook::Available;
                }
                Observed::Creating {
                    progress: Some(100),
                }
            }
            ImageStatus::Waiting => Observed::Waiting,
            ImageStatus::Creating => Observed::Creating {
                progress: image.progress,
            },
            other => return CopyLook::Failed(format!("{other:?}")),
        };
        self.last_seen = match (&image.status, image.progress) {
            (ImageStatus::Waiting, _) => "Waiting in the region's copy queue".to_string(),
            (ImageStatus::Available, _) => "Available, not yet Usable".to_string(),
            (status, Some(p)) => format!("{status:?} at {p}%"),
            (status, None) => format!("{status:?}"),
        };
        let mut delay = self.schedule.next_delay(waited, observed);
        if self.available_since_ms.is_some() {
            delay = delay.min(USABLE_MAX_INTERVAL);
        }
        self.wait(delay, waited)
    }

    fn wait(&mut self, delay: Duration, waited: Duration) -> CopyLook {
        self.last_delay_ms = delay.as_millis() as u64;
        self.next_look_at_ms = (waited + delay).as_millis() as u64;
        CopyLook::Waiting {
            next_look_in: delay,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(status: ImageStatus, progress: Option<u8>, usable: Option<bool>) -> Image {
        Image {
            image_id: "m-abc".into(),
            image_name: None,
            description: None,
            status,
            progress,
            usable,
            region_id: "cn-shanghai".into(),
            snapshot_ids: vec![],
            tags: vec![],
            creation_time: None,
        }
    }

    #[test]
    fn an_unlisted_new_copy_is_waited_for_within_the_grace_then_vanished() {
        let mut watch = CopyWatch::new();
        let s = Duration::from_secs;
        assert!(matches!(
            watch.judge(None, s(1), s(1)),
            CopyLook::Waiting { .. }
        ));
        assert_eq!(watch.judge(None, s(61), s(61)), CopyLook::Vanished);
    }

    #[test]
    fn a_seen_copy_that_disappears_has_vanished() {
        let mut watch = CopyWatch::new();
        let s = Duration::from_secs;
        let creating = image(ImageStatus::Creating, Some(10), None);
        assert!(matches!(
            watch.judge(Some(&creating), s(1), s(1)),
            CopyLook::Waiting { .. }
        ));
        assert_eq!(watch.judge(None, s(5), s(5)), CopyLook::Vanished);
    }

    #[test]
    fn usable_lag_is_waited_for_then_accepted_and_state_survives_serialisation() {
        let mut watch = CopyWatch::new();
        let s = Duration::from_secs;
        let lagging = image(ImageStatus::Available, Some(100), Some(false));
        let CopyLook::Waiting { next_look_in } = watch.judge(Some(&lagging), s(10), s(10)) else {
            panic!("Available but not Usable is waited for");
        };
        assert!(next_look_in <= USABLE_MAX_INTERVAL);
        assert_eq!(watch.next_delay(s(10)), next_look_in);
        assert_eq!(
            watch.next_delay(s(60)),
            Duration::ZERO,
            "overdue: look at once"
        );
        let text = serde_json::to_string(&watch).unwrap();
        let mut resumed: CopyWatch = serde_json::from_str(&text).unwrap();
        assert!(resumed.only_usable_outstanding());
        assert_eq!(
            resumed.judge(Some(&lagging), s(131), s(131)),
            CopyLook::Available
        );
        let usable = image(ImageStatus::Available, Some(100), Some(true));
        assert_eq!(
            CopyWatch::new().judge(Some(&usable), s(1), s(1)),
            CopyLook::Available
        );
    }

    #[test]
    fn failed_states_end_the_wait() {
        let failed = image(ImageStatus::CreateFailed, None, None);
        assert_eq!(
            CopyWatch::new().judge(Some(&failed), Duration::ZERO, Duration::ZERO),
            CopyLook::Failed("CreateFailed".into())
        );
    }
}
