//! Everything decided before ECS: what the event is, whether it needs ECS at all, and the
//! spec, time limits and hand-over it runs with.
//!
//! A Delete is decided by its physical id first: an id this handler cannot have made is
//! answered SUCCESS before anything that could fail on the properties, so a rollback after a
//! failed Create always succeeds. A Delete of a real copy reads the properties leniently
//! (only what finds and removes the copy) and fails only when it cannot tell where the copy is.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::deadline::{engine_deadline, EngineDeadline};
use super::routing::{effective_properties, flavour_of, is_handled_type};
use super::work::HandOverContext;
use super::Handler;
use crate::ecs::EcsClient;
use crate::envelope::{Answer, Engine, Event, RequestType};
use crate::handover::{Continuation, MAX_HAND_OVERS};
use crate::lifecycle::{PhysicalId, FAILED_CREATE_MARKER};
use crate::model::{self, Context, CopySpec, EngineLimits, Flavour, Violations};

/// What ECS work needs, once the event passed every check.
pub(super) struct Ready {
    pub flavour: Flavour,
    pub spec: CopySpec,
    pub old_spec: Option<CopySpec>,
    pub ecs: Arc<EcsClient>,
    /// As the event gave it; echoed whenever the answer names the same image.
    pub physical_in: String,
    /// The image the event acts on (plain id), or the physical id as given when it names none.
    pub image_in: String,
    /// The copy the stack holds, when its physical id names one this handler can have made.
    pub held_image: Option<String>,
    pub resume: Option<Continuation>,
    pub hand_over: Option<HandOverContext>,
    pub engine_deadline: Option<EngineDeadline>,
}

impl Ready {
    /// The physical id to answer for `image_id`: the one the stack already holds when it is
    /// the same image (changing it would make the engine delete the image as replaced), else a
    /// new id, recording the region for the type whose properties do not.
    pub fn physical_id_for(&self, image_id: &str) -> String {
        if image_id == self.image_in {
            return self.physical_in.clone();
        }
        let region =
            (self.flavour == Flavour::Tf).then_some(self.spec.destination_region_id.as_str());
        PhysicalId::format(region, image_id)
    }
}

impl Handler {
    /// `Err` is the answer when that is already the end.
    pub(super) fn prepare(&self, event: &Event) -> Result<Ready, Answer> {
        let physical_in = event
            .target
            .physical_resource_id
            .clone()
            .unwrap_or_else(|| FAILED_CREATE_MARKER.to_string());
        let (physical_in, recorded) =
            decided_by_physical_id(Some(event.request_type), physical_in)?;
        // The copy a Delete removes.
        let deleting = match (&recorded, event.request_type) {
            (Some(recorded), RequestType::Delete) => Some(recorded.clone()),
            _ => None,
        };
        let fail = |reason: String| Answer::failed(physical_in.clone(), reason);
        let properties = effective_properties(&event.properties);
        let limits = model::engine_limits(&event.properties);
        let key = self.record_key();
        let resume = Continuation::from_event(
            &event.raw,
            &event.target,
            event.request_type,
            key.as_deref(),
        );
        let resumed_region = resume
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .and_then(|r| r.region_id.clone());
        let ctx = Context {
            stack_region_id: event.region_id.clone(),
            // Where an existing copy of the TF type is, whatever the environment says now.
            configured_region_id: recorded
                .as_ref()
                .and_then(|r| r.region_id.clone())
                .or(resumed_region)
                .or_else(|| self.settings.region_id.clone()),
            // ALIYUN::ECS::CopyImage has no timeout property: its copy may take as long as
            // the engine waits, when the template says how long that is.
            default_timeout: limits
                .as_ref()
                .ok()
                .and_then(EngineLimits::tightest)
                .map_or(self.settings.ros_timeout, |(_, seconds)| {
                    Duration::from_secs(u64::from(seconds))
                }),
        };
        let reading = match &deleting {
            Some(recorded) => read_for_delete(event, &properties, &ctx, recorded, limits),
            None => read_for_change(event, &properties, &ctx, limits),
        };
        let (flavour, spec, limits) = match reading {
            Ok(Some(read)) => read,
            Ok(None) => return Err(Answer::success(physical_in, HashMap::new())),
            Err(reason) => return Err(fail(reason)),
        };
        let ecs = match &self.ecs {
            Ok(ecs) => Arc::clone(ecs),
            Err(problem) => return Err(fail(format!("Configuration error: {problem}"))),
        };
        let resume = resume.map_err(|refused| fail(format!("Refused to resume: {refused}")))?;
        let first_invocation = resume
            .as_ref()
            .map_or_else(SystemTime::now, Continuation::started);
        let mut engine_deadline = engine_deadline(event.target.engine, &limits, first_invocation);
        if let (Some(deadline), Some(carried)) = (
            engine_deadline.as_mut(),
            resume.as_ref().and_then(Continuation::answer_by),
        ) {
            deadline.answer_by = carried;
        }
        if engine_deadline.is_none() && event.target.engine == Engine::Ros {
            tracing::warn!(
                "the event names no Timeout: ROS waits 60 s by default and may give up before \
                 this function answers; pass the custom resource's Timeout down among its \
                 Parameters"
            );
        }
        let hand_overs_so_far = resume.as_ref().map_or(0, |r| r.hand_overs);
        let hand_over = match (&self.invoker, key) {
            (Some(invoker), Some(key)) if hand_overs_so_far < MAX_HAND_OVERS => {
                Some(HandOverContext {
                    invoker: invoker.clone(),
                    key,
                    target: event.target.clone(),
                    raw: event.raw.clone(),
                    hand_overs_so_far,
                    region_id: (flavour == Flavour::Tf).then(|| spec.destination_region_id.clone()),
                    answer_by: engine_deadline.map(|d| d.answer_by),
                })
            }
            _ => None,
        };
        let old_spec = event
            .old_properties
            .as_ref()
            .and_then(|old| model::validate(flavour, &effective_properties(old), &ctx).ok());
        let held_image = recorded.map(|r| r.image_id);
        let image_in = held_image.clone().unwrap_or_else(|| physical_in.clone());
        Ok(Ready {
            flavour,
            spec,
            old_spec,
            ecs,
            physical_in,
            image_in,
            held_image,
            resume,
            hand_over,
            engine_deadline,
        })
    }
}

