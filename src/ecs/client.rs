//! The ECS operations the copy needs, each one signed, sent through a [`Transport`],
//! retried under a [`RetryPolicy`] and bounded by the caller's deadline.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use tokio::time::Instant;

use super::credentials::Credentials;
use super::endpoint::Endpoints;
use super::error::{body_snippet, error_from_response, EcsError, Redactor};
use super::ops::{self, CopyImageRequest, Operation};
use super::request::{build_request, format_timestamp, fresh_nonce};
use super::retry::RetryPolicy;
use super::transport::{HttpResponse, ReqwestTransport, Transport};
use super::types::{CopyImageResponse, DescribeImagesResponse, Ignored, Image, Tag};

pub struct EcsClient {
    transport: Arc<dyn Transport>,
    credentials: Credentials,
    endpoints: Endpoints,
    retry: RetryPolicy,
    redactor: Redactor,
}

impl fmt::Debug for EcsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcsClient")
            .field("credentials", &self.credentials)
            .field("endpoints", &self.endpoints)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl EcsClient {
    /// Production client over HTTPS (or the override's scheme) with the default retry policy.
    pub fn new(
        credentials: Credentials,
        endpoint_override: Option<&str>,
    ) -> Result<Self, EcsError> {
        let endpoints = match endpoint_override {
            Some(url) => Endpoints::with_override(url)?,
            None => Endpoints::official(),
        };
        Ok(Self::with_transport(
            credentials,
            endpoints,
            Arc::new(ReqwestTransport::shared()),
            RetryPolicy::default(),
        ))
    }

    pub fn with_transport(
        credentials: Credentials,
        endpoints: Endpoints,
        transport: Arc<dyn Transport>,
        retry: RetryPolicy,
    ) -> Self {
        let redactor = Redactor::new(
            [Some(credentials.secret()), credentials.security_token()]
                .into_iter()
                .flatten(),
        );
        EcsClient {
            transport,
            credentials,
            endpoints,
            retry,
            redactor,
        }
    }

    /// Starts the copy; returns the new image's id in the destination region.
    pub async fn copy_image(
        &self,
        req: &CopyImageRequest,
        deadline: Instant,
    ) -> Result<String, EcsError> {
        let response: CopyImageResponse = self.call(&ops::copy_image(req), deadline).await?;
        Ok(response.image_id)
    }

    /// Any status, own images only; `None` when ECS does not know the image.
    pub async fn describe_image(
        &self,
        region_id: &str,
        image_id: &str,
        deadline: Instant,
    ) -> Result<Option<Image>, EcsError> {
        let op = ops::describe_image(region_id, image_id);
        let response: DescribeImagesResponse = match self.call(&op, deadline).await {
            Ok(response) => response,
            Err(error) if error.is_not_found() => return Ok(None),
            Err(error) => return Err(error),
        };
        Ok(response
            .images
            .image
            .into_iter()
            .find(|image| image.image_id == image_id)
            .map(|image| image.into_image(region_id)))
    }

    /// One page (1-based) of the account's own images carrying the tag key `tag_key`, and
    /// the total count ECS reports across all pages.
    pub async fn list_images_tagged(
        &self,
        region_id: &str,
        tag_key: &str,
        page_number: u32,
        page_size: u32,
        deadline: Instant,
    ) -> Result<(Vec<Image>, u64), EcsError> {
        let op = ops::list_images_tagged(region_id, tag_key, page_number, page_size);
        let response: DescribeImagesResponse = self.call(&op, deadline).await?;
        let images: Vec<Image> = response
            .images
            .image
            .into_iter()
            .map(|image| image.into_image(region_id))
            .collect();
        let total = response.total_count.unwrap_or(images.len() as u64);
        Ok((images, total))
    }

    pub async fn cancel_copy_image(
        &self,
        region_id: &str,
        image_id: &str,
        deadline: Instant,
    ) -> Result<(), EcsError> {
        self.call_ignoring_body(&ops::cancel_copy_image(region_id, image_id), deadline)
            .await
    }

    pub async fn delete_image(
        &self,
        region_id: &str,
        image_id: &str,
        force: bool,
        deadline: Instant,
    ) -> Result<(), EcsError> {
        self.call_ignoring_body(&ops::delete_image(region_id, image_id, force), deadline)
            .await
    }

    pub async fn modify_image_attribute(
        &self,
        region_id: &str,
        image_id: &str,
        name: Option<&str>,
        description: Option<&str>,
        deadline: Instant,
    ) -> Result<(), EcsError> {
        let op = ops::modify_image_attribute(region_id, image_id, name, description);
        self.call_ignoring_body(&op, deadline).await
    }

    pub async fn tag_resources(
        &self,
        region_id: &str,
        image_id: &str,
        tags: &[Tag],
        deadline: Instant,
    ) -> Result<(), EcsError> {
        for op in ops::tag_resources(region_id, image_id, tags) {
            self.call_ignoring_body(&op, deadline).await?;
        }
        Ok(())
    }

    pub async fn untag_resources(
        &self,
        region_id: &str,
        image_id: &str,
        keys: &[String],
        deadline: Instant,
    ) -> Result<(), EcsError> {
        for op in ops::untag_resources(region_id, image_id, keys) {
            self.call_ignoring_body(&op, deadline).await?;
        }
        Ok(())
    }

    pub async fn delete_snapshot(
        &self,
        region_id: &str,
        snapshot_id: &str,
        force: bool,
        deadline: Instant,
    ) -> Result<(), EcsError> {
        self.call_ignoring_body(
            &ops::delete_snapshot(region_id, snapshot_id, force),
            deadline,
        )
        .await
    }

    async fn call_ignoring_body(&self, op: &Operation, deadline: Instant) -> Result<(), EcsError> {
        let _: Ignored = self.call(op, deadline).await?;
        Ok(())
    }

    async fn call<T: DeserializeOwned>(
        &self,
        op: &Operation,
        deadline: Instant,
    ) -> Result<T, EcsError> {
        let base_url = self.endpoints.base_url(&op.region_id)?;
        let base_url = base_url.as_str();
        self.retry
            .run(op.action, deadline, |attempt, timeout| async move {
                // Fresh nonce and time per attempt: ECS rejects a replayed nonce.
                let timestamp = format_timestamp(OffsetDateTime::now_utc());
                let request =
                    build_request(base_url, op, &self.credentials, &fresh_nonce(), &timestamp);
                let (request_id, outcome) = match self.transport.send(request, timeout).await {
                    Ok(response) => decode_response(op.action, response, &self.redactor),
                    Err(source) => (
                        None,
                        Err(EcsError::Transport {
                            action: op.action.to_string(),
                            source,
                        }),
                    ),
                };
                match outcome {
                    Ok(value) => {
                        tracing::debug!(
                            action = op.action,
                            region = %op.region_id,
                            attempt,
                            outcome = "ok",
                            request_id = request_id.as_deref().unwrap_or(""),
                            "ECS call"
                        );
                        Ok(value)
                    }
                    Err(error) => {
                        tracing::debug!(
                            action = op.action,
                            region = %op.region_id,
                            attempt,
                            outcome = error.code().unwrap_or(error_kind(&error)),
                            request_id = request_id.as_deref().unwrap_or(""),
                            retryable = error.is_retryable(),
                            "ECS call"
                        );
                        Err(error)
                    }
                }
            })
            .await
    }
}

