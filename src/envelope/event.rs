//! Custom-resource requests from CloudFormation and ROS.

use std::fmt;

use serde_json::{Map, Value};

use super::fields::{json_type, lenient_str, object_field, optional_str, required_str};

/// Which stack engine sent the event; it decides how the answer is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// AWS CloudFormation: `PUT` to a presigned S3 URL.
    CloudFormation,
    /// Alibaba Cloud ROS: `POST` of JSON with a `Date` header.
    Ros,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    Create,
    Update,
    Delete,
}

impl fmt::Display for RequestType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestType::Create => "Create",
            RequestType::Update => "Update",
            RequestType::Delete => "Delete",
        })
    }
}

/// Everything needed to answer an event, even one that is otherwise broken.
#[derive(Clone, PartialEq, Eq)]
pub struct AnswerTarget {
    pub engine: Engine,
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    /// As sent by the engine (Update and Delete); echoed back when nothing better is known.
    pub physical_resource_id: Option<String>,
}

impl fmt::Debug for AnswerTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnswerTarget")
            .field("engine", &self.engine)
            .field("response_url", &super::redact_url(&self.response_url))
            .field("stack_id", &self.stack_id)
            .field("request_id", &self.request_id)
            .field("logical_resource_id", &self.logical_resource_id)
            .field("physical_resource_id", &self.physical_resource_id)
            .finish()
    }
}

/// A well-formed custom-resource request. Properties are not yet validated: that is the
/// resource model's job.
#[derive(Clone)]
pub struct Event {
    pub target: AnswerTarget,
    pub request_type: RequestType,
    pub resource_type: String,
    pub properties: Value,
    /// Update only.
    pub old_properties: Option<Value>,
    /// ROS: the stack's region.
    pub region_id: Option<String>,
    /// ROS only; CloudFormation's stack name is part of `StackId`. Names the stack in text
    /// logs ([`crate::logging::event_span`]), which is how Function Compute, where ROS events
    /// arrive, shows them: a ROS `StackId` is a bare UUID.
    pub stack_name: Option<String>,
    /// The event as received, for handing the wait on to another invocation.
    pub raw: Value,
}

impl fmt::Debug for Event {
    // `raw` holds the presigned ResponseURL, so it is left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("target", &self.target)
            .field("request_type", &self.request_type)
            .field("resource_type", &self.resource_type)
            .field("properties", &self.properties)
            .field("old_properties", &self.old_properties)
            .field("region_id", &self.region_id)
            .field("stack_name", &self.stack_name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("the event is not valid JSON: {0}")]
    NotJson(String),
    #[error("the event must be a JSON object, got {0}")]
    NotObject(&'static str),
    #[error("{field}: {rule}")]
    Field { field: String, rule: String },
    #[error("RequestType: must be Create, Update or Delete, got {0:?}")]
    UnknownRequestType(String),
    #[error("the event does not match the CloudFormation custom-resource request shape: {0}")]
    CloudFormationShape(String),
}

impl EventError {
    pub(super) fn field(field: &str, rule: impl Into<String>) -> Self {
        EventError::Field {
            field: field.to_string(),
            rule: rule.into(),
        }
    }
}

/// Why an event was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// No usable `ResponseURL`: nobody can be told. Log it and fail the invocation.
    Unanswerable(EventError),
    /// The stack can and must be told FAILED.
    Invalid {
        target: Box<AnswerTarget>,
        /// When readable: a Delete is still decided by its physical id.
        request_type: Option<RequestType>,
        error: EventError,
    },
}

/// Fields only ROS sends; any of them marks an event as coming from ROS.
const ROS_ONLY_FIELDS: [&str; 5] = [
    "IntranetResponseURL",
    "ResourceOwnerId",
    "CallerId",
    "RegionId",
    "StackName",
];

/// Reads an event that arrived as bytes (the CLI's file, Function Compute's request body).
pub fn parse(raw: &[u8]) -> Result<Event, Rejected> {
    let value: Value = serde_json::from_slice(raw)
        .map_err(|e| Rejected::Unanswerable(EventError::NotJson(e.to_string())))?;
    parse_value(value)
}

/// Reads an event already parsed as JSON (Lambda's payload), keeping it as `raw` without a
/// copy.
pub fn parse_value(value: Value) -> Result<Event, Rejected> {
    let Value::Object(obj) = &value else {
        return Err(Rejected::Unanswerable(EventError::NotObject(json_type(
            &value,
        ))));
    };
    let target = answer_target(obj).map_err(Rejected::Unanswerable)?;
    let event = checked_event(obj, &target).map_err(|error| Rejected::Invalid {
        target: Box::new(target.clone()),
        request_type: match obj.get("RequestType").and_then(Value::as_str) {
            Some("Create") => Some(RequestType::Create),
            Some("Update") => Some(RequestType::Update),
            Some("Delete") => Some(RequestType::Delete),
            _ => None,
        },
        error,
    })?;
    Ok(Event {
        raw: value,
        ..event
    })
}

