//! The one copy specification every flavour normalises into. Everything past validation
//! works on this type and never on a flavour's raw properties.

use std::time::Duration;

/// Which resource type the properties came from. Only the response attributes and the
/// property names used in messages depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// `ALIYUN::ECS::CopyImage` (Alibaba ROS).
    Ros,
    /// `TF::Alicloud::ImageCopy` (CloudFormation registry type after Terraform's `alicloud_image_copy`).
    Tf,
}

impl Flavour {
    pub const ROS_TYPE: &'static str = "ALIYUN::ECS::CopyImage";
    pub const TF_TYPE: &'static str = "TF::Alicloud::ImageCopy";

    pub fn type_name(self) -> &'static str {
        match self {
            Flavour::Ros => Self::ROS_TYPE,
            Flavour::Tf => Self::TF_TYPE,
        }
    }

    pub fn from_type_name(name: &str) -> Option<Self> {
        match name {
            Self::ROS_TYPE => Some(Flavour::Ros),
            Self::TF_TYPE => Some(Flavour::Tf),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// A validated request to copy one image, with every default applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySpec {
    pub source_image_id: String,
    pub source_region_id: String,
    pub destination_region_id: String,
    pub image_name: Option<String>,
    pub description: Option<String>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub resource_group_id: Option<String>,
    /// In the order the template gave them; keys are unique.
    pub tags: Vec<Tag>,
    /// Regions equal and this set: no copy is made and the source image stands in for it.
    pub allow_copy_in_same_region: bool,
    /// `DeleteImage` with `Force=true` on delete.
    pub force_delete: bool,
    /// Delete the copy's snapshots after the image.
    pub delete_auto_snapshot: bool,
    pub create_timeout: Duration,
    pub delete_timeout: Duration,
    /// Whether name, description and tags may change without a new copy (TF flavour);
    /// otherwise every change means replacement (ROS flavour: nothing is editable).
    pub updatable_in_place: bool,
}

impl CopySpec {
    /// True when no copy is made: the source image is the result and must never be deleted.
    pub fn is_same_region_no_copy(&self) -> bool {
        self.allow_copy_in_same_region && self.source_region_id == self.destination_region_id
    }
}
