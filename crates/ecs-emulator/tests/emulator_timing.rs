//! Copy timing: progress on a paused tokio clock, and one copy per region under concurrency.

mod emulator_support;

use std::time::Duration;

use ecs_emulator::{EmulatorConfig, ImageStatus};
use emulator_support::*;

fn config(copy: Duration) -> EmulatorConfig {
    EmulatorConfig {
        copy_duration: copy,
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn progress_follows_a_paused_tokio_clock() {
    let (emulator, caller) = start(config(Duration::from_secs(100))).await;
    let first = copy_to(&caller, "cn-shanghai", &[]).await.ok()["ImageId"]
        .as_str()
        .unwrap()
        .to_string();
    let second = copy_to(&caller, "cn-shanghai", &[]).await.ok()["ImageId"]
        .as_str()
        .unwrap()
        .to_string();
    let control = emulator.control();
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(50)).await;
    let halfway = control.image(&first).unwrap();
    assert_eq!(
        (halfway.status, halfway.progress),
        (ImageStatus::Creating, 50)
    );
    tokio::time::advance(Duration::from_secs(75)).await;
    assert_eq!(
        control.image(&first).unwrap().status,
        ImageStatus::Available
    );
    // The queued copy started when the first ended, 25 s ago on the paused clock.
    let next = control.image(&second).unwrap();
    assert_eq!((next.status, next.progress), (ImageStatus::Creating, 25));
    tokio::time::advance(Duration::from_secs(75)).await;
    assert_eq!(control.copy_tasks_running(), 0);
    tokio::time::resume();
    emulator.shutdown().await;
}

#[tokio::test]
async fn concurrent_requests_are_served() {
    let (emulator, caller) = start(config(Duration::from_secs(3600))).await;
    let caller = std::sync::Arc::new(caller);
    let mut tasks = Vec::new();
    for n in 0..8 {
        let caller = caller.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("parallel-{n}");
            copy_to(&caller, "cn-shanghai", &[("DestinationImageName", &name)]).await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().status, 200);
    }
    let control = emulator.control();
    assert_eq!(control.copy_tasks_running(), 8);
    let creating = control
        .images()
        .iter()
        .filter(|i| i.status == ImageStatus::Creating)
        .count();
    assert_eq!(creating, 1, "one copy runs per destination region");
    emulator.shutdown().await;
}
