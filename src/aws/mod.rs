//! Calling AWS APIs with the Lambda function role: its credentials from the environment,
//! SigV4 by AWS's own signer (`aws-sigv4`), endpoints as the AWS SDKs choose them. Used to
//! hand a wait over (Lambda `Invoke`) and to read the Alibaba Cloud credentials from
//! Secrets Manager.

pub mod logs;
pub mod secrets;
mod store;

use std::fmt;
use std::time::SystemTime;

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

/// AWS credentials from the Lambda environment (the execution role's session).
#[derive(Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl AwsCredentials {
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, as Lambda sets
    /// them; `None` without both the id and the secret.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Some(AwsCredentials {
            access_key_id: get("AWS_ACCESS_KEY_ID")?,
            secret_access_key: get("AWS_SECRET_ACCESS_KEY")?,
            session_token: get("AWS_SESSION_TOKEN"),
        })
    }
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The endpoint the AWS SDKs would use for a service: `AWS_ENDPOINT_URL_<SERVICE>`, then
/// `AWS_ENDPOINT_URL`, then `default`; without a trailing `/`.
pub fn endpoint_url(
    lookup: impl Fn(&str) -> Option<String>,
    service_variable: &str,
    default: String,
) -> String {
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    get(service_variable)
        .or_else(|| get("AWS_ENDPOINT_URL"))
        .map(|url| url.trim().to_string())
        .unwrap_or(default)
        .trim_end_matches('/')
        .to_string()
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SigningError(String);

/// The SigV4 headers (authorization, date, token, ...) to add to a request that will carry
/// exactly `headers` and `body`.
pub fn sigv4_headers(
    credentials: &AwsCredentials,
    region: &str,
    service: &str,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Vec<(String, String)>, SigningError> {
    let failed = |e: &dyn fmt::Display| SigningError(e.to_string());
    let identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "lambda-environment",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| failed(&e))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| failed(&e))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// A POST of `body` to `url` with `headers` and the SigV4 headers that sign them for
/// `service`, over the process-wide client: how every AWS call of the function goes out.
pub fn signed_post(
    credentials: &AwsCredentials,
    region: &str,
    service: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<reqwest::RequestBuilder, SigningError> {
    let signed = sigv4_headers(credentials, region, service, "POST", url, headers, &body)?;
    let mut request = crate::tls::shared_client().post(url).body(body);
    for (name, value) in headers
        .iter()
        .copied()
        .chain(signed.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    {
        request = request.header(name, value);
    }
    Ok(request)
}

/// An AWS service's refusal as (error code, message): the JSON protocols'
/// `{"__type": "ResourceNotFoundException", "message": "..."}` (the type maybe with a namespace
/// prefix, `com.amazonaws...#Code`), or the XML `<Code>`/`<Message>` form of an authentication
/// error (moto answers so). The message is cut to a sentence's length.
pub(crate) fn refusal_of(body: &str) -> (String, String) {
    #[derive(serde::Deserialize)]
    struct AwsError {
        #[serde(rename = "__type")]
        kind: Option<String>,
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    /// An AWS error message is a sentence; more than this is not one.
    const MAX_MESSAGE_CHARS: usize = 300;
    let (code, message) = match serde_json::from_str::<AwsError>(body) {
        Ok(error) => (error.kind, error.message),
        Err(_) => (xml_element(body, "Code"), xml_element(body, "Message")),
    };
    let code = code
        .map(|kind| kind.rsplit('#').next().unwrap_or(&kind).to_string())
        .unwrap_or_else(|| "no error code".to_string());
    let message = message
        .unwrap_or_else(|| body.to_string())
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .collect();
    (code, message)
}

fn xml_element(body: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + body[start..].find(&format!("</{name}>"))?;
    Some(body[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_env::env;

    #[test]
    fn the_service_variable_beats_the_global_one_and_the_default() {
        let default = || "https://svc.eu-west-1.amazonaws.com".to_string();
        let both = [
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:1/"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:2"),
        ];
        assert_eq!(
            endpoint_url(env(&both), "AWS_ENDPOINT_URL_SECRETS_MANAGER", default()),
            "http://127.0.0.1:1"
        );
        assert_eq!(
            endpoint_url(
                env(&both[1..]),
                "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                default()
            ),
            "http://127.0.0.1:2"
        );
        assert_eq!(
            endpoint_url(env(&[]), "AWS_ENDPOINT_URL_SECRETS_MANAGER", default()),
            default()
        );
    }

    #[test]
    fn signing_adds_authorization_date_and_token_and_hides_the_secret() {
        let credentials = AwsCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "aws-secret-canary".into(),
            session_token: Some("session-token-value".into()),
        };
        let headers = sigv4_headers(
            &credentials,
            "eu-west-1",
            "secretsmanager",
            "POST",
            "https://secretsmanager.eu-west-1.amazonaws.com/",
            &[("x-amz-target", "secretsmanager.GetSecretValue")],
            b"{}",
        )
        .unwrap();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let authorization = get("authorization").unwrap();
        assert!(authorization.starts_with("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/"));
        assert!(authorization.contains("/eu-west-1/secretsmanager/aws4_request"));
        assert!(authorization.contains("x-amz-target"), "{authorization}");
        assert!(get("x-amz-date").is_some());
        assert_eq!(get("x-amz-security-token"), Some("session-token-value"));
        assert!(!format!("{headers:?}{credentials:?}").contains("aws-secret-canary"));
    }
}
