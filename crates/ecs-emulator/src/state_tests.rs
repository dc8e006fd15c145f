//! State transitions driven by an explicit clock: `t0 + n` stands for "n later".

use super::*;

const SOURCE: &str = "m-bp1emulatorbase0001";

fn state(copy_secs: u64) -> State {
    let config = EmulatorConfig {
        copy_duration: Duration::from_secs(copy_secs),
        ..EmulatorConfig::default()
    };
    State::new(&config)
}

fn request(destination: &str, name: Option<&str>) -> CopyRequest {
    CopyRequest {
        source_region_id: "cn-hangzhou".into(),
        source_image_id: SOURCE.into(),
        destination_region_id: destination.into(),
        name: name.map(str::to_string),
        fingerprint: format!("{destination}{name:?}"),
        ..CopyRequest::default()
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn status(state: &State, id: &str) -> ImageStatus {
    state.images[id].status
}

#[test]
fn copy_runs_from_creating_to_available_with_progress() {
    let mut s = state(10);
    let t0 = Instant::now();
    let id = s.copy_image(request("cn-shanghai", None), t0).unwrap();
    assert!(id.starts_with("m-uf"), "{id}");
    assert_eq!(status(&s, &id), ImageStatus::Creating);
    assert_eq!(s.progress(&s.images[&id], t0), 0);
    s.advance(t0 + secs(4));
    assert_eq!(s.progress(&s.images[&id], t0 + secs(4)), 40);
    s.advance(t0 + secs(10));
    assert_eq!(status(&s, &id), ImageStatus::Available);
    assert_eq!(s.progress(&s.images[&id], t0 + secs(10)), 100);
    let snapshots = &s.images[&id].snapshot_ids;
    assert!(!snapshots.is_empty());
    for snapshot in snapshots {
        assert_eq!(s.snapshots[snapshot].region_id, "cn-shanghai");
        assert_eq!(s.snapshots[snapshot].image_id.as_deref(), Some(id.as_str()));
    }
}

#[test]
fn copies_to_one_region_queue_in_order_while_other_regions_run() {
    let mut s = state(10);
    let t0 = Instant::now();
    let first = s.copy_image(request("cn-shanghai", None), t0).unwrap();
    let second = s
        .copy_image(request("cn-shanghai", None), t0 + secs(1))
        .unwrap();
    let elsewhere = s
        .copy_image(request("cn-beijing", None), t0 + secs(1))
        .unwrap();
    assert_eq!(status(&s, &second), ImageStatus::Waiting);
    assert_eq!(status(&s, &elsewhere), ImageStatus::Creating);
    assert_eq!(s.copy_tasks_running(t0 + secs(1)), 3);
    // The second starts exactly when the first ends, even if nobody looked at that moment.
    s.advance(t0 + secs(15));
    assert_eq!(status(&s, &first), ImageStatus::Available);
    assert_eq!(status(&s, &second), ImageStatus::Creating);
    assert_eq!(s.progress(&s.images[&second], t0 + secs(15)), 50);
    assert_eq!(s.copy_tasks_running(t0 + secs(20)), 0);
}

#[test]
fn failed_copy_stops_halfway_and_frees_the_region() {
    let mut s = state(10);
    let t0 = Instant::now();
    s.fail_next_copies = 1;
    let doomed = s.copy_image(request("cn-shanghai", None), t0).unwrap();
    let next = s.copy_image(request("cn-shanghai", None), t0).unwrap();
    s.advance(t0 + secs(5));
    assert_eq!(status(&s, &doomed), ImageStatus::CreateFailed);
    assert_eq!(s.progress(&s.images[&doomed], t0 + secs(5)), 50);
    assert!(s.images[&doomed].snapshot_ids.is_empty());
    assert_eq!(status(&s, &next), ImageStatus::Creating);
    s.advance(t0 + secs(15));
    assert_eq!(status(&s, &next), ImageStatus::Available);
}

#[test]
fn cancel_starts_the_next_copy_now() {
    let mut s = state(10);
    let t0 = Instant::now();
    let first = s.copy_image(request("cn-shanghai", None), t0).unwrap();
    let second = s.copy_image(request("cn-shanghai", None), t0).unwrap();
    let snapshots = s.images[&first].snapshot_ids.clone();
    s.cancel_copy("cn-shanghai", &first, t0 + secs(3)).unwrap();
    assert!(!s.images.contains_key(&first));
    assert!(snapshots.iter().all(|id| !s.snapshots.contains_key(id)));
    assert_eq!(status(&s, &second), ImageStatus::Creating);
    assert_eq!(s.progress(&s.images[&second], t0 + secs(8)), 50);
    s.advance(t0 + secs(13));
    let err = s
        .cancel_copy("cn-shanghai", &second, t0 + secs(13))
        .unwrap_err();
    assert_eq!(err.code, "IncorrectImageStatus");
    let err = s
        .cancel_copy("cn-beijing", &second, t0 + secs(13))
        .unwrap_err();
    assert_eq!(err.code, "InvalidImageId.NotFound");
}

#[test]
fn delete_rules_and_snapshot_release() {
    let mut s = state(10);
    let t0 = Instant::now();
    let copy = s.copy_image(request("cn-shanghai", None), t0).unwrap();
    let denied = s.delete_image("cn-shanghai", &copy, t0).unwrap_err();
    assert_eq!(denied.code, "OperationDenied.ImageCopying");
    let source_denied = s.delete_image("cn-hangzhou", SOURCE, t0).unwrap_err();
    assert_eq!(source_denied.code, "OperationDenied.ImageCopying");
    let snapshot = s.images[&copy].snapshot_ids[0].clone();
    assert_eq!(
        s.delete_snapshot(&snapshot, t0).unwrap_err().code,
        "SnapshotCreatedImage"
    );
    s.delete_image("cn-shanghai", &copy, t0 + secs(10)).unwrap();
    assert!(s.snapshots[&snapshot].image_id.is_none());
    s.delete_snapshot(&snapshot, t0 + secs(10)).unwrap();
    assert_eq!(
        s.delete_snapshot(&snapshot, t0 + secs(10))
            .unwrap_err()
            .code,
        "InvalidSnapshotId.NotFound"
    );
}

#[test]
fn client_token_replay_and_mismatch() {
    let mut s = state(10);
    let t0 = Instant::now();
    let mut req = request("cn-shanghai", Some("copy-a"));
    req.client_token = Some("token-1".into());
    let id = s.copy_image(req.clone(), t0).unwrap();
    // Replay even after the name exists: same image, nothing new.
    assert_eq!(s.copy_image(req.clone(), t0 + secs(1)).unwrap(), id);
    assert_eq!(s.copy_tasks_running(t0 + secs(1)), 1);
    req.fingerprint.push('x');
    let err = s.copy_image(req, t0 + secs(1)).unwrap_err();
    assert_eq!(err.code, "IdempotentParameterMismatch");
}

#[test]
fn duplicate_name_quota_and_source_checks() {
    let mut s = state(10);
    let t0 = Instant::now();
    s.copy_image(request("cn-shanghai", Some("dup")), t0)
        .unwrap();
    let err = s
        .copy_image(request("cn-shanghai", Some("dup")), t0)
        .unwrap_err();
    assert_eq!(err.code, "InvalidImageName.Duplicated");
    s.image_quota = Some(1);
    let err = s.copy_image(request("cn-shanghai", None), t0).unwrap_err();
    assert_eq!((err.status, err.code.as_str()), (403, "QuotaExceed.Image"));
    let mut wrong_region = request("cn-beijing", None);
    wrong_region.source_region_id = "cn-shanghai".into();
    let err = s.copy_image(wrong_region, t0).unwrap_err();
    assert_eq!(
        (err.status, err.code.as_str()),
        (404, "InvalidImageId.NotFound")
    );
}

#[test]
fn copy_of_unfinished_copy_is_refused() {
    let mut s = state(10);
    let t0 = Instant::now();
    let copy = s.copy_image(request("cn-shanghai", None), t0).unwrap();
    let mut again = request("cn-beijing", None);
    again.source_region_id = "cn-shanghai".into();
    again.source_image_id = copy;
    let err = s.copy_image(again, t0).unwrap_err();
    assert_eq!(err.code, "IncorrectImageStatus");
}

#[test]
fn ids_are_deterministic_for_a_seed() {
    let t0 = Instant::now();
    let mut a = state(10);
    let mut b = state(10);
    let id_a = a.copy_image(request("cn-shanghai", None), t0).unwrap();
    let id_b = b.copy_image(request("cn-shanghai", None), t0).unwrap();
    assert_eq!(id_a, id_b);
    assert_eq!(a.request_id(), b.request_id());
    let rid = a.request_id();
    assert_eq!(rid.len(), 36);
    assert_eq!(rid.matches('-').count(), 4);
}

#[test]
fn status_parsing() {
    assert_eq!(
        ImageStatus::parse("available"),
        Some(ImageStatus::Available)
    );
    assert_eq!(
        ImageStatus::parse("CreateFailed"),
        Some(ImageStatus::CreateFailed)
    );
    assert_eq!(ImageStatus::parse("Gone"), None);
}
