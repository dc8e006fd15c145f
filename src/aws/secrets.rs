//! The Alibaba Cloud AccessKey kept in AWS Secrets Manager (or an SSM Parameter Store
//! SecureString) instead of the function's environment, where
//! `lambda:GetFunctionConfiguration` shows it to anyone allowed that.
//!
//! `ALIBABA_CLOUD_CREDENTIALS_SECRET_ARN` names the secret (or
//! `ALIBABA_CLOUD_CREDENTIALS_PARAMETER_NAME` the parameter); its value is a JSON object
//! `{"AccessKeyId": "...", "AccessKeySecret": "...", "SecurityToken": "..."}` (the token
//! optional, other keys ignored). It is read once per process with the function role's
//! credentials (`GetSecretValue` / `GetParameter` with decryption, SigV4). Errors name the
//! secret, never its value.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;

pub use super::store::{
    SecretRef, Store, ENV_PARAMETER_NAME, ENV_SECRETS_MANAGER_ENDPOINT, ENV_SECRET_ARN,
    ENV_SSM_ENDPOINT,
};
use super::{endpoint_url, signed_post, AwsCredentials};
use crate::ecs::credentials::{
    ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SECURITY_TOKEN, ENV_TF_ACCESS_KEY,
    ENV_TF_SECRET_KEY, ENV_TF_SECURITY_TOKEN,
};
use crate::ecs::Credentials;
use crate::retry::{Backoff, Jitter, Retry, RetryPolicy, Stopped};

/// Lambda allows an initialisation 10 s; the answer must still be possible after a failure.
const FETCH_BUDGET: Duration = Duration::from_secs(6);

/// Three attempts, 400 ms then 800 ms apart: a secret store recovers quickly or not at all
/// within the budget.
fn fetch_policy() -> RetryPolicy {
    let pauses = Backoff::doubling(Duration::from_millis(400), FETCH_BUDGET, Jitter::None);
    RetryPolicy::with_backoff(pauses, FETCH_BUDGET).with_max_attempts(3)
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{ENV_SECRET_ARN} and {ENV_PARAMETER_NAME} are both set: name one place for the credentials")]
    TwoPlaces,
    #[error("{variable} and {plain} are both set: keep the credentials in the secret or in the environment, not both")]
    AlsoInEnvironment {
        variable: &'static str,
        plain: &'static str,
    },
    #[error("{secret} cannot be read: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the function role's credentials, which Lambda sets) are not set")]
    NoAwsCredentials { secret: SecretRef },
    #[error("{secret} cannot be read: it is not an ARN and AWS_REGION is not set")]
    NoRegion { secret: SecretRef },
    #[error("{secret} could not be read from {} at {endpoint}: {detail}", secret.store)]
    Unreachable {
        secret: SecretRef,
        endpoint: String,
        detail: String,
    },
    #[error("{} refused to read {secret} (HTTP {status} {code}): {message}", secret.store)]
    Refused {
        secret: SecretRef,
        status: u16,
        code: String,
        message: String,
    },
    #[error("{secret} is not usable: {problem}")]
    Unusable {
        secret: SecretRef,
        problem: SecretProblem,
    },
}

