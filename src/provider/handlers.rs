//! CREATE, READ, UPDATE, DELETE and LIST: each looks at ECS at most once per wait, never
//! sleeps, and answers a [`ProgressEvent`]. They know nothing of Lambda.

use std::time::Duration;

use serde_json::{Map, Value};
use sha1::{Digest, Sha1};
use tokio::time::Instant;

use super::context::{now_ms, since, CallbackContext};
use super::model::{self as pm, MANAGED_TAG_KEY};
use super::progress::{code_for_ecs, code_for_lifecycle, HandlerErrorCode as Code, ProgressEvent};
use super::request::{Action, HandlerRequest};
use crate::ecs::{EcsClient, Image};
use crate::lifecycle::look::{CopyLook, CopyWatch};
use crate::lifecycle::{
    copy_request, Bound, Budget, Journal, Lifecycle, LifecycleError, PhysicalId,
};
use crate::model::{parse_duration, CopySpec, TF_DEFAULT_TIMEOUT};

/// LIST page size (DescribeImages allows up to 100).
const LIST_PAGE_SIZE: u32 = 20;
/// Pauses between looks at an image being removed: short first (a cancel is quick).
const REMOVAL_DELAYS: [u64; 4] = [2, 3, 5, 10];

pub struct Provider<'a> {
    pub ecs: &'a EcsClient,
    /// The type configuration's region: where copies are made and listed.
    pub region_id: &'a str,
    /// Every ECS call of this invocation is done by here.
    pub deadline: Instant,
}

