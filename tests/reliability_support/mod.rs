//! Shared by the reliability suites: a loopback rig with a fast ECS retry policy, and one
//! randomized stack lifecycle under faults whose invariants are checked as it runs.
//! The secrets suite replays the same lifecycles under a capturing subscriber.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use ecs_emulator::receiver::Receiver;
use ecs_emulator::{Control, Emulator, EmulatorConfig, Faults, Realism, SourceImage};
use ecs_image_copy::ecs::{Credentials, EcsClient, Endpoints, ReqwestTransport, RetryPolicy};
use ecs_image_copy::handler::{HandleError, Handler};
use ecs_image_copy::lifecycle::FAILED_CREATE_MARKER;
use ecs_image_copy::settings::Settings;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::common::{DEST_REGION, SECRET, SOURCE_IMAGE, SOURCE_REGION, TOKEN, URL_SIGNATURE};

pub const SECOND_SOURCE: &str = "m-source0000000002";
const KEY_ID: &str = "LTAI-reliability-key";

/// One stack's world: its own emulator (copies queue per region, so stacks must not share
/// one), its own ResponseURL receiver, and a handler with a quick retry policy.
pub struct Rig {
    pub emulator: Emulator,
    pub receiver: Receiver,
    pub handler: Handler,
    seq: std::sync::atomic::AtomicU32,
}

impl Rig {
    pub async fn new(seed: u64, copy: Duration) -> Rig {
        Self::with_realism(seed, copy, crate::common::suite_realism()).await
    }

    pub async fn with_realism(seed: u64, copy: Duration, realism: Realism) -> Rig {
        let config = EmulatorConfig {
            realism,
            access_key_id: KEY_ID.into(),
            access_key_secret: SECRET.into(),
            security_token: Some(TOKEN.into()),
            images: vec![
                SourceImage::new(SOURCE_IMAGE, SOURCE_REGION),
                SourceImage::new(SECOND_SOURCE, SOURCE_REGION),
            ],
            copy_duration: copy,
            seed,
            ..EmulatorConfig::default()
        };
        let emulator = Emulator::start(config, 0).await.expect("emulator starts");
        let credentials = Credentials::new(KEY_ID, SECRET, Some(TOKEN.to_string()));
        let transport = ReqwestTransport::new(Duration::from_secs(2));
        let retry = RetryPolicy::seeded(
            Duration::from_millis(20),
            Duration::from_millis(200),
            Duration::from_secs(3),
            seed,
        )
        .with_busy_backoff(Duration::from_millis(100), Duration::from_secs(1));
        let ecs = EcsClient::with_transport(
            credentials.clone(),
            Endpoints::with_override(&emulator.endpoint()).expect("loopback endpoint"),
            Arc::new(transport),
            retry,
        );
        let settings = Settings {
            credentials: Ok(Some(credentials)),
            region_id: Some(DEST_REGION.into()),
            ecs_endpoints: ecs_image_copy::ecs::Endpoints::with_override(&emulator.endpoint()),
            ros_timeout: Duration::from_secs(600),
            handover: None,
        };
        Rig {
            emulator,
            receiver: Receiver::start().await.expect("receiver starts"),
            handler: Handler::with_client(ecs, settings),
            seq: Default::default(),
        }
    }

    pub fn ecs(&self) -> Control {
        self.emulator.control()
    }

    fn next(&self) -> u32 {
        self.seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }

