//! Create over real HTTP: the handler, the ECS emulator and a ResponseURL receiver on loopback.

mod common;

use std::time::Duration;

use common::*;
use ecs_emulator::ImageStatus;
use ecs_image_copy::handler::Handled;
use ecs_image_copy::lifecycle::FAILED_CREATE_MARKER;
use serde_json::json;

#[tokio::test]
async fn cloudformation_create_copies_and_answers_with_put() {
    let world = World::new(Duration::from_millis(1500)).await;
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let answer = world.answer(&event).await;

    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let physical = answer["PhysicalResourceId"].as_str().unwrap();
    let image_id = &image_of(physical);
    assert_eq!(
        physical,
        format!("{DEST_REGION}/{image_id}"),
        "the id records the region"
    );
    assert_eq!(answer["Data"]["ImageId"], image_id.as_str());
    assert_eq!(answer["Data"]["Id"], image_id.as_str());
    assert_eq!(answer["RequestId"], event["RequestId"]);
    assert_eq!(answer["StackId"], event["StackId"]);
    assert_eq!(answer["LogicalResourceId"], "Copy");

    let copy = world.ecs().image(image_id).expect("the copy exists");
    assert_eq!(copy.status, ImageStatus::Available);
    assert_eq!(copy.region_id, DEST_REGION);
    assert_eq!(copy.name.as_deref(), Some("web-server"));
    assert_eq!(copy.tags.get("team").map(String::as_str), Some("platform"));

    let request = world.last_request();
    assert_eq!(request.method, "PUT");
    assert_eq!(request.header("content-type"), Some(""));
    // The presigned URL is used byte for byte: its query is not re-encoded.
    let sent_url = event["ResponseURL"].as_str().unwrap();
    assert!(
        sent_url.ends_with(&request.target),
        "{} vs {sent_url}",
        request.target
    );
}

#[tokio::test]
async fn ros_create_answers_with_post_json_and_date() {
    let world = World::new(Duration::from_millis(500)).await;
    let event = ros_event(&world, "Create", "ALIYUN::ECS::CopyImage", &ros_props());
    let answer = world.answer(&event).await;

    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    let image_id = answer["PhysicalResourceId"].as_str().unwrap();
    assert_eq!(answer["Data"]["ImageId"], image_id);
    assert_eq!(answer["Data"]["SourceRegionId"], SOURCE_REGION);
    assert_eq!(answer["Data"]["DestinationRegionId"], DEST_REGION);
    let request = world.last_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.header("content-type"), Some("application/json"));
    let date = request.header("date").expect("a Date header");
    assert!(httpdate::parse_http_date(date).is_ok(), "{date}");
}

#[tokio::test]
async fn a_failed_copy_is_removed_and_still_named_for_the_rollback() {
    let world = World::new(Duration::from_millis(800)).await;
    world.ecs().fail_next_copies(1);
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let answer = world.answer(&event).await;

    assert_eq!(answer["Status"], "FAILED");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(reason.contains("CreateFailed"), "{reason}");
    assert!(
        world.ecs().images().iter().all(|i| !i.is_copy),
        "the failed copy was removed"
    );
    // Named all the same: a copy ECS does not list yet would look just like this one.
    let physical = answer["PhysicalResourceId"].as_str().unwrap().to_string();
    assert!(image_of(&physical).starts_with("m-"), "{answer}");

    // The rollback Delete finds it gone (not listed, and not there to cancel) and succeeds.
    world.ecs().clear_calls();
    let delete = with_physical(
        cfn_event(&world, "Delete", "Custom::ImageCopy", &tf_props()),
        &physical,
    );
    assert_eq!(world.answer(&delete).await["Status"], "SUCCESS");
    for call in world.ecs().calls() {
        match call.action.as_str() {
            "DescribeImages" => {}
            "CancelCopyImage" => {
                assert_eq!(call.error_code.as_deref(), Some("InvalidImageId.NotFound"))
            }
            other => panic!("{other} for a copy already gone"),
        }
    }
}

#[tokio::test]
async fn the_rollback_of_a_create_that_made_nothing_makes_no_call() {
    let world = World::new(Duration::from_millis(800)).await;
    let delete = with_physical(
        cfn_event(&world, "Delete", "Custom::ImageCopy", &tf_props()),
        FAILED_CREATE_MARKER,
    );
    assert_eq!(world.answer(&delete).await["Status"], "SUCCESS");
    assert!(world.ecs().calls().is_empty(), "{:?}", world.ecs().calls());
}

