//! The two places the credentials' secret may be kept, and what differs between them: the
//! variable naming it, the service, the request.

use std::fmt;

use serde_json::{json, Value};

pub const ENV_SECRET_ARN: &str = "ALIBABA_CLOUD_CREDENTIALS_SECRET_ARN";
pub const ENV_PARAMETER_NAME: &str = "ALIBABA_CLOUD_CREDENTIALS_PARAMETER_NAME";
/// The AWS SDKs' names for endpoint overrides (`AWS_ENDPOINT_URL` also counts).
pub const ENV_SECRETS_MANAGER_ENDPOINT: &str = "AWS_ENDPOINT_URL_SECRETS_MANAGER";
pub const ENV_SSM_ENDPOINT: &str = "AWS_ENDPOINT_URL_SSM";

/// Which AWS service keeps the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    SecretsManager,
    /// SSM Parameter Store, a `SecureString` parameter.
    ParameterStore,
}

impl Store {
    pub fn variable(self) -> &'static str {
        match self {
            Store::SecretsManager => ENV_SECRET_ARN,
            Store::ParameterStore => ENV_PARAMETER_NAME,
        }
    }

    /// The signing name, the host's first label and the ARN's service.
    pub(super) fn service(self) -> &'static str {
        match self {
            Store::SecretsManager => "secretsmanager",
            Store::ParameterStore => "ssm",
        }
    }

    pub(super) fn endpoint_variable(self) -> &'static str {
        match self {
            Store::SecretsManager => ENV_SECRETS_MANAGER_ENDPOINT,
            Store::ParameterStore => ENV_SSM_ENDPOINT,
        }
    }

    pub(super) fn target(self) -> &'static str {
        match self {
            Store::SecretsManager => "secretsmanager.GetSecretValue",
            Store::ParameterStore => "AmazonSSM.GetParameter",
        }
    }

    pub(super) fn request(self, id: &str) -> Value {
        match self {
            Store::SecretsManager => json!({ "SecretId": id }),
            Store::ParameterStore => json!({ "Name": id, "WithDecryption": true }),
        }
    }
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Store::SecretsManager => "Secrets Manager",
            Store::ParameterStore => "SSM Parameter Store",
        })
    }
}

/// A secret by its place: "the secret ARN" or "the SSM parameter NAME".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub store: Store,
    pub id: String,
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.store {
            Store::SecretsManager => write!(f, "the secret {}", self.id),
            Store::ParameterStore => write!(f, "the SSM parameter {}", self.id),
        }
    }
}
