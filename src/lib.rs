//! ecs-image-copy: copy Alibaba Cloud ECS custom images between regions on behalf of
//! ROS and CloudFormation stacks.
//!
//! Data flows one way through layers that each have one job:
//! event envelope → validated [`model::CopySpec`] → [`ecs`] calls → outcome → callback.

pub mod callback;
pub mod ecs;
pub mod emulator;
pub mod envelope;
pub mod lifecycle;
pub mod model;
pub mod tls;
