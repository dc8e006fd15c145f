//! When to ask ECS again how a copy is doing.
//!
//! Pure and clock-free (it is told the elapsed time), so the benchmark can replay whole
//! copies on a simulated clock. The idea: a copy reports `Progress`; from its rate we
//! estimate the finish and sleep most of the way there, polling more often as the estimate
//! shortens, so a long copy costs few calls and a finished one is noticed quickly. While the
//! copy is `Waiting` behind others in the region's queue, nothing can be estimated, so we
//! back off.

use std::time::Duration;

/// The first look comes quickly so that a small copy finishes in seconds.
pub const FIRST_POLL: Duration = Duration::from_secs(1);
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
pub const MAX_INTERVAL: Duration = Duration::from_secs(120);
const WAITING_START: Duration = Duration::from_secs(3);
const WAITING_CAP: Duration = Duration::from_secs(30);
/// Share of the estimated remaining time to sleep: below 1 so a slowing copy is not overshot.
const REMAINING_SHARE: f64 = 0.7;
/// Acceptable detection lag as a share of the copy's duration (and at least [`MIN_LAG`]).
const LAG_SHARE: f64 = 0.02;
const MIN_LAG: Duration = Duration::from_secs(2);

/// What one `DescribeImages` said about the copy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Observed {
    /// Queued behind other copies into the same region.
    Waiting,
    /// Copying; progress in percent when ECS reported it.
    Creating { progress: Option<u8> },
}

#[derive(Debug, Clone, Default)]
pub struct PollSchedule {
    /// First time (since the wait began) the copy was seen making progress, and that progress.
    creating_since: Option<(Duration, f64)>,
    waiting_delay: Option<Duration>,
    /// Delay used while progress is unknown or not moving.
    blind_delay: Option<Duration>,
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
        match observed {
            Observed::Waiting => {
                self.creating_since = None;
                let next = match self.waiting_delay {
                    None => WAITING_START,
                    Some(d) => d.mul_f64(1.5).min(WAITING_CAP),
                };
                self.waiting_delay = Some(next);
                next
            }
            Observed::Creating { progress } => {
                self.waiting_delay = None;
                let progress = progress.map(|p| f64::from(p.min(100)));
                match (self.creating_since, progress) {
                    (None, Some(p)) => {
                        self.creating_since = Some((elapsed, p));
                        self.blind()
                    }
                    (Some((t0, p0)), Some(p)) if p > p0 && elapsed > t0 => {
                        self.blind_delay = None;
                        let rate = (p - p0) / (elapsed - t0).as_secs_f64();
                        let remaining = Duration::from_secs_f64((100.0 - p) / rate);
                        let total = (elapsed - t0) + remaining;
                        let lag = total.mul_f64(LAG_SHARE).max(MIN_LAG);
                        if remaining <= lag {
                            // Nearly done: poll at the lag budget so the finish is seen in time.
                            remaining.max(MIN_INTERVAL).min(lag)
                        } else {
                            remaining
                                .mul_f64(REMAINING_SHARE)
                                .clamp(MIN_INTERVAL, MAX_INTERVAL)
                        }
                    }
                    _ => self.blind(),
                }
            }
        }
    }

    /// No usable rate yet (no progress reported, or it has not moved): look again soon,
    /// a little later each time.
    fn blind(&mut self) -> Duration {
        let next = match self.blind_delay {
            None => Duration::from_secs(2),
            Some(d) => d.mul_f64(1.5).min(Duration::from_secs(15)),
        };
        self.blind_delay = Some(next);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays a linear copy of `duration` and returns (polls, detection lag).
    fn replay(duration: Duration, queued_for: Duration) -> (u32, Duration) {
        let mut schedule = PollSchedule::new();
        let mut t = schedule.first_delay();
        let mut polls = 0;
        loop {
            polls += 1;
            let observed = if t < queued_for {
                Observed::Waiting
            } else if t < queued_for + duration {
                let share = (t - queued_for).as_secs_f64() / duration.as_secs_f64();
                Observed::Creating {
                    progress: Some((share * 100.0) as u8),
                }
            } else {
                return (polls, t - (queued_for + duration));
            };
            t += schedule.next_delay(t, observed);
            assert!(polls < 10_000, "runaway schedule");
        }
    }

    #[test]
    fn small_copies_are_noticed_within_seconds() {
        let (_, lag) = replay(Duration::from_secs(5), Duration::ZERO);
        assert!(lag <= Duration::from_secs(3), "{lag:?}");
    }

    #[test]
    fn long_copies_cost_far_fewer_polls_than_a_fixed_ten_second_interval() {
        let hour = Duration::from_secs(3600);
        let (polls, lag) = replay(hour, Duration::ZERO);
        assert!(polls < 360 / 4, "{polls}");
        assert!(lag <= hour.mul_f64(0.02), "{lag:?}");
    }

    #[test]
    fn waiting_backs_off_but_stays_bounded() {
        let mut s = PollSchedule::new();
        let delays: Vec<_> = (0..10)
            .map(|i| s.next_delay(Duration::from_secs(i * 30), Observed::Waiting))
            .collect();
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*delays.last().unwrap(), WAITING_CAP);
    }

    #[test]
    fn unknown_progress_keeps_polling_at_a_bounded_interval() {
        let mut s = PollSchedule::new();
        for i in 0..20 {
            let d = s.next_delay(
                Duration::from_secs(i * 10),
                Observed::Creating { progress: None },
            );
            assert!(d >= MIN_INTERVAL && d <= Duration::from_secs(15));
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
