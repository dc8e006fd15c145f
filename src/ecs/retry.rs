//! Exponential backoff with full jitter, bounded by the caller's deadline. Uses tokio's
//! clock so tests can run it under `tokio::time::pause()`.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

use super::error::{EcsError, Transience};
use super::transport::TransportError;

#[derive(Clone)]
pub struct RetryPolicy {
    /// Backoff ceiling for the first retry; doubles per attempt.
    pub base: Duration,
    /// No single backoff exceeds this.
    pub cap: Duration,
    /// Bound on one HTTP exchange (also cut short by the deadline).
    pub attempt_timeout: Duration,
    /// Backoff ceiling for the first retry of a [`Transience::Busy`] answer (a resource busy
    /// with a copy that may take minutes); doubles per such answer up to `busy_cap`.
    pub busy_base: Duration,
    pub busy_cap: Duration,
    rng: Arc<Mutex<SmallRng>>,
}

impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("base", &self.base)
            .field("cap", &self.cap)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("busy_base", &self.busy_base)
            .field("busy_cap", &self.busy_cap)
            .finish_non_exhaustive()
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::new(
            Duration::from_millis(200),
            Duration::from_secs(5),
            Duration::from_secs(30),
        )
    }
}

impl RetryPolicy {
    /// Jitter seeded from the OS.
    pub fn new(base: Duration, cap: Duration, attempt_timeout: Duration) -> Self {
        Self::with_rng(
            base,
            cap,
            attempt_timeout,
            SmallRng::from_rng(&mut rand::rng()),
        )
    }

    /// Reproducible jitter for tests.
    pub fn seeded(base: Duration, cap: Duration, attempt_timeout: Duration, seed: u64) -> Self {
        Self::with_rng(base, cap, attempt_timeout, SmallRng::seed_from_u64(seed))
    }

    fn with_rng(base: Duration, cap: Duration, attempt_timeout: Duration, rng: SmallRng) -> Self {
        RetryPolicy {
            base,
            cap,
            attempt_timeout,
            busy_base: Duration::from_secs(2),
            busy_cap: Duration::from_secs(30),
            rng: Arc::new(Mutex::new(rng)),
        }
    }

    /// Sets the backoff for answers saying a resource is busy.
    pub fn with_busy_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.busy_base = base;
        self.busy_cap = cap;
        self
    }

    /// Upper bound of the wait after failed attempt number `attempt` (1-based):
    /// `min(cap, base * 2^(attempt-1))`.
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// Full jitter: uniformly random in `[0, ceiling]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.jittered(self.backoff_ceiling(attempt))
    }

    /// After the `busy`-th busy answer: at least half the ceiling (a busy resource stays
    /// busy for a while; polling it sooner only spends the account's API quota).
    pub fn busy_backoff(&self, busy: u32) -> Duration {
        let factor = 1u32.checked_shl(busy.saturating_sub(1)).unwrap_or(u32::MAX);
        let ceiling = self.busy_base.saturating_mul(factor).min(self.busy_cap);
        ceiling / 2 + self.jittered(ceiling / 2)
    }

    fn jittered(&self, ceiling: Duration) -> Duration {
        let ceiling = ceiling.as_millis() as u64;
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        Duration::from_millis(rng.random_range(0..=ceiling))
    }

    /// Runs `attempt(number, timeout)` until it succeeds, fails with a non-retryable
    /// error, or the next try could not start before `deadline`. Never sleeps past the
    /// deadline; giving up yields [`EcsError::DeadlineExceeded`] with the last error.
    pub async fn run<T, F, Fut>(
        &self,
        action: &str,
        deadline: Instant,
        mut attempt: F,
    ) -> Result<T, EcsError>
    where
        F: FnMut(u32, Duration) -> Fut,
        Fut: Future<Output = Result<T, EcsError>>,
    {
        let mut attempts = 0u32;
        let mut busy = 0u32;
        let mut last: Option<Box<EcsError>> = None;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(EcsError::DeadlineExceeded {
                    action: action.to_string(),
                    attempts,
                    last,
                });
            }
            attempts += 1;
            let timeout = self.attempt_timeout.min(deadline - now);
            // The transport is asked to honour the timeout; this enforces it for any
            // transport that does not.
            let outcome = match tokio::time::timeout(timeout, attempt(attempts, timeout)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(EcsError::Transport {
                    action: action.to_string(),
                    source: TransportError::Timeout(timeout),
                }),
            };
            let (error, wait) = match outcome {
                Ok(value) => return Ok(value),
                Err(error) => match error.transience() {
                    None => return Err(error),
                    Some(Transience::Brief) => (error, self.backoff(attempts)),
                    Some(Transience::Busy) => {
                        busy += 1;
                        tracing::info!(action, %error, "busy; trying again later");
                        (error, self.busy_backoff(busy))
                    }
                },
            };
            if Instant::now() + wait >= deadline {
                return Err(EcsError::DeadlineExceeded {
                    action: action.to_string(),
                    attempts,
                    last: Some(Box::new(error)),
                });
            }
            last = Some(Box::new(error));
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

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
            .map(|a| p.backoff_ceiling(a).as_millis() as u64)
            .collect();
        assert_eq!(ceilings, [200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
        assert_eq!(p.backoff_ceiling(200), Duration::from_secs(5));
    }

    #[test]
    fn jitter_stays_under_the_ceiling_and_is_reproducible() {
        let a = policy(7);
        let b = policy(7);
        let mut distinct = std::collections::HashSet::new();
        for attempt in 1..=50 {
            let wait = a.backoff(attempt);
            assert_eq!(wait, b.backoff(attempt));
            assert!(wait <= a.backoff_ceiling(attempt));
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
            let wait = p.busy_backoff(busy);
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
