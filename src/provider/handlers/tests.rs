//! The handlers against the ECS emulator on loopback, each call a fresh `Provider` (as a
//! fresh process would be): all state between calls is in the request.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::*;
use crate::ecs::Credentials;
use crate::provider::progress::OperationStatus;
use ecs_emulator::{Emulator, EmulatorConfig, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET};

const SOURCE: &str = "m-bp1emulatorbase0001";

async fn emulator(copy: Duration) -> (Emulator, EcsClient) {
    let config = EmulatorConfig {
        copy_duration: copy,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config, 0).await.unwrap();
    let credentials = Credentials::new(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, None);
    let ecs = EcsClient::new(credentials, Some(&emulator.endpoint())).unwrap();
    (emulator, ecs)
}

fn request(action: &str, model: Value, context: Option<Value>) -> HandlerRequest {
    serde_json::from_value(json!({
        "action": action, "bearerToken": "token-1",
        "callbackContext": context,
        "requestData": {"logicalResourceId": "Copy", "resourceProperties": model}
    }))
    .unwrap()
}

async fn call(ecs: &EcsClient, region: &str, request: &HandlerRequest) -> Value {
    let provider = Provider {
        ecs,
        region_id: region,
        deadline: Instant::now() + Duration::from_secs(20),
    };
    serde_json::to_value(provider.handle(request).await).unwrap()
}

/// Drives an operation through its callbacks (without sleeping the advised delay).
async fn drive(ecs: &EcsClient, region: &str, action: &str, model: Value) -> (Value, u32) {
    let mut answer = call(ecs, region, &request(action, model, None)).await;
    let mut calls = 1;
    while answer["status"] == "IN_PROGRESS" {
        assert!(answer["resourceModel"]["tfcfnid"].is_string(), "{answer}");
        assert!(answer.get("errorCode").is_none());
        tokio::time::sleep(Duration::from_millis(200)).await;
        let next = request(
            action,
            answer["resourceModel"].clone(),
            Some(answer["callbackContext"].clone()),
        );
        answer = call(ecs, region, &next).await;
        calls += 1;
        assert!(calls < 200, "runaway");
    }
    (answer, calls)
}

fn props() -> Value {
    json!({"SourceImageId": SOURCE, "SourceRegionId": "cn-hangzhou", "ImageName": "web-copy",
           "Tags": [{"MapKey": "team", "MapValue": "a"}], "Force": "true"})
}

#[tokio::test]
async fn create_read_delete_then_everything_is_not_found() {
    let (emulator, ecs) = emulator(Duration::from_secs(2)).await;
    let (created, callbacks) = drive(&ecs, "cn-shanghai", "CREATE", props()).await;
    assert_eq!(created["status"], "SUCCESS", "{created}");
    assert!(callbacks > 1, "the copy is waited for across callbacks");
    let model = &created["resourceModel"];
    let image_id = model["Id"].as_str().unwrap();
    assert_eq!(model["tfcfnid"], format!("cn-shanghai/{image_id}"));
    assert_eq!(model["Force"], "true", "echoed as sent");
    let copies = emulator
        .control()
        .calls()
        .iter()
        .filter(|c| c.action == "CopyImage")
        .count();
    assert_eq!(copies, 1);

    let only_id = json!({"tfcfnid": model["tfcfnid"]});
    let read = call(&ecs, "cn-shanghai", &request("READ", only_id.clone(), None)).await;
    assert_eq!(read["status"], "SUCCESS");
    let read = &read["resourceModel"];
    for key in [
        "SourceImageId",
        "SourceRegionId",
        "ImageName",
        "Tags",
        "tfcfnid",
        "Id",
    ] {
        assert_eq!(
            read[key],
            props()
                .get(key)
                .cloned()
                .unwrap_or_else(|| model[key].clone()),
            "{key}"
        );
    }

    let (deleted, _) = drive(&ecs, "cn-shanghai", "DELETE", only_id.clone()).await;
    assert_eq!(deleted, json!({"status": "SUCCESS"}));
    for action in ["READ", "DELETE", "UPDATE"] {
        let mut model = props();
        model["tfcfnid"] = only_id["tfcfnid"].clone();
        let answer = call(&ecs, "cn-shanghai", &request(action, model, None)).await;
        assert_eq!(answer["errorCode"], "NotFound", "{action}: {answer}");
    }
    let listed = call(&ecs, "cn-shanghai", &request("LIST", json!({}), None)).await;
    assert_eq!(listed["resourceModels"], json!([]));
}

