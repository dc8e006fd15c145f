//! ecs-image-copy: copy Alibaba Cloud ECS custom images between regions on behalf of
//! ROS and CloudFormation stacks.
//!
//! Data flows one way through layers that each have one job:
//! event envelope → validated [`model::CopySpec`] → [`ecs`] calls → outcome → callback.

pub mod aws;
pub mod callback;
pub mod cli;
pub mod ecs;
pub mod envelope;
pub mod handler;
pub mod handover;
pub mod lambda;
pub mod lifecycle;
pub mod logging;
pub mod model;
pub mod provider;
pub mod redact;
pub mod retry;
pub mod serve;
pub mod settings;
pub mod tls;

#[cfg(test)]
mod test_env;

#[cfg(test)]
mod layering_tests;
