//! CREATE: start the copy, then one look per callback until it is Available.

use std::time::Duration;

use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use super::delete::delete_spec;
use super::{in_progress, Provider};
use crate::lifecycle::look::{CopyLook, CopyWatch};
use crate::lifecycle::{copy_request, PhysicalId};
use crate::provider::context::{now_ms, since, CallbackContext};
use crate::provider::model as pm;
use crate::provider::progress::{code_for_ecs, HandlerErrorCode as Code, ProgressEvent};
use crate::provider::request::HandlerRequest;

impl Provider<'_> {
    pub(super) async fn create(&self, request: &HandlerRequest) -> ProgressEvent {
        let props = pm::input_properties(request.request_data.resource_properties.as_ref());
        let spec = match pm::validate(&props, self.region_id) {
            Ok(spec) => spec,
            Err(violations) => {
                return ProgressEvent::failed(Code::InvalidRequest, violations.to_string())
            }
        };
        let mut copy = copy_request(&spec, &client_token(request));
        copy.tags.push(pm::managed_tag(&spec));
        let image_id = match self.ecs.copy_image(&copy, self.deadline).await {
            Ok(id) => id,
            Err(e) => return ProgressEvent::failed(code_for_ecs(&e), e.to_string()),
        };
        tracing::info!(%image_id, from = %spec.source_region_id, to = %spec.destination_region_id, "copy started");
        let physical_id = PhysicalId::format(Some(&spec.destination_region_id), &image_id);
        let watch = CopyWatch::new();
        let delay = watch.first_delay();
        let context = CallbackContext::Copying {
            image_id: image_id.clone(),
            region_id: spec.destination_region_id.clone(),
            started_at_ms: now_ms(),
            create_timeout_s: spec.create_timeout.as_secs(),
            watch,
        };
        in_progress(pm::echo(&props, &physical_id, &image_id), &context, delay)
    }

    pub(super) async fn resume(
        &self,
        context: CallbackContext,
        model: Option<&Value>,
    ) -> ProgressEvent {
        let props = pm::input_properties(model);
        match context {
            CallbackContext::Copying {
                image_id,
                region_id,
                started_at_ms,
                create_timeout_s,
                watch,
            } => {
                self.look_at_copy(
                    &props,
                    image_id,
                    region_id,
                    started_at_ms,
                    create_timeout_s,
                    watch,
                )
                .await
            }
            CallbackContext::Removing {
                image_id,
                region_id,
                started_at_ms,
                delete_timeout_s,
                snapshot_ids,
                looks,
            } => {
                let spec = delete_spec(&props, &region_id);
                self.look_at_removal(
                    &props,
                    &spec,
                    image_id,
                    started_at_ms,
                    delete_timeout_s,
                    snapshot_ids,
                    looks,
                )
                .await
            }
        }
    }

    async fn look_at_copy(
        &self,
        props: &Map<String, Value>,
        image_id: String,
        region_id: String,
        started_at_ms: u64,
        create_timeout_s: u64,
        mut watch: CopyWatch,
    ) -> ProgressEvent {
        let physical_id = PhysicalId::format(Some(&region_id), &image_id);
        let model = pm::echo(props, &physical_id, &image_id);
        let waited = since(started_at_ms);
        let timeout = Duration::from_secs(create_timeout_s);
        let found = self
            .ecs
            .describe_image(&region_id, &image_id, self.deadline)
            .await;
        let look = match found {
            Ok(found) => watch.judge(found.as_ref(), waited, waited),
            Err(_) if watch.only_usable_outstanding() => CopyLook::Available,
            // The copy runs on: a look that failed is tried again at the next callback.
            Err(e) if e.is_retryable() && waited < timeout => {
                tracing::warn!(%image_id, error = %e, "could not look at the copy; looking again later");
                CopyLook::Waiting {
                    next_look_in: Duration::from_secs(5),
                }
            }
            Err(e) => {
                return self
                    .abandon(&region_id, &image_id, code_for_ecs(&e), e.to_string())
                    .await;
            }
        };
        match look {
            CopyLook::Available => {
                tracing::info!(%image_id, %region_id, "copy available");
                ProgressEvent::success(Some(model))
            }
            CopyLook::Waiting { .. } if waited >= timeout => {
                let message = format!(
                    "copy {image_id} in {region_id} did not finish within the create timeout of {create_timeout_s}s (last seen: {}); it was cancelled",
                    watch.last_seen
                );
                self.abandon(&region_id, &image_id, Code::NotStabilized, message)
                    .await
            }
            CopyLook::Waiting { next_look_in } => {
                tracing::info!(%image_id, progress = %watch.last_seen, "copy progress");
                let delay = next_look_in
                    .min(timeout.saturating_sub(waited))
                    .max(Duration::from_secs(1));
                let context = CallbackContext::Copying {
                    image_id,
                    region_id,
                    started_at_ms,
                    create_timeout_s,
                    watch,
                };
                in_progress(model, &context, delay)
            }
            CopyLook::Failed(status) => {
                let message = format!("copy {image_id} in {region_id} ended {status}");
                self.abandon(&region_id, &image_id, Code::NotStabilized, message)
                    .await
            }
            CopyLook::Vanished => {
                // Cancelled all the same: a copy listed later than the grace still runs.
                let message = format!(
                    "copy {image_id} in {region_id} disappeared before it became Available"
                );
                self.abandon(&region_id, &image_id, Code::NotStabilized, message)
                    .await
            }
        }
    }

    /// A copy that will not be used is cancelled or deleted (not waited for: ECS finishes
    /// it) before the failure is answered, so nothing keeps running.
    async fn abandon(
        &self,
        region_id: &str,
        image_id: &str,
        code: Code,
        message: String,
    ) -> ProgressEvent {
        let spec = delete_spec(&Map::new(), region_id);
        match self
            .lifecycle()
            .start_removal(&spec, image_id, &[], self.deadline)
            .await
        {
            Ok(_) => ProgressEvent::failed(code, message),
            Err(cleanup) => ProgressEvent::failed(
                code,
                format!("{message}; removing {image_id} failed too, remove it by hand: {cleanup}"),
            ),
        }
    }
}

/// The same for every delivery of this CREATE (the engine's retries of the first call keep
/// the stack, the logical id and the bearer token), different for any other operation.
fn client_token(request: &HandlerRequest) -> String {
    let mut hash = Sha1::new();
    for part in [
        request.stack_id.as_deref(),
        request.request_data.logical_resource_id.as_deref(),
        request.bearer_token.as_deref(),
    ] {
        hash.update(part.unwrap_or_default().as_bytes());
        hash.update(b"\n");
    }
    let digest = hash.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("tfcfn-{hex}")
}