/// What is wrong with a secret's value, in words that cannot quote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretProblem {
    #[error("the answer is not the JSON of GetSecretValue or GetParameter")]
    AnswerNotUnderstood,
    #[error("it has no SecretString (a binary secret)")]
    NoSecretString,
    #[error("it is a {0} parameter, not a SecureString: its value is stored unencrypted")]
    NotSecureString(String),
    #[error("its value is not JSON (line {line}, column {column}); expected {{\"AccessKeyId\": ..., \"AccessKeySecret\": ..., \"SecurityToken\": ... (optional)}}")]
    NotJson { line: usize, column: usize },
    #[error("its value is not a JSON object; expected {{\"AccessKeyId\": ..., \"AccessKeySecret\": ...}}")]
    NotAnObject,
    #[error("its value has no {0} (a non-empty string)")]
    MissingField(&'static str),
    #[error("its value's {0} is not a string")]
    NotAString(&'static str),
}

/// Where the credentials' secret is and how to reach it.
#[derive(Debug, Clone)]
pub struct SecretSource {
    pub secret: SecretRef,
    region: String,
    endpoint: String,
    credentials: AwsCredentials,
}

impl SecretSource {
    /// `None` when neither variable names a secret. The region is the ARN's (a secret may
    /// live in another region than the function), else `AWS_REGION`.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Option<Result<Self, SecretError>> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let named = |store: Store| {
            get(store.variable()).map(|id| SecretRef {
                store,
                id: id.trim().to_string(),
            })
        };
        let secret = match (named(Store::SecretsManager), named(Store::ParameterStore)) {
            (Some(_), Some(_)) => return Some(Err(SecretError::TwoPlaces)),
            (Some(secret), None) | (None, Some(secret)) => secret,
            (None, None) => return None,
        };
        Some(Self::configure(secret, &lookup))
    }

    fn configure(
        secret: SecretRef,
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SecretError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let plain = [
            ENV_ACCESS_KEY_ID,
            ENV_ACCESS_KEY_SECRET,
            ENV_SECURITY_TOKEN,
            ENV_TF_ACCESS_KEY,
            ENV_TF_SECRET_KEY,
            ENV_TF_SECURITY_TOKEN,
        ];
        if let Some(plain) = plain.into_iter().find(|name| get(name).is_some()) {
            return Err(SecretError::AlsoInEnvironment {
                variable: secret.store.variable(),
                plain,
            });
        }
        let Some(credentials) = AwsCredentials::from_lookup(lookup) else {
            return Err(SecretError::NoAwsCredentials { secret });
        };
        let service = secret.store.service();
        let (partition, arn_region) = parse_arn(&secret.id, service).unzip();
        let Some(region) = arn_region
            .or_else(|| get("AWS_REGION"))
            .or_else(|| get("AWS_DEFAULT_REGION"))
        else {
            return Err(SecretError::NoRegion { secret });
        };
        let suffix = match partition.as_deref() {
            Some("aws-cn") => "amazonaws.com.cn",
            _ => "amazonaws.com",
        };
        let endpoint = endpoint_url(
            lookup,
            secret.store.endpoint_variable(),
            format!("https://{service}.{region}.{suffix}"),
        );
        Ok(SecretSource {
            secret,
            region,
            endpoint,
            credentials,
        })
    }

    /// One read, retried on transport errors, throttling and 5xx within a few seconds,
    /// then the credentials in the secret.
    pub async fn fetch(&self) -> Result<Credentials, SecretError> {
        let classify = |error: &SecretError, attempt: u32| {
            if !is_transient(error) {
                return Retry::No;
            }
            tracing::warn!(%error, attempt, "reading the credentials' secret; retrying");
            Retry::Soon
        };
        let timed_out = |timeout| SecretError::Unreachable {
            secret: self.secret.clone(),
            endpoint: self.endpoint.clone(),
            detail: format!("no answer within {timeout:?}"),
        };
        let deadline = Instant::now() + FETCH_BUDGET;
        fetch_policy()
            .run_with(
                deadline,
                |_, timeout| self.fetch_once(Instant::now() + timeout),
                classify,
                timed_out,
            )
            .await
            .map_err(|stopped| match stopped {
                Stopped::Final { error, .. } => error,
                Stopped::GaveUp { last, .. } => last.unwrap_or_else(|| timed_out(FETCH_BUDGET)),
            })
    }

    async fn fetch_once(&self, deadline: Instant) -> Result<Credentials, SecretError> {
        let store = self.secret.store;
        let url = format!("{}/", self.endpoint);
        let body = serde_json::to_vec(&store.request(&self.secret.id))
            .expect("a JSON object of strings serialises");
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", store.target()),
        ];
        let unreachable = |detail: String| SecretError::Unreachable {
            secret: self.secret.clone(),
            endpoint: self.endpoint.clone(),
            detail,
        };
        let request = signed_post(
            &self.credentials,
            &self.region,
            store.service(),
            &url,
            &headers,
            body,
        )
        .map_err(|e| unreachable(format!("the request could not be signed: {e}")))?;
        let timeout = deadline.saturating_duration_since(Instant::now());
        let response = request
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| unreachable(crate::tls::error_chain(&e.without_url())))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| unreachable(crate::tls::error_chain(&e.without_url())))?;
        if status != 200 {
            return Err(refusal(&self.secret, status, &text));
        }
        // From here on the body holds the secret: it is parsed, never quoted.
        credentials_from_answer(store, &text).map_err(|problem| SecretError::Unusable {
            secret: self.secret.clone(),
            problem,
        })
    }
}

