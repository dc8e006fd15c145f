//! Polling economy on a simulated clock: no sleeping, no network.
//!
//! Replays [`PollSchedule`] and Terraform's `alicloud_image_copy` schedule against modelled
//! copies and prints a Markdown table (one row per copy) for `BENCHMARKS.md`:
//! `DescribeImages` calls and detection lag (image `Available` → first poll that sees it).
//! Then, after a `SECTION registry` line, the registry path (`TF::Alicloud::ImageCopy` as a
//! resource-provider type) against the custom-resource waiter, and after `SECTION cost` what
//! a user pays per copy on each path (`cost.rs`).
//!
//! The model: `queued` copies ahead of ours each take as long as ours; while they run ours is
//! `Waiting`, then `Creating` for `copy` seconds with progress following a curve, then
//! `Available`. The lag target is max(3 s, 2 % of the copy's own `Creating` time).

#[path = "poll_economy/cost.rs"]
mod cost;

use std::time::Duration;

use ecs_image_copy::lifecycle::schedule::{Observed, PollSchedule};

#[derive(Clone, Copy)]
enum Shape {
    Linear,
    /// Fast start, slow tail: 1 − (1 − x)².
    FrontLoaded,
    /// Slow start, fast middle, slow end: smoothstep 3x² − 2x³.
    SCurve,
    /// Linear underneath, but reported in 10 % steps, as ECS often does.
    Coarse,
    /// S-curve reported in 25 % steps: the hardest to estimate.
    CoarseSCurve,
}

impl Shape {
    const ALL: [Shape; 5] = [
        Shape::Linear,
        Shape::FrontLoaded,
        Shape::SCurve,
        Shape::Coarse,
        Shape::CoarseSCurve,
    ];

    fn name(self) -> &'static str {
        match self {
            Shape::Linear => "linear",
            Shape::FrontLoaded => "fast start, slow tail",
            Shape::SCurve => "S-curve",
            Shape::Coarse => "linear, 10 % steps",
            Shape::CoarseSCurve => "S-curve, 25 % steps",
        }
    }

    /// Reported progress in percent at share `x` (0..1) of the copy.
    fn progress(self, x: f64) -> u8 {
        let step = |p: f64, s: f64| (p / s).floor() * s;
        let p = match self {
            Shape::Linear => 100.0 * x,
            Shape::FrontLoaded => 100.0 * (1.0 - (1.0 - x).powi(2)),
            Shape::SCurve => 100.0 * x * x * (3.0 - 2.0 * x),
            Shape::Coarse => step(100.0 * x, 10.0),
            Shape::CoarseSCurve => step(100.0 * x * x * (3.0 - 2.0 * x), 25.0),
        };
        p.clamp(0.0, 99.0) as u8
    }
}

struct Copy {
    curve: Shape,
    duration: f64,
    queued: u32,
}

impl Copy {
    fn starts(&self) -> f64 {
        self.duration * f64::from(self.queued)
    }
    fn available_at(&self) -> f64 {
        self.starts() + self.duration
    }
    /// What `DescribeImages` says at `t` seconds after `CopyImage`; `None` once `Available`.
    fn observe(&self, t: f64) -> Option<Observed> {
        if t >= self.available_at() {
            None
        } else if t < self.starts() {
            Some(Observed::Waiting)
        } else {
            let x = (t - self.starts()) / self.duration;
            Some(Observed::Creating {
                progress: Some(self.curve.progress(x)),
            })
        }
    }
    fn lag_target(&self) -> f64 {
        (0.02 * self.duration).max(3.0)
    }
}

struct Outcome {
    calls: u32,
    lag: f64,
}

/// How a delay from the schedule becomes the time to the next poll.
#[derive(Clone, Copy)]
enum Delays {
    /// The custom-resource waiter sleeps exactly the schedule's delay.
    Exact,
    /// A registry callback: `callbackDelaySeconds` is whole seconds, rounded up (P1's
    /// provider entry), and the engine calls back after it. Any latency the engine adds to a
    /// callback is not modelled.
    WholeSecondsUp,
}

impl Delays {
    fn apply(self, delay: Duration) -> f64 {
        match self {
            Delays::Exact => delay.as_secs_f64(),
            Delays::WholeSecondsUp => delay.as_secs_f64().ceil(),
        }
    }
}

/// `PollSchedule` driving one copy: for the waiter, `calls` are its `DescribeImages` calls;
/// for the registry path, its callbacks (each polls once). `lag` counts from `Available`.
fn ours(copy: &Copy, delays: Delays) -> Outcome {
    let mut schedule = PollSchedule::new();
    let mut t = delays.apply(schedule.first_delay());
    let mut calls = 0;
    loop {
        calls += 1;
        match copy.observe(t) {
            None => {
                return Outcome {
                    calls,
                    lag: t - copy.available_at(),
                }
            }
            Some(observed) => {
                t += delays.apply(schedule.next_delay(Duration::from_secs_f64(t), observed));
            }
        }
        assert!(calls < 100_000, "runaway schedule");
    }
}