#[tokio::test]
async fn delete_of_an_unfinished_copy_cancels_it() {
    let (emulator, ecs) = emulator(Duration::from_secs(600)).await;
    let started = call(&ecs, "cn-shanghai", &request("CREATE", props(), None)).await;
    assert_eq!(started["status"], "IN_PROGRESS");
    let image_id = started["resourceModel"]["Id"].as_str().unwrap().to_string();
    let (deleted, _) = drive(
        &ecs,
        "cn-shanghai",
        "DELETE",
        started["resourceModel"].clone(),
    )
    .await;
    assert_eq!(deleted["status"], "SUCCESS", "{deleted}");
    assert!(emulator
        .control()
        .calls()
        .iter()
        .any(|c| c.action == "CancelCopyImage"));
    assert!(emulator.control().image(&image_id).is_none());
}

#[tokio::test]
async fn update_in_place_and_create_only_changes() {
    let (emulator, ecs) = emulator(Duration::from_millis(300)).await;
    let (created, _) = drive(&ecs, "cn-shanghai", "CREATE", props()).await;
    let model = created["resourceModel"].clone();
    let mut renamed = model.clone();
    renamed["ImageName"] = json!("web-renamed");
    renamed["Tags"] = json!([{"MapKey": "team", "MapValue": "b"}]);
    let mut update = request("UPDATE", renamed.clone(), None);
    update.request_data.previous_resource_properties = Some(model.clone());
    let answer = call(&ecs, "cn-shanghai", &update).await;
    assert_eq!(answer["status"], "SUCCESS", "{answer}");
    let image = emulator
        .control()
        .image(model["Id"].as_str().unwrap())
        .unwrap();
    assert_eq!(image.name.as_deref(), Some("web-renamed"));
    assert_eq!(image.tags.get("team").map(String::as_str), Some("b"));
    assert!(
        image.tags.contains_key(MANAGED_TAG_KEY),
        "the managed tag survives"
    );

    let mut moved = renamed.clone();
    moved["SourceImageId"] = json!("m-bp1emulatorbase0002");
    let mut update = request("UPDATE", moved, None);
    update.request_data.previous_resource_properties = Some(renamed);
    emulator.control().clear_calls();
    let answer = call(&ecs, "cn-shanghai", &update).await;
    assert_eq!(answer["errorCode"], "NotUpdatable", "{answer}");
    assert!(!emulator
        .control()
        .calls()
        .iter()
        .any(|c| c.action == "CopyImage"));
}

#[tokio::test]
async fn list_pages_with_next_token() {
    let (_emulator, ecs) = emulator(Duration::from_millis(100)).await;
    let mut ids = Vec::new();
    for n in 0..25 {
        let mut unnamed = props();
        unnamed.as_object_mut().unwrap().remove("ImageName");
        let mut create = request("CREATE", unnamed, None);
        create.bearer_token = Some(format!("token-{n}"));
        let answer = call(&ecs, "cn-shanghai", &create).await;
        assert_eq!(answer["status"], "IN_PROGRESS", "{answer}");
        ids.push(answer["resourceModel"]["tfcfnid"].clone());
    }
    let first = call(&ecs, "cn-shanghai", &request("LIST", json!({}), None)).await;
    assert_eq!(first["resourceModels"].as_array().unwrap().len(), 20);
    let mut next = request("LIST", json!({}), None);
    next.next_token = first["nextToken"].as_str().map(str::to_string);
    let second = call(&ecs, "cn-shanghai", &next).await;
    assert!(second.get("nextToken").is_none(), "{second}");
    let mut listed: Vec<Value> = first["resourceModels"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["resourceModels"].as_array().unwrap())
        .map(|m| m["tfcfnid"].clone())
        .collect();
    listed.sort_by_key(|v| v.to_string());
    ids.sort_by_key(|v| v.to_string());
    assert_eq!(listed, ids);
    let other_region = call(&ecs, "cn-beijing", &request("LIST", json!({}), None)).await;
    assert_eq!(other_region["resourceModels"], json!([]));
}

