//! Tag operations on images (`ResourceType=image`).

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::error::ApiError;
use super::ops::{region, Body};
use super::params::{Params, MAX_TAGS};
use super::state::State;

/// Most resources one tag request may name.
const MAX_RESOURCES: usize = 50;
/// Entries per ListTagResources page.
const PAGE: usize = 50;

fn check_resource_type(p: &Params) -> Result<(), ApiError> {
    let kind = p.required("ResourceType")?;
    if !kind.eq_ignore_ascii_case("image") {
        return Err(ApiError::new(
            404,
            "InvalidResourceType.NotFound",
            "The ResourceType provided does not exist in our records.",
        ));
    }
    Ok(())
}

/// `ResourceId.N`, each an image of the region.
fn resources<'a>(p: &Params<'a>, state: &State, region_id: &str) -> Result<Vec<&'a str>, ApiError> {
    let ids = p.list("ResourceId", MAX_RESOURCES)?;
    for id in &ids {
        if state.image_in(region_id, id).is_err() {
            return Err(ApiError::new(
                404,
                "InvalidResourceId.NotFound",
                "The specified ResourceIds are not found in our records.",
            ));
        }
    }
    Ok(ids)
}

pub(crate) fn tag_resources(p: &Params, state: &mut State, now: Instant) -> Result<Body, ApiError> {
    let region_id = region(p, state)?;
    check_resource_type(p)?;
    state.advance(now);
    let ids = resources(p, state, region_id)?;
    if ids.is_empty() {
        return Err(ApiError::missing_parameter("ResourceId.1"));
    }
    let tags = p.tags()?;
    if tags.is_empty() {
        return Err(ApiError::missing_parameter("Tag.1.Key"));
    }
    // All or nothing: check every resource's resulting tag count before changing any.
    for id in &ids {
        let current = &state.images[*id].tags;
        let added = tags.keys().filter(|k| !current.contains_key(*k)).count();
        if current.len() + added > MAX_TAGS {
            return Err(ApiError::new(
                403,
                "OperationDenied.QuotaExceed",
                "The quota of tags on resource is beyond permitted range.",
            ));
        }
    }
    for id in ids {
        let image = state.images.get_mut(id).expect("checked above");
        image.tags.extend(tags.clone());
    }
    Ok(Body::new())
}

pub(crate) fn untag_resources(
    p: &Params,
    state: &mut State,
    now: Instant,
) -> Result<Body, ApiError> {
    let region_id = region(p, state)?;
    check_resource_type(p)?;
    state.advance(now);
    let ids = resources(p, state, region_id)?;
    if ids.is_empty() {
        return Err(ApiError::missing_parameter("ResourceId.1"));
    }
    let keys = p.list("TagKey", MAX_TAGS)?;
    let all = p.boolean("All")?.unwrap_or(false);
    for id in ids {
        let image = state.images.get_mut(id).expect("checked above");
        if all {
            image.tags.clear();
        } else {
            for key in &keys {
                image.tags.remove(*key);
            }
        }
    }
    Ok(Body::new())
}

/// Every wanted key is present, with the wanted value unless that is empty (a key-only filter).
pub(crate) fn carries_all(
    tags: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> bool {
    wanted.iter().all(|(key, value)| {
        tags.get(key)
            .is_some_and(|have| value.is_empty() || have == value)
    })
}

pub(crate) fn list_tag_resources(
    p: &Params,
    state: &mut State,
    now: Instant,
) -> Result<Body, ApiError> {
    let region_id = region(p, state)?;
    check_resource_type(p)?;
    state.advance(now);
    let ids = p.list("ResourceId", MAX_RESOURCES)?;
    let wanted = p.tags()?;
    let offset = match p.optional("NextToken") {
        None => 0,
        Some(token) => token.parse::<usize>().map_err(|_| {
            ApiError::invalid_parameter("NextToken", "not a token this API returned")
        })?,
    };
    let mut entries: Vec<Value> = Vec::new();
    for image in state.images.values() {
        let listed = image.region_id == region_id
            && (ids.is_empty() || ids.contains(&image.id.as_str()))
            && carries_all(&image.tags, &wanted);
        if !listed {
            continue;
        }
        for (key, value) in &image.tags {
            entries.push(json!({
                "ResourceId": image.id,
                "ResourceType": "ALIYUN::ECS::IMAGE",
                "TagKey": key,
                "TagValue": value,
            }));
        }
    }
    let next = offset + PAGE;
    let next_token = if next < entries.len() {
        next.to_string()
    } else {
        String::new()
    };
    let page: Vec<Value> = entries.into_iter().skip(offset).take(PAGE).collect();
    let mut body = Body::new();
    body.insert("TagResources".into(), json!({ "TagResource": page }));
    body.insert("NextToken".into(), Value::String(next_token));
    Ok(body)
}