#[tokio::test]
async fn a_duplicated_create_delivery_makes_one_copy_and_the_same_answer() {
    let world = World::new(Duration::from_millis(1000)).await;
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let (first, second) = tokio::join!(
        world.send(&event, Duration::from_secs(30)),
        world.send(&event, Duration::from_secs(30))
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    let id = |h: &Handled| {
        let Handled::Answered(h) = h else {
            panic!("not answered: {h:?}")
        };
        serde_json::from_str::<serde_json::Value>(&h.body.json).unwrap()["PhysicalResourceId"]
            .clone()
    };
    assert_eq!(id(&first), id(&second));
    let copies: Vec<_> = world
        .ecs()
        .images()
        .into_iter()
        .filter(|i| i.is_copy)
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
}

#[tokio::test]
async fn a_deadline_shorter_than_the_copy_cancels_it_and_answers_in_time() {
    let world = World::new(Duration::from_secs(60)).await;
    let event = cfn_event(&world, "Create", "Custom::ImageCopy", &tf_props());
    let started = tokio::time::Instant::now();
    let within = Duration::from_secs(4);
    let Ok(Handled::Answered(handled)) = world.send(&event, within).await else {
        panic!("not answered")
    };
    assert!(started.elapsed() < within, "answered after the deadline");
    let answer: serde_json::Value = serde_json::from_str(&handled.body.json).unwrap();
    assert_eq!(answer["Status"], "FAILED");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(
        reason.contains("did not finish") && reason.contains("cancelled"),
        "{reason}"
    );
    assert_eq!(world.calls("CancelCopyImage"), 1);
    // The copy is named (its cancel may outlast the invocation), and the rollback finishes it.
    let physical = answer["PhysicalResourceId"].as_str().unwrap();
    assert_ne!(physical, FAILED_CREATE_MARKER);
    let delete = with_physical(
        cfn_event(&world, "Delete", "Custom::ImageCopy", &tf_props()),
        physical,
    );
    assert_eq!(world.answer(&delete).await["Status"], "SUCCESS");
    assert_eq!(world.ecs().copy_tasks_running(), 0);
    assert!(world.ecs().images().iter().all(|i| !i.is_copy));
}

#[tokio::test]
async fn the_tf_create_timeout_bounds_the_wait() {
    let world = World::new(Duration::from_secs(60)).await;
    let mut props = tf_props();
    props["Timeouts"] = json!({"Create": "2s"});
    let answer = world
        .answer(&cfn_event(&world, "Create", "Custom::ImageCopy", &props))
        .await;
    assert_eq!(answer["Status"], "FAILED");
    assert!(
        answer["Reason"]
            .as_str()
            .unwrap()
            .contains("create timeout of 2s"),
        "{answer}"
    );
    assert_eq!(world.ecs().copy_tasks_running(), 0);
}

#[tokio::test]
async fn same_region_with_allow_copy_returns_the_source_and_never_deletes_it() {
    let world = World::new(Duration::from_millis(500)).await;
    let props = json!({
        "ImageId": SOURCE_IMAGE,
        "SourceRegionId": SOURCE_REGION,
        "DestinationRegionId": SOURCE_REGION,
        "AllowCopyInSameRegion": "true"
    });
    let answer = world
        .answer(&ros_event(
            &world,
            "Create",
            "ALIYUN::ECS::CopyImage",
            &props,
        ))
        .await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(answer["PhysicalResourceId"], SOURCE_IMAGE);
    assert_eq!(world.calls("CopyImage"), 0);

    let delete = with_physical(
        ros_event(&world, "Delete", "ALIYUN::ECS::CopyImage", &props),
        SOURCE_IMAGE,
    );
    assert_eq!(world.answer(&delete).await["Status"], "SUCCESS");
    assert!(
        world.ecs().image(SOURCE_IMAGE).is_some(),
        "the source image survives"
    );
    assert_eq!(world.calls("DeleteImage"), 0);
}

#[tokio::test]
async fn invalid_properties_fail_fast_with_every_problem_and_no_ecs_call() {
    let world = World::new(Duration::from_millis(500)).await;
    let mut props = tf_props();
    props["ImageName"] = json!("1-starts-with-a-digit");
    props["Tags"] = json!([{"MapKey": "aliyun-reserved", "MapValue": "x"}]);
    props["Encrypted"] = json!("maybe");
    let answer = world
        .answer(&cfn_event(&world, "Create", "Custom::ImageCopy", &props))
        .await;
    assert_eq!(answer["Status"], "FAILED");
    assert_eq!(answer["PhysicalResourceId"], FAILED_CREATE_MARKER);
    let reason = answer["Reason"].as_str().unwrap();
    for needle in ["ImageName", "Tags[0].MapKey", "Encrypted"] {
        assert!(reason.contains(needle), "{needle} missing from {reason}");
    }
    assert!(world.ecs().calls().is_empty());
}

#[tokio::test]
async fn events_of_no_known_type_are_answered_failed_with_the_rule() {
    let world = World::new(Duration::from_millis(500)).await;
    let answer = world
        .answer(&cfn_event(&world, "Create", "AWS::S3::Bucket", &tf_props()))
        .await;
    assert_eq!(answer["Status"], "FAILED");
    assert!(
        answer["Reason"].as_str().unwrap().contains("not handled"),
        "{answer}"
    );

    let answer = world
        .answer(&cfn_event(
            &world,
            "Create",
            "Custom::Thing",
            &json!({"Foo": "bar"}),
        ))
        .await;
    assert_eq!(answer["Status"], "FAILED");
    assert!(
        answer["Reason"]
            .as_str()
            .unwrap()
            .contains("identify neither"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_megabyte_reason_is_truncated_under_4096_bytes() {
    let world = World::new(Duration::from_millis(500)).await;
    let mut props = tf_props();
    // Every unknown property is its own violation: thousands of them make a reason of megabytes.
    for i in 0..6000 {
        props[format!("Unknown{i:05}")] = json!(i);
    }
    world
        .answer(&cfn_event(&world, "Create", "Custom::ImageCopy", &props))
        .await;
    let request = world.last_request();
    assert!(request.body.len() <= 4096, "{}", request.body.len());
    let answer = request.json();
    assert_eq!(answer["Status"], "FAILED");
    assert!(answer["Reason"].as_str().unwrap().ends_with("[truncated]"));
}
