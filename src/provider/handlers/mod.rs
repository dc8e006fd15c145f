//! CREATE, READ, UPDATE, DELETE and LIST: each looks at ECS at most once per wait, never
//! sleeps, and answers a [`ProgressEvent`]. They know nothing of Lambda.

mod create;
mod delete;

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::context::CallbackContext;
use super::model::{self as pm, MANAGED_TAG_KEY};
use super::progress::{code_for_ecs, code_for_lifecycle, HandlerErrorCode as Code, ProgressEvent};
use super::request::{Action, HandlerRequest};
use crate::ecs::{EcsClient, Image};
use crate::lifecycle::{Bound, Budget, Journal, Lifecycle, PhysicalId};

/// LIST page size (DescribeImages allows up to 100).
const LIST_PAGE_SIZE: u32 = 20;

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
            // Absent, null and `{}` all mean a first call.
            .filter(|c| !c.is_null() && c.as_object().is_none_or(|o| !o.is_empty()))
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

#[cfg(test)]
mod tests;
