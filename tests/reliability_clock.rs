//! The clock: deadlines shorter than the copy at every phase. The answer always arrives
//! before the deadline, and the copy is cancelled or accounted for (the answered
//! PhysicalResourceId names an image that still exists).

mod common;
mod reliability_support;

use std::time::Duration;

use common::*;
use ecs_emulator::Faults;
use ecs_image_copy::handler::Handled;
use reliability_support::{Envelope, Rig, SECOND_SOURCE};
use serde_json::{json, Value};
use tokio::time::Instant;

fn tf(extra: Value) -> Value {
    let mut props = json!({"SourceImageId": SOURCE_IMAGE, "SourceRegionId": SOURCE_REGION,
        "ImageName": "web-server", "DeleteAutoSnapshot": true});
    props
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    props
}

/// Sends the event with `within` left and insists the answer was delivered before then.
async fn answered_in_time(rig: &Rig, event: &Value, within: Duration) -> Value {
    let started = Instant::now();
    let deadline = started + within;
    let Ok(Handled::Answered(handled)) = rig
        .handler
        .handle(&serde_json::to_vec(event).unwrap(), deadline)
        .await
    else {
        panic!("not answered")
    };
    let took = started.elapsed();
    assert!(
        took < within,
        "answered after {took:?}, deadline was {within:?}"
    );
    serde_json::from_str(&handled.body.json).unwrap()
}

/// After the dust settles: every copy left is one the stack was told about.
async fn accounted_for(rig: &Rig, answers: &[&Value]) {
    // Requests cut off by the client may still be processed by the emulator.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let owned: Vec<String> = answers
        .iter()
        .filter_map(|a| a["PhysicalResourceId"].as_str())
        .map(common::image_of)
        .collect();
    for image in rig.ecs().images().into_iter().filter(|i| i.is_copy) {
        assert!(
            owned.contains(&image.image_id),
            "{image:?} is owned by no stack; answers: {answers:?}"
        );
    }
}

#[tokio::test]
async fn before_copy_image_with_the_deadline_nearly_gone() {
    for (seed, within_ms) in [(11u64, 700u64), (12, 900), (13, 1200)] {
        let rig = Rig::new(seed, Duration::from_secs(30)).await;
        rig.ecs().set_faults(Faults {
            latency: Duration::from_millis(450),
            ..Faults::default()
        });
        let event = rig.event(
            Envelope::CloudFormation,
            "Create",
            "Custom::ImageCopy",
            &tf(json!({})),
        );
        let answer = answered_in_time(&rig, &event, Duration::from_millis(within_ms)).await;
        assert_eq!(answer["Status"], "FAILED", "{answer}");
        accounted_for(&rig, &[&answer]).await;
    }
}

#[tokio::test]
async fn while_waiting_behind_another_copy_in_the_region_queue() {
    let rig = Rig::new(21, Duration::from_secs(60)).await;
    let first = rig.event(
        Envelope::Ros,
        "Create",
        "ALIYUN::ECS::CopyImage",
        &json!({
        "ImageId": SOURCE_IMAGE, "DestinationRegionId": DEST_REGION,
        "DestinationImageName": "first"}),
    );
    let second = rig.event(
        Envelope::CloudFormation,
        "Create",
        "Custom::ImageCopy",
        // Another source: a second copy of the same one would be refused, not queued.
        &tf(json!({"ImageName": "second", "SourceImageId": SECOND_SOURCE})),
    );
    let (a, b) = tokio::join!(
        answered_in_time(&rig, &first, Duration::from_secs(6)),
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let waiting = rig
                .ecs()
                .images()
                .into_iter()
                .any(|i| i.status == ecs_emulator::ImageStatus::Creating);
            assert!(waiting, "the first copy holds the queue");
            // Long enough to see the copy Waiting even when ECS lists it late.
            answered_in_time(&rig, &second, Duration::from_secs(5)).await
        }
    );
    for answer in [&a, &b] {
        assert_eq!(answer["Status"], "FAILED", "{answer}");
    }
    assert!(b["Reason"].as_str().unwrap().contains("Waiting"), "{b}");
    // A cancel may take a while to finish (the answer then names the copy still going).
    tokio::time::sleep(suite_realism().cancel_takes).await;
    assert_eq!(rig.ecs().copy_tasks_running(), 0);
    accounted_for(&rig, &[&a, &b]).await;
}

