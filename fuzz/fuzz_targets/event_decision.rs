//! Raw bytes as an event, through parsing, type detection and validation to the answer the
//! handler would send before any ECS call. Must never panic; every answer must fit the
//! engines' limits and carry a reason when it fails.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ecs_image_copy::ecs::{Credentials, EcsClient, Endpoints, ReqwestTransport, RetryPolicy};
use ecs_image_copy::envelope::{AnswerTarget, Status, MAX_BODY_BYTES, MAX_IDENTIFIER_BYTES};
use ecs_image_copy::handler::Handler;
use ecs_image_copy::settings::Settings;
use libfuzzer_sys::fuzz_target;

fn handler() -> &'static Handler {
    static HANDLER: OnceLock<Handler> = OnceLock::new();
    HANDLER.get_or_init(|| {
        let credentials = Credentials::new("LTAI-fuzz", "fuzz-secret", None);
        let ecs = EcsClient::with_transport(
            credentials.clone(),
            Endpoints::with_override("http://127.0.0.1:9").unwrap(),
            Arc::new(ReqwestTransport::new(Duration::from_millis(100))),
            RetryPolicy::default(),
        );
        Handler::with_client(
            ecs,
            Settings {
                credentials: Ok(Some(credentials)),
                region_id: Some("cn-shanghai".into()),
                ecs_endpoints: Endpoints::with_override("http://127.0.0.1:9"),
                ros_timeout: Duration::from_secs(600),
                handover: None,
            },
        )
    })
}

fn echoes_too_much(target: &AnswerTarget) -> bool {
    [
        &target.stack_id,
        &target.request_id,
        &target.logical_resource_id,
    ]
    .into_iter()
    .any(|id| serde_json::to_string(id).unwrap().len() - 2 > MAX_IDENTIFIER_BYTES)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((target, answer))) = handler().answer_without_ecs(data) {
        let body = answer.to_body(&target);
        // Only identifiers the envelope refuses as too long may push an answer over the limit:
        // they are echoed whole.
        assert!(body.json.len() <= MAX_BODY_BYTES || echoes_too_much(&target));
        if echoes_too_much(&target) {
            assert_eq!(answer.status, Status::Failed);
        }
        if answer.status == Status::Failed {
            assert!(answer.reason.is_some_and(|r| !r.is_empty()));
        }
    }
});
