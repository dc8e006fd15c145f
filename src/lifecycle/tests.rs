use std::time::Duration;

use super::*;
use crate::model::Tag;

pub(super) fn tf_spec() -> CopySpec {
    CopySpec {
        source_image_id: "m-source1".into(),
        source_region_id: "cn-hangzhou".into(),
        destination_region_id: "cn-shanghai".into(),
        image_name: Some("web".into()),
        description: Some("web image".into()),
        encrypted: false,
        kms_key_id: None,
        resource_group_id: None,
        tags: vec![Tag {
            key: "team".into(),
            value: "a".into(),
        }],
        allow_copy_in_same_region: false,
        force_delete: false,
        delete_auto_snapshot: false,
        create_timeout: Duration::from_secs(600),
        delete_timeout: Duration::from_secs(600),
        updatable_in_place: true,
    }
}

pub(super) fn ros_spec() -> CopySpec {
    CopySpec {
        updatable_in_place: false,
        ..tf_spec()
    }
}

#[test]
fn foreign_ids_are_recognised() {
    for id in [
        FAILED_CREATE_MARKER,
        "",
        "m-",
        "M-ABC",
        "m-ABC",
        "stack-Copy-1A2B3C",
        "m-abc/../x",
        &format!("m-{}", "a".repeat(63)),
    ] {
        assert!(PhysicalId::parse(id).is_none(), "{id:?}");
    }
    for id in ["m-bp1h46wfpjsjastc1234", "m-abc"] {
        assert!(PhysicalId::parse(id).is_some(), "{id:?}");
    }
}

#[test]
fn tf_name_description_and_tags_change_in_place() {
    let old = tf_spec();
    let mut new = tf_spec();
    new.image_name = Some("web2".into());
    new.description = None;
    new.tags.push(Tag {
        key: "env".into(),
        value: "prod".into(),
    });
    new.force_delete = true;
    new.create_timeout = Duration::from_secs(5);
    assert!(same_copy(&old, &new));
}

#[test]
fn tf_create_only_changes_need_a_new_copy() {
    let old = tf_spec();
    let changes: [fn(&mut CopySpec); 5] = [
        |s| s.source_image_id = "m-other".into(),
        |s| s.source_region_id = "cn-beijing".into(),
        |s| s.encrypted = true,
        |s| s.kms_key_id = Some("key".into()),
        |s| s.destination_region_id = "cn-beijing".into(),
    ];
    for change in changes {
        let mut new = tf_spec();
        change(&mut new);
        assert!(!same_copy(&old, &new), "{new:?}");
    }
}

#[test]
fn ros_changes_anything_by_replacement_but_not_behaviour_only_fields() {
    let old = ros_spec();
    let mut renamed = ros_spec();
    renamed.image_name = Some("other".into());
    assert!(!same_copy(&old, &renamed));
    let mut retagged = ros_spec();
    retagged.tags.clear();
    assert!(!same_copy(&old, &retagged));
    assert!(same_copy(&old, &ros_spec()));
}

#[test]
fn durations_read_like_terraform() {
    assert_eq!(show(Duration::from_secs(600)), "10m");
    assert_eq!(show(Duration::from_secs(45)), "45s");
    assert_eq!(show(Duration::from_secs(5430)), "1h30m30s");
    assert_eq!(show(Duration::from_secs(90)), "1m30s");
}

#[test]
fn the_journal_remembers_the_started_copy() {
    let journal = Journal::default();
    assert_eq!(journal.started_image(), None);
    journal.clone().record("m-abc");
    assert_eq!(journal.started_image().as_deref(), Some("m-abc"));
}

#[test]
fn a_source_busy_until_the_deadline_is_said_in_plain_words() {
    let busy = |code: &str| crate::ecs::EcsError::DeadlineExceeded {
        action: "CopyImage".into(),
        attempts: 7,
        last: Some(Box::new(crate::ecs::EcsError::Api {
            action: "CopyImage".into(),
            http_status: 403,
            code: code.into(),
            message: "The Image are coping.".into(),
            request_id: None,
        })),
    };
    let shown = LifecycleError::from_copy_image(&tf_spec(), busy("OperationDenied.ImageCopying"))
        .to_string();
    assert!(
        shown.contains("m-source1") && shown.contains("busy with another copy"),
        "{shown}"
    );
    assert!(shown.contains("OperationDenied.ImageCopying"), "{shown}");
    let other = LifecycleError::from_copy_image(&tf_spec(), busy("Throttling")).to_string();
    assert!(other.starts_with("CopyImage failed"), "{other}");
}
