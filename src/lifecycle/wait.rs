//! Waiting on ECS: for a copy to finish, for an image to be gone.

use std::time::Duration;

use tokio::time::Instant;

#[cfg(test)]
use super::look::UNLISTED_MAX_INTERVAL;
use super::look::{CopyLook, CopyWatch};
use super::schedule::MIN_INTERVAL;
use super::EcsImages;
use crate::ecs::EcsError;

/// How long after `CopyImage` answered a copy that DescribeImages does not list counts as
/// "not listed yet" rather than gone: ECS's listing lags its API (eventual consistency).
pub(super) const LISTING_GRACE: Duration = Duration::from_secs(60);
/// How long an `Available` copy whose `Usable` is still false is waited for before it is
/// accepted as it is. Never a reason to cancel: the copy is complete.
pub(super) const USABLE_GRACE: Duration = Duration::from_secs(120);

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
#[cfg(test)]
pub(super) async fn wait_for_copy(
    ecs: &impl EcsImages,
    region: &str,
    image_id: &str,
    copy_started: Instant,
    stop_at: Instant,
) -> Result<WaitEnd, EcsError> {
    let mut watch = CopyWatch::new();
    watch_copy(ecs, region, image_id, copy_started, stop_at, &mut watch).await
}

/// [`wait_for_copy`] going on from what `watch` has learnt (a fresh one for a new wait, the
/// one a hand-over record carried when resuming), which it keeps up to date: a wait cut
/// short hands it on. Its clock is the time since `copy_started`.
pub(super) async fn watch_copy(
    ecs: &impl EcsImages,
    region: &str,
    image_id: &str,
    copy_started: Instant,
    stop_at: Instant,
    watch: &mut CopyWatch,
) -> Result<WaitEnd, EcsError> {
    let mut delay = watch.next_delay(copy_started.elapsed());
    loop {
        let wake = Instant::now() + delay;
        if wake >= stop_at {
            tokio::time::sleep_until(stop_at).await;
            if watch.only_usable_outstanding() {
                tracing::warn!(%image_id, "out of time while Usable is false; accepting Available");
                return Ok(WaitEnd::Available);
            }
            return Ok(WaitEnd::TimedOut {
                progress: watch.last_seen.clone(),
            });
        }
        tokio::time::sleep_until(wake).await;
        let found = match ecs.describe_image(region, image_id, stop_at).await {
            Ok(found) => found,
            // The copy is complete; only the Usable flag was outstanding.
            Err(_) if watch.only_usable_outstanding() => return Ok(WaitEnd::Available),
            Err(error) => return Err(error),
        };
        let since_copy = copy_started.elapsed();
        match watch.judge(found.as_ref(), since_copy, since_copy) {
            CopyLook::Available => return Ok(WaitEnd::Available),
            CopyLook::Failed(status) => return Ok(WaitEnd::Failed(status)),
            CopyLook::Vanished => return Ok(WaitEnd::Vanished),
            CopyLook::Waiting { next_look_in } => {
                tracing::info!(%image_id, progress = %watch.last_seen, "copy progress");
                delay = next_look_in;
            }
        }
    }
}

/// Polls until the image no longer exists. `Ok(false)` when `stop_at` came first.
pub(super) async fn wait_until_gone(
    ecs: &impl EcsImages,
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
