//! When to ask ECS again how a copy is doing.
//!
//! Pure and clock-free (it is told the elapsed time), so the benchmark can replay whole
//! copies on a simulated clock.
//!
//! The promise is a detection lag of at most max(3 s, 2 % of the copy's duration), with as
//! few calls as that allows:
//! - Near the end, polls are never further apart than max(3 s, 2 % of the time the copy has
//!   been seen `Creating`). The copy cannot be shorter than that time, so the gap never
//!   exceeds the lag the copy is allowed, whatever its duration turns out to be.
//! - Far from the end, the reported `Progress` lets us skip ahead. ECS reports progress
//!   coarsely (whole percents, often larger steps), so the estimate treats the reported value
//!   as a lower bound of the true one: the finish is estimated early, never late, and a sleep
//!   based on it cannot overshoot.
//! - Before half the progress is reported, one sleep never exceeds the time already spent
//!   `Creating`, so a copy that speeds up later (slow start) is not skipped past.
//! - While the copy is `Waiting` behind others in the region's queue nothing can be
//!   estimated; the delay grows with the time waited, up to a bound.

use std::time::Duration;

/// The first look comes quickly so that a small copy finishes in seconds.
pub const FIRST_POLL: Duration = Duration::from_secs(1);
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
pub const MAX_INTERVAL: Duration = Duration::from_secs(30 * 60);
/// The smallest lag promised, whatever the copy's duration.
const MIN_LAG: f64 = 3.0;
/// The lag allowed as a share of the copy's duration.
const LAG_SHARE: f64 = 0.02;
/// Share of the (early) estimated remaining time to sleep.
const REMAINING_SHARE: f64 = 0.7;
const WAITING_START: f64 = 3.0;
const WAITING_SHARE: f64 = 0.5;
const WAITING_CAP: f64 = 30.0;

/// What one `DescribeImages` said about the copy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Observed {
    /// Queued behind other copies into the same region.
    Waiting,
    /// Copying; progress in percent when ECS reported it.
    Creating { progress: Option<u8> },
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PollSchedule {
    /// When the copy was first seen Waiting (seconds since the wait began).
    waiting_since: Option<f64>,
    /// When the copy was first seen Creating, and the progress then.
    creating_since: Option<(f64, f64)>,
    /// The latest distinct progress value seen.
    last_progress: Option<f64>,
    /// The smallest step between distinct reported values: how coarse the reports are.
    step: Option<f64>,
}

impl PollSchedule {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn first_delay(&self) -> Duration {
        FIRST_POLL
    }

    /// The delay before the next poll, given what was just observed `elapsed` after the
    /// wait began.
    pub fn next_delay(&mut self, elapsed: Duration, observed: Observed) -> Duration {
        let now = elapsed.as_secs_f64();
        let seconds = match observed {
            Observed::Waiting => {
                self.creating_since = None;
                self.last_progress = None;
                let since = *self.waiting_since.get_or_insert(now);
                ((now - since) * WAITING_SHARE).clamp(WAITING_START, WAITING_CAP)
            }
            Observed::Creating { progress } => {
                self.waiting_since = None;
                let progress = progress.map(|p| f64::from(p.min(100)));
                let (since, first_progress) = *self
                    .creating_since
                    .get_or_insert((now, progress.unwrap_or(0.0)));
                self.creating_delay(now - since, first_progress, progress)
            }
        };
        Duration::from_secs_f64(seconds).clamp(MIN_INTERVAL, MAX_INTERVAL)
    }