impl Provider<'_> {
    pub async fn handle(&self, request: &HandlerRequest) -> ProgressEvent {
        let data = &request.request_data;
        let model = data.resource_properties.as_ref();
        let context = request
            .callback_context
            .as_ref()
            .filter(|c| !c.is_null())
            .map(|c| serde_json::from_value::<CallbackContext>(c.clone()));
        let context = match context.transpose() {
            Ok(context) => context,
            Err(e) => {
                return ProgressEvent::failed(
                    Code::InvalidRequest,
                    format!("callbackContext is not one this handler wrote: {e}"),
                )
            }
        };
        match (request.action, context) {
            (Action::Create, None) => self.create(request).await,
            (Action::Create, Some(context)) => self.resume(context, model).await,
            (Action::Delete, None) => self.delete(model).await,
            (Action::Delete, Some(context)) => self.resume(context, model).await,
            (Action::Read, _) => self.read(model).await,
            (Action::Update, _) => {
                self.update(model, data.previous_resource_properties.as_ref())
                    .await
            }
            (Action::List, _) => self.list(request.next_token.as_deref()).await,
        }
    }

    fn lifecycle(&self) -> Lifecycle<'_> {
        Lifecycle::new(self.ecs, Journal::default())
    }

    fn budget(&self) -> Budget {
        Budget {
            stop_waiting_at: self.deadline,
            cleanup_by: self.deadline,
            may_continue_elsewhere: false,
            bound: Bound::Invocation,
        }
    }

    async fn create(&self, request: &HandlerRequest) -> ProgressEvent {
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

    async fn resume(&self, context: CallbackContext, model: Option<&Value>) -> ProgressEvent {
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
            CopyLook::Vanished => ProgressEvent::failed(
                Code::NotStabilized,
                format!("copy {image_id} in {region_id} disappeared before it became Available"),
            ),
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

    async fn find_managed(
        &self,
        model: Option<&Value>,
    ) -> Result<(PhysicalId, Image), ProgressEvent> {
        let not_found = |what: &str| ProgressEvent::failed(Code::NotFound, what.to_string());
        let Some(id) = pm::primary_identifier(model) else {
            return Err(not_found(
                "the model's tfcfnid does not name a copy this type made",
            ));
        };
        let region = id.region_id.clone().unwrap_or_default();
        match self
            .ecs
            .describe_image(&region, &id.image_id, self.deadline)
            .await
        {
            Ok(Some(image)) if pm::is_managed(&image) => Ok((id, image)),
            Ok(_) => Err(not_found(&format!(
                "image {} does not exist in {region}",
                id.image_id
            ))),
            Err(e) => Err(ProgressEvent::failed(code_for_ecs(&e), e.to_string())),
        }
    }

    async fn read(&self, model: Option<&Value>) -> ProgressEvent {
        match self.find_managed(model).await {
            Ok((_, image)) => ProgressEvent::success(Some(pm::from_image(&image))),
            Err(answer) => answer,
        }
    }

    async fn update(&self, model: Option<&Value>, previous: Option<&Value>) -> ProgressEvent {
        let (id, image) = match self.find_managed(model.or(previous)).await {
            Ok(found) => found,
            Err(answer) => return answer,
        };
        let region = id.region_id.clone().unwrap_or_default();
        let props = pm::input_properties(model);
        let mut new = match pm::validate(&props, &region) {
            Ok(spec) => spec,
            Err(violations) => {
                return ProgressEvent::failed(Code::InvalidRequest, violations.to_string())
            }
        };
        new.destination_region_id = region.clone();
        let old_props = previous.map(|p| pm::input_properties(Some(p)));
        let old = match old_props.as_ref().map(|p| pm::validate(p, &region)) {
            Some(Ok(old)) => old,
            // Without (valid) previous properties the source is what the copy records.
            _ => {
                let recorded = pm::from_image(&image);
                let mut old = new.clone();
                old.source_region_id = recorded["SourceRegionId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                old.source_image_id = recorded["SourceImageId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                old
            }
        };
        let changed = pm::changed_create_only(&old, &new);
        if !changed.is_empty() {
            return ProgressEvent::failed(
                Code::NotUpdatable,
                format!("{} cannot change without a new copy (create-only); replace the resource instead", changed.join(", ")),
            );
        }
        let actual = pm::spec_from_image(&image, &new);
        if let Err(failure) = self
            .lifecycle()
            .update_in_place(&actual, &new, &id.image_id, self.budget())
            .await
        {
            return ProgressEvent::failed(
                code_for_lifecycle(&failure.error),
                failure.error.to_string(),
            );
        }
        let physical_id = PhysicalId::format(Some(&region), &id.image_id);
        ProgressEvent::success(Some(pm::echo(&props, &physical_id, &id.image_id)))
    }

    async fn delete(&self, model: Option<&Value>) -> ProgressEvent {
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
    async fn look_at_removal(
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

    async fn list(&self, next_token: Option<&str>) -> ProgressEvent {
        let page = match next_token {
            None => 1,
            Some(token) => match token.parse::<u32>() {
                Ok(page) if page >= 1 => page,
                _ => {
                    return ProgressEvent::failed(
                        Code::InvalidRequest,
                        "nextToken is not one this handler gave out",
                    )
                }
            },
        };
        match self
            .ecs
            .list_images_tagged(
                self.region_id,
                MANAGED_TAG_KEY,
                page,
                LIST_PAGE_SIZE,
                self.deadline,
            )
            .await
        {
            Ok((images, total)) => {
                let models = images.iter().map(pm::from_image).collect();
                let more = u64::from(page) * u64::from(LIST_PAGE_SIZE) < total;
                ProgressEvent::listed(models, more.then(|| (page + 1).to_string()))
            }
            Err(e) => ProgressEvent::failed(code_for_ecs(&e), e.to_string()),
        }
    }
}

fn in_progress(model: Value, context: &CallbackContext, delay: Duration) -> ProgressEvent {
    let context = serde_json::to_value(context).expect("a context always serialises");
    ProgressEvent::in_progress(model, context, delay)
}

/// What a removal needs from a model that may hold only the primary identifier: Force,
/// DeleteAutoSnapshot and the delete timeout, with Terraform's defaults.
fn delete_spec(props: &Map<String, Value>, region_id: &str) -> CopySpec {
    let delete_timeout = props
        .get("Timeouts")
        .and_then(|t| t.get("Delete"))
        .and_then(Value::as_str)
        .and_then(|text| parse_duration(text).ok())
        .unwrap_or(TF_DEFAULT_TIMEOUT);
    CopySpec {
        source_image_id: String::new(),
        source_region_id: String::new(),
        destination_region_id: region_id.to_string(),
        image_name: None,
        description: None,
        encrypted: false,
        kms_key_id: None,
        resource_group_id: None,
        tags: Vec::new(),
        allow_copy_in_same_region: false,
        force_delete: pm::flag(props, "Force"),
        delete_auto_snapshot: pm::flag(props, "DeleteAutoSnapshot"),
        create_timeout: TF_DEFAULT_TIMEOUT,
        delete_timeout,
        updatable_in_place: true,
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

#[cfg(test)]
#[path = "handlers_tests.rs"]
mod tests;
