//! Deciding what an event is and how much time it gets: pure functions of the event.

use std::time::Duration;

use sha1::{Digest, Sha1};
use tokio::time::Instant;

use crate::envelope::AnswerTarget;
use crate::lifecycle::{Bound, Budget};
use crate::model::{self, Flavour};

/// Resource types whose properties, not their type name, say which flavour they are.
const GENERIC_TYPES: [&str; 2] = [
    "AWS::CloudFormation::CustomResource",
    "ALIYUN::ROS::CustomResource",
];

/// Which of the two types an event is (see the README for the rule). `properties` are the
/// event's after [`effective_properties`].
pub fn flavour_of(resource_type: &str, properties: &serde_json::Value) -> Result<Flavour, String> {
    if let Some(flavour) = Flavour::from_type_name(resource_type) {
        return Ok(flavour);
    }
    // A hostile type name could fill the whole reason and push the rule out of it.
    let shown: String = resource_type.chars().take(100).collect();
    let ellipsis = if shown.len() < resource_type.len() {
        "…"
    } else {
        ""
    };
    if resource_type.starts_with("Custom::") || GENERIC_TYPES.contains(&resource_type) {
        return model::detect_flavour(properties).ok_or_else(|| {
            format!(
                "ResourceType {shown}{ellipsis}: the properties identify neither {} (ImageId + DestinationRegionId) \
                 nor {} (SourceImageId + SourceRegionId)",
                Flavour::ROS_TYPE,
                Flavour::TF_TYPE
            )
        });
    }
    Err(format!(
        "ResourceType {shown:?}{ellipsis} is not handled by this function: expected {}, {}, or a custom resource type \
         (Custom::*, AWS::CloudFormation::CustomResource, ALIYUN::ROS::CustomResource)",
        Flavour::ROS_TYPE,
        Flavour::TF_TYPE
    ))
}

/// A type whose events this function may have created something for: one of the two, or
/// a custom resource that may carry either's properties.
pub fn is_handled_type(resource_type: &str) -> bool {
    Flavour::from_type_name(resource_type).is_some()
        || resource_type.starts_with("Custom::")
        || GENERIC_TYPES.contains(&resource_type)
}

/// `ALIYUN::ROS::CustomResource` declares its inputs under `Parameters` (next to
/// `ServiceToken` and `Timeout`); depending on the engine they arrive nested or flattened.
/// Nested ones are lifted so that both shapes validate the same way.
pub fn effective_properties(properties: &serde_json::Value) -> serde_json::Value {
    let flavour_keys = ["ImageId", "SourceImageId"];
    match properties.get("Parameters") {
        Some(serde_json::Value::Object(inner))
            if !flavour_keys.iter().any(|k| properties.get(*k).is_some()) =>
        {
            serde_json::Value::Object(inner.clone())
        }
        _ => properties.clone(),
    }
}

/// Same event, same token: a duplicated delivery finds the copy the first one started.
/// ECS accepts at most 64 printable ASCII characters.
pub fn client_token(target: &AnswerTarget) -> String {
    let mut hasher = Sha1::new();
    for part in [
        &target.stack_id,
        &target.logical_resource_id,
        &target.request_id,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("eic-{hex}")
}

/// Splits the time left into waiting, cleaning up, and answering. Short deadlines (tests,
/// `invoke --timeout`) get proportionally short reserves.
pub fn budget_for(deadline: Instant, may_continue_elsewhere: bool, bound: Bound) -> Budget {
    let total = deadline.saturating_duration_since(Instant::now());
    let answer_reserve = total
        .mul_f64(0.15)
        .clamp(Duration::from_millis(300), Duration::from_secs(10));
    let cleanup_reserve = total
        .mul_f64(0.15)
        .clamp(Duration::from_millis(300), Duration::from_secs(20));
    let cleanup_by = deadline.checked_sub(answer_reserve).unwrap_or(deadline);
    Budget {
        stop_waiting_at: cleanup_by
            .checked_sub(cleanup_reserve)
            .unwrap_or(cleanup_by),
        cleanup_by,
        may_continue_elsewhere,
        bound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Engine;

    fn target(request: &str) -> AnswerTarget {
        AnswerTarget {
            engine: Engine::CloudFormation,
            response_url: "http://127.0.0.1:1/cb".into(),
            stack_id: "stack".into(),
            logical_resource_id: "Copy".into(),
            request_id: request.into(),
            physical_resource_id: None,
        }
    }

    #[test]
    fn client_tokens_are_stable_short_and_distinct_per_request() {
        let a = client_token(&target("r1"));
        assert_eq!(a, client_token(&target("r1")));
        assert_ne!(a, client_token(&target("r2")));
        assert!(a.len() <= 64 && a.bytes().all(|b| b.is_ascii_graphic()));
    }

    #[test]
    fn a_huge_unknown_type_is_shown_short_so_the_rule_survives() {
        let raw = serde_json::json!({
            "RequestType": "Create", "ResponseURL": "http://127.0.0.1:1/cb",
            "StackId": "s", "RequestId": "r", "LogicalResourceId": "Copy",
            "ResourceType": "A".repeat(10_000), "ResourceProperties": {}
        });
        let event = crate::envelope::parse(raw.to_string().as_bytes()).unwrap();
        let reason = flavour_of(&event.resource_type, &event.properties).unwrap_err();
        assert!(reason.len() < 400, "{}", reason.len());
        assert!(
            reason.contains("is not handled by this function"),
            "{reason}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn budgets_leave_time_to_clean_up_and_answer() {
        let lambda = budget_for(
            Instant::now() + Duration::from_secs(900),
            false,
            Bound::Invocation,
        );
        let now = Instant::now();
        assert_eq!(lambda.cleanup_by - now, Duration::from_secs(890));
        assert_eq!(lambda.stop_waiting_at - now, Duration::from_secs(870));
        let short = budget_for(
            Instant::now() + Duration::from_secs(4),
            false,
            Bound::Invocation,
        );
        assert!(short.stop_waiting_at - now >= Duration::from_millis(2500));
        assert!(short.stop_waiting_at < short.cleanup_by);
    }
}
