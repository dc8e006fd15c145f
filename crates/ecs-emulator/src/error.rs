//! The error answer ECS gives: an HTTP status plus `Code` and `Message` in the JSON body.

/// One ECS error answer. Codes and statuses follow the ECS API reference and the API gateway's
/// common errors, because clients (and the official SDKs) branch on them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn missing_parameter(name: &str) -> Self {
        Self::new(
            400,
            "MissingParameter",
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        )
    }

    pub fn invalid_parameter(name: &str, rule: &str) -> Self {
        Self::new(
            400,
            "InvalidParameter",
            format!("The specified parameter \"{name}\" is not valid: {rule}"),
        )
    }

    pub fn image_not_found() -> Self {
        Self::new(
            404,
            "InvalidImageId.NotFound",
            "The specified ImageId does not exist.",
        )
    }

    pub fn region_not_found() -> Self {
        Self::new(
            404,
            "InvalidRegionId.NotFound",
            "The specified RegionId does not exist.",
        )
    }

    pub fn incorrect_image_status() -> Self {
        Self::new(400, "IncorrectImageStatus", "The image not available.")
    }

    /// CopyImage of a source with a copy in flight; DeleteImage of a copying image.
    pub fn image_copying() -> Self {
        Self::new(403, "OperationDenied.ImageCopying", "The Image are coping.")
    }

    pub fn throttled() -> Self {
        Self::new(
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        )
    }

    pub fn internal_error() -> Self {
        Self::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        )
    }

    pub fn service_unavailable() -> Self {
        Self::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        )
    }
}
