//! The real binary honours the stack engines' time limits: `ServiceTimeout` (CloudFormation)
//! and `Timeout` (ROS, flat or beside `Parameters`) are accepted for every type spelling and
//! answered FAILED before they elapse, with the copy cancelled and its progress in the reason.

mod cli_support;

use std::time::Duration;

use cli_support::*;
use serde_json::{json, Value};

/// The copy outlasts the engine's limit: answered FAILED before the limit, progress in the
/// reason, the copy cancelled and gone.
async fn assert_answered_in_time(cloud: &Cloud, event: Value, limit: Duration, key: &str) {
    let run = cloud.invoke(CONFIGURED, &[], &[event]).await;
    eprintln!("{key}: answered after {:?}", run.elapsed);
    assert!(run.elapsed < limit, "answered after {:?}", run.elapsed);
    assert_eq!(run.code(), Some(3), "FAILED delivered: {}", run.stderr());
    let answer = run.answer();
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(reason.contains(key), "names the limit: {reason}");
    assert!(reason.contains("cancelled"), "{reason}");
    assert!(
        reason.contains('%') || reason.contains("Waiting"),
        "progress: {reason}"
    );
    assert_eq!(cloud.receiver.accepted().last().unwrap().json(), answer);
    assert_eq!(cloud.ecs().copy_tasks_running(), 0, "no copy left running");
    assert!(
        cloud.copies().is_empty(),
        "no copy left: {:?}",
        cloud.copies()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_timeout_is_answered_before_it_elapses_with_the_copy_cancelled() {
    let cloud = Cloud::start(Duration::from_secs(60)).await;
    let tf = cloud.cfn(
        "Create",
        "Custom::ImageCopy",
        with(tf_props(), "ServiceTimeout", json!("4")),
    );
    assert_answered_in_time(&cloud, tf, Duration::from_secs(4), "ServiceTimeout 4s").await;
    let ros = cloud.cfn(
        "Create",
        "AWS::CloudFormation::CustomResource",
        with(ros_props(), "ServiceTimeout", json!(4)),
    );
    assert_answered_in_time(&cloud, ros, Duration::from_secs(4), "ServiceTimeout 4s").await;
    assert_eq!(cloud.calls("CancelCopyImage"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ros_timeout_is_answered_before_it_elapses_flat_or_beside_parameters() {
    let cloud = Cloud::start(Duration::from_secs(60)).await;
    let flat = cloud.ros("Create", with(ros_props(), "Timeout", json!("4")));
    assert_answered_in_time(&cloud, flat, Duration::from_secs(4), "Timeout 4s").await;
    let nested = cloud.ros(
        "Create",
        json!({"ServiceToken": "acs:fc:cn-hangzhou:1:functions/f", "Timeout": 4,
               "Parameters": ros_props()}),
    );
    assert_answered_in_time(&cloud, nested, Duration::from_secs(4), "Timeout 4s").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_keys_are_accepted_for_every_type_spelling_and_bad_ones_named() {
    let cloud = Cloud::start(Duration::from_millis(300)).await;
    let mut events = Vec::new();
    for ty in [
        "TF::Alicloud::ImageCopy",
        "Custom::ImageCopy",
        "AWS::CloudFormation::CustomResource",
    ] {
        events.push(cloud.cfn(
            "Create",
            ty,
            with(unnamed(tf_props()), "ServiceTimeout", json!("3600")),
        ));
    }
    events.push(cloud.cfn(
        "Create",
        "ALIYUN::ECS::CopyImage",
        with(unnamed(ros_props()), "ServiceTimeout", json!(600)),
    ));
    events.push(cloud.ros(
        "Create",
        with(unnamed(ros_props()), "Timeout", json!(43200)),
    ));
    let run = cloud.invoke(CONFIGURED, &[], &events).await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(
        run.answers().iter().all(|a| a["Status"] == "SUCCESS"),
        "{:?}",
        run.answers()
    );

    cloud.ecs().clear_calls();
    let bad = [
        cloud.cfn(
            "Create",
            "Custom::ImageCopy",
            with(tf_props(), "ServiceTimeout", json!(3601)),
        ),
        cloud.ros("Create", with(ros_props(), "Timeout", json!("sixty"))),
    ];
    let run = cloud.invoke(CONFIGURED, &[], &bad).await;
    assert_eq!(run.code(), Some(3));
    let reasons: Vec<String> = run
        .answers()
        .iter()
        .map(|a| a["Reason"].as_str().unwrap().to_string())
        .collect();
    assert!(
        reasons[0].contains("ServiceTimeout: must be a whole number of seconds from 1 to 3600"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("Timeout: must be a whole number of seconds from 1 to 43200"),
        "{reasons:?}"
    );
    assert!(cloud.ecs().calls().is_empty(), "refused before ECS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ros_event_without_timeout_warns_that_ros_may_give_up_first() {
    let cloud = Cloud::start(Duration::from_millis(300)).await;
    let run = cloud
        .invoke(CONFIGURED, &[], &[cloud.ros("Create", ros_props())])
        .await;
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(
        run.stderr().contains("ROS waits 60 s by default"),
        "{}",
        run.stderr()
    );
}
