//! Randomized stack lifecycles under injected faults: throttling, 5xx, latency, dropped
//! connections, failed copies, a ResponseURL that fails its first attempts, and duplicated
//! deliveries (sometimes concurrent). Deterministic by seed: a failure prints the seed, and
//! `RELIABILITY_SEED=n` replays just that one. `RELIABILITY_LIFECYCLES` runs more.

mod common;
mod reliability_support;

use reliability_support::{lifecycle, run_many, Transcript};

const DEFAULT_LIFECYCLES: u64 = 300;
const BASE_SEED: u64 = 0x0EC5_0000;
const PARALLEL: usize = 64;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lifecycle_keeps_its_promises_under_faults() {
    if let Some(seed) = env_u64("RELIABILITY_SEED") {
        let mut transcript = Transcript::default();
        lifecycle(seed, &mut transcript).await.unwrap();
        return;
    }
    let count = env_u64("RELIABILITY_LIFECYCLES").unwrap_or(DEFAULT_LIFECYCLES);
    let started = std::time::Instant::now();
    let (failures, transcript) = run_many(BASE_SEED, count, PARALLEL).await;
    eprintln!(
        "{count} lifecycles, {} answers, in {:?}",
        transcript.answers.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {count} lifecycles broke a promise (replay one with RELIABILITY_SEED=<seed>):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
