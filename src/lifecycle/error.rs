//! Why a lifecycle step failed, in words a template author can act on.

use std::time::Duration;

use crate::ecs::EcsError;
use crate::model::CopySpec;

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("{step} failed: {source}")]
    Ecs {
        step: &'static str,
        #[source]
        source: EcsError,
    },
    #[error(
        "the copy {image_id} in {region} ended in status {status}; the failed copy was removed"
    )]
    CopyFailed {
        image_id: String,
        region: String,
        status: String,
    },
    #[error("the copy {image_id} disappeared from {region} while being waited for (cancelled outside the stack?)")]
    Vanished { image_id: String, region: String },
    #[error(
        "the copy {image_id} did not finish within the {limit}: {progress}; the copy was cancelled"
    )]
    CopyTimedOut {
        image_id: String,
        limit: String,
        progress: String,
    },
    #[error("the image {image_id} was not deleted within the delete timeout of {timeout:?}")]
    DeleteTimedOut { image_id: String, timeout: Duration },
    #[error(
        "the replacement would copy into {region} under the name {name:?}, which the image being replaced \
         ({old_image_id}) still holds until the stack deletes it; give the image a new name \
         (as CloudFormation requires for custom-named resources that are replaced)"
    )]
    NameCollision {
        name: String,
        region: String,
        old_image_id: String,
    },
    #[error(
        "the source image {image_id} in {region} stayed busy with another copy (to another region \
         or for another stack) for as long as this copy could wait (ECS runs one copy of an image at a time). \
         Retry the stack operation later: {source}"
    )]
    SourceBusy {
        image_id: String,
        region: String,
        #[source]
        source: EcsError,
    },
    #[error("the source image {image_id} is not present in {region}")]
    SourceMissing { image_id: String, region: String },
    #[error("{0}")]
    Internal(String),
    #[error("the copy {image_id} is still under way ({progress}) and could not be handed over to a new invocation: {detail}")]
    HandOverFailed {
        image_id: String,
        progress: String,
        detail: String,
    },
    #[error("{context}; additionally, cleaning up {image_id} failed and it may need to be removed by hand: {cleanup}")]
    CleanupFailed {
        context: Box<LifecycleError>,
        image_id: String,
        cleanup: Box<LifecycleError>,
    },
}

impl LifecycleError {
    /// CopyImage's failure; a source still busy when time ran out says so in plain words.
    pub(super) fn from_copy_image(spec: &CopySpec, source: EcsError) -> LifecycleError {
        let busy = matches!(source, EcsError::DeadlineExceeded { .. })
            && source.last_answer().code() == Some("OperationDenied.ImageCopying");
        if busy {
            LifecycleError::SourceBusy {
                image_id: spec.source_image_id.clone(),
                region: spec.source_region_id.clone(),
                source,
            }
        } else {
            LifecycleError::Ecs {
                step: "CopyImage",
                source,
            }
        }
    }

    pub(super) fn ecs(step: &'static str) -> impl FnOnce(EcsError) -> LifecycleError {
        move |source| LifecycleError::Ecs { step, source }
    }
}
