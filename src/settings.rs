//! Configuration from the environment, read once per process.

use std::time::Duration;

use crate::ecs::Credentials;
use crate::handover::HandoverSettings;

/// How long a ROS copy may take when the template cannot say (the TF type has `Timeouts`).
/// A CloudFormation custom resource waits at most an hour, so longer is never useful.
pub const DEFAULT_ROS_TIMEOUT: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone)]
pub struct Settings {
    /// `Ok(None)`: no credentials configured. `Err`: a partial configuration, in words that
    /// name the missing variable.
    pub credentials: Result<Option<Credentials>, String>,
    pub region_id: Option<String>,
    pub ecs_endpoint: Option<String>,
    pub ros_timeout: Duration,
    /// Present on Lambda: long waits continue in a fresh invocation of this function.
    pub handover: Option<HandoverSettings>,
}

impl Settings {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Settings {
            credentials: Credentials::from_lookup(non_empty).map_err(|e| e.to_string()),
            region_id: non_empty("ALIBABA_CLOUD_REGION_ID")
                .or_else(|| non_empty("ALICLOUD_REGION")),
            ecs_endpoint: non_empty("ALIBABA_CLOUD_ECS_ENDPOINT"),
            ros_timeout: DEFAULT_ROS_TIMEOUT,
            handover: HandoverSettings::from_lookup(&lookup),
        }
    }
}
