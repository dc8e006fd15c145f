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

/// A URL fit for logs: scheme, host and path only. Presigned callback URLs carry their
/// signature in the query, which must never reach a log line.
pub fn redact_url(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let mut shown = url[..cut].to_string();
    if cut < url.len() {
        shown.push_str("?<redacted>");
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redaction_drops_the_query_and_fragment() {
        assert_eq!(
            redact_url("https://b.s3.amazonaws.com/k?X-Amz-Signature=abc&x=1"),
            "https://b.s3.amazonaws.com/k?<redacted>"
        );
        assert_eq!(redact_url("https://h/p#frag"), "https://h/p?<redacted>");
        assert_eq!(redact_url("https://h/p"), "https://h/p");
    }
}
