//! The continuation record: what a fresh invocation needs to resume a wait, bound to one
//! event and signed so that nobody without the function's secret can point a stack at an
//! image of their choosing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;

use crate::envelope::{AnswerTarget, RequestType};
use crate::lifecycle::look::CopyWatch;
use crate::lifecycle::WaitKind;

/// The key under which the record travels in the re-delivered event.
pub const CONTINUATION_KEY: &str = "EcsImageCopyContinuation";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Continuation {
    pub kind: WaitKind,
    pub image_id: String,
    /// When the operation began (Unix milliseconds): its timeout counts from here.
    pub started_at_ms: u64,
    pub hand_overs: u32,
    /// Snapshots still to delete once the image is gone (Delete with DeleteAutoSnapshot).
    #[serde(default)]
    pub snapshot_ids: Vec<String>,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    /// The region the copy is made in, when the event cannot say it again (the provider
    /// region of `TF::Alicloud::ImageCopy` may change while the copy runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    /// When the stack engine stops waiting, less the margin (Unix milliseconds), counted
    /// from the first invocation: no invocation in the chain answers or hands over later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_by_ms: Option<u64>,
    /// What the copy wait has learnt so far: the same state a registry callbackContext
    /// carries, so that the next invocation goes on with the same poll schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<CopyWatch>,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("{CONTINUATION_KEY} is malformed: {0}")]
    Malformed(String),
    #[error("{CONTINUATION_KEY} belongs to another {0} than this event")]
    Mismatch(&'static str),
    #[error("{CONTINUATION_KEY} has a wrong signature: it was not written by this function")]
    BadSignature,
    #[error("{CONTINUATION_KEY} cannot be verified: no Alibaba Cloud secret is configured")]
    Unverifiable,
    #[error("{CONTINUATION_KEY} waits for {kind:?}, which a {request_type} event does not do")]
    WrongKind {
        kind: WaitKind,
        request_type: RequestType,
    },
}

impl Continuation {
    pub fn new(
        kind: WaitKind,
        image_id: &str,
        started: SystemTime,
        hand_overs: u32,
        snapshot_ids: &[String],
        target: &AnswerTarget,
        key: &[u8],
    ) -> Self {
        let mut record = Continuation {
            kind,
            image_id: image_id.to_string(),
            started_at_ms: unix_millis(started),
            hand_overs,
            snapshot_ids: snapshot_ids.to_vec(),
            stack_id: target.stack_id.clone(),
            request_id: target.request_id.clone(),
            logical_resource_id: target.logical_resource_id.clone(),
            region_id: None,
            answer_by_ms: None,
            watch: None,
            signature: String::new(),
        };
        record.signature = record.expected_signature(key);
        record
    }

    /// The same record, also carrying the copy's region and the engine's deadline, signed
    /// again so that neither can be changed in transit.
    pub fn scoped(
        mut self,
        region_id: Option<String>,
        answer_by: Option<SystemTime>,
        key: &[u8],
    ) -> Self {
        self.region_id = region_id;
        self.answer_by_ms = answer_by.map(unix_millis);
        self.signature = self.expected_signature(key);
        self
    }

    /// The same record, also carrying the copy wait's state, signed again.
    pub fn watching(mut self, watch: Option<CopyWatch>, key: &[u8]) -> Self {
        self.watch = watch;
        self.signature = self.expected_signature(key);
        self
    }

    pub fn answer_by(&self) -> Option<SystemTime> {
        self.answer_by_ms
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
    }

    pub fn started(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.started_at_ms)
    }

    /// Reads the record from a raw event, if it carries one, and checks that it was signed
    /// with `key` for exactly this event.
    pub fn from_event(
        raw: &serde_json::Value,
        target: &AnswerTarget,
        request_type: RequestType,
        key: Option<&[u8]>,
    ) -> Result<Option<Self>, RecordError> {
        let Some(value) = raw.get(CONTINUATION_KEY) else {
            return Ok(None);
        };
        // Without the secret nothing can be verified, and an empty HMAC key is no secret.
        let key = key.ok_or(RecordError::Unverifiable)?;
        let record: Continuation = serde_json::from_value(value.clone())
            .map_err(|e| RecordError::Malformed(e.to_string()))?;
        if record.stack_id != target.stack_id {
            return Err(RecordError::Mismatch("stack"));
        }
        if record.request_id != target.request_id {
            return Err(RecordError::Mismatch("request"));
        }
        if record.logical_resource_id != target.logical_resource_id {
            return Err(RecordError::Mismatch("resource"));
        }
        if !record.signature_matches(key) {
            return Err(RecordError::BadSignature);
        }
        let kind_fits = match record.kind {
            WaitKind::Copy => request_type != RequestType::Delete,
            WaitKind::Delete => request_type == RequestType::Delete,
        };
        if !kind_fits {
            return Err(RecordError::WrongKind {
                kind: record.kind,
                request_type,
            });
        }
        Ok(Some(record))
    }

    fn canonical(&self) -> String {
        let mut text = format!(
            "ecs-image-copy continuation v1\n{:?}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.kind,
            self.image_id,
            self.started_at_ms,
            self.hand_overs,
            self.snapshot_ids.join(","),
            self.stack_id,
            self.request_id,
            self.logical_resource_id
        );
        // Records without the later fields (from a chain begun before an upgrade) keep
        // verifying as they were signed.
        if self.region_id.is_some() || self.answer_by_ms.is_some() {
            text.push_str(&format!(
                "\nv2\n{}\n{}",
                self.region_id.as_deref().unwrap_or(""),
                self.answer_by_ms.map_or(String::new(), |ms| ms.to_string())
            ));
        }
        if let Some(watch) = &self.watch {
            let state = serde_json::to_string(watch).expect("a watch serialises");
            text.push_str(&format!("\nv3\n{state}"));
        }
        text
    }

    fn mac(&self, key: &[u8]) -> Hmac<Sha1> {
        let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes keys of any length");
        mac.update(self.canonical().as_bytes());
        mac
    }

    fn expected_signature(&self, key: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.mac(key).finalize().into_bytes())
    }

    fn signature_matches(&self, key: &[u8]) -> bool {
        let Ok(given) = base64::engine::general_purpose::STANDARD.decode(&self.signature) else {
            return false;
        };
        // Constant-time comparison.
        self.mac(key).verify_slice(&given).is_ok()
    }
}

fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Engine;

    fn target() -> AnswerTarget {
        AnswerTarget {
            engine: Engine::CloudFormation,
            response_url: "http://127.0.0.1/cb".into(),
            stack_id: "stack-1".into(),
            request_id: "req-1".into(),
            logical_resource_id: "Copy".into(),
            physical_resource_id: None,
        }
    }

    fn carried(record: &Continuation) -> serde_json::Value {
        serde_json::json!({ CONTINUATION_KEY: record })
    }

    #[test]
    fn a_record_round_trips_for_its_own_event() {
        let started = UNIX_EPOCH + Duration::from_millis(1_795_000_000_123);
        let record = Continuation::new(WaitKind::Copy, "m-abc", started, 2, &[], &target(), b"key");
        let back = Continuation::from_event(
            &carried(&record),
            &target(),
            RequestType::Create,
            Some(b"key"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(back, record);
        assert_eq!(back.started(), started);
    }

    #[test]
    fn the_region_and_the_engine_deadline_are_signed_too() {
        let answer_by = UNIX_EPOCH + Duration::from_millis(1_795_000_600_000);
        let record = Continuation::new(
            WaitKind::Copy,
            "m-abc",
            SystemTime::now(),
            1,
            &[],
            &target(),
            b"key",
        )
        .scoped(Some("cn-beijing".into()), Some(answer_by), b"key");
        let back = Continuation::from_event(
            &carried(&record),
            &target(),
            RequestType::Create,
            Some(b"key"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(back.region_id.as_deref(), Some("cn-beijing"));
        assert_eq!(back.answer_by(), Some(answer_by));
        for tamper in [
            |r: &mut Continuation| r.region_id = Some("cn-hangzhou".into()),
            |r: &mut Continuation| r.answer_by_ms = r.answer_by_ms.map(|ms| ms + 3_600_000),
            |r: &mut Continuation| r.answer_by_ms = None,
        ] {
            let mut changed = record.clone();
            tamper(&mut changed);
            assert_eq!(
                Continuation::from_event(
                    &carried(&changed),
                    &target(),
                    RequestType::Create,
                    Some(b"key")
                ),
                Err(RecordError::BadSignature)
            );
        }
    }

    #[test]
    fn the_copy_watch_travels_signed() {
        let record = Continuation::new(
            WaitKind::Copy,
            "m-abc",
            SystemTime::now(),
            1,
            &[],
            &target(),
            b"key",
        )
        .watching(Some(CopyWatch::new()), b"key");
        let text = serde_json::to_string(&carried(&record)).unwrap();
        let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
        let back = Continuation::from_event(&raw, &target(), RequestType::Create, Some(b"key"))
            .unwrap()
            .unwrap();
        assert_eq!(back.watch, Some(CopyWatch::new()));
        let mut changed = raw.clone();
        changed[CONTINUATION_KEY]["Watch"]["seen"] = serde_json::json!(true);
        assert_eq!(
            Continuation::from_event(&changed, &target(), RequestType::Create, Some(b"key")),
            Err(RecordError::BadSignature)
        );
    }

    #[test]
    fn without_a_secret_no_record_is_accepted() {
        let record = Continuation::new(
            WaitKind::Copy,
            "m-abc",
            SystemTime::now(),
            1,
            &[],
            &target(),
            b"",
        );
        assert_eq!(
            Continuation::from_event(&carried(&record), &target(), RequestType::Create, None),
            Err(RecordError::Unverifiable)
        );
    }

    #[test]
    fn events_without_a_record_have_none() {
        let raw = serde_json::json!({"RequestType": "Create"});
        assert_eq!(
            Continuation::from_event(&raw, &target(), RequestType::Create, Some(b"key")),
            Ok(None)
        );
    }

    #[test]
    fn records_for_other_events_or_forged_ones_are_refused() {
        let record = Continuation::new(
            WaitKind::Copy,
            "m-abc",
            SystemTime::now(),
            1,
            &["s-1".to_string()],
            &target(),
            b"key",
        );
        let check = |r: &Continuation, ty: RequestType, key: &[u8]| {
            Continuation::from_event(&carried(r), &target(), ty, Some(key)).unwrap_err()
        };
        let mut other_stack = record.clone();
        other_stack.stack_id = "stack-2".into();
        assert_eq!(
            check(&other_stack, RequestType::Create, b"key"),
            RecordError::Mismatch("stack")
        );
        let mut other_request = record.clone();
        other_request.request_id = "req-2".into();
        assert_eq!(
            check(&other_request, RequestType::Create, b"key"),
            RecordError::Mismatch("request")
        );
        let mut other_resource = record.clone();
        other_resource.logical_resource_id = "Other".into();
        assert_eq!(
            check(&other_resource, RequestType::Create, b"key"),
            RecordError::Mismatch("resource")
        );
        let mut fewer_snapshots = record.clone();
        fewer_snapshots.snapshot_ids.clear();
        assert_eq!(
            check(&fewer_snapshots, RequestType::Create, b"key"),
            RecordError::BadSignature
        );
        let mut swapped_image = record.clone();
        swapped_image.image_id = "m-someoneelse".into();
        assert_eq!(
            check(&swapped_image, RequestType::Create, b"key"),
            RecordError::BadSignature
        );
        assert_eq!(
            check(&record, RequestType::Create, b"other key"),
            RecordError::BadSignature
        );
        assert!(matches!(
            check(&record, RequestType::Delete, b"key"),
            RecordError::WrongKind { .. }
        ));
        let raw = serde_json::json!({ CONTINUATION_KEY: {"Kind": "Copy"} });
        assert!(matches!(
            Continuation::from_event(&raw, &target(), RequestType::Create, Some(b"key")),
            Err(RecordError::Malformed(_))
        ));
    }
}
