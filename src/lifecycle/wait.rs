//! Waiting on ECS: for a copy to finish, for an image to be gone.

use std::time::Duration;

use tokio::time::Instant;

use super::schedule::{Observed, PollSchedule, MIN_INTERVAL};
use crate::ecs::{EcsClient, EcsError, ImageStatus};

/// How long after `CopyImage` answered a copy that DescribeImages does not list counts as
/// "not listed yet" rather than gone: ECS's listing lags its API (eventual consistency).
pub(super) const LISTING_GRACE: Duration = Duration::from_secs(60);
/// How long an `Available` copy whose `Usable` is still false is waited for before it is
/// accepted as it is. Never a reason to cancel: the copy is complete.
pub(super) const USABLE_GRACE: Duration = Duration::from_secs(120);
/// The longest pause between looks while a new copy is not listed yet.
const UNLISTED_MAX_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug, PartialEq, Eq)]
pub(super) enum WaitEnd {
    Available,
    /// The copy ended badly (`CreateFailed`, `UnAvailable`, ...): the status as ECS says it.
    Failed(String),
    /// Not listed (any more): after being seen, or for longer than [`LISTING_GRACE`].
    Vanished,
    TimedOut {
        progress: String,
    },
}

/// Polls until the copy is usable, has failed, or `stop_at` comes. `copy_started` is when
/// `CopyImage` answered (the listing grace counts from there).
pub(super) async fn wait_for_copy(
    ecs: &EcsClient,
    region: &str,
    image_id: &str,
    copy_started: Instant,
    stop_at: Instant,
) -> Result<WaitEnd, EcsError> {
    let began = Instant::now();
    let mut schedule = PollSchedule::new();
    let mut delay = schedule.first_delay();
    let mut last_seen = "not yet observed".to_string();
    let mut seen = false;
    let mut available_since: Option<Instant> = None;
    loop {
        let wake = Instant::now() + delay;
        if wake >= stop_at {
            tokio::time::sleep_until(stop_at).await;
            if available_since.is_some() {
                tracing::warn!(%image_id, "out of time while Usable is false; accepting Available");
                return Ok(WaitEnd::Available);
            }
            return Ok(WaitEnd::TimedOut {
                progress: last_seen,
            });
        }
        tokio::time::sleep_until(wake).await;
        let found = match ecs.describe_image(region, image_id, stop_at).await {
            Ok(found) => found,
            // The copy is complete; only the Usable flag was outstanding.
            Err(_) if available_since.is_some() => return Ok(WaitEnd::Available),
            Err(error) => return Err(error),
        };
        let Some(image) = found else {
            if seen || Instant::now() >= copy_started + LISTING_GRACE {
                return Ok(WaitEnd::Vanished);
            }
            last_seen = "not listed by DescribeImages yet".to_string();
            tracing::info!(%image_id, "copy not listed yet; looking again");
            delay = (delay * 2).clamp(MIN_INTERVAL, UNLISTED_MAX_INTERVAL);
            continue;
        };
        seen = true;
        let observed = match &image.status {
            // ECS may report Available before the image can be used; `Usable` says when.
            ImageStatus::Available if image.usable != Some(false) => return Ok(WaitEnd::Available),
            ImageStatus::Available => {
                let since = *available_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= USABLE_GRACE {
                    tracing::warn!(%image_id, "Usable still false; accepting Available");
                    return Ok(WaitEnd::Available);
                }
                Observed::Creating {
                    progress: Some(100),
                }
            }
            ImageStatus::Waiting => Observed::Waiting,
            ImageStatus::Creating => Observed::Creating {
                progress: image.progress,
            },
            other => return Ok(WaitEnd::Failed(format!("{other:?}"))),
        };
        last_seen = match (&image.status, image.progress) {
            (ImageStatus::Waiting, _) => "Waiting in the region's copy queue".to_string(),
            (ImageStatus::Available, _) => "Available, not yet Usable".to_string(),
            (status, Some(p)) => format!("{status:?} at {p}%"),
            (status, None) => format!("{status:?}"),
        };
        tracing::info!(%image_id, progress = %last_seen, "copy progress");
        delay = schedule.next_delay(began.elapsed(), observed);
        if available_since.is_some() {
            // Usable follows Available within moments: look again soon.
            delay = delay.min(Duration::from_secs(3));
        }
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

#[cfg(test)]
#[path = "wait_tests.rs"]
mod tests;
