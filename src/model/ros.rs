//! `ALIYUN::ECS::CopyImage` (Alibaba ROS, seed 000, with the CopyImage API rules of seed 004).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::spec::{CopySpec, Tag};
use super::validate::{duplicate_tag_keys, kms_requires_encryption, str_of, Context, Prepared};
use super::violation::Violation;

use super::rules::{
    no_link_prefix, no_reserved_prefix, tag_key_rules, tag_value_rules, IMAGE_ID_PATTERN,
    IMAGE_NAME_PATTERN, REGION_ID_MAX_LENGTH, REGION_ID_PATTERN, RESOURCE_GROUP_ID_PATTERN,
};

/// Copies an ECS custom image from one region to another (Alibaba ROS resource type).
/// Every property is create-only: any change replaces the copy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "ALIYUN::ECS::CopyImage")]
pub struct RosProperties {
    /// The ID of the source custom image.
    #[serde(rename = "ImageId")]
    #[schemars(regex(pattern = IMAGE_ID_PATTERN))]
    pub image_id: String,

    /// The ID of the region the copy is made in.
    #[serde(rename = "DestinationRegionId")]
    #[schemars(regex(pattern = REGION_ID_PATTERN), length(max = REGION_ID_MAX_LENGTH))]
    pub destination_region_id: String,

    /// The name of the copy: 2 to 128 characters, starting with a letter or Chinese character;
    /// letters, digits, '.', ':', '_', '-'; not starting with http://, https://, acs: or aliyun.
    #[serde(rename = "DestinationImageName", default)]
    #[schemars(length(min = 2, max = 128), regex(pattern = IMAGE_NAME_PATTERN), transform = no_reserved_prefix)]
    pub destination_image_name: Option<String>,

    /// The description of the copy: 2 to 256 characters, not starting with http:// or https://.
    #[serde(rename = "DestinationDescription", default)]
    #[schemars(length(min = 2, max = 256), transform = no_link_prefix)]
    pub destination_description: Option<String>,

    /// Whether to encrypt the copy. Default false.
    #[serde(rename = "Encrypted", default)]
    pub encrypted: Option<bool>,

    /// The KMS key that encrypts the copy; requires Encrypted to be true.
    #[serde(rename = "KMSKeyId", default)]
    #[schemars(length(min = 1, max = 256))]
    pub kms_key_id: Option<String>,

    /// The resource group of the copy; the account's default group when omitted.
    #[serde(rename = "ResourceGroupId", default)]
    #[schemars(regex(pattern = RESOURCE_GROUP_ID_PATTERN))]
    pub resource_group_id: Option<String>,

    /// Tags of the copy, at most 20, keys unique.
    #[serde(rename = "Tag", default)]
    #[schemars(length(max = 20))]
    pub tag: Option<Vec<RosTag>>,

    /// The region of the source image. Default: the stack's region.
    #[serde(rename = "SourceRegionId", default)]
    #[schemars(regex(pattern = REGION_ID_PATTERN), length(max = REGION_ID_MAX_LENGTH))]
    pub source_region_id: Option<String>,

    /// When true and the regions are equal, no copy is made: the source image is the result
    /// and is never deleted. Default false.
    #[serde(rename = "AllowCopyInSameRegion", default)]
    pub allow_copy_in_same_region: Option<bool>,
}

/// One tag of the copy.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Tag")]
pub struct RosTag {
    /// Tag key: 1 to 128 characters, not starting with aliyun or acs:, no http:// or https://.
    #[serde(rename = "Key")]
    #[schemars(length(min = 1, max = 128), transform = tag_key_rules)]
    pub key: String,

    /// Tag value: up to 128 characters, may be empty, not starting with acs:, no http:// or
    /// https://. Default empty.
    #[serde(rename = "Value", default)]
    #[schemars(length(max = 128), transform = tag_value_rules)]
    pub value: Option<String>,
}

/// Fills in `SourceRegionId` from the stack (or configured) region before schema validation,
/// so the default is checked by the same rule as a given value.
pub(crate) fn prepare(
    props: &mut Map<String, Value>,
    ctx: &Context,
    out: &mut Vec<Violation>,
) -> Prepared {
    let mut prepared = Prepared::default();
    if props.contains_key("SourceRegionId") {
        return prepared;
    }
    let default = match (&ctx.stack_region_id, &ctx.configured_region_id) {
        (Some(stack), _) => Some((stack, "the stack region")),
        (None, Some(configured)) => Some((configured, "ALIBABA_CLOUD_REGION_ID")),
        (None, None) => None,
    };
    match default {
        Some((region, origin)) => {
            props.insert("SourceRegionId".into(), Value::String(region.clone()));
            prepared.source_region_default = Some(origin);
        }
        None => out.push(Violation::new(
            "SourceRegionId",
            "is required: the stack region is unknown (no RegionId in the event) and \
             ALIBABA_CLOUD_REGION_ID is not set",
        )),
    }
    prepared
}

pub(crate) fn check_relations(
    props: &Map<String, Value>,
    schema_failed: &dyn Fn(&str) -> bool,
    out: &mut Vec<Violation>,
) {
    kms_requires_encryption(props, "KMSKeyId", out);
    duplicate_tag_keys(props, "Tag", "Key", out);
    let allow_same = props.get("AllowCopyInSameRegion").and_then(Value::as_bool) == Some(true);
    if let (Some(source), Some(destination)) = (
        str_of(props, "SourceRegionId"),
        str_of(props, "DestinationRegionId"),
    ) {
        let checked = !schema_failed("SourceRegionId") && !schema_failed("DestinationRegionId");
        if checked && source == destination && !allow_same {
            out.push(Violation::new(
                "DestinationRegionId",
                format!(
                    "must differ from the source region \"{source}\" unless \
                     AllowCopyInSameRegion is true"
                ),
            ));
        }
    }
}

pub(crate) fn normalize(
    props: Map<String, Value>,
    ctx: &Context,
) -> Result<CopySpec, serde_json::Error> {
    let p: RosProperties = serde_json::from_value(Value::Object(props))?;
    Ok(CopySpec {
        source_image_id: p.image_id,
        // `prepare` filled it in, or a violation stopped validation before here.
        source_region_id: p
            .source_region_id
            .ok_or_else(|| serde::de::Error::missing_field("SourceRegionId"))?,
        destination_region_id: p.destination_region_id,
        image_name: p.destination_image_name,
        description: p.destination_description,
        encrypted: p.encrypted.unwrap_or(false),
        kms_key_id: p.kms_key_id,
        resource_group_id: p.resource_group_id,
        tags: p
            .tag
            .unwrap_or_default()
            .into_iter()
            .map(|t| Tag {
                key: t.key,
                value: t.value.unwrap_or_default(),
            })
            .collect(),
        allow_copy_in_same_region: p.allow_copy_in_same_region.unwrap_or(false),
        force_delete: false,
        delete_auto_snapshot: false,
        create_timeout: ctx.default_timeout,
        delete_timeout: ctx.default_timeout,
        updatable_in_place: false,
    })
}
