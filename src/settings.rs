//! Configuration from the environment, read once per process.

use std::time::Duration;

use crate::aws::secrets::{SecretSource, ENV_PARAMETER_NAME, ENV_SECRET_ARN};
use crate::ecs::{Credentials, EcsClient, EndpointError, Endpoints, ReqwestTransport, RetryPolicy};
use crate::handover::HandoverSettings;

/// How long a ROS copy may take when the template cannot say (the TF type has `Timeouts`).
/// A CloudFormation custom resource waits at most an hour, so longer is never useful.
pub const DEFAULT_ROS_TIMEOUT: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone)]
pub struct Settings {
    /// `Ok(None)`: no credentials configured. `Err`: a partial configuration or a secret that
    /// could not be read, in words that name the variable or the secret.
    pub credentials: Result<Option<Credentials>, String>,
    pub region_id: Option<String>,
    /// Where ECS is for each region; `Err`: a malformed endpoint setting.
    pub ecs_endpoints: Result<Endpoints, EndpointError>,
    pub ros_timeout: Duration,
    /// Present on Lambda: long waits continue in a fresh invocation of this function.
    pub handover: Option<HandoverSettings>,
}

impl Settings {
    /// Everything from the process environment, the credentials' secret included: what a
    /// process does once when it starts.
    pub async fn load() -> Self {
        Self::load_from(|name| std::env::var(name).ok()).await
    }

    /// [`Settings::from_lookup`], then the credentials read from the secret that
    /// `ALIBABA_CLOUD_CREDENTIALS_SECRET_ARN` (or `_PARAMETER_NAME`) names. A failure is kept, not raised: every
    /// event that needs ECS is answered FAILED with it.
    pub async fn load_from(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut settings = Self::from_lookup(&lookup);
        if let Some(source) = SecretSource::from_lookup(&lookup) {
            let started = std::time::Instant::now();
            let fetched = match source {
                Ok(source) => source.fetch().await.map(|c| (c, source.secret.store)),
                Err(e) => Err(e),
            };
            let elapsed_ms = started.elapsed().as_millis() as u64;
            settings.credentials = match fetched {
                Ok((credentials, store)) => {
                    tracing::info!(
                        access_key_id = credentials.access_key_id(),
                        elapsed_ms,
                        "Alibaba Cloud credentials read from {store}"
                    );
                    Ok(Some(credentials))
                }
                Err(error) => {
                    tracing::error!(%error, elapsed_ms, "Alibaba Cloud credentials not read");
                    Err(error.to_string())
                }
            };
        }
        settings
    }

    /// Reads no secret: with `ALIBABA_CLOUD_CREDENTIALS_SECRET_ARN` set the credentials are
    /// an error until [`Settings::load_from`] reads them.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let credentials = match SecretSource::from_lookup(&lookup) {
            Some(Ok(source)) => Err(format!(
                "the credentials are in {} ({}), which was not read",
                source.secret,
                source.secret.store.variable()
            )),
            Some(Err(e)) => Err(e.to_string()),
            None => Credentials::from_lookup(non_empty).map_err(|e| e.to_string()),
        };
        Settings {
            credentials,
            region_id: non_empty("ALIBABA_CLOUD_REGION_ID")
                .or_else(|| non_empty("ALICLOUD_REGION")),
            ecs_endpoints: Endpoints::from_lookup(&lookup),
            ros_timeout: DEFAULT_ROS_TIMEOUT,
            handover: HandoverSettings::from_lookup(&lookup),
        }
    }

    /// The ECS client these settings describe; `Err`, in words, when they are incomplete or
    /// malformed (each stack that needs ECS is answered with it).
    pub fn ecs_client(&self) -> Result<EcsClient, String> {
        let endpoints = self.ecs_endpoints.clone().map_err(|e| e.to_string())?;
        match &self.credentials {
            Ok(Some(credentials)) => Ok(EcsClient::with_transport(
                credentials.clone(),
                endpoints,
                std::sync::Arc::new(ReqwestTransport::shared()),
                RetryPolicy::default(),
            )),
            Ok(None) => Err(format!(
                "no Alibaba Cloud credentials are configured: set ALIBABA_CLOUD_ACCESS_KEY_ID \
                 and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or {ENV_SECRET_ARN} (or {ENV_PARAMETER_NAME})"
            )),
            Err(e) => Err(e.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_env::env;

    #[test]
    fn plain_variables_still_give_the_client() {
        let settings = Settings::from_lookup(env(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIplain"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "plain-secret"),
            ("ALIBABA_CLOUD_NETWORK", "vpc"),
        ]));
        assert!(settings.ecs_client().is_ok());
        assert_eq!(
            settings
                .ecs_endpoints
                .unwrap()
                .base_url("cn-beijing")
                .unwrap(),
            "https://ecs-vpc.cn-beijing.aliyuncs.com"
        );
    }

    #[test]
    fn a_malformed_endpoint_setting_is_a_configuration_error_not_a_panic() {
        let settings = Settings::from_lookup(env(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIplain"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "plain-secret"),
            ("ALIBABA_CLOUD_ECS_ENDPOINTS", "cn-hangzhou"),
        ]));
        let err = settings.ecs_client().unwrap_err();
        assert!(err.contains("ALIBABA_CLOUD_ECS_ENDPOINTS"), "{err}");
    }

    #[test]
    fn without_credentials_the_error_names_both_ways_to_set_them() {
        let err = Settings::from_lookup(env(&[])).ecs_client().unwrap_err();
        assert!(err.contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"), "{err}");
        assert!(err.contains(ENV_SECRET_ARN), "{err}");
    }

    #[test]
    fn a_secret_arn_is_not_read_by_the_sync_constructor() {
        let arn = "arn:aws:secretsmanager:eu-west-1:1:secret:ak";
        let settings = Settings::from_lookup(env(&[(ENV_SECRET_ARN, arn)]));
        let err = settings.credentials.unwrap_err();
        assert!(err.contains(arn), "{err}");
    }

    #[tokio::test]
    async fn a_secret_that_cannot_be_read_is_kept_as_the_credentials_error() {
        let arn = "arn:aws:secretsmanager:eu-west-1:1:secret:ak";
        let settings = Settings::load_from(env(&[(ENV_SECRET_ARN, arn)])).await;
        let err = settings.ecs_client().unwrap_err();
        assert!(
            err.contains(arn) && err.contains("AWS_ACCESS_KEY_ID"),
            "{err}"
        );
    }
}