    /// An event with its own presigned-looking ResponseURL, so answers can be told apart.
    pub fn event(&self, envelope: Envelope, request_type: &str, ty: &str, props: &Value) -> Value {
        let n = self.next();
        match envelope {
            Envelope::CloudFormation => json!({
                "RequestType": request_type,
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:copy",
                "ResponseURL": self.receiver.url(&format!(
                    "/cfn/{n}?X-Amz-Credential=AKIA%2F20261123%2Fs3&X-Amz-Signature={URL_SIGNATURE}"
                )),
                "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/rel/guid",
                "RequestId": format!("request-{n}"),
                "ResourceType": ty,
                "LogicalResourceId": "Copy",
                "ResourceProperties": props,
            }),
            Envelope::Ros => json!({
                "RequestType": request_type,
                "ResponseURL": self.receiver.url(&format!("/ros/{n}?Signature={URL_SIGNATURE}")),
                "IntranetResponseURL": "http://127.0.0.1:9/unused",
                "StackId": "5f2b7c8d-ros-rel",
                "StackName": "rel",
                "ResourceOwnerId": "1234",
                "CallerId": "1234",
                "RegionId": SOURCE_REGION,
                "RequestId": format!("ros-request-{n}"),
                "ResourceType": ty,
                "LogicalResourceId": "Copy",
                "ResourceProperties": props,
            }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    CloudFormation,
    Ros,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Tf,
    Ros,
}

/// Everything a lifecycle produced that must never hold a secret.
#[derive(Default)]
pub struct Transcript {
    pub answers: Vec<String>,
    pub errors: Vec<String>,
}

/// The answer a stack engine accepted for one event.
#[derive(Debug, Clone)]
struct Accepted {
    status: String,
    physical: String,
    reason: String,
}

/// How one lifecycle is shaped; drawn from its seed.
#[derive(Debug)]
struct Plan {
    envelope: Envelope,
    flavour: Flavour,
    resource_type: &'static str,
    delete_auto_snapshot: bool,
    faults: Faults,
    copy: Duration,
    fail_copy_on_create: bool,
    fail_copy_on_replace: bool,
    update: Option<UpdateKind>,
    /// Half the lifecycles meet real ECS's harder behaviours (all of them with
    /// `ECS_EMULATOR_REALISM=harsh`).
    realism: Realism,
}

#[derive(Debug, Clone, Copy)]
enum UpdateKind {
    NoOp,
    InPlace,
    Replace,
}

fn plan(seed: u64) -> Plan {
    let mut rng = StdRng::seed_from_u64(seed);
    let flavour = if rng.random_bool(0.5) {
        Flavour::Tf
    } else {
        Flavour::Ros
    };
    let resource_type = match (flavour, rng.random_bool(0.5)) {
        (Flavour::Tf, true) => "TF::Alicloud::ImageCopy",
        (Flavour::Ros, true) => "ALIYUN::ECS::CopyImage",
        (_, false) => "Custom::ImageCopy",
    };
    let pick = |rng: &mut StdRng, shares: &[f64]| shares[rng.random_range(0..shares.len())];
    let faults = Faults {
        throttle: pick(&mut rng, &[0.0, 0.1, 0.25]),
        server_error: pick(&mut rng, &[0.0, 0.1, 0.2]),
        drop_connection: pick(&mut rng, &[0.0, 0.05, 0.1]),
        latency: Duration::from_millis(pick(&mut rng, &[0.0, 5.0, 30.0]) as u64),
    };
    let update = match rng.random_range(0..5) {
        0 => Some(UpdateKind::NoOp),
        1 if flavour == Flavour::Tf => Some(UpdateKind::InPlace),
        1 | 2 => Some(UpdateKind::Replace),
        _ => None,
    };
    Plan {
        envelope: if rng.random_bool(0.5) {
            Envelope::CloudFormation
        } else {
            Envelope::Ros
        },
        flavour,
        resource_type,
        delete_auto_snapshot: flavour == Flavour::Tf && rng.random_bool(0.5),
        faults,
        copy: Duration::from_millis(rng.random_range(100..700)),
        fail_copy_on_create: rng.random_bool(0.15),
        fail_copy_on_replace: rng.random_bool(0.2),
        update,
        realism: match crate::common::suite_realism() {
            suite if !suite.is_off() => suite,
            _ if rng.random_bool(0.5) => Realism::harsh(),
            _ => Realism::off(),
        },
    }
}

fn props(plan: &Plan, source: &str, name: &str, description: &str) -> Value {
    match plan.flavour {
        Flavour::Tf => json!({
            "SourceImageId": source,
            "SourceRegionId": SOURCE_REGION,
            "ImageName": name,
            "Description": description,
            "Tags": [{"MapKey": "team", "MapValue": "platform"}],
            "DeleteAutoSnapshot": plan.delete_auto_snapshot,
            "Force": true,
        }),
        Flavour::Ros => json!({
            "ImageId": source,
            // A CloudFormation event carries no stack region to default it from.
            "SourceRegionId": SOURCE_REGION,
            "DestinationRegionId": DEST_REGION,
            "DestinationImageName": name,
            "DestinationDescription": description,
            "Tag": [{"Key": "team", "Value": "platform"}],
        }),
    }
}

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

/// Delivers the event once or twice (a duplicate, sometimes concurrent), with a ResponseURL
/// that may fail its first attempts, and checks that each delivery had exactly one answer
/// accepted and that all of them agree.
async fn deliver(
    rig: &Rig,
    event: &Value,
    rng: &mut StdRng,
    transcript: &mut Transcript,
) -> Result<Accepted, String> {
    let failures = rng.random_range(0..3usize);
    if failures > 0 {
        rig.receiver
            .fail_next(failures, if rng.random_bool(0.5) { 500 } else { 503 });
    }
    let raw = serde_json::to_vec(event).unwrap();
    let deadline = || Instant::now() + Duration::from_secs(30);
    let results = match rng.random_range(0..4) {
        0 => {
            let (a, b) = tokio::join!(
                rig.handler.handle(&raw, deadline()),
                rig.handler.handle(&raw, deadline())
            );
            vec![a, b]
        }
        1 => vec![
            rig.handler.handle(&raw, deadline()).await,
            rig.handler.handle(&raw, deadline()).await,
        ],
        _ => vec![rig.handler.handle(&raw, deadline()).await],
    };
    let deliveries = results.len();
    for result in results {
        if let Err(e) = result {
            let shown = format!("{e} / {e:?}");
            transcript.errors.push(shown.clone());
            return Err(format!("not answered: {shown}"));
        }
    }
    let url = event["ResponseURL"].as_str().unwrap();
    let path = &url[url.find("/c").or_else(|| url.find("/r")).unwrap()..];
    let mine: Vec<_> = rig
        .receiver
        .requests()
        .into_iter()
        .filter(|r| r.target == path)
        .collect();
    transcript.answers.extend(
        mine.iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned()),
    );
    let accepted: Vec<Accepted> = mine
        .iter()
        .filter(|r| (200..300).contains(&r.status))
        .map(|r| {
            let v = r.json();
            Accepted {
                status: v["Status"].as_str().unwrap_or_default().to_string(),
                physical: v["PhysicalResourceId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                reason: v["Reason"].as_str().unwrap_or_default().to_string(),
            }
        })
        .collect();
    if accepted.len() != deliveries {
        return Err(format!(
            "{deliveries} deliveries but {} accepted answers",
            accepted.len()
        ));
    }
    let first = accepted[0].clone();
    if accepted
        .iter()
        .any(|a| a.physical != first.physical || a.status != first.status)
    {
        return Err(format!("duplicates answered differently: {accepted:?}"));
    }
    Ok(first)
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

/// The error a handler call returned, shown as a user would see it.
pub fn shown(error: &HandleError) -> String {
    format!("{error} / {error:?}")
}
