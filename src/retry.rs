//! The one retry policy for everything the function sends: ECS calls, the answer to the
//! stack's `ResponseURL`, the read of the credentials' secret and the Lambda hand-over.
//! Each use states its own schedule, jitter, attempt bound and deadline rule; the loop that
//! honours them is written once. It uses tokio's clock, so tests can run it under
//! `tokio::time::pause()`, and imports nothing from the crate, so every layer may use it.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

/// How a wait is drawn from its ceiling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// Uniformly random in `[0, ceiling]` ("full jitter"): callers that share a limit spread out.
    Full,
    /// In `[ceiling / 2, ceiling]`: never much sooner than planned.
    UpperHalf,
    /// Within ± this fraction (at most 1) of the ceiling, so many callers do not retry in
    /// lockstep.
    Spread(f64),
    /// Exactly the ceiling.
    None,
}

/// The waits between attempts: first the fixed `steps`, then `base` doubling per retry up to
/// `cap`, each drawn with `jitter`.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    pub steps: &'static [Duration],
    pub base: Duration,
    pub cap: Duration,
    pub jitter: Jitter,
}

impl Backoff {
    pub const fn doubling(base: Duration, cap: Duration, jitter: Jitter) -> Self {
        Backoff {
            steps: &[],
            base,
            cap,
            jitter,
        }
    }

    /// The same schedule, with `steps` before the doubling starts.
    pub const fn after_steps(mut self, steps: &'static [Duration]) -> Self {
        self.steps = steps;
        self
    }

    /// The planned wait after the `retry`-th failure (1-based), before jitter:
    /// `steps[retry - 1]`, then `min(cap, base * 2^(retry - 1 - steps))`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let index = retry.saturating_sub(1) as usize;
        if let Some(step) = self.steps.get(index) {
            return *step;
        }
        let doublings = (index - self.steps.len()) as u32;
        let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    fn draw(&self, retry: u32, rng: &mut SmallRng) -> Duration {
        let ceiling = self.ceiling(retry);
        let millis = ceiling.as_millis() as u64;
        match self.jitter {
            Jitter::Full => Duration::from_millis(rng.random_range(0..=millis)),
            Jitter::UpperHalf => {
                ceiling / 2 + Duration::from_millis(rng.random_range(0..=millis / 2))
            }
            Jitter::Spread(fraction) if fraction > 0.0 => {
                let fraction = fraction.min(1.0);
                ceiling.mul_f64(rng.random_range(1.0 - fraction..1.0 + fraction))
            }
            Jitter::Spread(_) => ceiling,
            Jitter::None => ceiling,
        }
    }
}

/// What a failed attempt calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Retrying cannot help: stop with this failure.
    No,
    /// A passing fault: wait on the [`RetryPolicy::backoff`] schedule, by attempt number.
    Soon,
    /// The other side is busy for a while: wait on the [`RetryPolicy::busy`] schedule, by
    /// the number of such answers so far.
    Later,
}

/// Why [`RetryPolicy::run_with`] stopped without a success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped<E> {
    /// A failure retrying cannot help, at attempt number `attempts`.
    Final { error: E, attempts: u32 },
    /// No further attempt fits before the deadline, or the attempts are used up; `last` is
    /// the last failure (`None` when the deadline had passed before the first attempt).
    GaveUp { attempts: u32, last: Option<E> },
}

#[derive(Clone)]
pub struct RetryPolicy {
    pub backoff: Backoff,
    /// For failures that say a resource is busy (a copy that may take minutes).
    pub busy: Backoff,
    /// Bound on one attempt (also cut short by the deadline).
    pub attempt_timeout: Duration,
    pub max_attempts: u32,
    /// Make the first attempt even when the deadline has passed: for a message that must be
    /// sent whatever the clock says (the stack's answer), rather than work that may be skipped.
    pub first_attempt_past_deadline: bool,
    rng: Arc<Mutex<SmallRng>>,
}

impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("backoff", &self.backoff)
            .field("busy", &self.busy)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("max_attempts", &self.max_attempts)
            .field(
                "first_attempt_past_deadline",
                &self.first_attempt_past_deadline,
            )
            .finish_non_exhaustive()
    }
}

impl RetryPolicy {
    /// Attempts bounded by the deadline only; busy answers wait as ordinary failures do.
    /// Jitter seeded from the OS.
    pub fn with_backoff(backoff: Backoff, attempt_timeout: Duration) -> Self {
        RetryPolicy {
            busy: backoff.clone(),
            backoff,
            attempt_timeout,
            max_attempts: u32::MAX,
            first_attempt_past_deadline: false,
            rng: Arc::new(Mutex::new(SmallRng::from_rng(&mut rand::rng()))),
        }
    }

    /// Reproducible jitter for tests.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = Arc::new(Mutex::new(SmallRng::seed_from_u64(seed)));
        self
    }

    pub fn with_busy(mut self, busy: Backoff) -> Self {
        self.busy = busy;
        self
    }

    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    pub fn with_first_attempt_past_deadline(mut self) -> Self {
        self.first_attempt_past_deadline = true;
        self
    }

    /// The wait after the `retry`-th failure of the kind `schedule` serves.
    pub fn wait(&self, schedule: &Backoff, retry: u32) -> Duration {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        schedule.draw(retry, &mut rng)
    }

    /// Runs `attempt(number, timeout)` until it succeeds, `classify(failure, number)` says a
    /// failure cannot be helped, the attempts are used up, or the next try could not start before
    /// `deadline`. Never sleeps past the deadline. An attempt still running at its timeout
    /// is dropped and counts as the failure `timed_out(timeout)`.
    pub async fn run_with<T, E, F, Fut>(
        &self,
        deadline: Instant,
        mut attempt: F,
        mut classify: impl FnMut(&E, u32) -> Retry,
        timed_out: impl Fn(Duration) -> E,
    ) -> Result<T, Stopped<E>>
    where
        F: FnMut(u32, Duration) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut attempts = 0u32;
        let mut busy = 0u32;
        let mut last: Option<E> = None;
        loop {
            let now = Instant::now();
            let past = now >= deadline;
            if past && !(attempts == 0 && self.first_attempt_past_deadline) {
                return Err(Stopped::GaveUp { attempts, last });
            }
            attempts += 1;
            let timeout = self
                .attempt_timeout
                .min(deadline.saturating_duration_since(now));
            // An attempt is asked to honour the timeout; this enforces it for one that does not.
            let error = match tokio::time::timeout(timeout, attempt(attempts, timeout)).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) => error,
                Err(_) => timed_out(timeout),
            };
            let wait = match classify(&error, attempts) {
                Retry::No => return Err(Stopped::Final { error, attempts }),
                Retry::Soon => self.wait(&self.backoff, attempts),
                Retry::Later => {
                    busy += 1;
                    self.wait(&self.busy, busy)
                }
            };
            if attempts >= self.max_attempts || Instant::now() + wait >= deadline {
                return Err(Stopped::GaveUp {
                    attempts,
                    last: Some(error),
                });
            }
            last = Some(error);
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;
