//! `TF::Alicloud::ImageCopy` (seeds 001 and 002): the CloudFormation registry type published
//! after Terraform's `alicloud_image_copy`. The copy is made in the provider's region.

use std::sync::OnceLock;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::duration::parse_duration;
use super::schema_check::{is_valid, supported};
use super::spec::{CopyField, CopySpec, Flavour, Tag};
use super::validate::{
    cached_schema, duplicate_tag_keys, kms_requires_encryption, str_of, Context, Prepared,
};
use super::violation::{show_value, Violation};

use super::rules::{
    no_link_prefix, no_reserved_prefix, tag_key_rules, tag_value_rules, DURATION_PATTERN,
    IMAGE_ID_PATTERN, IMAGE_NAME_PATTERN, REGION_ID_MAX_LENGTH, REGION_ID_PATTERN,
};

/// Copies an ECS custom image from a source region into the provider's region.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "TF::Alicloud::ImageCopy")]
pub struct TfProperties {
    /// The source image ID.
    #[serde(rename = "SourceImageId")]
    #[schemars(regex(pattern = IMAGE_ID_PATTERN))]
    pub source_image_id: String,

    /// The ID of the region to which the source custom image belongs.
    #[serde(rename = "SourceRegionId")]
    #[schemars(regex(pattern = REGION_ID_PATTERN), length(max = REGION_ID_MAX_LENGTH))]
    pub source_region_id: String,

    /// The image name: 2 to 128 characters, starting with a letter or Chinese character;
    /// letters, digits, '.', ':', '_', '-'; not starting with http://, https://, acs: or aliyun.
    #[serde(rename = "ImageName", default)]
    #[schemars(length(min = 2, max = 128), regex(pattern = IMAGE_NAME_PATTERN), transform = no_reserved_prefix)]
    pub image_name: Option<String>,

    /// Deprecated alias of ImageName.
    #[serde(rename = "Name", default)]
    #[schemars(length(min = 2, max = 128), regex(pattern = IMAGE_NAME_PATTERN), transform = no_reserved_prefix)]
    pub name: Option<String>,

    /// The description of the image: 2 to 256 characters, not starting with http:// or https://.
    #[serde(rename = "Description", default)]
    #[schemars(length(min = 2, max = 256), transform = no_link_prefix)]
    pub description: Option<String>,

    /// Indicates whether to encrypt the image.
    #[serde(rename = "Encrypted", default)]
    pub encrypted: Option<bool>,

    /// Key ID used to encrypt the image; requires Encrypted to be true.
    #[serde(rename = "KmsKeyId", default)]
    #[schemars(length(min = 1, max = 256))]
    pub kms_key_id: Option<String>,

    /// The tags of the image, at most 20, keys unique.
    #[serde(rename = "Tags", default)]
    #[schemars(length(max = 20))]
    pub tags: Option<Vec<TagsDefinition>>,

    /// Whether to force delete the custom image even if instances use it. Default false.
    #[serde(rename = "Force", default)]
    pub force: Option<bool>,

    /// Whether to delete the copy's snapshots together with the image. Default false.
    #[serde(rename = "DeleteAutoSnapshot", default)]
    pub delete_auto_snapshot: Option<bool>,

    /// Create and delete timeouts, 10m each by default.
    #[serde(rename = "Timeouts", default)]
    pub timeouts: Option<TimeoutsDefinition>,

    /// Internal identifier for tracking resource changes. Do not use.
    #[serde(rename = "tfcfnid", default)]
    #[allow(dead_code)] // declared for the schema; validation refuses it as input
    pub tfcfnid: Option<String>,

    /// The ID of the image copy.
    #[serde(rename = "Id", default)]
    #[allow(dead_code)] // declared for the schema; validation refuses it as input
    pub id: Option<String>,

    /// The ID of the image copy.
    #[serde(rename = "ImageId", default)]
    #[allow(dead_code)] // declared for the schema; validation refuses it as input
    pub image_id: Option<String>,
}

/// One tag of the image.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsDefinition {
    /// Tag key: 1 to 128 characters, not starting with aliyun or acs:, no http:// or https://.
    #[serde(rename = "MapKey")]
    #[schemars(length(min = 1, max = 128), transform = tag_key_rules)]
    pub map_key: String,

    /// Tag value: up to 128 characters, may be empty, not starting with acs:, no http:// or
    /// https://.
    #[serde(rename = "MapValue")]
    #[schemars(length(max = 128), transform = tag_value_rules)]
    pub map_value: String,
}

