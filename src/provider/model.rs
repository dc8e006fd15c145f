//! The resource model as the protocol carries it, and how it maps to ECS and back.
//!
//! The copies this type manages carry one tag of their own, added at CopyImage:
//! key [`MANAGED_TAG_KEY`], value `SOURCE_REGION/SOURCE_IMAGE`. LIST finds copies by its key,
//! READ gives the source back from its value, and it is hidden from the model's `Tags`.
//! In-place tag updates never remove it (they only touch the keys the user gave).

use serde_json::{json, Map, Value};

// Read-only properties are the handler's outputs, never inputs: the schema's list.
use crate::ecs::{Image, Tag as EcsTag};
use crate::lifecycle::PhysicalId;
use crate::model::TF_READ_ONLY_PROPERTIES as READ_ONLY;
use crate::model::{self, Context, CopySpec, Flavour, Violation, Violations, TF_DEFAULT_TIMEOUT};

/// Marks an image as a `TF::Alicloud::ImageCopy` copy; its value records the source.
pub const MANAGED_TAG_KEY: &str = "ecs-image-copy:TF::Alicloud::ImageCopy";
/// ECS allows 20 tags on an image; one is the managed tag.
pub const MAX_USER_TAGS: usize = 19;

/// The input properties of a model: every property but the read-only ones.
pub fn input_properties(model: Option<&Value>) -> Map<String, Value> {
    let mut props = model
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for key in READ_ONLY {
        props.remove(*key);
    }
    props
}

/// The physical id the model's primary identifier names, if it names one of ours.
pub fn primary_identifier(model: Option<&Value>) -> Option<PhysicalId> {
    let id = model?.get("tfcfnid")?.as_str()?;
    PhysicalId::parse(id).filter(|id| id.region_id.is_some())
}

/// Validates the input properties for a copy into `region_id`. Primitives sent as strings
/// (`"true"`) are read as the schema's type; the model itself is left as sent.
pub fn validate(props: &Map<String, Value>, region_id: &str) -> Result<CopySpec, Violations> {
    let ctx = Context {
        stack_region_id: None,
        configured_region_id: Some(region_id.to_string()),
        default_timeout: TF_DEFAULT_TIMEOUT,
    };
    let spec = model::validate(Flavour::Tf, &Value::Object(props.clone()), &ctx)?;
    if spec.tags.len() > MAX_USER_TAGS {
        return Err(Violations(vec![Violation::new(
            "Tags",
            format!("must hold at most {MAX_USER_TAGS} tags: ECS allows 20 and one records the copy ({MANAGED_TAG_KEY})"),
        )]));
    }
    Ok(spec)
}

pub fn managed_tag(spec: &CopySpec) -> EcsTag {
    EcsTag::new(
        MANAGED_TAG_KEY,
        format!("{}/{}", spec.source_region_id, spec.source_image_id),
    )
}

pub fn is_managed(image: &Image) -> bool {
    image.tags.iter().any(|t| t.key == MANAGED_TAG_KEY)
}

/// A model as sent, with the identifiers added.
pub fn echo(props: &Map<String, Value>, physical_id: &str, image_id: &str) -> Value {
    let mut model = props.clone();
    model.insert("tfcfnid".into(), Value::String(physical_id.to_string()));
    // `ImageId` too: the schema declares it (the custom resource's attribute), so a template
    // may `Fn::GetAtt` it.
    model.insert("Id".into(), Value::String(image_id.to_string()));
    model.insert("ImageId".into(), Value::String(image_id.to_string()));
    Value::Object(model)
}

