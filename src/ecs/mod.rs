//! Alibaba Cloud ECS OpenAPI client (RPC style, signature v1), split by job like
//! smithy-rs aws-sigv4: encoding, signing, credentials, endpoints, transport, retries,
//! errors, types, one parameter builder per operation, and the client that ties them.
//! Knows nothing of stacks or resource models.

pub mod client;
pub mod credentials;
pub mod encode;
pub mod endpoint;
pub mod error;
pub mod ops;
pub mod request;
pub mod retry;
pub mod sign;
#[cfg(test)]
pub(crate) mod testing;
pub mod transport;
pub mod types;

#[cfg(test)]
mod test_vectors;

pub use client::EcsClient;
pub use credentials::{Credentials, CredentialsError};
pub use endpoint::{EndpointError, Endpoints};
pub use error::EcsError;
pub use ops::CopyImageRequest;
pub use retry::RetryPolicy;
pub use transport::{HttpRequest, HttpResponse, ReqwestTransport, Transport, TransportError};
pub use types::{Image, ImageStatus, Tag};
