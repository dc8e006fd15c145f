//! Image, snapshot and region operations.

use serde_json::{json, Value};
use tokio::time::Instant;

use super::error::ApiError;
use super::ops::{region, Body};
use super::ops_tags::carries_all;
use super::params::Params;
use super::state::{CopyRequest, Image, ImageStatus, State};
use super::{regions, rules};

fn body(value: Value) -> Body {
    match value {
        Value::Object(map) => map,
        _ => Body::new(),
    }
}

fn malformed_name(destination: bool) -> ApiError {
    let which = if destination {
        "destination Image"
    } else {
        "Image"
    };
    ApiError::new(
        400,
        "InvalidImageName.Malformed",
        format!("The specified {which} name is wrongly formed."),
    )
}

fn malformed_description(destination: bool) -> ApiError {
    let which = if destination {
        "destination description"
    } else {
        "description"
    };
    ApiError::new(
        400,
        "InvalidDescription.Malformed",
        format!("The specified {which} is wrongly formed."),
    )
}

pub(crate) fn copy_image(p: &Params, state: &mut State, now: Instant) -> Result<Body, ApiError> {
    let source_region = p.required("RegionId")?;
    let image_id = p.required("ImageId")?;
    if !state.has_region(source_region) {
        return Err(ApiError::new(
            400,
            "SourceRegion.NotFound",
            "The source region not found",
        ));
    }
    let destination = p.optional("DestinationRegionId").unwrap_or(source_region);
    if !state.has_region(destination) {
        return Err(ApiError::new(
            400,
            "DestinationRegion.NotFound",
            "The destination region not found",
        ));
    }
    if destination == source_region {
        return Err(ApiError::new(
            403,
            "IncorrectDestinationRegion",
            "The destination region is not equal the target region.",
        ));
    }
    let name = p.optional("DestinationImageName");
    if name.is_some_and(|n| !rules::image_name_is_valid(n)) {
        return Err(malformed_name(true));
    }
    let description = p.optional("DestinationDescription");
    if description.is_some_and(|d| !rules::description_is_valid(d)) {
        return Err(malformed_description(true));
    }
    let encrypted = p.boolean("Encrypted")?.unwrap_or(false);
    let kms_key_id = p.optional("KMSKeyId");
    if kms_key_id.is_some() && !encrypted {
        return Err(ApiError::new(
            400,
            "InvalidParameter.EncryptedIllegal",
            "The specified parameter Encrypted must be true when kmsKeyId is not empty.",
        ));
    }
    let request = CopyRequest {
        source_region_id: source_region.to_string(),
        source_image_id: image_id.to_string(),
        destination_region_id: destination.to_string(),
        name: name.map(str::to_string),
        description: description.map(str::to_string),
        encrypted,
        kms_key_id: kms_key_id.map(str::to_string),
        resource_group_id: p.optional("ResourceGroupId").map(str::to_string),
        tags: p.tags()?,
        client_token: p.optional("ClientToken").map(str::to_string),
        fingerprint: p.fingerprint(),
    };
    let copy_id = state.copy_image(request, now)?;
    Ok(body(json!({ "ImageId": copy_id })))
}

fn comma_list(raw: Option<&str>) -> Option<Vec<&str>> {
    raw.map(|r| {
        r.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    })
}

/// States ECS knows but the emulator never produces; asking for them is valid and matches nothing.
const UNMODELLED_STATUSES: &[&str] = &["UnAvailable", "Deprecated"];

/// `ALL` "cannot be used together with other status values" (DescribeImages, `Status`).
fn parse_statuses(raw: &[&str]) -> Result<Vec<ImageStatus>, ApiError> {
    if raw.iter().any(|v| v.eq_ignore_ascii_case("ALL")) {
        if raw.len() > 1 {
            return Err(ApiError::invalid_parameter(
                "Status",
                "ALL cannot be combined with other values",
            ));
        }
        return Ok(vec![
            ImageStatus::Waiting,
            ImageStatus::Creating,
            ImageStatus::Available,
            ImageStatus::CreateFailed,
        ]);
    }
    let mut statuses = Vec::new();
    for value in raw {
        if let Some(status) = ImageStatus::parse(value) {
            statuses.push(status);
        } else if !UNMODELLED_STATUSES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(value))
        {
            return Err(ApiError::invalid_parameter(
                "Status",
                "values are Creating, Waiting, Available, UnAvailable, CreateFailed, Deprecated",
            ));
        }
    }
    Ok(statuses)
}

fn image_json(state: &State, image: &Image, now: Instant) -> Value {
    let mappings: Vec<Value> = state
        .listed_snapshots(image)
        .iter()
        .filter_map(|id| state.snapshots.get(id))
        .map(|s| {
            json!({
                "SnapshotId": s.id,
                "Size": s.size_gib.to_string(),
                "Device": s.device,
                "Type": s.disk_type,
                "Format": "",
                "ImportOSSBucket": "",
                "ImportOSSObject": "",
            })
        })
        .collect();
    let tags: Vec<Value> = image
        .tags
        .iter()
        .map(|(k, v)| json!({ "TagKey": k, "TagValue": v }))
        .collect();
    json!({
        "ImageId": image.id,
        "ImageName": image.name.clone().unwrap_or_default(),
        "Description": image.description.clone().unwrap_or_default(),
        "Status": image.status.as_str(),
        "Progress": format!("{}%", state.progress(image, now)),
        "Usable": state.is_usable(image, now),
        "ImageOwnerAlias": "self",
        "IsCopied": image.copied_from.is_some(),
        "IsSelfShared": "",
        "IsSubscribed": false,
        "IsSupportCloudinit": true,
        "IsSupportIoOptimized": true,
        "CreationTime": image.creation_time,
        "Size": image.size_gib,
        "ResourceGroupId": image.resource_group_id.clone().unwrap_or_default(),
        "OSType": "linux",
        "OSName": "Alibaba Cloud Linux 3",
        "Platform": "Aliyun",
        "Architecture": "x86_64",
        "ImageFamily": "",
        "ImageVersion": "",
        "Usage": "none",
        "DiskDeviceMappings": { "DiskDeviceMapping": mappings },
        "Tags": { "Tag": tags },
    })
}

