//! The CloudFormation resource-provider protocol (version 2.0.0) for
//! `TF::Alicloud::ImageCopy` as a registry type.
//!
//! A thin router in the style of the cloudformation-cli Go plugin: the request is parsed,
//! the type configuration gives the credentials and the region, and a handler answers a
//! [`ProgressEvent`]. No handler waits: a CREATE or DELETE answers IN_PROGRESS with a
//! `callbackContext`, and each callback looks at ECS once (the shared lifecycle steps in
//! `crate::lifecycle`). Any invocation may be a fresh process.

mod context;
mod handlers;
mod model;
mod progress;
mod request;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

pub use context::CallbackContext;
pub use handlers::Provider;
pub use model::{MANAGED_TAG_KEY, MAX_USER_TAGS};
pub use progress::{HandlerErrorCode, OperationStatus, ProgressEvent};
pub use request::{Action, HandlerRequest, TypeConfigError, TypeConfiguration};

use crate::ecs::{EcsClient, Endpoints, ReqwestTransport, RetryPolicy};

/// The protocol's limits: CREATE/UPDATE/DELETE answer within 60 s, READ/LIST within 30 s.
const MUTATION_LIMIT: Duration = Duration::from_secs(60);
const READ_LIMIT: Duration = Duration::from_secs(30);
/// Time kept back to build and return the answer.
const ANSWER_MARGIN: Duration = Duration::from_secs(5);

/// A resource-provider HandlerRequest has `action` and `requestData`; a custom-resource
/// event has neither.
pub fn is_provider_request(payload: &Value) -> bool {
    payload.get("action").is_some() && payload.get("requestData").is_some()
}

/// Answers one HandlerRequest. `deadline` is the invocation's; `endpoints` where ECS is
/// (`ALIBABA_CLOUD_ECS_ENDPOINT` and the per-region settings).
pub async fn answer(
    raw: &Value,
    deadline: Instant,
    endpoints: &Result<Endpoints, String>,
) -> ProgressEvent {
    let request: HandlerRequest = match serde_json::from_value(raw.clone()) {
        Ok(request) => request,
        Err(e) => {
            return ProgressEvent::failed(
                HandlerErrorCode::InvalidRequest,
                format!("not a resource-provider request this handler understands: {e}"),
            )
        }
    };
    let config = match TypeConfiguration::parse(request.request_data.type_configuration.as_ref()) {
        Ok(config) => config,
        Err(e) => {
            return ProgressEvent::failed(HandlerErrorCode::InvalidTypeConfiguration, e.to_string())
        }
    };
    let endpoints = match endpoints {
        Ok(endpoints) => endpoints.clone(),
        Err(e) => return ProgressEvent::failed(HandlerErrorCode::InternalFailure, e.clone()),
    };
    let ecs = EcsClient::with_transport(
        config.credentials.clone(),
        endpoints,
        Arc::new(ReqwestTransport::shared()),
        RetryPolicy::default(),
    );
    let limit = match request.action {
        Action::Read | Action::List => READ_LIMIT,
        _ => MUTATION_LIMIT,
    };
    let now = Instant::now();
    let deadline = deadline
        .min(now + limit)
        .checked_sub(ANSWER_MARGIN)
        .map_or(now, |at| at.max(now));
    let provider = Provider {
        ecs: &ecs,
        region_id: &config.region_id,
        deadline,
    };
    let event = provider.handle(&request).await;
    tracing::info!(action = ?request.action, status = ?event.status, code = ?event.error_code, "answered");
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_two_protocols_are_told_apart_by_shape() {
        assert!(is_provider_request(
            &json!({"action": "CREATE", "requestData": {}})
        ));
        assert!(!is_provider_request(
            &json!({"RequestType": "Create", "ResponseURL": "x"})
        ));
        assert!(!is_provider_request(&json!({"action": "CREATE"})));
    }

    #[tokio::test]
    async fn a_bad_type_configuration_fails_before_any_ecs_call() {
        let raw = json!({"action": "CREATE", "bearerToken": "b", "requestData": {
            "resourceProperties": {"SourceImageId": "m-abc", "SourceRegionId": "cn-hangzhou"},
            "typeConfiguration": {"AccessKeyId": "a", "RegionId": "cn-shanghai"}}});
        // An endpoint nobody listens on: any ECS call would fail with NetworkFailure.
        let endpoints = Endpoints::with_override("http://127.0.0.1:9").map_err(|e| e.to_string());
        let event = answer(&raw, Instant::now() + Duration::from_secs(30), &endpoints).await;
        assert_eq!(
            event.error_code,
            Some(HandlerErrorCode::InvalidTypeConfiguration)
        );
        assert!(event.message.unwrap().contains("AccessKeySecret"));
    }
}