/// Terraform timeouts: duration strings such as 10m or 1h30m.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsDefinition {
    /// How long to wait for the copy to become Available. Default 10m.
    #[serde(rename = "Create", default)]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub create: Option<String>,

    /// How long to wait for the image to be deleted. Default 10m.
    #[serde(rename = "Delete", default)]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub delete: Option<String>,
}

/// The property that carries a copy field, if this type has one. Those properties cannot
/// change without a new copy (Terraform's ForceNew): the schema's `createOnlyProperties` and
/// the registry handler's NotUpdatable rule both come from here. The destination is the
/// provider's region, not a property; the type has no resource group or same-region switch.
pub const fn property_for(field: CopyField) -> Option<&'static str> {
    match field {
        CopyField::SourceImageId => Some("SourceImageId"),
        CopyField::SourceRegionId => Some("SourceRegionId"),
        CopyField::Encrypted => Some("Encrypted"),
        CopyField::KmsKeyId => Some("KmsKeyId"),
        CopyField::DestinationRegionId
        | CopyField::ResourceGroupId
        | CopyField::AllowCopyInSameRegion => None,
    }
}

/// The create-only properties, in [`CopyField::ALL`] order.
pub fn create_only() -> Vec<&'static str> {
    CopyField::ALL
        .into_iter()
        .filter_map(property_for)
        .collect()
}

/// The attributes (`Fn::GetAtt` names) the handler fills in; a template cannot set them.
/// `tfcfnid` (what `Ref` returns) carries the region as well as the image id, so READ,
/// UPDATE and DELETE find the copy from it alone.
pub const READ_ONLY_PROPERTIES: &[&str] = &["tfcfnid", "Id", "ImageId"];

/// Properties the handler cannot read back from ECS, so READ never returns them (the contract
/// tests compare everything else READ returns with what was set).
/// Encrypted and KmsKeyId are create-only and ECS does not report the key a copy was made
/// with; Name is the alias READ answers as ImageName; the rest live nowhere in ECS.
pub const WRITE_ONLY_PROPERTIES: &[&str] = &[
    "Name",
    "Encrypted",
    "KmsKeyId",
    "Force",
    "DeleteAutoSnapshot",
    "Timeouts",
];

/// The property `Ref` returns and the registry identifies the resource by.
pub const PRIMARY_IDENTIFIER: &str = "tfcfnid";

/// The registry type's configuration (`SetTypeConfiguration`, once per account and region):
/// the Alibaba Cloud credentials the copies are made with and the provider region they go
/// to. No patterns on the credentials: a dynamic reference (`{{resolve:...}}`) stands in for
/// them until CloudFormation resolves it.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "TF::Alicloud::ImageCopy type configuration",
    description = "Alibaba Cloud credentials and the provider region the copies are made in. \
                   Pass AccessKeySecret (and SecurityToken) as a dynamic reference such as \
                   {{resolve:secretsmanager:alicloud-imagecopy:SecretString:AccessKeySecret}}."
)]
pub struct TypeConfiguration {
    /// The AccessKey ID of a RAM user (or of STS credentials) allowed the ECS actions of
    /// templates/ram-policy.json.
    #[serde(rename = "AccessKeyId")]
    #[schemars(length(min = 1, max = 128))]
    pub access_key_id: String,

    /// The AccessKey secret. Use a dynamic reference to a Secrets Manager secret; the
    /// handler never logs or returns it.
    #[serde(rename = "AccessKeySecret")]
    #[schemars(length(min = 1, max = 256))]
    pub access_key_secret: String,

    /// The STS security token, for temporary credentials only; empty means none.
    #[serde(rename = "SecurityToken", default)]
    #[schemars(length(max = 4096))]
    pub security_token: Option<String>,

    /// The provider region: where the copies are made, e.g. cn-shanghai.
    #[serde(rename = "RegionId")]
    #[schemars(regex(pattern = REGION_ID_PATTERN), length(max = REGION_ID_MAX_LENGTH))]
    pub region_id: String,
}

impl std::fmt::Debug for TypeConfiguration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret and the token stay out of every log line and error.
        f.debug_struct("TypeConfiguration")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("region_id", &self.region_id)
            .finish()
    }
}

