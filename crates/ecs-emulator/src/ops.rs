//! Routes an authenticated request to its operation. Each operation returns the JSON body
//! without `RequestId`; the server adds it.

use serde_json::{Map, Value};
use tokio::time::Instant;

use super::error::ApiError;
use super::params::Params;
use super::state::State;
use super::{ops_images, ops_tags};

pub const ACTIONS: &[&str] = &[
    "CopyImage",
    "DescribeImages",
    "CancelCopyImage",
    "DeleteImage",
    "ModifyImageAttribute",
    "TagResources",
    "UntagResources",
    "ListTagResources",
    "DeleteSnapshot",
    "DescribeRegions",
];

pub fn is_known(action: &str) -> bool {
    ACTIONS.contains(&action)
}

pub(crate) type Body = Map<String, Value>;

pub(crate) fn dispatch(
    action: &str,
    params: &Params,
    state: &mut State,
    now: Instant,
) -> Result<Body, ApiError> {
    match action {
        "CopyImage" => ops_images::copy_image(params, state, now),
        "DescribeImages" => ops_images::describe_images(params, state, now),
        "CancelCopyImage" => ops_images::cancel_copy_image(params, state, now),
        "DeleteImage" => ops_images::delete_image(params, state, now),
        "ModifyImageAttribute" => ops_images::modify_image_attribute(params, state, now),
        "DeleteSnapshot" => ops_images::delete_snapshot(params, state, now),
        "DescribeRegions" => Ok(ops_images::describe_regions(state)),
        "TagResources" => ops_tags::tag_resources(params, state, now),
        "UntagResources" => ops_tags::untag_resources(params, state, now),
        "ListTagResources" => ops_tags::list_tag_resources(params, state, now),
        _ => Err(unknown_action()),
    }
}

pub(crate) fn unknown_action() -> ApiError {
    ApiError::new(
        404,
        "InvalidAction.NotFound",
        "Specified api is not found, please check your url and method.",
    )
}

/// `RegionId`, which must be one the emulator knows.
pub(crate) fn region<'a>(params: &Params<'a>, state: &State) -> Result<&'a str, ApiError> {
    let region = params.required("RegionId")?;
    if !state.has_region(region) {
        return Err(ApiError::region_not_found());
    }
    Ok(region)
}
