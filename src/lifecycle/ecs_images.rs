//! The ECS operations the lifecycle needs, and no more: [`EcsClient`] makes them over HTTP;
//! the unit tests' in-memory fake (`fake.rs`) makes them in microseconds.
//!
//! The lifecycle is generic over this trait rather than holding a `&dyn`: every call stays a
//! direct, inlinable call on the real client, and no future is boxed.

use std::future::Future;

use tokio::time::Instant;

use crate::ecs::{CopyImageRequest, EcsClient, EcsError, Image, Tag};

/// Every future is `Send`: the handler runs the lifecycle as a task of its own.
pub trait EcsImages: Sync {
    /// Starts the copy; the new image's id in the destination region.
    fn copy_image(
        &self,
        request: &CopyImageRequest,
        deadline: Instant,
    ) -> impl Future<Output = Result<String, EcsError>> + Send;

    /// Any status; `None` when ECS does not list the image.
    fn describe_image(
        &self,
        region_id: &str,
        image_id: &str,
        deadline: Instant,
    ) -> impl Future<Output = Result<Option<Image>, EcsError>> + Send;

    fn cancel_copy_image(
        &self,
        region_id: &str,
        image_id: &str,
        deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send;

    fn delete_image(
        &self,
        region_id: &str,
        image_id: &str,
        force: bool,
        deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send;

    fn delete_snapshot(
        &self,
        region_id: &str,
        snapshot_id: &str,
        force: bool,
        deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send;

    fn modify_image_attribute(
        &self,
        region_id: &str,
        image_id: &str,
        name: Option<&str>,
        description: Option<&str>,
        deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send;

    fn tag_resources(
        &self,
        region_id: &str,
        image_id: &str,
        tags: &[Tag],
        deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send;

    fn untag_resources(
        &self,
        region_id: &str,
        image_id: &str,
        keys: &[String],
        deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send;
}

impl EcsImages for EcsClient {
    fn copy_image(
        &self,
        request: &CopyImageRequest,
        deadline: Instant,
    ) -> impl Future<Output = Result<String, EcsError>> + Send {
        EcsClient::copy_image(self, request, deadline)
    }

    fn describe_image(
        &self,
        region_id: &str,
        image_id: &str,
        deadline: Instant,
    ) -> impl Future<Output = Result<Option<Image>, EcsError>> + Send {
        EcsClient::describe_image(self, region_id, image_id, deadline)
    }

    fn cancel_copy_image(
        &self,
        region_id: &str,
        image_id: &str,
        deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send {
        EcsClient::cancel_copy_image(self, region_id, image_id, deadline)
    }

    fn delete_image(
        &self,
        region_id: &str,
        image_id: &str,
        force: bool,
        deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send {
        EcsClient::delete_image(self, region_id, image_id, force, deadline)
    }

    fn delete_snapshot(
        &self,
        region_id: &str,
        snapshot_id: &str,
        force: bool,
        deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send {
        EcsClient::delete_snapshot(self, region_id, snapshot_id, force, deadline)
    }

    fn modify_image_attribute(
        &self,
        region_id: &str,
        image_id: &str,
        name: Option<&str>,
        description: Option<&str>,
        deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send {
        EcsClient::modify_image_attribute(self, region_id, image_id, name, description, deadline)
    }

    fn tag_resources(
        &self,
        region_id: &str,
        image_id: &str,
        tags: &[Tag],
        deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send {
        EcsClient::tag_resources(self, region_id, image_id, tags, deadline)
    }

    fn untag_resources(
        &self,
        region_id: &str,
        image_id: &str,
        keys: &[String],
        deadline: Instant,
    ) -> impl Future<Output = Result<(), EcsError>> + Send {
        EcsClient::untag_resources(self, region_id, image_id, keys, deadline)
    }
}
