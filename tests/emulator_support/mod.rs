//! The emulator's own tests' signed ECS caller (written from the signature v1 description,
//! independent of both the client and the emulator), for the tests here that hold the
//! product and the emulator to the same rules. One copy, in crates/ecs-emulator/tests.
#![allow(dead_code, unused_imports)]

#[path = "../../crates/ecs-emulator/tests/emulator_support/mod.rs"]
mod caller;

pub use caller::*;