fn is_transient(error: &SecretError) -> bool {
    match error {
        SecretError::Unreachable { .. } => true,
        SecretError::Refused { status, code, .. } => {
            *status >= 500 || code.contains("Throttling") || code.contains("InternalService")
        }
        _ => false,
    }
}

/// `arn:<partition>:<service>:<region>:<account>:...` into partition and region.
fn parse_arn(id: &str, service: &str) -> Option<(String, String)> {
    let mut parts = id.splitn(5, ':');
    let (Some("arn"), Some(partition), Some(arn_service), Some(region)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (arn_service == service && region_ok).then(|| (partition.to_string(), region.to_string()))
}

fn refusal(secret: &SecretRef, status: u16, body: &str) -> SecretError {
    let (code, message) = super::refusal_of(body);
    SecretError::Refused {
        secret: secret.clone(),
        status,
        code,
        message,
    }
}

fn credentials_from_answer(store: Store, body: &str) -> Result<Credentials, SecretProblem> {
    #[derive(Deserialize)]
    struct GetSecretValue {
        #[serde(rename = "SecretString")]
        secret_string: Option<String>,
    }
    #[derive(Deserialize)]
    struct GetParameter {
        #[serde(rename = "Parameter")]
        parameter: Parameter,
    }
    #[derive(Deserialize)]
    struct Parameter {
        #[serde(rename = "Type")]
        kind: String,
        #[serde(rename = "Value")]
        value: String,
    }
    let not_understood = |_| SecretProblem::AnswerNotUnderstood;
    let secret = match store {
        Store::SecretsManager => serde_json::from_str::<GetSecretValue>(body)
            .map_err(not_understood)?
            .secret_string
            .ok_or(SecretProblem::NoSecretString)?,
        Store::ParameterStore => {
            let parameter = serde_json::from_str::<GetParameter>(body)
                .map_err(not_understood)?
                .parameter;
            if parameter.kind != "SecureString" {
                return Err(SecretProblem::NotSecureString(parameter.kind));
            }
            parameter.value
        }
    };
    credentials_from_secret_string(&secret)
}

/// Field by field rather than with serde's derive: its errors quote the offending value.
fn credentials_from_secret_string(secret: &str) -> Result<Credentials, SecretProblem> {
    let value: Value = serde_json::from_str(secret).map_err(|e| SecretProblem::NotJson {
        line: e.line(),
        column: e.column(),
    })?;
    let object = value.as_object().ok_or(SecretProblem::NotAnObject)?;
    let field = |name: &'static str| match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(SecretProblem::NotAString(name)),
    };
    let required = |name: &'static str| field(name)?.ok_or(SecretProblem::MissingField(name));
    Ok(Credentials::new(
        required("AccessKeyId")?,
        required("AccessKeySecret")?,
        field("SecurityToken")?,
    ))
}

#[cfg(test)]
#[path = "secrets_tests.rs"]
mod tests;
