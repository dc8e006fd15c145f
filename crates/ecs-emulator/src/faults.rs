//! Deterministic fault injection: each request draws from a generator seeded by the
//! emulator's seed, so a sequential test sees the same faults on every run.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Shares (0.0–1.0) of requests that fail, and latency added to every request.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Answered `Throttling.User` (HTTP 400), as ECS does under flow control.
    pub throttle: f64,
    /// Answered 5xx: `InternalError` (500) or `ServiceUnavailable` (503), half each.
    pub server_error: f64,
    /// Connection closed without any answer.
    pub drop_connection: f64,
    pub latency: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultAction {
    Pass,
    Throttle,
    InternalError,
    ServiceUnavailable,
    DropConnection,
}

/// Distinct from the id generator's stream, so turning faults on does not change ids.
const FAULT_STREAM: u64 = 0x5EED_FA17_0000_0001;

pub(crate) struct FaultInjector {
    faults: Faults,
    seed: u64,
    rng: StdRng,
}

impl FaultInjector {
    pub fn new(seed: u64) -> Self {
        FaultInjector {
            faults: Faults::default(),
            seed,
            rng: StdRng::seed_from_u64(seed ^ FAULT_STREAM),
        }
    }

    /// Restarts the sequence, so the same faults after the same calls give the same outcomes.
    pub fn set(&mut self, faults: Faults) {
        self.faults = faults;
        self.rng = StdRng::seed_from_u64(self.seed ^ FAULT_STREAM);
    }

    pub fn latency(&self) -> Duration {
        self.faults.latency
    }

    pub fn decide(&mut self) -> FaultAction {
        let f = self.faults;
        if f.throttle <= 0.0 && f.server_error <= 0.0 && f.drop_connection <= 0.0 {
            return FaultAction::Pass;
        }
        let draw: f64 = self.rng.random();
        let split: bool = self.rng.random();
        if draw < f.throttle {
            FaultAction::Throttle
        } else if draw < f.throttle + f.server_error {
            if split {
                FaultAction::InternalError
            } else {
                FaultAction::ServiceUnavailable
            }
        } else if draw < f.throttle + f.server_error + f.drop_connection {
            FaultAction::DropConnection
        } else {
            FaultAction::Pass
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, faults: Faults, n: usize) -> Vec<FaultAction> {
        let mut injector = FaultInjector::new(seed);
        injector.set(faults);
        (0..n).map(|_| injector.decide()).collect()
    }

    #[test]
    fn shares_are_roughly_as_configured_and_repeatable() {
        let faults = Faults {
            throttle: 0.2,
            server_error: 0.1,
            drop_connection: 0.05,
            latency: Duration::ZERO,
        };
        let actions = run(7, faults, 4000);
        let share = |pred: &dyn Fn(&FaultAction) -> bool| {
            actions.iter().filter(|a| pred(a)).count() as f64 / actions.len() as f64
        };
        assert!((share(&|a| *a == FaultAction::Throttle) - 0.2).abs() < 0.03);
        let server = share(&|a| {
            matches!(
                a,
                FaultAction::InternalError | FaultAction::ServiceUnavailable
            )
        });
        assert!((server - 0.1).abs() < 0.03);
        assert!((share(&|a| *a == FaultAction::DropConnection) - 0.05).abs() < 0.02);
        assert!(actions.contains(&FaultAction::InternalError));
        assert!(actions.contains(&FaultAction::ServiceUnavailable));
        assert_eq!(actions, run(7, faults, 4000));
        assert_ne!(actions, run(8, faults, 4000));
    }

    #[test]
    fn no_faults_configured_means_every_request_passes() {
        assert!(run(1, Faults::default(), 100)
            .iter()
            .all(|a| *a == FaultAction::Pass));
        let always = Faults {
            throttle: 1.0,
            ..Faults::default()
        };
        assert!(run(1, always, 100)
            .iter()
            .all(|a| *a == FaultAction::Throttle));
    }
}
