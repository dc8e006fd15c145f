//! DELETE: cancel or delete the copy, then one look per callback until it is gone.

use std::time::Duration;

use serde_json::{Map, Value};

use super::{in_progress, Provider};
use crate::lifecycle::{LifecycleError, PhysicalId};
use crate::model::{self, Context, CopySpec, Flavour, TF_DEFAULT_TIMEOUT};
use crate::provider::context::{now_ms, since, CallbackContext};
use crate::provider::model as pm;
use crate::provider::progress::{
    code_for_ecs, code_for_lifecycle, HandlerErrorCode as Code, ProgressEvent,
};

/// Pauses between looks at an image being removed: short first (a cancel is quick).
const REMOVAL_DELAYS: [u64; 4] = [2, 3, 5, 10];

impl Provider<'_> {
    pub(super) async fn delete(&self, model: Option<&Value>) -> ProgressEvent {
        let Some(id) = pm::primary_identifier(model) else {
            return ProgressEvent::failed(
                Code::NotFound,
                "the model's tfcfnid does not name a copy this type made",
            );
        };
        let region = id.region_id.clone().unwrap_or_default();
        let image = match self
            .ecs
            .describe_image(&region, &id.image_id, self.deadline)
            .await
        {
            Ok(image) => image,
            Err(e) => return ProgressEvent::failed(code_for_ecs(&e), e.to_string()),
        };
        if image.as_ref().is_some_and(|image| !pm::is_managed(image)) {
            return ProgressEvent::failed(
                Code::NotFound,
                format!(
                    "image {} in {region} is not a copy this type made",
                    id.image_id
                ),
            );
        }
        let props = pm::input_properties(model);
        let spec = delete_spec(&props, &region);
        let known_snapshots = image.map(|image| image.snapshot_ids).unwrap_or_default();
        // Not listed may still be a copy too new to be listed (a DELETE right after CREATE
        // began): the removal's cancel tells that from an image that is gone.
        let started = match self
            .lifecycle()
            .start_removal(&spec, &id.image_id, &known_snapshots, self.deadline)
            .await
        {
            Ok(started) if !started.existed => {
                return ProgressEvent::failed(
                    Code::NotFound,
                    format!("image {} does not exist in {region}", id.image_id),
                )
            }
            Ok(started) => started,
            Err(e) => return ProgressEvent::failed(code_for_lifecycle(&e), e.to_string()),
        };
        let context = CallbackContext::Removing {
            image_id: id.image_id.clone(),
            region_id: region.clone(),
            started_at_ms: now_ms(),
            delete_timeout_s: spec.delete_timeout.as_secs(),
            snapshot_ids: started.snapshot_ids,
            looks: 0,
        };
        let model = pm::echo(
            &props,
            &PhysicalId::format(Some(&region), &id.image_id),
            &id.image_id,
        );
        in_progress(model, &context, Duration::from_secs(REMOVAL_DELAYS[0]))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn look_at_removal(
        &self,
        props: &Map<String, Value>,
        spec: &CopySpec,
        image_id: String,
        started_at_ms: u64,
        delete_timeout_s: u64,
        mut snapshot_ids: Vec<String>,
        looks: u32,
    ) -> ProgressEvent {
        let lifecycle = self.lifecycle();
        let region = spec.destination_region_id.clone();
        let gone = match lifecycle
            .removal_done(spec, &image_id, &mut snapshot_ids, self.deadline)
            .await
        {
            Ok(gone) => gone,
            // A busy or throttled ECS: the removal is under way, so look again later.
            Err(LifecycleError::Ecs { source, step }) if source.is_retryable() => {
                tracing::warn!(%image_id, %step, error = %source, "could not finish the removal yet; looking again later");
                false
            }
            Err(e) => return ProgressEvent::failed(code_for_lifecycle(&e), e.to_string()),
        };
        if gone {
            return match lifecycle
                .finish_removal(spec, &snapshot_ids, self.deadline)
                .await
            {
                Ok(()) => ProgressEvent::success(None),
                Err(e) => ProgressEvent::failed(code_for_lifecycle(&e), e.to_string()),
            };
        }
        if since(started_at_ms) >= Duration::from_secs(delete_timeout_s) {
            return ProgressEvent::failed(
                Code::NotStabilized,
                format!("image {image_id} in {region} was still present after the delete timeout of {delete_timeout_s}s"),
            );
        }
        let delay = REMOVAL_DELAYS[(looks as usize + 1).min(REMOVAL_DELAYS.len() - 1)];
        let model = pm::echo(
            props,
            &PhysicalId::format(Some(&region), &image_id),
            &image_id,
        );
        let context = CallbackContext::Removing {
            image_id,
            region_id: region,
            started_at_ms,
            delete_timeout_s,
            snapshot_ids,
            looks: looks + 1,
        };
        in_progress(model, &context, Duration::from_secs(delay))
    }
}

/// What a removal needs from a model that may hold only the primary identifier: Force,
/// DeleteAutoSnapshot and the delete timeout, with Terraform's defaults; read as every
/// Delete reads its properties ([`model::delete_spec`]), the copy being in `region_id`.
pub(super) fn delete_spec(props: &Map<String, Value>, region_id: &str) -> CopySpec {
    let ctx = Context {
        stack_region_id: None,
        configured_region_id: Some(region_id.to_string()),
        default_timeout: TF_DEFAULT_TIMEOUT,
    };
    // Only a region that is not a region id is refused, and the request's was checked.
    model::delete_spec(Flavour::Tf, &Value::Object(props.clone()), &ctx)
        .unwrap_or_else(|_| CopySpec::for_removal(region_id.to_string(), TF_DEFAULT_TIMEOUT))
}
