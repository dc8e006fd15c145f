//! The answer to a stack engine, kept within the engine's size limits.

use std::collections::HashMap;

use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceResponse, CloudFormationCustomResourceResponseStatus,
};

use super::event::AnswerTarget;

/// CloudFormation refuses a response body over 4096 bytes; ROS follows the same contract.
pub const MAX_BODY_BYTES: usize = 4096;
/// Both engines cap the physical id at 255 bytes.
pub const MAX_PHYSICAL_ID_BYTES: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failed,
}

impl Status {
    /// As the engines spell it in the answer's `Status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "SUCCESS",
            Status::Failed => "FAILED",
        }
    }
}

/// What the handler decided, before it is fitted into a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: Status,
    pub reason: Option<String>,
    pub physical_resource_id: String,
    pub data: HashMap<String, String>,
}

impl Answer {
    pub fn success(physical_resource_id: impl Into<String>, data: HashMap<String, String>) -> Self {
        Answer {
            status: Status::Success,
            reason: None,
            physical_resource_id: physical_resource_id.into(),
            data,
        }
    }

    pub fn failed(physical_resource_id: impl Into<String>, reason: impl Into<String>) -> Self {
        Answer {
            status: Status::Failed,
            reason: Some(reason.into()),
            physical_resource_id: physical_resource_id.into(),
            data: HashMap::new(),
        }
    }
}

/// A serialized answer ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerBody {
    pub json: String,
    /// `Status` and `PhysicalResourceId` as `json` holds them, for whoever reports the answer.
    pub status: Status,
    pub physical_resource_id: String,
    /// The reason had to be shortened to fit.
    pub reason_truncated: bool,
}

const TRUNCATION_MARK: &str = " [truncated]";

