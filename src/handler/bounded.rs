//! The lifecycle runs as its own task: a panic inside it is caught and still answered, and a
//! task that overruns its time is stopped once the answer has to go, so that a warm Lambda
//! never goes on calling ECS for an event that was already answered.

use std::future::Future;

use tokio::time::Instant;

pub(super) enum Bounded<T> {
    Finished(T),
    Panicked(String),
    /// Still running at `until`: aborted (it makes no further call after its next await).
    Aborted,
}

pub(super) async fn run_bounded<F>(work: F, until: Instant) -> Bounded<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut task = tokio::spawn(work);
    match tokio::time::timeout_at(until, &mut task).await {
        Ok(Ok(output)) => Bounded::Finished(output),
        Ok(Err(join_error)) => Bounded::Panicked(panic_message(join_error)),
        Err(_) => {
            task.abort();
            Bounded::Aborted
        }
    }
}

fn panic_message(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            format!("panic: {text}")
        }
        Err(e) => format!("the task was cancelled: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_overrunning_task_makes_no_call_after_it_is_aborted() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let endless = async move {
            loop {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let outcome = run_bounded(endless, Instant::now() + Duration::from_millis(95)).await;
        assert!(matches!(outcome, Bounded::Aborted));
        let at_abort = calls.load(Ordering::SeqCst);
        assert!(at_abort >= 9, "it ran until the deadline: {at_abort}");
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            at_abort,
            "no call after the abort"
        );
    }

    #[tokio::test]
    async fn a_panic_is_reported_with_its_message() {
        let outcome = run_bounded(
            async { panic!("boom") },
            Instant::now() + Duration::from_secs(5),
        )
        .await;
        match outcome {
            Bounded::Panicked(detail) => assert_eq!(detail, "panic: boom"),
            _ => panic!("not reported as a panic"),
        }
    }

    #[tokio::test]
    async fn a_task_that_finishes_in_time_gives_its_result() {
        let outcome = run_bounded(async { 7 }, Instant::now() + Duration::from_secs(5)).await;
        assert!(matches!(outcome, Bounded::Finished(7)));
    }
}
