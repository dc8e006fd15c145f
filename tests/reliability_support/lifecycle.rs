//! One randomized stack lifecycle under faults, its invariants checked as it runs, and many
//! of them at once.

use std::collections::BTreeSet;
use std::sync::Arc;

use ecs_emulator::Control;
use ecs_image_copy::lifecycle::FAILED_CREATE_MARKER;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};

use super::delivery::{deliver, Transcript};
use super::plan::{plan, props, Plan, UpdateKind};
use super::rig::{Rig, SECOND_SOURCE};
use crate::common::SOURCE_IMAGE;

/// Runs one lifecycle for `seed`; `Err` says which promise broke.
pub async fn lifecycle(seed: u64, transcript: &mut Transcript) -> Result<(), String> {
    let plan = plan(seed);
    let rig = Rig::with_realism(seed, plan.copy, plan.realism).await;
    rig.ecs().set_faults(plan.faults);
    let mut rng = StdRng::seed_from_u64(seed ^ 0xD1CE);
    let result = drive(&rig, &plan, &mut rng, transcript).await;
    let ecs = rig.ecs();
    // Whatever happened, the stack is gone now: nothing of it may remain.
    let leftovers: Vec<_> = ecs.images().into_iter().filter(|i| i.is_copy).collect();
    let running = ecs.copy_tasks_running();
    let check = if !leftovers.is_empty() {
        Err(format!("orphaned images: {leftovers:?}"))
    } else if running != 0 {
        Err(format!("{running} copy task(s) still running"))
    } else if plan.delete_auto_snapshot {
        let images: BTreeSet<String> = ecs.images().into_iter().map(|i| i.image_id).collect();
        let orphans: Vec<_> = ecs
            .snapshots()
            .into_iter()
            .filter(|s| s.image_id.as_ref().is_none_or(|i| !images.contains(i)))
            .collect();
        if orphans.is_empty() {
            Ok(())
        } else {
            Err(format!("orphaned snapshots: {orphans:?}"))
        }
    } else {
        Ok(())
    };
    rig.emulator.shutdown().await;
    result
        .and(check)
        .map_err(|e| format!("seed {seed} ({plan:?}): {e}"))
}

async fn drive(
    rig: &Rig,
    plan: &Plan,
    rng: &mut StdRng,
    transcript: &mut Transcript,
) -> Result<(), String> {
    let ecs = rig.ecs();
    let created_props = props(plan, SOURCE_IMAGE, "web-server", "first edition");
    if plan.fail_copy_on_create {
        ecs.fail_next_copies(1);
    }
    let create = rig.event(plan.envelope, "Create", plan.resource_type, &created_props);
    let answer = deliver(rig, &create, rng, transcript).await?;
    if answer.status != "SUCCESS" {
        if !plan.fail_copy_on_create {
            return Err(format!("create failed without a failed copy: {answer:?}"));
        }
        // The answer names the copy (gone or not) once CopyImage gave an id; the marker
        // only when there was none. Either way the rollback Delete must succeed and leave
        // nothing, which `delete` checks.
        let copied = ecs
            .calls()
            .iter()
            .any(|c| c.action == "CopyImage" && c.http_status == Some(200));
        if copied == (answer.physical == FAILED_CREATE_MARKER) {
            return Err(format!(
                "failed create after CopyImage {copied}: {answer:?}"
            ));
        }
        return delete(rig, plan, &created_props, &answer.physical, rng, transcript).await;
    }
    let mut current = answer.physical.clone();
    let mut current_props = created_props;
    available(&ecs, &current)?;

    if let Some(kind) = plan.update {
        let new_props = match kind {
            UpdateKind::NoOp => current_props.clone(),
            UpdateKind::InPlace => props(plan, SOURCE_IMAGE, "web-server-v2", "second edition"),
            UpdateKind::Replace => props(plan, SECOND_SOURCE, "web-server-next", "replacement"),
        };
        if matches!(kind, UpdateKind::Replace) && plan.fail_copy_on_replace {
            ecs.fail_next_copies(1);
        }
        let mut update = rig.event(plan.envelope, "Create", plan.resource_type, &new_props);
        update["RequestType"] = json!("Update");
        update["PhysicalResourceId"] = json!(current);
        update["OldResourceProperties"] = current_props.clone();
        let answer = deliver(rig, &update, rng, transcript).await?;
        match (kind, answer.status.as_str()) {
            (UpdateKind::Replace, "SUCCESS") => {
                if answer.physical == current {
                    return Err("a replacement kept the old id".into());
                }
                available(&ecs, &answer.physical)?;
                // The engine deletes the replaced resource in its cleanup phase.
                delete(rig, plan, &current_props, &current, rng, transcript).await?;
                current = answer.physical;
                current_props = new_props;
            }
            (UpdateKind::Replace, _) if plan.fail_copy_on_replace => {
                if answer.physical != current {
                    return Err(format!("a failed update changed the id: {answer:?}"));
                }
                let copies: Vec<_> = ecs.images().into_iter().filter(|i| i.is_copy).collect();
                if copies.len() != 1 || copies[0].image_id != crate::common::image_of(&current) {
                    return Err(format!("a failed replacement left copies: {copies:?}"));
                }
            }
            (_, "SUCCESS") => {
                if answer.physical != current {
                    return Err(format!("{kind:?} update changed the id: {answer:?}"));
                }
                let image = ecs
                    .image(&crate::common::image_of(&current))
                    .ok_or("updated image vanished")?;
                if matches!(kind, UpdateKind::InPlace)
                    && image.name.as_deref() != Some("web-server-v2")
                {
                    return Err(format!("in-place update not applied: {image:?}"));
                }
                current_props = new_props;
            }
            _ => return Err(format!("{kind:?} update failed: {answer:?}")),
        }
    }
    delete(rig, plan, &current_props, &current, rng, transcript).await
}

