//! The ECS client's use of the one [`RetryPolicy`] (`crate::retry`): exponential backoff
//! with full jitter for passing faults, longer pauses for a resource busy with a copy, every
//! attempt bounded, all within the caller's deadline.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

pub use crate::retry::RetryPolicy;
use crate::retry::{Backoff, Jitter, Retry, Stopped};

use super::error::{EcsError, Transience};
use super::transport::TransportError;

/// A resource busy with a copy stays busy for minutes: polling it sooner only spends the
/// account's API quota.
const BUSY: Backoff = Backoff::doubling(
    Duration::from_secs(2),
    Duration::from_secs(30),
    Jitter::UpperHalf,
);

impl Default for RetryPolicy {
    /// The client's production parameters.
    fn default() -> Self {
        RetryPolicy::new(
            Duration::from_millis(200),
            Duration::from_secs(5),
            Duration::from_secs(30),
        )
    }
}

impl RetryPolicy {
    /// The ECS client's policy: full-jitter doubling from `base` up to `cap` for passing
    /// faults, each attempt bounded by `attempt_timeout`. Jitter seeded from the OS.
    pub fn new(base: Duration, cap: Duration, attempt_timeout: Duration) -> Self {
        RetryPolicy::with_backoff(Backoff::doubling(base, cap, Jitter::Full), attempt_timeout)
            .with_busy(BUSY)
    }

    /// [`RetryPolicy::new`] with reproducible jitter, for tests.
    pub fn seeded(base: Duration, cap: Duration, attempt_timeout: Duration, seed: u64) -> Self {
        Self::new(base, cap, attempt_timeout).with_seed(seed)
    }

    /// Sets the backoff for answers saying a resource is busy.
    pub fn with_busy_backoff(self, base: Duration, cap: Duration) -> Self {
        self.with_busy(Backoff::doubling(base, cap, Jitter::UpperHalf))
    }