impl Answer {
    /// Serializes the answer within [`MAX_BODY_BYTES`]. `Data` is never cut: if it alone is
    /// too large the answer becomes FAILED saying so. An over-long reason is shortened at a
    /// character boundary and visibly marked. The one exception: identifiers over
    /// [`super::MAX_IDENTIFIER_BYTES`] (which the envelope refuses, answering FAILED) must
    /// still be echoed whole, so that answer can be longer.
    pub fn to_body(&self, target: &AnswerTarget) -> AnswerBody {
        let physical = clip_to_bytes(&self.physical_resource_id, MAX_PHYSICAL_ID_BYTES);
        let render = |status: Status, reason: Option<&str>, data: &HashMap<String, String>| {
            let mut response = CloudFormationCustomResourceResponse::default();
            response.status = match status {
                Status::Success => CloudFormationCustomResourceResponseStatus::Success,
                Status::Failed => CloudFormationCustomResourceResponseStatus::Failed,
            };
            response.reason = reason.map(str::to_string);
            response.physical_resource_id = physical.to_string();
            response.stack_id = target.stack_id.clone();
            response.request_id = target.request_id.clone();
            response.logical_resource_id = target.logical_resource_id.clone();
            response.data = data.clone();
            let mut json =
                serde_json::to_value(&response).expect("a response of strings always serializes");
            if reason.is_none() {
                // Some engines reject a null Reason; an absent one is always accepted.
                if let Some(fields) = json.as_object_mut() {
                    fields.remove("Reason");
                }
            }
            json.to_string()
        };

        let full = render(self.status, self.reason.as_deref(), &self.data);
        if full.len() <= MAX_BODY_BYTES {
            return AnswerBody {
                json: full,
                status: self.status,
                physical_resource_id: physical.to_string(),
                reason_truncated: false,
            };
        }
        let empty = HashMap::new();
        let (status, reason, data) = if render(self.status, Some(TRUNCATION_MARK), &self.data).len()
            <= MAX_BODY_BYTES
        {
            (
                self.status,
                self.reason.clone().unwrap_or_default(),
                &self.data,
            )
        } else {
            let why = format!(
                "the resource's attributes do not fit in the {MAX_BODY_BYTES}-byte response limit. {}",
                self.reason.as_deref().unwrap_or_default()
            );
            (Status::Failed, why, &empty)
        };
        // Escaping makes the serialized size of a reason hard to predict, so search for the
        // longest prefix that fits.
        let chars: Vec<(usize, char)> = reason.char_indices().collect();
        let fits = |n: usize| {
            let cut = chars.get(n).map_or(reason.len(), |(i, _)| *i);
            let shown = format!("{}{TRUNCATION_MARK}", &reason[..cut]);
            let json = render(status, Some(&shown), data);
            (json.len() <= MAX_BODY_BYTES).then_some(json)
        };
        let (mut lo, mut hi) = (0usize, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if fits(mid).is_some() {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let json = fits(lo).unwrap_or_else(|| render(status, Some(TRUNCATION_MARK), &empty));
        AnswerBody {
            json,
            status,
            physical_resource_id: physical.to_string(),
            reason_truncated: true,
        }
    }
}

fn clip_to_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Engine;

    fn target() -> AnswerTarget {
        AnswerTarget {
            engine: Engine::CloudFormation,
            response_url: "https://example.invalid/cb?sig=1".into(),
            stack_id: "arn:aws:cloudformation:us-east-1:123:stack/s/1".into(),
            request_id: "req-1".into(),
            logical_resource_id: "Copy".into(),
            physical_resource_id: None,
        }
    }

    fn parsed(body: &AnswerBody) -> serde_json::Value {
        serde_json::from_str(&body.json).unwrap()
    }

    #[test]
    fn success_body_has_every_field_the_engines_read() {
        let data = HashMap::from([("ImageId".to_string(), "m-abc".to_string())]);
        let body = Answer::success("m-abc", data).to_body(&target());
        let v = parsed(&body);
        assert_eq!(v["Status"], "SUCCESS");
        assert_eq!(v["PhysicalResourceId"], "m-abc");
        assert_eq!(
            v["StackId"],
            "arn:aws:cloudformation:us-east-1:123:stack/s/1"
        );
        assert_eq!(v["RequestId"], "req-1");
        assert_eq!(v["LogicalResourceId"], "Copy");
        assert_eq!(v["Data"]["ImageId"], "m-abc");
        assert!(v.get("Reason").is_none(), "no null Reason");
        assert!(!body.reason_truncated);
    }

    /// The typed fields are what the body says, so that reporting the answer needs no
    /// second reading of its JSON.
    #[test]
    fn the_body_s_status_and_physical_id_are_the_json_s() {
        let big = HashMap::from([("Big".to_string(), "x".repeat(5000))]);
        for answer in [
            Answer::success("m-abc", HashMap::new()),
            Answer::failed("é".repeat(200), "x".repeat(10_000)),
            Answer::success("m-big", big),
        ] {
            let body = answer.to_body(&target());
            let v = parsed(&body);
            assert_eq!(v["Status"], body.status.as_str());
            assert_eq!(v["PhysicalResourceId"], body.physical_resource_id.as_str());
        }
    }

    #[test]
    fn the_largest_identifiers_the_envelope_accepts_still_fit_with_a_reason() {
        let longest = |c: &str| c.repeat(crate::envelope::MAX_IDENTIFIER_BYTES / 6);
        let target = AnswerTarget {
            stack_id: longest("\u{1}"),
            request_id: longest("\u{2}"),
            logical_resource_id: longest("\u{3}"),
            ..target()
        };
        let physical = "\u{4}".repeat(MAX_PHYSICAL_ID_BYTES);
        let body = Answer::failed(physical, "x".repeat(10_000)).to_body(&target);
        assert!(body.json.len() <= MAX_BODY_BYTES, "{}", body.json.len());
        assert!(parsed(&body)["Reason"].as_str().unwrap().starts_with("xxx"));
    }

    #[test]
    fn a_megabyte_reason_is_cut_visibly_under_the_limit() {
        let reason = "é\"\n".repeat(350_000);
        let body = Answer::failed("m-abc", reason).to_body(&target());
        assert!(body.json.len() <= MAX_BODY_BYTES, "{}", body.json.len());
        assert!(body.json.len() > MAX_BODY_BYTES - 16, "cut far too much");
        assert!(body.reason_truncated);
        let v = parsed(&body);
        assert_eq!(v["Status"], "FAILED");
        assert!(v["Reason"].as_str().unwrap().ends_with(TRUNCATION_MARK));
    }

    #[test]
    fn data_is_never_cut_but_the_answer_fails_when_it_cannot_fit() {
        let data = HashMap::from([("Big".to_string(), "x".repeat(5000))]);
        let body = Answer::success("m-abc", data).to_body(&target());
        let v = parsed(&body);
        assert_eq!(v["Status"], "FAILED");
        assert!(v["Data"].as_object().unwrap().is_empty());
        assert!(v["Reason"].as_str().unwrap().contains("4096-byte"));
        assert!(body.json.len() <= MAX_BODY_BYTES);
    }

    #[test]
    fn a_long_reason_with_data_keeps_the_data() {
        let data = HashMap::from([("ImageId".to_string(), "m-keep".to_string())]);
        let mut answer = Answer::success("m-keep", data);
        answer.reason = Some("y".repeat(10_000));
        let v = parsed(&answer.to_body(&target()));
        assert_eq!(v["Status"], "SUCCESS");
        assert_eq!(v["Data"]["ImageId"], "m-keep");
    }

    #[test]
    fn physical_id_is_clipped_to_255_bytes_at_a_char_boundary() {
        let id = "é".repeat(200);
        let v = parsed(&Answer::failed(id, "x").to_body(&target()));
        let shown = v["PhysicalResourceId"].as_str().unwrap();
        assert!(shown.len() <= MAX_PHYSICAL_ID_BYTES);
        assert_eq!(shown.len(), 254);
    }
}
