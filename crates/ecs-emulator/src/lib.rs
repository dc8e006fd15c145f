//! A local stand-in for the ECS OpenAPI (RPC style, `Version=2014-05-26`, JSON) on 127.0.0.1.
//!
//! It exists so that every other part of the project, and any official SDK, can be exercised
//! without a cloud account: it verifies signature v1 with its own encoder (never the client's,
//! so a signer bug cannot hide), keeps regions, custom images, snapshots and copy tasks, answers
//! with the error codes and HTTP statuses ECS documents, and injects faults on demand. Beside
//! it, [`receiver::Receiver`] stands in for a stack engine's `ResponseURL`.
//!
//! A crate of its own so that the function deployed to Lambda and Function Compute carries
//! none of it: the product uses it only in its tests, and its command line reaches it by
//! running the `ecs-emulator` binary (src/main.rs here). It shares the documented parameter
//! rules with the product through `ecs-api-rules`, and never depends on the product.
//!
//! Operations: `CopyImage`, `DescribeImages`, `CancelCopyImage`, `DeleteImage`,
//! `ModifyImageAttribute`, `TagResources`, `UntagResources`, `ListTagResources`,
//! `DeleteSnapshot`, `DescribeRegions`. Requests may be `GET` with a query string or `POST` with
//! a form body. Answers are always JSON, whatever `Format` says.
//!
//! Time: copy progress is computed from [`tokio::time::Instant`] whenever state is read, so
//! there is no background task and a test may pause or advance the tokio clock. Timestamps in
//! requests are checked against the wall clock, as ECS does.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use ecs_emulator::{Emulator, EmulatorConfig, Faults};
//! let emulator = Emulator::start(EmulatorConfig::default(), 0).await?;
//! // Point a client at emulator.endpoint() with DEFAULT_ACCESS_KEY_ID / _SECRET.
//! emulator.control().set_faults(Faults { throttle: 0.3, ..Faults::default() });
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Errors answered (HTTP status, `Code`)
//! Request checks, in this order (faults come before all of them and change nothing):
//! 400 `MissingAction`, 400 `MissingVersion` / `InvalidVersion`, 404 `InvalidAction.NotFound`,
//! 400 `MissingAccessKeyId` / `MissingSignature` / `MissingSignatureMethod` /
//! `MissingTimestamp` / `MissingSignatureNonce`, 404 `InvalidAccessKeyId.NotFound`,
//! 400 `InvalidSignatureMethod` / `InvalidSignatureVersion`, 400 `InvalidTimeStamp.Format` /
//! `InvalidTimeStamp.Expired` (more than 15 min off), 400 `SignatureDoesNotMatch` (message ends
//! `server string to sign is:<string>`), 400 `MissingSecurityToken` /
//! `InvalidSecurityToken.MismatchWithAccessKey` / `InvalidSecurityToken.Malformed` (a token sent
//! to long-term keys), 400 `SignatureNonceUsed` (within 15 min).
//!
//! Operations: 400 `MissingParameter`, 400 `InvalidParameter` (booleans, paging, `Status`,
//! `ImageOwnerAlias`, `NextToken`), 404 `InvalidRegionId.NotFound`; CopyImage: 400
//! `SourceRegion.NotFound`, 400 `DestinationRegion.NotFound`, 403 `IncorrectDestinationRegion`,
//! 400 `InvalidImageName.Malformed`, 400 `InvalidDescription.Malformed`, 400
//! `InvalidParameter.EncryptedIllegal`, 404 `InvalidImageId.NotFound`, 400
//! `IncorrectImageStatus`, 400 `InvalidImageName.Duplicated`, 403 `QuotaExceed.Image`, 400
//! `IdempotentParameterMismatch` (same `ClientToken`, other parameters); CancelCopyImage: 404
//! `InvalidImageId.NotFound`, 400 `IncorrectImageStatus`; DeleteImage (a missing image is
//! ignored, 200): 403 `OperationDenied.ImageCopying` (the image is a running copy or the source
//! of one); DeleteSnapshot (found by id in any region; `RegionId` ignored): 404
//! `InvalidSnapshotId.NotFound`, 403
//! `SnapshotCreatedImage`; tags: 400 `InvalidTagKey.Malformed`, `InvalidTagValue.Malformed`,
//! `InvalidTagKey.Duplicated`, `InvalidTagCount` (N over 20), 403 `OperationDenied.QuotaExceed`
//! (over 20 tags on an image), 404 `InvalidResourceType.NotFound`, `InvalidResourceId.NotFound`.
//!
//! Realism ([`Realism`], off by default): 403 `OperationDenied.ImageCopying` from CopyImage for
//! a source with a copy in flight and from DeleteImage just after a copy ended, 400
//! `IncorrectImageStatus` for a cancel already under way, 400 `LastTokenProcessing` for a
//! `ClientToken` replayed too soon; and timing: copies listed late, cancels that take time,
//! snapshot ids only once Available, `Usable` after `Available`.
//!
//! Faults ([`Faults`]): 400 `Throttling.User`, 500 `InternalError`, 503 `ServiceUnavailable`,
//! or the connection closed without an answer.

