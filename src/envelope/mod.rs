//! The event envelope: custom-resource requests in (CloudFormation and ROS), answers out.
//!
//! Parsing happens in two stages so that a broken event is still answered: first the
//! [`AnswerTarget`] (where and to whom the answer goes) is pulled out leniently, then the
//! rest of the event is checked field by field. Only an event without a usable
//! `ResponseURL` cannot be answered.

mod answer;
mod event;
mod fields;

pub use answer::{Answer, AnswerBody, Status, MAX_BODY_BYTES, MAX_PHYSICAL_ID_BYTES};
pub use event::{
    parse, parse_value, AnswerTarget, Engine, Event, EventError, Rejected, RequestType,
    MAX_IDENTIFIER_BYTES,
};

/// Shown URLs lose their query (it holds the presigned signature); the one redactor.
pub use crate::redact::redact_url;
