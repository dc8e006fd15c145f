use super::*;
use std::sync::atomic::{AtomicU32, Ordering};

const STEPS: [Duration; 3] = [
    Duration::from_millis(200),
    Duration::from_millis(500),
    Duration::from_millis(1000),
];

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

#[test]
fn steps_come_first_then_the_doubling_up_to_the_cap() {
    let backoff = Backoff::doubling(
        Duration::from_secs(2),
        Duration::from_secs(10),
        Jitter::None,
    )
    .after_steps(&STEPS);
    let ceilings: Vec<u64> = (1..=8).map(|r| ms(backoff.ceiling(r))).collect();
    assert_eq!(ceilings, [200, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(10));
}

#[test]
fn each_jitter_stays_in_its_band() {
    let policy = |jitter| {
        RetryPolicy::with_backoff(
            Backoff::doubling(Duration::from_secs(1), Duration::from_secs(1), jitter),
            Duration::from_secs(1),
        )
        .with_seed(11)
    };
    let draws = |p: &RetryPolicy| {
        (1..=200)
            .map(|r| ms(p.wait(&p.backoff, r)))
            .collect::<Vec<_>>()
    };
    let full = draws(&policy(Jitter::Full));
    assert!(full.iter().all(|&w| w <= 1000) && full.iter().any(|&w| w < 500));
    let upper = draws(&policy(Jitter::UpperHalf));
    assert!(
        upper.iter().all(|&w| (500..=1000).contains(&w)),
        "{upper:?}"
    );
    let spread = draws(&policy(Jitter::Spread(0.2)));
    assert!(
        spread.iter().all(|&w| (800..1200).contains(&w)),
        "{spread:?}"
    );
    assert!(spread.iter().any(|&w| w < 1000) && spread.iter().any(|&w| w > 1000));
    assert!(draws(&policy(Jitter::None)).iter().all(|&w| w == 1000));
}

fn quick() -> RetryPolicy {
    RetryPolicy::with_backoff(
        Backoff::doubling(
            Duration::from_millis(100),
            Duration::from_secs(1),
            Jitter::None,
        ),
        Duration::from_secs(5),
    )
}

#[tokio::test(start_paused = true)]
async fn the_attempts_can_be_bounded_and_the_last_failure_is_kept() {
    let calls = AtomicU32::new(0);
    let start = Instant::now();
    let stopped = quick()
        .with_max_attempts(3)
        .run_with::<(), _, _, _>(
            start + Duration::from_secs(60),
            |attempt, _| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move { Err(attempt) }
            },
            |_, _| Retry::Soon,
            |_| 0,
        )
        .await
        .unwrap_err();
    assert_eq!(
        stopped,
        Stopped::GaveUp {
            attempts: 3,
            last: Some(3)
        }
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // Waited after the first two failures only: 100 ms, then 200 ms.
    assert_eq!(start.elapsed(), Duration::from_millis(300));
}

#[tokio::test(start_paused = true)]
async fn a_final_failure_says_at_which_attempt() {
    let stopped = quick()
        .run_with::<(), _, _, _>(
            Instant::now() + Duration::from_secs(60),
            |attempt, _| async move { Err(attempt) },
            |&failure, attempt| {
                assert_eq!(failure, attempt);
                if attempt == 2 {
                    Retry::No
                } else {
                    Retry::Later
                }
            },
            |_| 0,
        )
        .await
        .unwrap_err();
    assert_eq!(
        stopped,
        Stopped::Final {
            error: 2,
            attempts: 2
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_message_that_must_go_out_is_tried_once_past_the_deadline() {
    let start = Instant::now();
    let attempts = AtomicU32::new(0);
    let stopped = quick()
        .with_first_attempt_past_deadline()
        .run_with::<(), _, _, _>(
            start,
            |_, timeout| {
                attempts.fetch_add(1, Ordering::SeqCst);
                assert_eq!(timeout, Duration::ZERO);
                async { Err("refused") }
            },
            |_, _| Retry::Soon,
            |_| "timed out",
        )
        .await
        .unwrap_err();
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
    assert_eq!(
        stopped,
        Stopped::GaveUp {
            attempts: 1,
            last: Some("refused")
        }
    );
    let skipped = quick()
        .run_with::<(), &str, _, _>(
            start,
            |_, _| async { panic!("attempted") },
            |_, _| Retry::Soon,
            |_| "timed out",
        )
        .await
        .unwrap_err();
    assert_eq!(
        skipped,
        Stopped::GaveUp {
            attempts: 0,
            last: None
        }
    );
}
