//! Resource models: the two property shapes, their generated registry schemas, and the
//! validation that turns raw properties into a [`CopySpec`].
//!
//! `schema/` holds the generated registry schemas; regenerate them with
//! `cargo run -- schema` (or `UPDATE_SCHEMA=1 cargo test --test model_schema`).

mod duration;
mod engine;
mod lenient;
mod ros;
// The documented ECS parameter rules live in their own crate, shared with the emulator.
pub use ecs_api_rules as rules;
mod schema;
mod schema_check;
mod spec;
mod tf;
mod validate;
mod violation;

use serde_json::{Map, Value};

pub use duration::{parse_duration, DurationError};
pub use engine::{
    engine_limits, EngineLimits, CLOUDFORMATION_DEFAULT_WAIT, ENGINE_KEYS, ROS_TIMEOUT,
    SERVICE_TIMEOUT,
};
pub use lenient::{delete_spec, guess_flavour};
pub use schema::{registry_schema, render as render_schema, schema_file_name, write_schemas};
pub use schema::{MUTATING_HANDLER_TIMEOUT_MINUTES, READING_HANDLER_TIMEOUT_MINUTES};
pub use spec::{CopyField, CopySpec, Flavour, Tag};
pub use tf::{
    create_only as tf_create_only, property_for as tf_property_for, TypeConfiguration,
    DEFAULT_TIMEOUT as TF_DEFAULT_TIMEOUT, PRIMARY_IDENTIFIER as TF_PRIMARY_IDENTIFIER,
    READ_ONLY_PROPERTIES as TF_READ_ONLY_PROPERTIES,
    WRITE_ONLY_PROPERTIES as TF_WRITE_ONLY_PROPERTIES,
};
pub use validate::{detect_flavour, validate, Context};
pub use violation::{Violation, Violations};

/// The response attributes (`Fn::GetAtt` names) of a finished copy whose image is `image_id`.
pub fn attributes(flavour: Flavour, spec: &CopySpec, image_id: &str) -> Map<String, Value> {
    let mut data = Map::new();
    let mut put = |k: &str, v: &str| {
        data.insert(k.to_string(), Value::String(v.to_string()));
    };
    match flavour {
        Flavour::Ros => {
            put("ImageId", image_id);
            put("SourceRegionId", &spec.source_region_id);
            put("DestinationRegionId", &spec.destination_region_id);
        }
        Flavour::Tf => {
            put("Id", image_id);
            put("ImageId", image_id);
        }
    }
    data
}
