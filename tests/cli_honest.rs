//! The real binary does nothing fake unless asked, says by its exit status what was
//! delivered, and finds a copy where it was made when the provider region has changed.

mod cli_support;

use std::process::Command;
use std::time::Duration;

use cli_support::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_and_without_emulator_the_stack_is_told_what_is_missing() {
    let cloud = Cloud::start(Duration::from_millis(300)).await;
    let env = Env {
        credentials: false,
        ..CONFIGURED
    };
    let run = cloud.create(env, tf_props()).await;
    assert_eq!(run.code(), Some(3), "FAILED delivered: {}", run.stderr());
    let answer = run.answer();
    assert_eq!(answer["Status"], "FAILED");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(
        reason.contains("ALIBABA_CLOUD_ACCESS_KEY_ID")
            && reason.contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        "{reason}"
    );
    assert!(!run.stderr().contains("emulator"), "{}", run.stderr());
    assert_eq!(
        cloud.receiver.accepted().len(),
        1,
        "delivered to the real ResponseURL"
    );
    assert!(cloud.ecs().calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_status_tells_delivered_success_failed_undelivered_and_usage() {
    let cloud = Cloud::start(Duration::from_millis(200)).await;
    let ok = cloud.create(CONFIGURED, tf_props()).await;
    assert_eq!(ok.code(), Some(0), "{}", ok.stderr());

    let failed = cloud.create(CONFIGURED, json!({})).await;
    assert_eq!(failed.code(), Some(3), "{}", failed.stderr());

    // Nothing listens on port 9: not delivered (and without --emulator nothing stands in).
    let mut lost = cloud.cfn("Create", "Custom::ImageCopy", json!({}));
    lost["ResponseURL"] = json!("http://127.0.0.1:9/cb?X-Amz-Signature=s");
    let lost = cloud.invoke(CONFIGURED, &["--timeout", "3"], &[lost]).await;
    assert_eq!(lost.code(), Some(1), "{}", lost.stderr());
    assert!(
        !lost.stderr().contains("local receiver"),
        "{}",
        lost.stderr()
    );

    let usage = cloud.invoke(CONFIGURED, &["--no-such-flag"], &[]).await;
    assert_eq!(usage.code(), Some(2));
    let missing = cloud
        .invoke(CONFIGURED, &["/nonexistent/event.json"], &[])
        .await;
    assert_eq!(missing.code(), Some(2), "{}", missing.stderr());

    let help = Command::new(BIN)
        .args(["invoke", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for line in [
        "0  every answer was delivered",
        "3  every answer",
        "1  an answer could not",
        "2  usage",
    ] {
        assert!(help.contains(line), "{help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_is_updated_and_deleted_where_it_was_made_after_the_provider_region_changed() {
    let cloud = Cloud::start(Duration::from_millis(300)).await;
    let created = cloud.create(CONFIGURED, tf_props()).await.answer();
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let physical = created["PhysicalResourceId"].as_str().unwrap().to_string();
    let image_id = created["Data"]["ImageId"].as_str().unwrap().to_string();
    assert_eq!(
        created["Data"]["Id"],
        image_id.as_str(),
        "plain id for Fn::GetAtt"
    );
    assert_eq!(physical, format!("{DEST_REGION}/{image_id}"));

    let moved = Env {
        region: Some("cn-beijing"),
        ..CONFIGURED
    };
    let retagged = with(
        tf_props(),
        "Tags",
        json!([{"MapKey": "team", "MapValue": "b"}]),
    );
    let mut update = cloud.cfn_for("Update", retagged.clone(), &physical);
    update["OldResourceProperties"] = tf_props();
    let updated = cloud.invoke(moved, &[], &[update]).await;
    assert_eq!(
        updated.answer()["Status"],
        "SUCCESS",
        "{}",
        updated.stderr()
    );
    assert_eq!(
        updated.answer()["PhysicalResourceId"],
        physical.as_str(),
        "same copy, same id"
    );
    let image = cloud.ecs().image(&image_id).expect("still there");
    assert_eq!(image.region_id, DEST_REGION);
    assert_eq!(
        image.tags.get("team").map(String::as_str),
        Some("b"),
        "updated in place"
    );
    assert_eq!(cloud.calls("CopyImage"), 1, "no replacement");

    let delete = cloud.cfn_for("Delete", retagged, &physical);
    let deleted = cloud.invoke(moved, &[], &[delete]).await;
    assert_eq!(deleted.code(), Some(0), "{}", deleted.stderr());
    assert!(
        cloud.ecs().image(&image_id).is_none(),
        "the right image was removed"
    );
    let delete_call = cloud
        .ecs()
        .calls()
        .into_iter()
        .find(|c| c.action == "DeleteImage")
        .unwrap();
    assert_eq!(delete_call.region_id.as_deref(), Some(DEST_REGION));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_image_id_from_an_earlier_version_is_deleted_in_the_provider_region() {
    let cloud = Cloud::start(Duration::from_millis(300)).await;
    let created = cloud.create(CONFIGURED, tf_props()).await.answer();
    let image_id = created["Data"]["ImageId"].as_str().unwrap().to_string();
    let delete = cloud.cfn_for("Delete", tf_props(), &image_id);
    let deleted = cloud.invoke(CONFIGURED, &[], &[delete]).await;
    assert_eq!(
        deleted.answer()["Status"],
        "SUCCESS",
        "{}",
        deleted.stderr()
    );
    assert_eq!(
        deleted.answer()["PhysicalResourceId"],
        image_id.as_str(),
        "echoed as given"
    );
    assert!(cloud.ecs().image(&image_id).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_logs_name_the_stack_briefly_and_json_logs_keep_every_field() {
    let cloud = Cloud::start(Duration::from_millis(200)).await;
    let event = cloud.cfn("Create", "Custom::ImageCopy", json!({}));
    let stack_id = event["StackId"].as_str().unwrap().to_string();
    let text = cloud
        .invoke(CONFIGURED, &[], std::slice::from_ref(&event))
        .await
        .stderr();
    let answering = text
        .lines()
        .find(|l| l.contains("answering"))
        .expect("logged");
    assert!(
        answering.contains("stack=cli-engine") && answering.contains("resource=Copy"),
        "{answering}"
    );
    assert!(
        !text.contains(&stack_id),
        "the whole ARN on a text line: {text}"
    );

    let json_env = Env {
        json_logs: true,
        ..CONFIGURED
    };
    let logged = cloud.invoke(json_env, &[], &[event]).await.stderr();
    let line: serde_json::Value = logged
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|l: &serde_json::Value| l["message"] == "answering")
        .unwrap_or_else(|| panic!("no JSON answering line: {logged}"));
    let span = &line["span"];
    assert_eq!(span["stack_id"], stack_id.as_str(), "{line}");
    assert_eq!(span["logical_resource_id"], "Copy", "{line}");
    assert!(span["request_id"].is_string(), "{line}");
}