pub(crate) fn describe_images(
    p: &Params,
    state: &mut State,
    now: Instant,
) -> Result<Body, ApiError> {
    let region_id = region(p, state)?;
    state.advance(now);
    let ids = comma_list(p.optional("ImageId"));
    // ECS shows only Available images unless other states are asked for.
    let statuses = match comma_list(p.optional("Status")) {
        None => vec![ImageStatus::Available],
        Some(raw) => parse_statuses(&raw)?,
    };
    let wanted_tags = p.tags()?;
    let owner_is_self = match p.optional("ImageOwnerAlias") {
        None | Some("self") => true,
        Some("system" | "others" | "marketplace") => false,
        Some(_) => {
            return Err(ApiError::invalid_parameter(
                "ImageOwnerAlias",
                "values are system, self, others, marketplace",
            ))
        }
    };
    let name = p.optional("ImageName");
    let page_size = p.number("PageSize", 1, 100, 10)?;
    let page_number = p.number("PageNumber", 1, 1_000_000, 1)?;
    let mut matches: Vec<&Image> = state
        .images
        .values()
        .filter(|i| owner_is_self && i.region_id == region_id && State::is_listed(i, now))
        .filter(|i| statuses.contains(&i.status))
        .filter(|i| ids.as_ref().is_none_or(|ids| ids.contains(&i.id.as_str())))
        .filter(|i| name.is_none_or(|n| i.name.as_deref() == Some(n)))
        .filter(|i| carries_all(&i.tags, &wanted_tags))
        .collect();
    matches.sort_by_key(|i| std::cmp::Reverse(i.seq));
    let total = matches.len();
    let page: Vec<Value> = matches
        .into_iter()
        .skip((page_number - 1) * page_size)
        .take(page_size)
        .map(|i| image_json(state, i, now))
        .collect();
    Ok(body(json!({
        "TotalCount": total,
        "PageNumber": page_number,
        "PageSize": page_size,
        "RegionId": region_id,
        "Images": { "Image": page },
    })))
}

pub(crate) fn cancel_copy_image(
    p: &Params,
    state: &mut State,
    now: Instant,
) -> Result<Body, ApiError> {
    let region_id = region(p, state)?;
    let image_id = p.required("ImageId")?;
    state.cancel_copy(region_id, image_id, now)?;
    Ok(Body::new())
}

/// "If the specified custom image does not exist, the request is ignored." (DeleteImage,
/// `ImageId`, ECS API reference; the same sentence is in the official SDK's `DeleteImageRequest`.)
pub(crate) fn delete_image(p: &Params, state: &mut State, now: Instant) -> Result<Body, ApiError> {
    let region_id = region(p, state)?;
    let image_id = p.required("ImageId")?;
    // Force only matters for images that instances use, which the emulator does not model.
    p.boolean("Force")?;
    state.advance(now);
    if state.image_in(region_id, image_id).is_err() {
        return Ok(Body::new());
    }
    state.delete_image(region_id, image_id, now)?;
    Ok(Body::new())
}

pub(crate) fn modify_image_attribute(
    p: &Params,
    state: &mut State,
    now: Instant,
) -> Result<Body, ApiError> {
    let region_id = region(p, state)?;
    let image_id = p.required("ImageId")?;
    state.advance(now);
    state.image_in(region_id, image_id)?;
    let name = p.optional("ImageName");
    if name.is_some_and(|n| !rules::image_name_is_valid(n)) {
        return Err(malformed_name(false));
    }
    let description = p.optional("Description");
    if description.is_some_and(|d| !rules::description_is_valid(d)) {
        return Err(malformed_description(false));
    }
    if let Some(name) = name {
        let taken = state.images.values().any(|i| {
            i.region_id == region_id && i.id != image_id && i.name.as_deref() == Some(name)
        });
        if taken {
            return Err(ApiError::new(
                400,
                "InvalidImageName.Duplicated",
                "The specified Image name has already been used.",
            ));
        }
    }
    let image = state.images.get_mut(image_id).expect("looked up above");
    if let Some(name) = name {
        image.name = Some(name.to_string());
    }
    if let Some(description) = description {
        image.description = Some(description.to_string());
    }
    Ok(Body::new())
}

/// DeleteSnapshot declares no `RegionId`: the id alone finds the snapshot, in whatever region.
/// A `RegionId` sent anyway is ignored, as ECS must: the first-generation SDK core
/// (aliyun-python-sdk-core `RpcRequest.get_url`) adds the client's region to every request.
pub(crate) fn delete_snapshot(
    p: &Params,
    state: &mut State,
    now: Instant,
) -> Result<Body, ApiError> {
    let snapshot_id = p.required("SnapshotId")?;
    p.boolean("Force")?;
    state.delete_snapshot(snapshot_id, now)?;
    Ok(Body::new())
}

pub(crate) fn describe_regions(state: &State) -> Body {
    let list: Vec<Value> = state
        .regions
        .iter()
        .map(|r| {
            json!({
                "RegionId": r,
                "LocalName": regions::local_name(r),
                "RegionEndpoint": regions::endpoint(r),
                "Status": "available",
            })
        })
        .collect();
    body(json!({ "Regions": { "Region": list } }))
}
