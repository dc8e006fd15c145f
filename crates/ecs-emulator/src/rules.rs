//! Value rules ECS enforces on names, descriptions and tags: the model's documented rules
//! (the `ecs-api-rules` crate, where each is quoted from the API reference), so that the emulator
//! refuses exactly what the handler's validation refuses. The operations turn a refusal into
//! ECS's own codes (`InvalidImageName.Malformed`, `InvalidTagKey.Malformed`, ...).

pub(crate) use ecs_api_rules::{
    description_is_valid, image_name_is_valid, tag_key_is_valid, tag_value_is_valid,
};
