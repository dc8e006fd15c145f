//! The shape of one randomized lifecycle, drawn from its seed, and the properties it uses.

use std::time::Duration;

use ecs_emulator::{Faults, Realism};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::rig::Envelope;
use crate::common::{DEST_REGION, SOURCE_REGION};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavour {
    Tf,
    Ros,
}

/// How one lifecycle is shaped; drawn from its seed.
#[derive(Debug)]
pub(super) struct Plan {
    pub(super) envelope: Envelope,
    pub(super) flavour: Flavour,
    pub(super) resource_type: &'static str,
    pub(super) delete_auto_snapshot: bool,
    pub(super) faults: Faults,
    pub(super) copy: Duration,
    pub(super) fail_copy_on_create: bool,
    pub(super) fail_copy_on_replace: bool,
    pub(super) update: Option<UpdateKind>,
    /// Half the lifecycles meet real ECS's harder behaviours (all of them with
    /// `ECS_EMULATOR_REALISM=harsh`).
    pub(super) realism: Realism,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum UpdateKind {
    NoOp,
    InPlace,
    Replace,
}

pub(super) fn plan(seed: u64) -> Plan {
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

pub(super) fn props(plan: &Plan, source: &str, name: &str, description: &str) -> Value {
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