/// The one place a physical id decides an event on its own: a Delete of an id this handler
/// cannot have made (the failed-create marker, another tool's id) is answered SUCCESS
/// without a call, before the properties are read. Otherwise the id as given and the copy it
/// names, if any.
pub(super) fn decided_by_physical_id(
    request_type: Option<RequestType>,
    physical: String,
) -> Result<(String, Option<PhysicalId>), Answer> {
    let recorded = PhysicalId::parse(&physical);
    if recorded.is_none() && request_type == Some(RequestType::Delete) {
        tracing::info!(physical_resource_id = %physical, "nothing was created; delete succeeds without calls");
        return Err(Answer::success(physical, HashMap::new()));
    }
    Ok((physical, recorded))
}

type Reading = (Flavour, CopySpec, EngineLimits);

/// A Delete of a real copy: only what finds and removes it. `Ok(None)`: nothing of ours to
/// delete. `Err`: the one refusal, when where the copy is cannot be told.
fn read_for_delete(
    event: &Event,
    properties: &serde_json::Value,
    ctx: &Context,
    recorded: &PhysicalId,
    limits: Result<EngineLimits, Violations>,
) -> Result<Option<Reading>, String> {
    let Some(flavour) = delete_flavour(event, properties, recorded)? else {
        return Ok(None);
    };
    let mut spec = model::delete_spec(flavour, properties, ctx)
        .map_err(|v| format!("Cannot delete {}: {v}", recorded.image_id))?;
    if let Some(region) = &recorded.region_id {
        spec.destination_region_id = region.clone();
    }
    let limits = limits.unwrap_or_else(|violations| {
        tracing::warn!(%violations, "unreadable time limits ignored for a delete");
        EngineLimits::default()
    });
    Ok(Some((flavour, spec, limits)))
}

/// A Create or Update: every rule, the engine's time limits among them, reported together.
fn read_for_change(
    event: &Event,
    properties: &serde_json::Value,
    ctx: &Context,
    limits: Result<EngineLimits, Violations>,
) -> Result<Option<Reading>, String> {
    let flavour = flavour_of(&event.resource_type, properties)?;
    let (limits, mut problems) = match limits {
        Ok(limits) => (limits, Vec::new()),
        Err(violations) => (EngineLimits::default(), violations.0),
    };
    match model::validate(flavour, properties, ctx) {
        Ok(spec) if problems.is_empty() => Ok(Some((flavour, spec, limits))),
        result => {
            problems.extend(result.err().map(|v| v.0).unwrap_or_default());
            Err(format!(
                "Invalid properties for {}: {}",
                flavour.type_name(),
                Violations(problems)
            ))
        }
    }
}

/// The flavour a Delete of a real image id reads its properties as. `Ok(None)`: the type is
/// none this function creates anything for, so there is nothing of ours to delete.
fn delete_flavour(
    event: &Event,
    properties: &serde_json::Value,
    recorded: &PhysicalId,
) -> Result<Option<Flavour>, String> {
    match flavour_of(&event.resource_type, properties) {
        Ok(flavour) => Ok(Some(flavour)),
        Err(_) if !is_handled_type(&event.resource_type) => {
            tracing::info!(resource_type = %event.resource_type, "not a type this function creates; nothing to delete");
            Ok(None)
        }
        Err(reason) => model::guess_flavour(properties, recorded.region_id.is_some())
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "{reason}; so the region of {} cannot be told and it cannot be deleted",
                    recorded.image_id
                )
            }),
    }
}