fn available(ecs: &Control, image_id: &str) -> Result<(), String> {
    match ecs.image(&crate::common::image_of(image_id)) {
        Some(i) if i.status == ecs_emulator::ImageStatus::Available => Ok(()),
        other => Err(format!("SUCCESS for {image_id} but the image is {other:?}")),
    }
}

async fn delete(
    rig: &Rig,
    plan: &Plan,
    props: &Value,
    physical: &str,
    rng: &mut StdRng,
    transcript: &mut Transcript,
) -> Result<(), String> {
    let snapshots = rig
        .ecs()
        .image(&crate::common::image_of(physical))
        .map(|i| i.snapshot_ids)
        .unwrap_or_default();
    let mut event = rig.event(plan.envelope, "Delete", plan.resource_type, props);
    event["PhysicalResourceId"] = json!(physical);
    let answer = deliver(rig, &event, rng, transcript).await?;
    if answer.status != "SUCCESS" || answer.physical != physical {
        return Err(format!("delete of {physical} answered {answer:?}"));
    }
    if rig
        .ecs()
        .image(&crate::common::image_of(physical))
        .is_some()
    {
        return Err(format!("SUCCESS delete but {physical} still exists"));
    }
    if plan.delete_auto_snapshot {
        let left: Vec<_> = rig
            .ecs()
            .snapshots()
            .into_iter()
            .filter(|s| snapshots.contains(&s.snapshot_id))
            .collect();
        if !left.is_empty() {
            return Err(format!("DeleteAutoSnapshot left {left:?}"));
        }
    }
    Ok(())
}

/// Runs `count` lifecycles from `base`, `parallel` at a time; the failures, seed first.
pub async fn run_many(base: u64, count: u64, parallel: usize) -> (Vec<String>, Transcript) {
    let limit = Arc::new(tokio::sync::Semaphore::new(parallel));
    let mut tasks = tokio::task::JoinSet::new();
    for seed in base..base + count {
        let permit = Arc::clone(&limit).acquire_owned().await.unwrap();
        tasks.spawn(async move {
            let mut transcript = Transcript::default();
            let result = lifecycle(seed, &mut transcript).await;
            drop(permit);
            (result, transcript)
        });
    }
    let mut failures = Vec::new();
    let mut all = Transcript::default();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((result, transcript)) => {
                failures.extend(result.err());
                all.answers.extend(transcript.answers);
                all.errors.extend(transcript.errors);
            }
            Err(e) => failures.push(format!("a lifecycle panicked: {e}")),
        }
    }
    failures.sort();
    (failures, all)
}
