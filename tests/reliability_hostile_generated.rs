//! Hostile input, generated: mutations of valid events go through the same pre-ECS
//! decision as the corpus, without HTTP, so that 100 000 of them fit in CI
//! (`RELIABILITY_GENERATED` runs more or fewer). None panics, none that is broken reaches
//! ECS, and the rollback of every failed Create succeeds without ECS.

mod common;
mod reliability_hostile_support;

use ecs_image_copy::envelope::{Status, MAX_BODY_BYTES};
use ecs_image_copy::handler::Handler;
use proptest::prelude::*;
use proptest::test_runner::Config;
use reliability_hostile_support::*;
use serde_json::{json, Value};

fn check_decision(handler: &Handler, event: &Value) -> Result<Option<String>, TestCaseError> {
    let raw = serde_json::to_vec(event).unwrap();
    match handler.answer_without_ecs(&raw) {
        Err(error) => {
            let text = error.to_string();
            prop_assert!(
                text.contains("ResponseURL") || text.contains("JSON"),
                "{text}"
            );
            prop_assert!(!text.contains("SIGNATURE-canary"), "{text}");
            Ok(None)
        }
        Ok(None) => Ok(Some("needs ECS".into())),
        Ok(Some((target, answer))) => {
            let body = answer.to_body(&target);
            prop_assert!(body.json.len() <= MAX_BODY_BYTES);
            prop_assert!(!body.json.contains("SIGNATURE-canary"), "{}", body.json);
            if answer.status == Status::Failed {
                let reason = answer.reason.clone().unwrap_or_default();
                prop_assert!(reason.len() > 10, "an empty reason: {answer:?}");
            }
            Ok(None)
        }
    }
}

#[test]
fn generated_mutations_never_panic_and_broken_ones_never_reach_ecs() {
    let total = generated_total();
    let handler = handler();
    let events = valid_events();
    for event in &events {
        assert_eq!(
            check_decision(&handler, event).unwrap(),
            Some("needs ECS".to_string()),
            "a seed event is not valid: {event}"
        );
    }
    let seeds = prop::sample::select(events);
    let started = std::time::Instant::now();
    // Two threads, each its own deterministic stream: the machine has two cores.
    std::thread::scope(|scope| {
        for stream in 0..2u8 {
            let (handler, seeds) = (&handler, seeds.clone());
            scope.spawn(move || {
                let config = |cases| Config {
                    cases,
                    failure_persistence: None,
                    ..Config::default()
                };
                // Any mutation at all: decided without a panic, and every answer well-formed.
                runner(config(total * 2 / 5), stream)
                    .run(
                        &(seeds.clone(), prop::collection::vec(mutation(), 1..4)),
                        |(mut event, mutations)| {
                            for m in &mutations {
                                apply(&mut event, m);
                            }
                            check_decision(handler, &event).map(|_| ())
                        },
                    )
                    .unwrap();
                // A mutation known to break the event: refused before ECS, whatever else
                // changed.
                runner(config(total / 10), stream)
                    .run(
                        &(
                            seeds,
                            breaking_mutation(),
                            prop::collection::vec(mutation(), 0..2),
                        ),
                        |(mut event, breaking, others)| {
                            for m in &others {
                                apply(&mut event, m);
                            }
                            apply(&mut event, &breaking);
                            let decided = check_decision(handler, &event)?;
                            // A Delete of a real copy reads only what locates it: a broken
                            // name or an unknown key must not stop it (rollback_invariant).
                            if event["RequestType"] != "Delete" {
                                prop_assert_eq!(decided, None, "{}", event);
                            }
                            Ok(())
                        },
                    )
                    .unwrap();
            });
        }
    });
    eprintln!("{total} generated cases in {:?}", started.elapsed());
}

/// The rollback of a failed Create: its Delete, with the answered physical id and the same
/// properties, is answered SUCCESS before any ECS call (`answer_without_ecs` is `Some`).
fn check_rollback(
    handler: &Handler,
    create: &Value,
    checked: &std::sync::atomic::AtomicU32,
) -> Result<(), TestCaseError> {
    let raw = serde_json::to_vec(create).unwrap();
    let Ok(Some((_, answer))) = handler.answer_without_ecs(&raw) else {
        return Ok(()); // needs ECS, or nobody to answer: no rollback to check
    };
    if answer.status != Status::Failed {
        return Ok(());
    }
    checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut delete = create.clone();
    if let Some(fields) = delete.as_object_mut() {
        fields.insert("RequestType".into(), json!("Delete"));
        fields.insert(
            "PhysicalResourceId".into(),
            json!(answer.physical_resource_id),
        );
    }
    let raw = serde_json::to_vec(&delete).unwrap();
    match handler.answer_without_ecs(&raw) {
        Ok(Some((_, rollback))) => {
            prop_assert_eq!(
                rollback.status,
                Status::Success,
                "the rollback of {} failed: {:?}",
                create,
                rollback.reason
            );
        }
        other => prop_assert!(
            false,
            "the rollback of {create} was not decided before ECS: {other:?}"
        ),
    }
    Ok(())
}

#[test]
fn the_rollback_of_every_failed_generated_create_succeeds_without_ecs() {
    let total = generated_total();
    let handler = handler();
    let creates: Vec<Value> = valid_events()
        .into_iter()
        .filter(|e| e["RequestType"] == "Create")
        .collect();
    let seeds = prop::sample::select(creates);
    let config = Config {
        cases: total / 5,
        failure_persistence: None,
        ..Config::default()
    };
    let checked = std::sync::atomic::AtomicU32::new(0);
    runner(config.clone(), 7)
        .run(
            &(
                seeds,
                prop::collection::vec(mutation(), 1..4),
                breaking_mutation(),
            ),
            |(mut event, mutations, breaking)| {
                for m in &mutations {
                    apply(&mut event, m);
                }
                check_rollback(&handler, &event, &checked)?;
                // The same with a mutation known to fail the Create.
                apply(&mut event, &breaking);
                check_rollback(&handler, &event, &checked)
            },
        )
        .unwrap();
    let checked = checked.into_inner();
    eprintln!("{checked} failed generated Creates rolled back");
    // Every case ends with a mutation that fails the Create: at least that many were checked.
    assert!(checked >= config.cases, "only {checked} rollbacks checked");
}
