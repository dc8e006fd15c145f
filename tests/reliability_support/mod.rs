//! Shared by the reliability suites: a loopback rig with a fast ECS retry policy, and one
//! randomized stack lifecycle under faults whose invariants are checked as it runs.
//! The secrets suite replays the same lifecycles under a capturing subscriber.
#![allow(dead_code)]

mod delivery;
mod lifecycle;
mod plan;
mod rig;

// Each suite uses some of these, and every suite compiles this module on its own.
#[allow(unused_imports)]
pub use delivery::Transcript;
#[allow(unused_imports)]
pub use lifecycle::{lifecycle, run_many};
#[allow(unused_imports)]
pub use rig::{shown, Envelope, Rig, SECOND_SOURCE};
