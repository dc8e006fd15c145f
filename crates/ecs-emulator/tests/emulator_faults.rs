//! Fault injection: throttling, 5xx, dropped connections and latency, deterministic per seed.

mod emulator_support;

use std::time::{Duration, Instant};

use ecs_emulator::{EmulatorConfig, Faults};
use emulator_support::*;

/// Outcome of one DescribeRegions call: the error code, "OK", or "DROPPED".
async fn outcomes(seed: u64, faults: Faults, n: usize) -> Vec<String> {
    let config = EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    };
    let (emulator, caller) = start(config).await;
    emulator.control().set_faults(faults);
    let mut seen = Vec::new();
    for _ in 0..n {
        let params = caller.signed("GET", caller.params("DescribeRegions", &[]));
        let outcome = match caller.send("GET", &params).await {
            Err(_) => "DROPPED".to_string(),
            Ok(answer) if answer.status == 200 => "OK".to_string(),
            Ok(answer) => format!("{} {}", answer.status, answer.code()),
        };
        seen.push(outcome);
    }
    let calls = emulator.control().calls();
    assert_eq!(calls.len(), n);
    let dropped = calls.iter().filter(|c| c.http_status.is_none()).count();
    assert_eq!(dropped, seen.iter().filter(|o| *o == "DROPPED").count());
    emulator.shutdown().await;
    seen
}

fn share(outcomes: &[String], what: &str) -> f64 {
    outcomes.iter().filter(|o| o.as_str() == what).count() as f64 / outcomes.len() as f64
}

#[tokio::test]
async fn shares_match_configuration_and_repeat_for_a_seed() {
    let faults = Faults {
        throttle: 0.25,
        server_error: 0.2,
        drop_connection: 0.1,
        latency: Duration::ZERO,
    };
    let first = outcomes(42, faults, 300).await;
    let throttled = share(&first, "400 Throttling.User");
    let server = share(&first, "500 InternalError") + share(&first, "503 ServiceUnavailable");
    let dropped = share(&first, "DROPPED");
    assert!((throttled - 0.25).abs() < 0.08, "throttled {throttled}");
    assert!((server - 0.2).abs() < 0.08, "5xx {server}");
    assert!((dropped - 0.1).abs() < 0.06, "dropped {dropped}");
    assert!((share(&first, "OK") - 0.45).abs() < 0.1);

    let again = outcomes(42, faults, 300).await;
    assert_eq!(first, again, "same seed, same sequence");
    let other_seed = outcomes(43, faults, 300).await;
    assert_ne!(first, other_seed);
}

#[tokio::test]
async fn faulted_requests_change_nothing() {
    let (emulator, caller) = start(EmulatorConfig::default()).await;
    let control = emulator.control();
    let before = control.images().len();
    for (faults, expected) in [
        (
            Faults {
                throttle: 1.0,
                ..Faults::default()
            },
            "400 Throttling.User",
        ),
        (
            Faults {
                drop_connection: 1.0,
                ..Faults::default()
            },
            "DROPPED",
        ),
    ] {
        control.set_faults(faults);
        let params = caller.signed(
            "GET",
            caller.params(
                "CopyImage",
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("ImageId", HANGZHOU_IMAGE),
                    ("DestinationRegionId", "cn-shanghai"),
                ],
            ),
        );
        let outcome = match caller.send("GET", &params).await {
            Err(_) => "DROPPED".to_string(),
            Ok(a) => format!("{} {}", a.status, a.code()),
        };
        assert_eq!(outcome, expected);
        assert_eq!(control.images().len(), before);
        assert_eq!(control.copy_tasks_running(), 0);
        // Nor was the nonce spent: the same signed request goes through once faults stop.
        control.set_faults(Faults::default());
        let answer = caller.send("GET", &params).await.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        let copy_id = answer.str("ImageId").to_string();
        caller
            .call(
                "CancelCopyImage",
                &[("RegionId", "cn-shanghai"), ("ImageId", &copy_id)],
            )
            .await
            .ok();
    }
    let calls = control.calls();
    assert_eq!(calls[0].error_code.as_deref(), Some("Throttling.User"));
    assert_eq!(calls[0].http_status, Some(400));
    assert_eq!(
        calls[3].http_status, None,
        "dropped call recorded without a status"
    );
    assert_eq!(calls[3].action, "CopyImage");
    emulator.shutdown().await;
}

#[tokio::test]
async fn latency_is_added_to_each_request() {
    let (emulator, caller) = start(EmulatorConfig::default()).await;
    emulator.control().set_faults(Faults {
        latency: Duration::from_millis(250),
        ..Faults::default()
    });
    let started = Instant::now();
    caller.call("DescribeRegions", &[]).await.ok();
    assert!(started.elapsed() >= Duration::from_millis(250));
    emulator.control().set_faults(Faults::default());
    let started = Instant::now();
    caller.call("DescribeRegions", &[]).await.ok();
    assert!(started.elapsed() < Duration::from_millis(250));
    emulator.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_the_port() {
    let (emulator, caller) = start(EmulatorConfig::default()).await;
    let endpoint = emulator.endpoint();
    assert!(endpoint.starts_with("http://127.0.0.1:"));
    emulator.shutdown().await;
    let params = caller.signed("GET", caller.params("DescribeRegions", &[]));
    assert!(
        caller.send("GET", &params).await.is_err(),
        "{endpoint} still answers"
    );
}