/// Terraform's default for both timeouts.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The copy lands in the provider region; it must be configured and well formed.
pub(crate) fn prepare(ctx: &Context, out: &mut Vec<Violation>) -> Prepared {
    let mut prepared = Prepared::default();
    match &ctx.configured_region_id {
        None => out.push(Violation::new(
            "ALIBABA_CLOUD_REGION_ID",
            "must be set: TF::Alicloud::ImageCopy copies into the provider region",
        )),
        Some(region) => {
            if region_rule_accepts(region) {
                prepared.destination_region_id = Some(region.clone());
            } else {
                out.push(Violation::new(
                    "ALIBABA_CLOUD_REGION_ID",
                    format!(
                        "must be a region id such as cn-hangzhou (the provider region the copy \
                         is made in), got {}",
                        show_value(&Value::String(region.clone()))
                    ),
                ));
            }
        }
    }
    prepared
}

/// The provider region obeys the schema's rule for `SourceRegionId`, read from the schema.
fn region_rule_accepts(region: &str) -> bool {
    let rule = &cached_schema(Flavour::Tf)["properties"]["SourceRegionId"];
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| supported(rule, rule).is_ok())
        && is_valid(rule, &Value::String(region.to_string()))
}

pub(crate) fn check_relations(
    props: &Map<String, Value>,
    prepared: &Prepared,
    schema_failed: &dyn Fn(&str) -> bool,
    out: &mut Vec<Violation>,
) {
    kms_requires_encryption(props, "KmsKeyId", out);
    duplicate_tag_keys(props, "Tags", "MapKey", out);
    if let (Some(name), Some(image_name)) = (str_of(props, "Name"), str_of(props, "ImageName")) {
        if name != image_name {
            out.push(Violation::new(
                "Name",
                format!(
                    "is the deprecated alias of ImageName and differs from it (\"{image_name}\"); \
                     set only ImageName"
                ),
            ));
        }
    }
    if let (Some(source), Some(destination)) = (
        str_of(props, "SourceRegionId"),
        prepared.destination_region_id.as_deref(),
    ) {
        if !schema_failed("SourceRegionId") && source == destination {
            out.push(Violation::new(
                "SourceRegionId",
                format!(
                    "must differ from the provider region \"{destination}\" \
                     (ALIBABA_CLOUD_REGION_ID), which TF::Alicloud::ImageCopy copies into"
                ),
            ));
        }
    }
    for field in ["Create", "Delete"] {
        let path = format!("Timeouts.{field}");
        if schema_failed(&path) {
            continue;
        }
        let text = props
            .get("Timeouts")
            .and_then(|t| t.get(field))
            .and_then(Value::as_str);
        if let Some(Err(e)) = text.map(parse_duration) {
            out.push(Violation::new(path, e.to_string()));
        }
    }
}

pub(crate) fn normalize(
    props: Map<String, Value>,
    prepared: &Prepared,
) -> Result<CopySpec, serde_json::Error> {
    use serde::de::Error as _;
    let p: TfProperties = serde_json::from_value(Value::Object(props))?;
    let timeout_or_default = |field: &str, text: Option<&String>| match text {
        None => Ok(DEFAULT_TIMEOUT),
        Some(text) => parse_duration(text)
            .map_err(|e| serde_json::Error::custom(format!("Timeouts.{field}: {e}"))),
    };
    let timeouts = p.timeouts.as_ref();
    let create_timeout = timeout_or_default("Create", timeouts.and_then(|t| t.create.as_ref()))?;
    let delete_timeout = timeout_or_default("Delete", timeouts.and_then(|t| t.delete.as_ref()))?;
    let destination_region_id = prepared
        .destination_region_id
        .clone()
        .ok_or_else(|| serde_json::Error::missing_field("ALIBABA_CLOUD_REGION_ID"))?;
    Ok(CopySpec {
        source_image_id: p.source_image_id,
        source_region_id: p.source_region_id,
        destination_region_id,
        image_name: p.image_name.or(p.name),
        description: p.description,
        encrypted: p.encrypted.unwrap_or(false),
        kms_key_id: p.kms_key_id,
        resource_group_id: None,
        tags: p
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| Tag {
                key: t.map_key,
                value: t.map_value,
            })
            .collect(),
        allow_copy_in_same_region: false,
        force_delete: p.force.unwrap_or(false),
        delete_auto_snapshot: p.delete_auto_snapshot.unwrap_or(false),
        create_timeout,
        delete_timeout,
        updatable_in_place: true,
    })
}