#[tokio::test]
async fn an_empty_callback_context_is_a_first_call() {
    let (_emulator, ecs) = emulator(Duration::from_secs(60)).await;
    let answer = call(
        &ecs,
        "cn-shanghai",
        &request("CREATE", props(), Some(json!({}))),
    )
    .await;
    assert_eq!(answer["status"], "IN_PROGRESS", "{answer}");
    let forged = call(
        &ecs,
        "cn-shanghai",
        &request("CREATE", props(), Some(json!({"Phase": "Nope"}))),
    )
    .await;
    assert_eq!(forged["errorCode"], "InvalidRequest", "{forged}");
}

#[tokio::test]
async fn a_repeated_first_create_does_not_copy_twice() {
    let (emulator, ecs) = emulator(Duration::from_secs(60)).await;
    let first = call(&ecs, "cn-shanghai", &request("CREATE", props(), None)).await;
    let again = call(&ecs, "cn-shanghai", &request("CREATE", props(), None)).await;
    assert_eq!(
        first["resourceModel"]["tfcfnid"],
        again["resourceModel"]["tfcfnid"]
    );
    let copies = emulator
        .control()
        .images()
        .into_iter()
        .filter(|i| i.is_copy)
        .count();
    assert_eq!(copies, 1);
}

#[tokio::test]
async fn invalid_properties_are_invalid_request_without_ecs_calls() {
    let (emulator, ecs) = emulator(Duration::from_secs(1)).await;
    let answer = call(
        &ecs,
        "cn-shanghai",
        &request("CREATE", json!({"SourceImageId": "nope"}), None),
    )
    .await;
    assert_eq!(answer["status"], "FAILED");
    assert_eq!(answer["errorCode"], "InvalidRequest");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("SourceRegionId"),
        "{answer}"
    );
    assert!(emulator.control().calls().is_empty());
    let _ = OperationStatus::Success;
}

#[tokio::test]
async fn the_create_timeout_counts_across_callbacks_and_cancels_the_copy() {
    let (emulator, ecs) = emulator(Duration::from_secs(600)).await;
    let mut model = props();
    model["Timeouts"] = json!({"Create": "2s"});
    let (answer, callbacks) = drive(&ecs, "cn-shanghai", "CREATE", model).await;
    assert_eq!(answer["errorCode"], "NotStabilized", "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("create timeout"),
        "{answer}"
    );
    assert!(callbacks > 2, "looked at across callbacks: {callbacks}");
    assert!(emulator
        .control()
        .calls()
        .iter()
        .any(|c| c.action == "CancelCopyImage"));
    assert_eq!(emulator.control().copy_tasks_running(), 0);
}

#[tokio::test]
async fn ids_this_type_did_not_make_are_not_found_without_touching_them() {
    let (emulator, ecs) = emulator(Duration::from_secs(1)).await;
    for id in [
        "not-an-id",
        "m-plainid",
        "cn-hangzhou/m-bp1emulatorbase0001",
    ] {
        for action in ["READ", "UPDATE", "DELETE"] {
            let mut model = props();
            model["tfcfnid"] = json!(id);
            let answer = call(&ecs, "cn-shanghai", &request(action, model, None)).await;
            assert_eq!(answer["errorCode"], "NotFound", "{action} {id}: {answer}");
        }
    }
    assert!(
        emulator.control().image("m-bp1emulatorbase0001").is_some(),
        "a source image is never ours"
    );
    assert!(!emulator
        .control()
        .calls()
        .iter()
        .any(|c| c.action != "DescribeImages"));
}