    /// Runs one ECS call's attempts under this policy. Giving up yields
    /// [`EcsError::DeadlineExceeded`] with the last error.
    pub async fn run<T, F, Fut>(
        &self,
        action: &str,
        deadline: Instant,
        attempt: F,
    ) -> Result<T, EcsError>
    where
        F: FnMut(u32, Duration) -> Fut,
        Fut: Future<Output = Result<T, EcsError>>,
    {
        let classify = |error: &EcsError, _attempt: u32| match error.transience() {
            None => Retry::No,
            Some(Transience::Brief) => Retry::Soon,
            Some(Transience::Busy) => {
                tracing::info!(action, %error, "busy; trying again later");
                Retry::Later
            }
        };
        let timed_out = |timeout| EcsError::Transport {
            action: action.to_string(),
            source: TransportError::Timeout(timeout),
        };
        match self.run_with(deadline, attempt, classify, timed_out).await {
            Ok(value) => Ok(value),
            Err(Stopped::Final { error, .. }) => Err(error),
            Err(Stopped::GaveUp { attempts, last }) => Err(EcsError::DeadlineExceeded {
                action: action.to_string(),
                attempts,
                last: last.map(Box::new),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Mutex;

    fn api(code: &str, status: u16) -> EcsError {
        EcsError::Api {
            action: "CopyImage".into(),
            http_status: status,
            code: code.into(),
            message: "m".into(),
            request_id: Some("R".into()),
        }
    }

    fn policy(seed: u64) -> RetryPolicy {
        RetryPolicy::seeded(
            Duration::from_millis(200),
            Duration::from_secs(5),
            Duration::from_secs(10),
            seed,
        )
    }

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let p = policy(1);
        let ceilings: Vec<u64> = (1..=8)
            .map(|a| p.backoff.ceiling(a).as_millis() as u64)
            .collect();
        assert_eq!(ceilings, [200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
        assert_eq!(p.backoff.ceiling(200), Duration::from_secs(5));
    }

    #[test]
    fn jitter_stays_under_the_ceiling_and_is_reproducible() {
        let a = policy(7);
        let b = policy(7);
        let mut distinct = std::collections::HashSet::new();
        for attempt in 1..=50 {
            let wait = a.wait(&a.backoff, attempt);
            assert_eq!(wait, b.wait(&b.backoff, attempt));
            assert!(wait <= a.backoff.ceiling(attempt));
            distinct.insert(wait);
        }
        assert!(distinct.len() > 10, "jitter looks constant: {distinct:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn retries_throttling_then_succeeds() {
        let calls = AtomicU32::new(0);
        let start = Instant::now();
        let result = policy(3)
            .run(
                "CopyImage",
                start + Duration::from_secs(60),
                |attempt, _| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async move {
                        match attempt {
                            1 => Err(api("Throttling.User", 400)),
                            2 => Err(api("ServiceUnavailable", 503)),
                            _ => Ok("m-new"),
                        }
                    }
                },
            )
            .await;
        assert_eq!(result.unwrap(), "m-new");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Waited at most the two ceilings (200 ms + 400 ms).
        assert!(start.elapsed() <= Duration::from_millis(600));
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_source_is_waited_out_with_longer_pauses() {
        let p = policy(9).with_busy_backoff(Duration::from_secs(2), Duration::from_secs(30));
        let start = Instant::now();
        let calls = AtomicU32::new(0);
        let result = p
            .run(
                "CopyImage",
                start + Duration::from_secs(600),
                |attempt, _| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if attempt <= 5 {
                            Err(api("OperationDenied.ImageCopying", 403))
                        } else {
                            Ok("m-copy")
                        }
                    }
                },
            )
            .await;
        assert_eq!(result.unwrap(), "m-copy");
        assert_eq!(calls.load(Ordering::SeqCst), 6);
        // At least half of 2+4+8+16+30 seconds; throttling backoff would have been < 6 s.
        assert!(
            start.elapsed() >= Duration::from_secs(30),
            "{:?}",
            start.elapsed()
        );
        for busy in 1..=10 {
            let wait = p.wait(&p.busy, busy);
            assert!(wait <= Duration::from_secs(30), "{wait:?}");
            assert!(wait >= Duration::from_secs(1), "{wait:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_at_the_deadline_with_the_last_error() {
        let calls = AtomicU32::new(0);
        let start = Instant::now();
        let deadline = start + Duration::from_secs(20);
        let err = policy(4)
            .run::<(), _, _>("CopyImage", deadline, |attempt, _| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if attempt < 3 {
                        Err(api("Throttling", 400))
                    } else {
                        Err(api("InternalError", 500))
                    }
                }
            })
            .await
            .unwrap_err();
        assert!(Instant::now() <= deadline, "slept past the deadline");
        match &err {
            EcsError::DeadlineExceeded { attempts, last, .. } => {
                assert_eq!(*attempts, calls.load(Ordering::SeqCst));
                assert!(*attempts > 3, "only {attempts} attempts in 20 s");
                assert_eq!(
                    last.as_deref().and_then(EcsError::code),
                    Some("InternalError")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("deadline passed"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_errors_return_after_one_attempt() {
        let calls = AtomicU32::new(0);
        let start = Instant::now();
        let err = policy(5)
            .run::<(), _, _>("CopyImage", start + Duration::from_secs(60), |_, _| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(api("IncorrectImageStatus", 400)) }
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("IncorrectImageStatus"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_passed_deadline_makes_no_attempt() {
        let start = Instant::now();
        let err = policy(6)
            .run::<(), _, _>("CopyImage", start, |_, _| async { panic!("attempted") })
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            EcsError::DeadlineExceeded {
                attempts: 0,
                last: None,
                ..
            }
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_attempt_is_cut_by_the_deadline() {
        let start = Instant::now();
        let deadline = start + Duration::from_secs(3);
        let seen_timeouts = Mutex::new(Vec::new());
        let err = policy(8)
            .run::<(), _, _>("DescribeImages", deadline, |_, timeout| {
                seen_timeouts.lock().unwrap().push(timeout);
                std::future::pending()
            })
            .await
            .unwrap_err();
        assert_eq!(Instant::now(), deadline);
        assert_eq!(seen_timeouts.lock().unwrap()[0], Duration::from_secs(3));
        match err {
            EcsError::DeadlineExceeded {
                last: Some(last), ..
            } => assert!(matches!(
                *last,
                EcsError::Transport {
                    source: TransportError::Timeout(_),
                    ..
                }
            )),
            other => panic!("{other:?}"),
        }
    }
}