mod auth;
mod control;
mod error;
mod faults;
mod http;
mod ops;
mod ops_images;
mod ops_tags;
mod params;
mod realism;
pub mod receiver;
mod regions;
mod rules;
mod server;
mod signature;
mod standalone;
mod state;
mod state_ops;

use std::fmt;
use std::time::Duration;

pub use control::{CallRecord, Control, ImageView, SnapshotView};
pub use faults::Faults;
pub use realism::{Realism, RealismError, REALISM_ENV};
pub use server::Emulator;
pub use standalone::{parse_image_arg, run_standalone, Standalone};
pub use state::ImageStatus;

/// AccessKey ID the emulator accepts by default. A throwaway test value, never a real key.
pub const DEFAULT_ACCESS_KEY_ID: &str = "LTAI5tEmulatorTestKeyId";
/// AccessKey secret matching [`DEFAULT_ACCESS_KEY_ID`].
pub const DEFAULT_ACCESS_KEY_SECRET: &str = "EmulatorTestKeySecret0000000000";

/// Regions the emulator knows unless told otherwise.
pub const DEFAULT_REGIONS: &[&str] = &[
    "cn-hangzhou",
    "cn-shanghai",
    "cn-beijing",
    "cn-shenzhen",
    "cn-qingdao",
    "cn-zhangjiakou",
    "cn-hongkong",
    "ap-southeast-1",
    "ap-northeast-1",
    "us-west-1",
    "us-east-1",
    "eu-central-1",
    "eu-west-1",
];

/// `Available` custom images present at start by default: `(image id, region, name)`.
pub const DEFAULT_IMAGES: &[(&str, &str, &str)] = &[
    (
        "m-bp1emulatorbase0001",
        "cn-hangzhou",
        "emulator-base-hangzhou",
    ),
    (
        "m-bp1emulatorbase0002",
        "cn-hangzhou",
        "emulator-app-hangzhou",
    ),
    (
        "m-uf6emulatorbase0001",
        "cn-shanghai",
        "emulator-base-shanghai",
    ),
    (
        "m-2zeemulatorbase0001",
        "cn-beijing",
        "emulator-base-beijing",
    ),
    (
        "m-t4nemulatorbase0001",
        "ap-southeast-1",
        "emulator-base-singapore",
    ),
];

/// A custom image that exists (and is `Available`) when the emulator starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceImage {
    pub image_id: String,
    pub region_id: String,
    pub name: Option<String>,
}

impl SourceImage {
    pub fn new(image_id: impl Into<String>, region_id: impl Into<String>) -> Self {
        SourceImage {
            image_id: image_id.into(),
            region_id: region_id.into(),
            name: None,
        }
    }
}

/// Everything the emulator needs to start.
#[derive(Clone)]
pub struct EmulatorConfig {
    pub access_key_id: String,
    pub access_key_secret: String,
    /// When set, every request must carry exactly this `SecurityToken` (STS credentials).
    pub security_token: Option<String>,
    pub regions: Vec<String>,
    pub images: Vec<SourceImage>,
    /// Time a copy spends `Creating`, from 0% to 100%.
    pub copy_duration: Duration,
    /// Makes fault injection and generated ids deterministic.
    pub seed: u64,
    /// Which of real ECS's harder behaviours to show ([`Realism::off`] by default).
    pub realism: Realism,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            access_key_id: DEFAULT_ACCESS_KEY_ID.to_string(),
            access_key_secret: DEFAULT_ACCESS_KEY_SECRET.to_string(),
            security_token: None,
            regions: DEFAULT_REGIONS.iter().map(|r| r.to_string()).collect(),
            images: DEFAULT_IMAGES
                .iter()
                .map(|(id, region, name)| SourceImage {
                    image_id: id.to_string(),
                    region_id: region.to_string(),
                    name: Some(name.to_string()),
                })
                .collect(),
            copy_duration: Duration::from_secs(2),
            seed: 0,
            realism: Realism::off(),
        }
    }
}

// Hand-written so that the secret and the token can never reach a log line.
impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("regions", &self.regions)
            .field("images", &self.images)
            .field("copy_duration", &self.copy_duration)
            .field("seed", &self.seed)
            .field("realism", &self.realism)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secret_and_token() {
        let config = EmulatorConfig {
            access_key_secret: "very-secret-value".into(),
            security_token: Some("token-value-xyz".into()),
            ..EmulatorConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret-value"));
        assert!(!shown.contains("token-value-xyz"));
        assert!(shown.contains(DEFAULT_ACCESS_KEY_ID));
    }

    #[test]
    fn default_images_live_in_default_regions() {
        let config = EmulatorConfig::default();
        for image in &config.images {
            assert!(config.regions.contains(&image.region_id), "{image:?}");
        }
    }
}