/// The model ECS tells: what READ and LIST answer. Properties ECS cannot tell back are the
/// schema's `writeOnlyProperties`.
pub fn from_image(image: &Image) -> Value {
    let physical_id = PhysicalId::format(Some(&image.region_id), &image.image_id);
    let mut model = Map::new();
    model.insert("tfcfnid".into(), json!(physical_id));
    model.insert("Id".into(), json!(image.image_id));
    model.insert("ImageId".into(), json!(image.image_id));
    if let Some(source) = image.tags.iter().find(|t| t.key == MANAGED_TAG_KEY) {
        if let Some((region, source_image)) = source.value.split_once('/') {
            model.insert("SourceRegionId".into(), json!(region));
            model.insert("SourceImageId".into(), json!(source_image));
        }
    }
    if let Some(name) = &image.image_name {
        model.insert("ImageName".into(), json!(name));
    }
    if let Some(description) = &image.description {
        model.insert("Description".into(), json!(description));
    }
    let tags: Vec<Value> = image
        .tags
        .iter()
        .filter(|t| t.key != MANAGED_TAG_KEY)
        .map(|t| json!({"MapKey": t.key, "MapValue": t.value}))
        .collect();
    if !tags.is_empty() {
        model.insert("Tags".into(), Value::Array(tags));
    }
    Value::Object(model)
}

/// The copy as ECS has it, in spec form: the "old" side of an in-place update.
pub fn spec_from_image(image: &Image, new: &CopySpec) -> CopySpec {
    CopySpec {
        image_name: image.image_name.clone(),
        description: image.description.clone(),
        tags: image
            .tags
            .iter()
            .filter(|t| t.key != MANAGED_TAG_KEY)
            .map(|t| model::Tag {
                key: t.key.clone(),
                value: t.value.clone(),
            })
            .collect(),
        ..new.clone()
    }
}

/// The names of the create-only properties whose values differ, booleans compared by value.
pub fn changed_create_only(old: &CopySpec, new: &CopySpec) -> Vec<&'static str> {
    old.changed_copy_fields(new)
        .into_iter()
        .filter_map(model::tf_property_for)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::ImageStatus;

    #[test]
    fn stringified_booleans_validate_and_the_echo_keeps_them_as_sent() {
        let props = input_properties(Some(&json!({
            "SourceImageId": "m-bp1abc", "SourceRegionId": "cn-hangzhou",
            "Encrypted": "false", "Force": "true", "tfcfnid": "cn-shanghai/m-x"
        })));
        let spec = validate(&props, "cn-shanghai").unwrap();
        assert!(spec.force_delete && !spec.encrypted);
        let model = echo(&props, "cn-shanghai/m-new", "m-new");
        assert_eq!(model["Force"], "true");
        assert_eq!(model["tfcfnid"], "cn-shanghai/m-new");
        assert_eq!(model["Id"], "m-new");
        assert_eq!(
            model["ImageId"], "m-new",
            "the schema's attribute for Fn::GetAtt"
        );
    }

    #[test]
    fn twenty_user_tags_are_one_too_many() {
        let tags: Vec<Value> = (0..20)
            .map(|i| json!({"MapKey": format!("k{i}"), "MapValue": "v"}))
            .collect();
        let props = input_properties(Some(&json!({
            "SourceImageId": "m-bp1abc", "SourceRegionId": "cn-hangzhou", "Tags": tags
        })));
        let error = validate(&props, "cn-shanghai").unwrap_err();
        assert!(error.to_string().contains("Tags"), "{error}");
    }

    #[test]
    fn the_managed_tag_gives_the_source_back_and_stays_hidden() {
        let image = Image {
            image_id: "m-copy".into(),
            image_name: Some("web".into()),
            description: None,
            status: ImageStatus::Available,
            progress: Some(100),
            usable: Some(true),
            region_id: "cn-shanghai".into(),
            snapshot_ids: vec![],
            tags: vec![
                EcsTag::new(MANAGED_TAG_KEY, "cn-hangzhou/m-src"),
                EcsTag::new("team", "a"),
            ],
            creation_time: None,
        };
        assert_eq!(
            from_image(&image),
            json!({"tfcfnid": "cn-shanghai/m-copy", "Id": "m-copy", "ImageId": "m-copy", "SourceRegionId": "cn-hangzhou",
                   "SourceImageId": "m-src", "ImageName": "web", "Tags": [{"MapKey": "team", "MapValue": "a"}]})
        );
        assert!(primary_identifier(Some(&json!({"tfcfnid": "m-copy"}))).is_none());
    }
}
