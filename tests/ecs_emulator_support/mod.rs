//! Shared set-up for the client ↔ emulator tests: the project's [`EcsClient`] talking real
//! HTTP to an in-process [`Emulator`] on 127.0.0.1, with retry settings small enough to keep
//! the suite fast.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use ecs_emulator::{Control, Emulator, EmulatorConfig, SourceImage};
use ecs_image_copy::ecs::{
    CopyImageRequest, Credentials, EcsClient, EcsError, Endpoints, ReqwestTransport, RetryPolicy,
};
use tokio::time::Instant;

pub const SOURCE_REGION: &str = "cn-hangzhou";
pub const DESTINATION_REGION: &str = "cn-shanghai";
/// An `Available` default image in [`SOURCE_REGION`].
pub const SOURCE_IMAGE: &str = "m-bp1emulatorbase0001";

pub struct Harness {
    pub emulator: Emulator,
    pub config: EmulatorConfig,
}

impl Harness {
    /// Default regions and images, copies that take `copy_ms`, deterministic seed.
    pub async fn start(copy_ms: u64) -> Self {
        Self::with_config(EmulatorConfig {
            copy_duration: Duration::from_millis(copy_ms),
            seed: 42,
            ..EmulatorConfig::default()
        })
        .await
    }

    pub async fn with_config(config: EmulatorConfig) -> Self {
        let emulator = Emulator::start(config.clone(), 0)
            .await
            .expect("emulator starts on loopback");
        Harness { emulator, config }
    }

    pub fn control(&self) -> Control {
        self.emulator.control()
    }

    pub fn endpoint(&self) -> String {
        self.emulator.endpoint()
    }

    /// The credentials the emulator was configured with.
    pub fn credentials(&self) -> Credentials {
        Credentials::new(
            self.config.access_key_id.clone(),
            self.config.access_key_secret.clone(),
            self.config.security_token.clone(),
        )
    }

    /// A client with the emulator's own credentials and a fast retry policy.
    pub fn client(&self) -> EcsClient {
        self.client_with(self.credentials(), fast_retry(7))
    }

    pub fn client_with(&self, credentials: Credentials, retry: RetryPolicy) -> EcsClient {
        client_for(&self.endpoint(), credentials, retry)
    }

    pub async fn shutdown(self) {
        self.emulator.shutdown().await;
    }
}

/// The production client pieces (reqwest transport, endpoint override), pointed at `endpoint`.
pub fn client_for(endpoint: &str, credentials: Credentials, retry: RetryPolicy) -> EcsClient {
    let transport = ReqwestTransport::new(Duration::from_secs(2));
    EcsClient::with_transport(
        credentials,
        Endpoints::with_override(endpoint).expect("loopback URL is a valid override"),
        Arc::new(transport),
        retry,
    )
}

/// Backoff of a few milliseconds, so a dozen retries cost well under a second.
pub fn fast_retry(seed: u64) -> RetryPolicy {
    RetryPolicy::seeded(
        Duration::from_millis(5),
        Duration::from_millis(40),
        Duration::from_secs(2),
        seed,
    )
}

pub fn deadline_in(duration: Duration) -> Instant {
    Instant::now() + duration
}

/// Generous for single calls on loopback; a hang shows up as a failure, not a stuck suite.
pub fn soon() -> Instant {
    deadline_in(Duration::from_secs(5))
}

pub fn copy_request() -> CopyImageRequest {
    CopyImageRequest {
        source_region_id: SOURCE_REGION.into(),
        image_id: SOURCE_IMAGE.into(),
        destination_region_id: DESTINATION_REGION.into(),
        ..Default::default()
    }
}

pub fn add_source(control: &Control, image_id: &str, region: &str) {
    control.add_image(SourceImage::new(image_id, region));
}

/// The fields of an [`EcsError::Api`], or a panic naming what came instead.
#[track_caller]
pub fn api_parts(error: &EcsError) -> (String, u16, String, Option<String>) {
    match error {
        EcsError::Api {
            code,
            http_status,
            message,
            request_id,
            ..
        } => (
            code.clone(),
            *http_status,
            message.clone(),
            request_id.clone(),
        ),
        other => panic!("expected an ECS API error, got {other:?}"),
    }
}

/// Asserts a typed API error with this code and status, a message and the emulator's request id.
#[track_caller]
pub fn assert_api_error<T: std::fmt::Debug>(
    result: Result<T, EcsError>,
    code: &str,
    http_status: u16,
) -> EcsError {
    let error = result.expect_err(&format!("expected {code}, got success"));
    let (got_code, got_status, message, request_id) = api_parts(&error);
    assert_eq!(
        (got_code.as_str(), got_status),
        (code, http_status),
        "{error}"
    );
    assert!(!message.is_empty(), "{code} without a message");
    let request_id = request_id.unwrap_or_default();
    assert_eq!(request_id.len(), 36, "request id {request_id:?} of {code}");
    error
}