#[tokio::test]
async fn while_creating_with_a_slow_api() {
    for (seed, latency) in [(31u64, 0u64), (32, 150), (33, 400)] {
        let rig = Rig::new(seed, Duration::from_secs(60)).await;
        rig.ecs().set_faults(Faults {
            latency: Duration::from_millis(latency),
            throttle: 0.2,
            ..Faults::default()
        });
        let event = rig.event(Envelope::Ros, "Create", "Custom::ImageCopy", &tf(json!({})));
        let answer = answered_in_time(&rig, &event, Duration::from_secs(3)).await;
        assert_eq!(answer["Status"], "FAILED", "{answer}");
        accounted_for(&rig, &[&answer]).await;
        if answer["PhysicalResourceId"] == ecs_image_copy::lifecycle::FAILED_CREATE_MARKER {
            assert_eq!(rig.ecs().copy_tasks_running(), 0, "latency {latency}ms");
        }
    }
}

#[tokio::test]
async fn during_delete_of_a_finished_copy_and_of_a_running_one() {
    for (seed, latency) in [(41u64, 300u64), (42, 700)] {
        let rig = Rig::new(seed, Duration::from_millis(200)).await;
        let props = tf(json!({}));
        let create = rig.event(
            Envelope::CloudFormation,
            "Create",
            "Custom::ImageCopy",
            &props,
        );
        let created = answered_in_time(&rig, &create, Duration::from_secs(20)).await;
        assert_eq!(created["Status"], "SUCCESS", "{created}");
        let id = created["PhysicalResourceId"].as_str().unwrap().to_string();
        rig.ecs().set_faults(Faults {
            latency: Duration::from_millis(latency),
            ..Faults::default()
        });
        let mut delete = rig.event(
            Envelope::CloudFormation,
            "Delete",
            "Custom::ImageCopy",
            &props,
        );
        delete["PhysicalResourceId"] = json!(id);
        let answer = answered_in_time(&rig, &delete, Duration::from_millis(1500)).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let exists = rig.ecs().image(&common::image_of(&id)).is_some();
        match answer["Status"].as_str() {
            Some("SUCCESS") => assert!(!exists, "SUCCESS but {id} remains"),
            _ => assert_eq!(answer["PhysicalResourceId"], id.as_str()),
        }
    }
    // A running copy: its Delete cancels it in time, even with a slow API.
    let rig = Rig::new(43, Duration::from_secs(60)).await;
    let props = tf(json!({}));
    let create = rig.event(Envelope::Ros, "Create", "Custom::ImageCopy", &props);
    let running = async {
        rig.handler
            .handle(
                &serde_json::to_vec(&create).unwrap(),
                Instant::now() + Duration::from_secs(8),
            )
            .await
    };
    let delete = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let id = rig
            .ecs()
            .images()
            .into_iter()
            .find(|i| i.is_copy)
            .unwrap()
            .image_id;
        rig.ecs().set_faults(Faults {
            latency: Duration::from_millis(200),
            ..Faults::default()
        });
        let mut delete = rig.event(Envelope::Ros, "Delete", "Custom::ImageCopy", &props);
        delete["PhysicalResourceId"] = json!(id);
        (
            id,
            answered_in_time(&rig, &delete, Duration::from_secs(2)).await,
        )
    };
    let (created, (id, deleted)) = tokio::join!(running, delete);
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert!(rig.ecs().image(&common::image_of(&id)).is_none());
    assert_eq!(rig.ecs().copy_tasks_running(), 0);
    let Ok(Handled::Answered(created)) = created else {
        panic!("not answered: {created:?}")
    };
    let created: Value = serde_json::from_str(&created.body.json).unwrap();
    assert_eq!(created["Status"], "FAILED", "{created}");
}