fn error_kind(error: &EcsError) -> &'static str {
    match error {
        EcsError::Api { .. } => "api_error",
        EcsError::Transport { .. } => "transport_error",
        EcsError::DeadlineExceeded { .. } => "deadline_exceeded",
        EcsError::Decode { .. } => "undecodable_answer",
        EcsError::Endpoint(_) => "endpoint_error",
    }
}

/// 2xx JSON → `T`; anything else → a typed error. Also returns the RequestId for logs.
fn decode_response<T: DeserializeOwned>(
    action: &str,
    response: HttpResponse,
    redactor: &Redactor,
) -> (Option<String>, Result<T, EcsError>) {
    let value: Option<serde_json::Value> = serde_json::from_slice(&response.body).ok();
    let request_id = value
        .as_ref()
        .and_then(|v| v.get("RequestId"))
        .and_then(|v| v.as_str())
        .map(|id| redactor.redact(id));
    if !(200..300).contains(&response.status) {
        let error = error_from_response(action, response.status, &response.body, redactor);
        return (request_id, Err(error));
    }
    let Some(value) = value.filter(|v| v.is_object()) else {
        let error = EcsError::Decode {
            action: action.to_string(),
            http_status: response.status,
            detail: body_snippet(&response.body, redactor),
        };
        return (request_id, Err(error));
    };
    // serde_json's messages name the field and position, never the input's content.
    let parsed = serde_json::from_value::<T>(value).map_err(|problem| EcsError::Decode {
        action: action.to_string(),
        http_status: response.status,
        detail: format!("unexpected JSON shape: {problem}"),
    });
    (request_id, parsed)
}

#[cfg(test)]
#[path = "client_tests/mod.rs"]
mod tests;