fn answer_target(obj: &Map<String, Value>) -> Result<AnswerTarget, EventError> {
    let engine = if ROS_ONLY_FIELDS.iter().any(|f| obj.contains_key(*f)) {
        Engine::Ros
    } else {
        Engine::CloudFormation
    };
    let response_url = match lenient_str(obj, "ResponseURL") {
        Some(url) if !url.is_empty() => url,
        // ROS may give only the intranet URL to functions that run inside Alibaba Cloud.
        _ if engine == Engine::Ros => lenient_str(obj, "IntranetResponseURL")
            .filter(|u| !u.is_empty())
            .ok_or_else(|| EventError::field("ResponseURL", "is required"))?,
        _ => return Err(EventError::field("ResponseURL", "is required")),
    };
    check_response_url(&response_url)?;
    Ok(AnswerTarget {
        engine,
        response_url,
        stack_id: lenient_str(obj, "StackId").unwrap_or_default(),
        request_id: lenient_str(obj, "RequestId").unwrap_or_default(),
        logical_resource_id: lenient_str(obj, "LogicalResourceId").unwrap_or_default(),
        physical_resource_id: lenient_str(obj, "PhysicalResourceId").filter(|p| !p.is_empty()),
    })
}

fn check_response_url(url: &str) -> Result<(), EventError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| EventError::field("ResponseURL", "must be an http:// or https:// URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() {
        return Err(EventError::field("ResponseURL", "must name a host"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(EventError::field(
            "ResponseURL",
            "must not contain whitespace or control characters",
        ));
    }
    Ok(())
}

/// The most the echoed identifiers (`StackId`, `RequestId`, `LogicalResourceId`) may take each,
/// JSON-escaped. Three of them, a physical id of [`super::MAX_PHYSICAL_ID_BYTES`] escaped at
/// worst (6 bytes a byte) and the answer's own fields still fit [`super::MAX_BODY_BYTES`];
/// real ones are a few hundred bytes at most.
pub const MAX_IDENTIFIER_BYTES: usize = 768;

/// Bytes `s` takes inside a JSON string.
pub(crate) fn json_size(s: &str) -> usize {
    serde_json::to_string(s).map_or(usize::MAX, |quoted| quoted.len() - 2)
}

fn checked_event(obj: &Map<String, Value>, target: &AnswerTarget) -> Result<Event, EventError> {
    let request_type = match required_str(obj, "RequestType")? {
        "Create" => RequestType::Create,
        "Update" => RequestType::Update,
        "Delete" => RequestType::Delete,
        other => return Err(EventError::UnknownRequestType(other.to_string())),
    };
    for field in ["StackId", "RequestId", "LogicalResourceId"] {
        let size = json_size(required_str(obj, field)?);
        if size > MAX_IDENTIFIER_BYTES {
            // Every answer echoes these; beyond this no answer fits the engines' limit.
            return Err(EventError::field(
                field,
                format!(
                    "must be at most {MAX_IDENTIFIER_BYTES} bytes as JSON, got {size}; \
                     no stack engine sends one this long"
                ),
            ));
        }
    }
    let resource_type = required_str(obj, "ResourceType")?.to_string();
    let physical = optional_str(obj, "PhysicalResourceId")?;
    if request_type != RequestType::Create && physical.is_none() {
        return Err(EventError::field(
            "PhysicalResourceId",
            format!("is required for {request_type}"),
        ));
    }
    let properties = object_field(obj, "ResourceProperties")?;
    let old_properties = match request_type {
        // Without the old properties an Update cannot tell an in-place change from a
        // replacement, and guessing would start a copy no stack asked for.
        RequestType::Update if obj.get("OldResourceProperties").is_none_or(Value::is_null) => {
            return Err(EventError::field(
                "OldResourceProperties",
                "is required for Update",
            ))
        }
        RequestType::Update => Some(object_field(obj, "OldResourceProperties")?),
        _ => None,
    };
    if target.engine == Engine::CloudFormation {
        check_cloudformation_shape(obj)?;
    }
    Ok(Event {
        target: target.clone(),
        request_type,
        resource_type,
        properties,
        old_properties,
        region_id: optional_str(obj, "RegionId")?.map(str::to_string),
        stack_name: optional_str(obj, "StackName")?.map(str::to_string),
        raw: Value::Null,
    })
}

/// What the official `CloudFormationCustomResourceRequest` (aws_lambda_events) refuses
/// beyond the checks above; its reading of the event is pinned by
/// `tests::every_cloudformation_event_accepted_is_one_the_official_type_reads`, so this one
/// pass over the event stands for both.
fn check_cloudformation_shape(obj: &Map<String, Value>) -> Result<(), EventError> {
    if !obj.contains_key("ResourceProperties") {
        return Err(EventError::CloudFormationShape(
            "missing field `ResourceProperties`".into(),
        ));
    }
    match obj.get("ServiceToken") {
        None | Some(Value::Null | Value::String(_)) => Ok(()),
        Some(other) => Err(EventError::CloudFormationShape(format!(
            "ServiceToken: must be a string, got {}",
            json_type(other)
        ))),
    }
}

#[cfg(test)]
mod tests;
