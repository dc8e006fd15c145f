//! The realism behaviours on an explicit clock: `t0 + n` stands for "n later".

use super::*;

const SOURCE: &str = "m-bp1emulatorbase0001";

fn state(realism: Realism) -> State {
    let config = EmulatorConfig {
        copy_duration: secs(10),
        realism,
        ..EmulatorConfig::default()
    };
    State::new(&config)
}

fn request(destination: &str, token: Option<&str>) -> CopyRequest {
    CopyRequest {
        source_region_id: "cn-hangzhou".into(),
        source_image_id: SOURCE.into(),
        destination_region_id: destination.into(),
        client_token: token.map(str::to_string),
        fingerprint: destination.to_string(),
        ..CopyRequest::default()
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn a_source_with_a_copy_in_flight_refuses_a_second_copy_until_the_first_ends() {
    let mut s = state(Realism {
        busy_source: true,
        ..Realism::off()
    });
    let t0 = Instant::now();
    s.copy_image(request("cn-shanghai", None), t0).unwrap();
    let refused = s
        .copy_image(request("cn-beijing", None), t0 + secs(5))
        .unwrap_err();
    assert_eq!(
        (refused.status, refused.code.as_str()),
        (403, "OperationDenied.ImageCopying")
    );
    let second = s
        .copy_image(request("cn-beijing", None), t0 + secs(10))
        .unwrap();
    assert_eq!(s.images[&second].status, ImageStatus::Creating);
    // Off, the same two copies run side by side.
    let mut kind = state(Realism::off());
    kind.copy_image(request("cn-shanghai", None), t0).unwrap();
    kind.copy_image(request("cn-beijing", None), t0).unwrap();
}

#[test]
fn a_new_copy_is_listed_late() {
    let mut s = state(Realism {
        invisible_for: secs(3),
        ..Realism::off()
    });
    let t0 = Instant::now();
    let id = s.copy_image(request("cn-shanghai", None), t0).unwrap();
    assert!(!State::is_listed(&s.images[&id], t0 + secs(2)));
    assert!(State::is_listed(&s.images[&id], t0 + secs(3)));
    assert!(State::is_listed(&s.images[SOURCE], t0));
}

#[test]
fn a_cancel_takes_time_holds_the_region_and_refuses_a_repeat() {
    let mut s = state(Realism {
        cancel_takes: secs(4),
        ..Realism::off()
    });
    let t0 = Instant::now();
    let first = s.copy_image(request("cn-shanghai", None), t0).unwrap();
    let snapshots = s.images[&first].snapshot_ids.clone();
    let queued = {
        let mut other = request("cn-shanghai", None);
        other.source_image_id = "m-bp1emulatorbase0002".into();
        s.copy_image(other, t0).unwrap()
    };
    s.cancel_copy("cn-shanghai", &first, t0 + secs(5)).unwrap();
    let again = s
        .cancel_copy("cn-shanghai", &first, t0 + secs(6))
        .unwrap_err();
    assert_eq!(again.code, "IncorrectImageStatus");
    s.advance(t0 + secs(8));
    assert_eq!(s.progress(&s.images[&first], t0 + secs(8)), 50, "frozen");
    assert_eq!(s.images[&queued].status, ImageStatus::Waiting);
    s.advance(t0 + secs(9));
    assert!(!s.images.contains_key(&first));
    // Assumed: a cancelled copy's partial snapshots go with it.
    assert!(snapshots.iter().all(|id| !s.snapshots.contains_key(id)));
    assert_eq!(s.images[&queued].status, ImageStatus::Creating);
    assert_eq!(
        s.progress(&s.images[&queued], t0 + secs(14)),
        50,
        "started at 9"
    );
}

#[test]
fn snapshots_are_listed_once_available_and_usable_lags() {
    let mut s = state(Realism {
        late_snapshots: true,
        usable_lag: secs(2),
        ..Realism::off()
    });
    let t0 = Instant::now();
    let id = s.copy_image(request("cn-shanghai", None), t0).unwrap();
    assert!(s.listed_snapshots(&s.images[&id]).is_empty());
    assert!(
        !s.images[&id].snapshot_ids.is_empty(),
        "they exist meanwhile"
    );
    s.advance(t0 + secs(10));
    assert_eq!(
        s.listed_snapshots(&s.images[&id]),
        s.images[&id].snapshot_ids
    );
    assert!(!s.is_usable(&s.images[&id], t0 + secs(11)));
    assert!(s.is_usable(&s.images[&id], t0 + secs(12)));
    assert!(s.is_usable(&s.images[SOURCE], t0));
}

#[test]
fn delete_image_is_denied_just_after_the_copy_ends() {
    let mut s = state(Realism {
        delete_denied_after_copy: secs(2),
        ..Realism::off()
    });
    let t0 = Instant::now();
    let id = s.copy_image(request("cn-shanghai", None), t0).unwrap();
    let denied = s
        .delete_image("cn-shanghai", &id, t0 + secs(11))
        .unwrap_err();
    assert_eq!(denied.code, "OperationDenied.ImageCopying");
    s.delete_image("cn-shanghai", &id, t0 + secs(12)).unwrap();
}

#[test]
fn a_client_token_replayed_too_soon_is_still_processing() {
    let mut s = state(Realism {
        token_processing: secs(1),
        ..Realism::off()
    });
    let t0 = Instant::now();
    let id = s
        .copy_image(request("cn-shanghai", Some("tok")), t0)
        .unwrap();
    let early = s
        .copy_image(
            request("cn-shanghai", Some("tok")),
            t0 + Duration::from_millis(500),
        )
        .unwrap_err();
    assert_eq!(early.code, "LastTokenProcessing");
    let replay = s.copy_image(request("cn-shanghai", Some("tok")), t0 + secs(1));
    assert_eq!(replay.unwrap(), id);
}
