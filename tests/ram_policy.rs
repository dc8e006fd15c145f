//! `templates/ram-policy.json` is what users grant the function: exactly the ECS actions the
//! client can send (its own list, `ecs::ops::Action::ALL`, which every request builder starts
//! from), no wildcard, nothing more. And the emulator answers every one of those actions, so
//! the suites exercise all that the policy allows.

mod emulator_support;

use std::collections::BTreeSet;

use ecs_emulator::EmulatorConfig;
use ecs_image_copy::ecs::ops::Action;
use emulator_support::*;
use serde_json::Value;

fn policy() -> Value {
    let path = format!("{}/templates/ram-policy.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

fn granted_actions(policy: &Value) -> Vec<String> {
    policy["Statement"]
        .as_array()
        .expect("Statement is a list")
        .iter()
        .flat_map(|s| s["Action"].as_array().expect("Action is a list").clone())
        .map(|a| a.as_str().expect("actions are strings").to_string())
        .collect()
}

#[test]
fn policy_grants_exactly_the_actions_the_client_sends() {
    let policy = policy();
    assert_eq!(policy["Version"], "1", "RAM policy language version");
    let granted = granted_actions(&policy);
    let unique: BTreeSet<&str> = granted.iter().map(String::as_str).collect();
    assert_eq!(unique.len(), granted.len(), "an action is listed twice");
    let sent: BTreeSet<String> = Action::ALL
        .iter()
        .map(|a| format!("ecs:{}", a.name()))
        .collect();
    let granted: BTreeSet<String> = granted.into_iter().collect();
    let missing: Vec<_> = sent.difference(&granted).collect();
    let extra: Vec<_> = granted.difference(&sent).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the client sends but the policy does not grant {missing:?}; \
         the policy grants but the client never sends {extra:?}"
    );
}

#[test]
fn policy_allows_only_and_has_no_wildcard_action() {
    for statement in policy()["Statement"].as_array().unwrap() {
        assert_eq!(statement["Effect"], "Allow", "{statement}");
        let keys: BTreeSet<&str> = statement
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["Action", "Effect", "Resource"]),
            "{statement}"
        );
    }
    for action in granted_actions(&policy()) {
        assert!(
            action.starts_with("ecs:") && !action.contains('*'),
            "{action}"
        );
    }
}

/// An action the emulator did not know would answer `InvalidAction.NotFound`; with no
/// parameters each known one is refused for what is missing instead (or answered).
#[tokio::test]
async fn the_emulator_answers_every_granted_action() {
    let (emulator, caller) = start(EmulatorConfig::default()).await;
    for action in Action::ALL {
        let answer = caller.call(action.name(), &[]).await;
        assert_ne!(
            answer.code(),
            "InvalidAction.NotFound",
            "{}: {}",
            action.name(),
            answer.body
        );
    }
    let unknown = caller.call("DescribeInstances", &[]).await;
    unknown.expect_error(404, "InvalidAction.NotFound");
    emulator.shutdown().await;
}