    fn creating_delay(
        &mut self,
        creating_for: f64,
        first_progress: f64,
        progress: Option<f64>,
    ) -> f64 {
        // The copy has run at least `creating_for`, so this gap is within its allowed lag.
        let safe_gap = (creating_for * LAG_SHARE).max(MIN_LAG);
        let Some(progress) = progress else {
            return safe_gap;
        };
        if let Some(last) = self.last_progress {
            if progress > last {
                let step = progress - last;
                self.step = Some(self.step.map_or(step, |s: f64| s.min(step)));
            }
        }
        self.last_progress = Some(self.last_progress.map_or(progress, |l| l.max(progress)));
        // True progress may be up to one reporting step ahead of what is reported.
        let step = self.step.unwrap_or(1.0);
        let upper = (progress + step).min(100.0);
        let moved = upper - first_progress;
        if creating_for <= 0.0 || progress <= first_progress || moved <= 0.0 {
            // No rate yet. A copy still at its first reported value is at least one step
            // from done for a while; sleeping as long as it has already run is safe while
            // steps are at most half the copy.
            return creating_for
                .max(safe_gap.min(2.0))
                .max(MIN_INTERVAL.as_secs_f64());
        }
        let fastest_rate = moved / creating_for;
        let earliest_remaining = (100.0 - upper) / fastest_rate;
        let ahead = earliest_remaining * REMAINING_SHARE;
        if progress < 50.0 {
            // A slow start may hide a fast middle: never skip further than time already run.
            ahead.min(creating_for).max(safe_gap)
        } else {
            ahead.max(safe_gap)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays a copy of `duration` seconds queued behind `queued` equal ones, with progress
    /// from `curve` reported in `step`-percent steps; returns (polls, detection lag).
    fn replay(duration: f64, queued: u32, curve: fn(f64) -> f64, step: f64) -> (u32, f64) {
        let mut schedule = PollSchedule::new();
        let starts = duration * f64::from(queued);
        let done = starts + duration;
        let mut t = schedule.first_delay().as_secs_f64();
        let mut polls = 0;
        loop {
            polls += 1;
            let observed = if t >= done {
                return (polls, t - done);
            } else if t < starts {
                Observed::Waiting
            } else {
                let p = (curve((t - starts) / duration) * 100.0 / step).floor() * step;
                Observed::Creating {
                    progress: Some(p.clamp(0.0, 99.0) as u8),
                }
            };
            t += schedule
                .next_delay(Duration::from_secs_f64(t), observed)
                .as_secs_f64();
            assert!(polls < 10_000, "runaway schedule");
        }
    }

    const CURVES: [fn(f64) -> f64; 3] = [
        |x| x,
        |x| 1.0 - (1.0 - x).powi(2),
        |x| x * x * (3.0 - 2.0 * x),
    ];

    #[test]
    fn the_lag_bound_holds_for_every_shape_step_and_queue() {
        for duration in [5.0, 60.0, 600.0, 3600.0, 4.0 * 3600.0] {
            for curve in CURVES {
                for step in [1.0, 10.0, 25.0] {
                    for queued in 0..=3 {
                        let (_, lag) = replay(duration, queued, curve, step);
                        let allowed = (duration * LAG_SHARE).max(MIN_LAG);
                        assert!(
                            lag <= allowed + 1e-9,
                            "{duration}s step {step} queued {queued}: lag {lag}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn long_copies_cost_far_fewer_polls_than_a_fixed_ten_second_interval() {
        let (polls, _) = replay(3600.0, 0, CURVES[0], 1.0);
        assert!(polls < 36, "{polls}");
        let (polls, _) = replay(600.0, 0, CURVES[0], 1.0);
        assert!(polls < 30, "{polls}");
    }

    #[test]
    fn waiting_backs_off_but_stays_bounded() {
        let mut s = PollSchedule::new();
        let mut t = 1.0;
        let mut delays = Vec::new();
        for _ in 0..20 {
            let d = s.next_delay(Duration::from_secs_f64(t), Observed::Waiting);
            t += d.as_secs_f64();
            delays.push(d);
        }
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(
            *delays.last().unwrap(),
            Duration::from_secs_f64(WAITING_CAP)
        );
        assert_eq!(delays[0], Duration::from_secs_f64(WAITING_START));
    }

    #[test]
    fn unknown_progress_polls_within_the_lag_bound() {
        let mut s = PollSchedule::new();
        for i in 0..50u64 {
            let t = Duration::from_secs(i * 10);
            let d = s.next_delay(t, Observed::Creating { progress: None });
            let bound = (t.as_secs_f64() * LAG_SHARE).max(MIN_LAG);
            assert!(d.as_secs_f64() <= bound + 1e-9, "{d:?} > {bound}");
        }
    }

    #[test]
    fn every_delay_is_within_bounds_for_odd_progress_sequences() {
        let mut s = PollSchedule::new();
        let seq = [0u8, 0, 100, 100, 5, 99, 255, 1];
        for (i, p) in seq.into_iter().enumerate() {
            let d = s.next_delay(
                Duration::from_millis(i as u64 * 1500),
                Observed::Creating { progress: Some(p) },
            );
            assert!(d >= MIN_INTERVAL && d <= MAX_INTERVAL, "{d:?}");
        }
    }
}
