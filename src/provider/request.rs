//! The resource-provider HandlerRequest (protocol 2.0.0), as much of it as this type reads.
//! Unknown and newer fields (`rollback`, `features`, credentials it does not use, ...) are
//! ignored, and the credentials it does not need are never deserialised at all.

use serde::Deserialize;
use serde_json::Value;

use crate::ecs::Credentials;
use crate::model::rules::region_id_is_valid as is_region_id;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
    List,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandlerRequest {
    pub action: Action,
    #[serde(default)]
    pub bearer_token: Option<String>,
    #[serde(default)]
    pub stack_id: Option<String>,
    #[serde(default)]
    pub callback_context: Option<Value>,
    #[serde(default)]
    pub next_token: Option<String>,
    pub request_data: RequestData,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestData {
    #[serde(default)]
    pub logical_resource_id: Option<String>,
    #[serde(default)]
    pub resource_properties: Option<Value>,
    #[serde(default)]
    pub previous_resource_properties: Option<Value>,
    /// Kept raw: parsed by [`TypeConfiguration::parse`] so that its errors name fields only.
    #[serde(default)]
    pub type_configuration: Option<Value>,
}

/// The account's settings for this type (`SetTypeConfiguration`): whose keys, which region.
#[derive(Debug, Clone)]
pub struct TypeConfiguration {
    pub credentials: Credentials,
    /// The provider region: where copies are made and listed.
    pub region_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeConfigError {
    #[error("the type configuration is not set: set AccessKeyId, AccessKeySecret and RegionId with SetTypeConfiguration")]
    Missing,
    #[error("the type configuration must be an object")]
    NotAnObject,
    #[error("the type configuration's {0} must be a non-empty string")]
    Field(&'static str),
    #[error("the type configuration's RegionId must be a region id such as cn-hangzhou")]
    Region,
}

impl TypeConfiguration {
    /// Never names a value: the secret and the token must not reach a message.
    pub fn parse(raw: Option<&Value>) -> Result<Self, TypeConfigError> {
        let raw = match raw {
            None | Some(Value::Null) => return Err(TypeConfigError::Missing),
            Some(raw) => raw,
        };
        let object = raw.as_object().ok_or(TypeConfigError::NotAnObject)?;
        let text = |key: &'static str| match object.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
            Some(Value::String(_)) | None | Some(Value::Null) => Ok(None),
            _ => Err(TypeConfigError::Field(key)),
        };
        let required = |key: &'static str| text(key)?.ok_or(TypeConfigError::Field(key));
        let access_key_id = required("AccessKeyId")?;
        let secret = required("AccessKeySecret")?;
        let token = text("SecurityToken")?;
        let region_id = required("RegionId")?;
        if !is_region_id(&region_id) {
            return Err(TypeConfigError::Region);
        }
        Ok(TypeConfiguration {
            credentials: Credentials::new(access_key_id, secret, token),
            region_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_with_unknown_fields_parse() {
        let request: HandlerRequest = serde_json::from_value(json!({
            "action": "CREATE", "bearerToken": "b", "awsAccountId": "1", "rollback": false,
            "features": {"x": 1}, "requestData": {"resourceProperties": {}, "newThing": 1,
            "callerCredentials": {"accessKeyId": "a", "secretAccessKey": "s"}}
        }))
        .unwrap();
        assert_eq!(request.action, Action::Create);
    }

    #[test]
    fn type_configuration_errors_name_the_field_never_the_value() {
        let cases = [
            (None, TypeConfigError::Missing),
            (Some(json!(null)), TypeConfigError::Missing),
            (Some(json!("x")), TypeConfigError::NotAnObject),
            (
                Some(json!({"AccessKeySecret": "s3cr3t", "RegionId": "cn-hangzhou"})),
                TypeConfigError::Field("AccessKeyId"),
            ),
            (
                Some(json!({"AccessKeyId": "a", "AccessKeySecret": 5, "RegionId": "cn-hangzhou"})),
                TypeConfigError::Field("AccessKeySecret"),
            ),
            (
                Some(
                    json!({"AccessKeyId": "a", "AccessKeySecret": "s3cr3t", "RegionId": "Shanghai"}),
                ),
                TypeConfigError::Region,
            ),
        ];
        for (raw, expected) in cases {
            let error = TypeConfiguration::parse(raw.as_ref()).unwrap_err();
            assert_eq!(error, expected);
            assert!(!error.to_string().contains("s3cr3t"));
        }
        let ok = TypeConfiguration::parse(Some(&json!({
            "AccessKeyId": "a", "AccessKeySecret": "s", "SecurityToken": "", "RegionId": "cn-shanghai"
        })))
        .unwrap();
        assert_eq!(ok.region_id, "cn-shanghai");
        assert_eq!(ok.credentials.security_token(), None);
    }
}
