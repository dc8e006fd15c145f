//! Waiting on ECS: for a copy to finish, for an image to be gone.

use std::time::Duration;

use tokio::time::Instant;

use super::schedule::{Observed, PollSchedule, MIN_INTERVAL};
use crate::ecs::{EcsClient, EcsError, ImageStatus};

#[derive(Debug, PartialEq, Eq)]
pub(super) enum WaitEnd {
    Available,
    /// The copy ended badly (`CreateFailed`, `UnAvailable`, ...): the status as ECS says it.
    Failed(String),
    Vanished,
    TimedOut {
        progress: String,
    },
}

/// Polls until the copy is usable, has failed, or `stop_at` comes.
pub(super) async fn wait_for_copy(
    ecs: &EcsClient,
    region: &str,
    image_id: &str,
    stop_at: Instant,
) -> Result<WaitEnd, EcsError> {
    let began = Instant::now();
    let mut schedule = PollSchedule::new();
    let mut delay = schedule.first_delay();
    let mut last_seen = "not yet observed".to_string();
    loop {
        let wake = Instant::now() + delay;
        if wake >= stop_at {
            tokio::time::sleep_until(stop_at).await;
            return Ok(WaitEnd::TimedOut {
                progress: last_seen,
            });
        }
        tokio::time::sleep_until(wake).await;
        let Some(image) = ecs.describe_image(region, image_id, stop_at).await? else {
            return Ok(WaitEnd::Vanished);
        };
        let observed = match &image.status {
            // ECS may report Available before the image can be used; `Usable` says when.
            ImageStatus::Available if image.usable != Some(false) => return Ok(WaitEnd::Available),
            ImageStatus::Available => Observed::Creating {
                progress: Some(100),
            },
            ImageStatus::Waiting => Observed::Waiting,
            ImageStatus::Creating => Observed::Creating {
                progress: image.progress,
            },
            other => return Ok(WaitEnd::Failed(format!("{other:?}"))),
        };
        last_seen = match (&image.status, image.progress) {
            (ImageStatus::Waiting, _) => "Waiting in the region's copy queue".to_string(),
            (status, Some(p)) => format!("{status:?} at {p}%"),
            (status, None) => format!("{status:?}"),
        };
        tracing::info!(%image_id, progress = %last_seen, "copy progress");
        delay = schedule.next_delay(began.elapsed(), observed);
    }
}

/// Polls until the image no longer exists. `Ok(false)` when `stop_at` came first.
pub(super) async fn wait_until_gone(
    ecs: &EcsClient,
    region: &str,
    image_id: &str,
    stop_at: Instant,
) -> Result<bool, EcsError> {
    let mut delay = Duration::ZERO;
    loop {
        if ecs
            .describe_image(region, image_id, stop_at)
            .await?
            .is_none()
        {
            return Ok(true);
        }
        delay = (delay * 2).clamp(MIN_INTERVAL, Duration::from_secs(10));
        if Instant::now() + delay >= stop_at {
            return Ok(false);
        }
        tokio::time::sleep(delay).await;
    }
}
