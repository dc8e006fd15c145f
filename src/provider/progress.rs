//! The ProgressEvent a handler answers with. Empty fields are left out, never `null`: the
//! contract tests reject `"errorCode": null`.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::ecs::EcsError;
use crate::lifecycle::LifecycleError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationStatus {
    Success,
    Failed,
    InProgress,
}

/// The protocol's error codes (the subset this handler can have reason to answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HandlerErrorCode {
    NotUpdatable,
    InvalidRequest,
    AccessDenied,
    InvalidCredentials,
    NotFound,
    AlreadyExists,
    ResourceConflict,
    Throttling,
    ServiceLimitExceeded,
    NotStabilized,
    GeneralServiceException,
    ServiceInternalError,
    NetworkFailure,
    InternalFailure,
    InvalidTypeConfiguration,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressEvent {
    pub status: OperationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<HandlerErrorCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_context: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_delay_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_model: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_models: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

impl ProgressEvent {
    fn bare(status: OperationStatus) -> Self {
        ProgressEvent {
            status,
            error_code: None,
            message: None,
            callback_context: None,
            callback_delay_seconds: None,
            resource_model: None,
            resource_models: None,
            next_token: None,
        }
    }

    pub fn success(model: Option<Value>) -> Self {
        ProgressEvent {
            resource_model: model,
            ..Self::bare(OperationStatus::Success)
        }
    }

    pub fn listed(models: Vec<Value>, next_token: Option<String>) -> Self {
        ProgressEvent {
            resource_models: Some(models),
            next_token,
            ..Self::bare(OperationStatus::Success)
        }
    }

    pub fn failed(code: HandlerErrorCode, message: impl Into<String>) -> Self {
        ProgressEvent {
            error_code: Some(code),
            message: Some(message.into()),
            ..Self::bare(OperationStatus::Failed)
        }
    }

    /// Callback delays are whole seconds: rounded up so that a look never comes early.
    pub fn in_progress(model: Value, context: Value, delay: Duration) -> Self {
        let seconds = delay.as_millis().div_ceil(1000).max(1) as u64;
        ProgressEvent {
            resource_model: Some(model),
            callback_context: Some(context),
            callback_delay_seconds: Some(seconds),
            ..Self::bare(OperationStatus::InProgress)
        }
    }
}

/// The protocol code for an ECS error: what the engine and the user can act on.
pub fn code_for_ecs(error: &EcsError) -> HandlerErrorCode {
    if let EcsError::DeadlineExceeded { last: None, .. } | EcsError::Transport { .. } = error {
        return HandlerErrorCode::NetworkFailure;
    }
    let last = error.last_answer();
    let code = last.code().unwrap_or_default();
    let status = match last {
        EcsError::Api { http_status, .. } => *http_status,
        EcsError::Transport { .. } => return HandlerErrorCode::NetworkFailure,
        _ => 0,
    };
    if code.contains("Throttling") {
        HandlerErrorCode::Throttling
    } else if code.starts_with("InvalidAccessKeyId")
        || code.starts_with("SignatureDoesNotMatch")
        || code.starts_with("InvalidSecurityToken")
        || code.starts_with("IncompleteSignature")
    {
        HandlerErrorCode::InvalidCredentials
    } else if code == "OperationDenied.ImageCopying" || code == "IncorrectImageStatus" {
        // A source still being copied, an image mid-cancel: busy, not forbidden.
        HandlerErrorCode::ResourceConflict
    } else if code.starts_with("Forbidden") || code.contains("NoPermission") || status == 403 {
        HandlerErrorCode::AccessDenied
    } else if last.is_not_found() || code.ends_with(".NotFound") {
        HandlerErrorCode::NotFound
    } else if code.contains("Duplicated") || code.contains("AlreadyExist") {
        HandlerErrorCode::AlreadyExists
    } else if code.starts_with("QuotaExceed") || code.contains("LimitExceeded") {
        HandlerErrorCode::ServiceLimitExceeded
    } else if status >= 500 {
        HandlerErrorCode::ServiceInternalError
    } else if status >= 400 {
        HandlerErrorCode::InvalidRequest
    } else {
        HandlerErrorCode::GeneralServiceException
    }
}

pub fn code_for_lifecycle(error: &LifecycleError) -> HandlerErrorCode {
    match error {
        LifecycleError::Ecs { source, .. } => code_for_ecs(source),
        _ => HandlerErrorCode::GeneralServiceException,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(code: &str, http_status: u16) -> EcsError {
        EcsError::Api {
            action: "CopyImage".into(),
            http_status,
            code: code.into(),
            message: "m".into(),
            request_id: None,
        }
    }

    #[test]
    fn empty_fields_are_absent_and_delays_round_up() {
        let event = ProgressEvent::in_progress(
            json!({"tfcfnid": "x"}),
            json!({}),
            Duration::from_millis(1200),
        );
        let text = serde_json::to_value(&event).unwrap();
        assert_eq!(text["status"], "IN_PROGRESS");
        assert_eq!(text["callbackDelaySeconds"], 2);
        assert!(text.get("errorCode").is_none() && text.get("resourceModels").is_none());
        let failed =
            serde_json::to_value(ProgressEvent::failed(HandlerErrorCode::NotFound, "gone"))
                .unwrap();
        assert_eq!(
            failed,
            json!({"status": "FAILED", "errorCode": "NotFound", "message": "gone"})
        );
    }

    #[test]
    fn ecs_errors_map_to_protocol_codes() {
        assert_eq!(
            code_for_ecs(&api("Throttling.User", 400)),
            HandlerErrorCode::Throttling
        );
        assert_eq!(
            code_for_ecs(&api("InvalidAccessKeyId.NotFound", 404)),
            HandlerErrorCode::InvalidCredentials
        );
        assert_eq!(
            code_for_ecs(&api("SignatureDoesNotMatch", 400)),
            HandlerErrorCode::InvalidCredentials
        );
        assert_eq!(
            code_for_ecs(&api("Forbidden.RAM", 403)),
            HandlerErrorCode::AccessDenied
        );
        assert_eq!(
            code_for_ecs(&api("InvalidImageId.NotFound", 404)),
            HandlerErrorCode::NotFound
        );
        assert_eq!(
            code_for_ecs(&api("InternalError", 500)),
            HandlerErrorCode::ServiceInternalError
        );
        assert_eq!(
            code_for_ecs(&api("InvalidParameter", 400)),
            HandlerErrorCode::InvalidRequest
        );
        let gave_up = EcsError::DeadlineExceeded {
            action: "CopyImage".into(),
            attempts: 3,
            last: Some(Box::new(api("Throttling", 400))),
        };
        assert_eq!(code_for_ecs(&gave_up), HandlerErrorCode::Throttling);
    }
}