/// Terraform's `alicloud_image_copy`: first poll after 60 s, then 3 s, 6 s, then every 10 s.
fn terraform(copy: &Copy) -> Outcome {
    let mut t = 60.0;
    let mut calls = 0;
    let mut gaps = [3.0, 6.0].into_iter();
    loop {
        calls += 1;
        if copy.observe(t).is_none() {
            return Outcome {
                calls,
                lag: t - copy.available_at(),
            };
        }
        t += gaps.next().unwrap_or(10.0);
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing here is configurable.
    let mut rows = 0;
    let mut fewer_calls = 0;
    let mut lag_ok = 0;
    let (mut ours_total, mut tf_total) = (0u64, 0u64);
    println!("| copy | progress | queued ahead | calls (ours) | calls (Terraform) | calls ours/TF | lag ours | lag Terraform | lag target | met |");
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---|");
    for minutes in [1.0, 10.0, 60.0] {
        for curve in Shape::ALL {
            for queued in 0..=3 {
                let copy = Copy {
                    curve,
                    duration: minutes * 60.0,
                    queued,
                };
                let (a, b) = (ours(&copy, Delays::Exact), terraform(&copy));
                let calls_met = a.calls < b.calls;
                let lag_met = a.lag <= copy.lag_target() + 1e-9;
                rows += 1;
                fewer_calls += u32::from(calls_met);
                lag_ok += u32::from(lag_met);
                ours_total += u64::from(a.calls);
                tf_total += u64::from(b.calls);
                let met = match (calls_met, lag_met) {
                    (true, true) => "yes",
                    (false, true) => "lag only",
                    (true, false) => "calls only",
                    (false, false) => "no",
                };
                println!(
                    "| {minutes} min | {} | {queued} | {} | {} | {:.2} | {:.1} s | {:.1} s | {:.1} s | {met} |",
                    curve.name(),
                    a.calls,
                    b.calls,
                    f64::from(a.calls) / f64::from(b.calls),
                    a.lag,
                    b.lag,
                    copy.lag_target(),
                );
            }
        }
    }
    println!();
    println!(
        "SUMMARY rows={rows} fewer_calls={fewer_calls} lag_met={lag_ok} calls_ours={ours_total} calls_terraform={tf_total}"
    );
    registry();
    cost::table(
        |copy| ours(copy, Delays::Exact),
        |copy| ours(copy, Delays::WholeSecondsUp),
    );
}

fn copies() -> impl Iterator<Item = Copy> {
    [1.0, 10.0, 60.0].into_iter().flat_map(|minutes| {
        Shape::ALL.into_iter().flat_map(move |curve| {
            (0..=3).map(move |queued| Copy {
                curve,
                duration: minutes * 60.0,
                queued,
            })
        })
    })
}

/// The registry path against the custom-resource waiter. CREATE calls `CopyImage` and
/// answers IN_PROGRESS with `callbackDelaySeconds` = ⌈first delay⌉; each callback makes one
/// `DescribeImages` and answers again with ⌈next delay⌉ until it sees `Available`. The
/// waiter (one Lambda invocation, handed over when it runs out of time) sleeps the exact
/// delays. Targets: no more callbacks than the waiter's `DescribeImages` calls, and a lag
/// within max(3 s, 2 % of the copy).
fn registry() {
    println!();
    println!("SECTION registry");
    println!("| copy | progress | queued ahead | waiter DescribeImages | registry callbacks | registry ECS calls | callbacks/waiter | lag waiter | lag registry | lag target | met |");
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    let (mut rows, mut calls_ok, mut lag_ok) = (0, 0, 0);
    let (mut waiter_total, mut callbacks_total) = (0u64, 0u64);
    // The two paths differ only in the rounding, so every miss the waiter does not share
    // is the rounding's.
    let mut rounding_misses = Vec::new();
    let mut calls_missed_by_rounding = 0;
    for copy in copies() {
        let waiter = ours(&copy, Delays::Exact);
        let registry = ours(&copy, Delays::WholeSecondsUp);
        let calls_met = registry.calls <= waiter.calls;
        let lag_met = registry.lag <= copy.lag_target() + 1e-9;
        if !lag_met && waiter.lag <= copy.lag_target() + 1e-9 {
            rounding_misses.push(format!(
                "{} min {} queued {}",
                copy.duration / 60.0,
                copy.curve.name(),
                copy.queued
            ));
        }
        calls_missed_by_rounding += u32::from(!calls_met);
        rows += 1;
        calls_ok += u32::from(calls_met);
        lag_ok += u32::from(lag_met);
        waiter_total += u64::from(waiter.calls);
        callbacks_total += u64::from(registry.calls);
        let met = match (calls_met, lag_met) {
            (true, true) => "yes",
            (false, true) => "lag only",
            (true, false) => "calls only",
            (false, false) => "no",
        };
        println!(
            "| {} min | {} | {} | {} | {} | {} | {:.2} | {:.1} s | {:.1} s | {:.1} s | {met} |",
            copy.duration / 60.0,
            copy.curve.name(),
            copy.queued,
            waiter.calls,
            registry.calls,
            // CopyImage in CREATE, then one DescribeImages per callback.
            registry.calls + 1,
            f64::from(registry.calls) / f64::from(waiter.calls),
            waiter.lag,
            registry.lag,
            copy.lag_target(),
        );
    }
    println!();
    println!(
        "REGISTRY rows={rows} callbacks_within_waiter={calls_ok} lag_met={lag_ok} callbacks={callbacks_total} waiter_calls={waiter_total} calls_missed_by_rounding={calls_missed_by_rounding} lag_missed_by_rounding={}",
        rounding_misses.len()
    );
    for miss in rounding_misses {
        println!("ROUNDING_MISS {miss}");
    }
}
