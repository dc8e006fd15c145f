//! One image of the fake and the clock it follows.

use std::time::Duration;

use tokio::time::Instant;

use crate::ecs::{ImageStatus, Tag};

/// How one image behaves, as times since it was started (CopyImage answered).
#[derive(Debug, Clone)]
pub struct Timing {
    /// DescribeImages does not list it before this (ECS's listing lags its API).
    pub listed_after: Duration,
    /// `Creating` until this, then `ends`.
    pub copying_for: Duration,
    pub ends: ImageStatus,
    /// An `Available` image reports `Usable: false` until this.
    pub usable_after: Duration,
    /// Removed by someone else (a cancel outside the stack) at this time.
    pub removed_after: Option<Duration>,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            listed_after: Duration::ZERO,
            copying_for: Duration::from_secs(30),
            ends: ImageStatus::Available,
            usable_after: Duration::ZERO,
            removed_after: None,
        }
    }
}

impl Timing {
    /// Finished already: `Available` and usable from the start.
    pub fn finished() -> Self {
        Timing {
            copying_for: Duration::ZERO,
            ..Timing::default()
        }
    }
}

pub struct FakeImage {
    pub region_id: String,
    pub started: Instant,
    pub timing: Timing,
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<Tag>,
    pub client_token: Option<String>,
    pub cancel_requested: bool,
    pub gone_at: Option<Instant>,
}

impl FakeImage {
    pub fn since(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn is_gone(&self) -> bool {
        let now = Instant::now();
        self.gone_at.is_some_and(|at| now >= at)
            || self
                .timing
                .removed_after
                .is_some_and(|after| self.since() >= after)
    }

    pub fn is_copying(&self) -> bool {
        self.since() < self.timing.copying_for
    }

    pub fn status(&self) -> ImageStatus {
        if self.is_copying() {
            ImageStatus::Creating
        } else {
            self.timing.ends.clone()
        }
    }
}
