//! The resource-provider protocol through the real binary in Lambda mode, every invocation
//! a fresh process, against the ECS emulator (with real ECS's harder behaviours on).

mod deploy_support;
mod provider_support;

use std::time::Duration;

use ecs_emulator::{Faults, Realism};
use provider_support::*;
use serde_json::{json, Value};

fn props() -> Value {
    json!({
        "SourceImageId": SOURCE_IMAGE,
        "SourceRegionId": SOURCE_REGION,
        "ImageName": "web-copy",
        "Description": "copied by the registry type",
        "Encrypted": "false",
        "Force": "true",
        "DeleteAutoSnapshot": "true",
        "Tags": [{"MapKey": "team", "MapValue": "platform"}, {"MapKey": "env", "MapValue": "prod"}],
        "Timeouts": {"Create": "5m", "Delete": "5m"}
    })
}

fn copy_calls(emulator: &ecs_emulator::Emulator) -> usize {
    emulator
        .control()
        .calls()
        .iter()
        .filter(|c| c.action == "CopyImage" && c.error_code.is_none())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_copy_runs_across_fresh_processes_with_one_copy_image() {
    let emulator = emulator(Duration::from_secs(8)).await;
    emulator.control().set_realism(Realism::harsh());
    let endpoint = emulator.endpoint();
    let (event, invocations) = drive(&endpoint, "CREATE", props(), REGION).await;
    assert_eq!(event["status"], "SUCCESS", "{event}");
    assert!(
        invocations >= 3,
        "the copy is waited for by callbacks, not in one invocation: {invocations}"
    );
    assert_eq!(copy_calls(&emulator), 1);
    let describes = emulator
        .control()
        .calls()
        .iter()
        .filter(|c| c.action == "DescribeImages")
        .count();
    eprintln!("an 8 s copy (harsh realism): {invocations} invocations, {describes} DescribeImages");

    // Every input property echoed exactly as sent (string booleans too), plus the ids.
    let model = &event["resourceModel"];
    let image_id = model["Id"].as_str().unwrap();
    for (key, value) in props().as_object().unwrap() {
        assert_eq!(&model[key], value, "{key}");
    }
    assert_eq!(model["tfcfnid"], format!("{REGION}/{image_id}"));
    let copy = emulator.control().image(image_id).expect("the copy exists");
    assert_eq!(copy.region_id, REGION);
    assert_eq!(copy.tags.get("team").map(String::as_str), Some("platform"));

    // READ from the primary identifier alone gives back what ECS can tell.
    let only_id = json!({"tfcfnid": model["tfcfnid"]});
    let (read, _) = invoke_fresh(&endpoint, &request("READ", only_id.clone(), None, REGION)).await;
    assert_eq!(read["status"], "SUCCESS", "{read}");
    for key in [
        "SourceImageId",
        "SourceRegionId",
        "ImageName",
        "Description",
        "tfcfnid",
        "Id",
    ] {
        assert_eq!(read["resourceModel"][key], model[key], "{key}");
    }
    let mut tags: Vec<String> = read["resourceModel"]["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.to_string())
        .collect();
    tags.sort();
    let mut sent: Vec<String> = props()["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.to_string())
        .collect();
    sent.sort();
    assert_eq!(tags, sent, "the managed tag is hidden");

    let (deleted, _) = drive(&endpoint, "DELETE", model.clone(), REGION).await;
    assert_eq!(
        deleted,
        json!({"status": "SUCCESS"}),
        "no model on DELETE SUCCESS"
    );
    assert!(emulator.control().image(image_id).is_none());
    assert!(emulator
        .control()
        .snapshots()
        .iter()
        .all(|s| s.image_id.as_deref() != Some(image_id)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_of_an_unfinished_copy_cancels_it_then_everything_is_not_found() {
    let emulator = emulator(Duration::from_secs(600)).await;
    emulator.control().set_realism(Realism::harsh());
    let endpoint = emulator.endpoint();
    let (started, _) = invoke_fresh(&endpoint, &request("CREATE", props(), None, REGION)).await;
    assert_eq!(started["status"], "IN_PROGRESS", "{started}");
    let model = started["resourceModel"].clone();
    let (deleted, _) = drive(&endpoint, "DELETE", model.clone(), REGION).await;
    assert_eq!(deleted["status"], "SUCCESS", "{deleted}");
    assert!(emulator
        .control()
        .calls()
        .iter()
        .any(|c| c.action == "CancelCopyImage"));
    assert_eq!(emulator.control().copy_tasks_running(), 0);

    for action in ["READ", "UPDATE", "DELETE"] {
        let (event, _) =
            invoke_fresh(&endpoint, &request(action, model.clone(), None, REGION)).await;
        check_shape(&event);
        assert_eq!(event["errorCode"], "NotFound", "{action}: {event}");
    }
    let (listed, _) = invoke_fresh(&endpoint, &request("LIST", json!({}), None, REGION)).await;
    assert_eq!(listed["status"], "SUCCESS");
    assert_eq!(listed["resourceModels"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_only_changes_are_not_updatable_and_never_copy() {
    let emulator = emulator(Duration::from_millis(500)).await;
    let endpoint = emulator.endpoint();
    let (created, _) = drive(&endpoint, "CREATE", props(), REGION).await;
    assert_eq!(created["status"], "SUCCESS", "{created}");
    let model = created["resourceModel"].clone();
    let mut changed = model.clone();
    changed["SourceImageId"] = json!("m-bp1providersource02");
    let mut update = request("UPDATE", changed, None, REGION);
    update["requestData"]["previousResourceProperties"] = model.clone();
    emulator.control().clear_calls();
    let (event, _) = invoke_fresh(&endpoint, &update).await;
    assert_eq!(event["errorCode"], "NotUpdatable", "{event}");
    assert!(event["message"].as_str().unwrap().contains("SourceImageId"));
    assert_eq!(copy_calls(&emulator), 0);

    // An in-place change works, and the model echoes what was sent.
    let mut renamed = model.clone();
    renamed["ImageName"] = json!("web-renamed");
    let mut update = request("UPDATE", renamed.clone(), None, REGION);
    update["requestData"]["previousResourceProperties"] = model.clone();
    let (event, _) = invoke_fresh(&endpoint, &update).await;
    assert_eq!(event["status"], "SUCCESS", "{event}");
    assert_eq!(event["resourceModel"], renamed);
    assert_eq!(copy_calls(&emulator), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_and_delete_follow_the_id_after_the_type_configuration_region_changed() {
    let emulator = emulator(Duration::from_millis(500)).await;
    let endpoint = emulator.endpoint();
    let (created, _) = drive(&endpoint, "CREATE", props(), REGION).await;
    let model = created["resourceModel"].clone();
    let only_id = json!({"tfcfnid": model["tfcfnid"]});
    let (read, _) = invoke_fresh(
        &endpoint,
        &request("READ", only_id.clone(), None, "cn-beijing"),
    )
    .await;
    assert_eq!(read["status"], "SUCCESS", "{read}");
    assert_eq!(read["resourceModel"]["ImageName"], "web-copy");
    let (listed, _) = invoke_fresh(&endpoint, &request("LIST", json!({}), None, REGION)).await;
    assert_eq!(listed["resourceModels"][0]["tfcfnid"], model["tfcfnid"]);
    let (deleted, _) = drive(&endpoint, "DELETE", only_id, "cn-beijing").await;
    assert_eq!(deleted["status"], "SUCCESS", "{deleted}");
    assert!(emulator
        .control()
        .image(model["Id"].as_str().unwrap())
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_type_configuration_fails_before_any_ecs_call_and_names_no_secret() {
    let emulator = emulator(Duration::from_millis(500)).await;
    let endpoint = emulator.endpoint();
    let cases = [
        json!(null),
        json!({"AccessKeyId": KEY_ID, "RegionId": REGION}),
        json!({"AccessKeyId": KEY_ID, "AccessKeySecret": SECRET, "RegionId": "Shanghai"}),
    ];
    for config in cases {
        let mut event = request("CREATE", props(), None, REGION);
        event["requestData"]["typeConfiguration"] = config.clone();
        let (answer, logs) = invoke_fresh(&endpoint, &event).await;
        assert_eq!(
            answer["errorCode"], "InvalidTypeConfiguration",
            "{config}: {answer}"
        );
        assert!(!answer.to_string().contains(SECRET) && !logs.contains(SECRET));
    }
    assert!(emulator.control().calls().is_empty());
    // Wrong keys reach ECS and are told apart from a bad configuration.
    let mut event = request(
        "READ",
        json!({"tfcfnid": format!("{REGION}/m-abc")}),
        None,
        REGION,
    );
    event["requestData"]["typeConfiguration"]["AccessKeySecret"] = json!("wrong-secret-value");
    let (answer, logs) = invoke_fresh(&endpoint, &event).await;
    assert_eq!(answer["errorCode"], "InvalidCredentials", "{answer}");
    assert!(
        !answer.to_string().contains("wrong-secret-value") && !logs.contains("wrong-secret-value")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_ridden_out_with_one_copy_or_answered_as_throttling() {
    let emulator = emulator(Duration::from_secs(2)).await;
    let endpoint = emulator.endpoint();
    emulator.control().set_faults(Faults {
        throttle: 0.5,
        ..Faults::default()
    });
    let (created, _) = drive(&endpoint, "CREATE", props(), REGION).await;
    assert_eq!(created["status"], "SUCCESS", "{created}");
    assert_eq!(copy_calls(&emulator), 1);
    emulator.control().set_faults(Faults {
        throttle: 1.0,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let only_id = json!({"tfcfnid": created["resourceModel"]["tfcfnid"]});
    let (read, _) = invoke_fresh(&endpoint, &request("READ", only_id, None, REGION)).await;
    assert_eq!(read["errorCode"], "Throttling", "{read}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "READ answers within 30 s"
    );
}
