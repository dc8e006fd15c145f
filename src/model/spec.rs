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

/// What ECS fixes when it makes a copy: a change to any of these needs a new copy, never an
/// edit. The one list behind the lifecycle's "same copy?" test, the registry handler's
/// NotUpdatable rule and the TF schema's `createOnlyProperties` (each flavour names the
/// properties that carry these fields: [`super::tf::property_for`]; every ROS property is
/// create-only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyField {
    SourceImageId,
    SourceRegionId,
    DestinationRegionId,
    Encrypted,
    KmsKeyId,
    ResourceGroupId,
    AllowCopyInSameRegion,
}

impl CopyField {
    pub const ALL: [CopyField; 7] = [
        CopyField::SourceImageId,
        CopyField::SourceRegionId,
        CopyField::DestinationRegionId,
        CopyField::Encrypted,
        CopyField::KmsKeyId,
        CopyField::ResourceGroupId,
        CopyField::AllowCopyInSameRegion,
    ];

    pub fn differs(self, old: &CopySpec, new: &CopySpec) -> bool {
        match self {
            CopyField::SourceImageId => old.source_image_id != new.source_image_id,
            CopyField::SourceRegionId => old.source_region_id != new.source_region_id,
            CopyField::DestinationRegionId => {
                old.destination_region_id != new.destination_region_id
            }
            CopyField::Encrypted => old.encrypted != new.encrypted,
            CopyField::KmsKeyId => old.kms_key_id != new.kms_key_id,
            CopyField::ResourceGroupId => old.resource_group_id != new.resource_group_id,
            CopyField::AllowCopyInSameRegion => {
                old.allow_copy_in_same_region != new.allow_copy_in_same_region
            }
        }
    }
}

impl CopySpec {
    /// A spec that says only where a copy is and how to remove it: no copy fields, no
    /// attributes, both timeouts `timeout`, no force, snapshots kept. What a Delete reads when
    /// the properties cannot be (fully) trusted; set the removal fields on top.
    pub fn for_removal(destination_region_id: String, timeout: Duration) -> CopySpec {
        CopySpec {
            source_image_id: String::new(),
            source_region_id: String::new(),
            destination_region_id,
            image_name: None,
            description: None,
            encrypted: false,
            kms_key_id: None,
            resource_group_id: None,
            tags: Vec::new(),
            allow_copy_in_same_region: false,
            force_delete: false,
            delete_auto_snapshot: false,
            create_timeout: timeout,
            delete_timeout: timeout,
            updatable_in_place: true,
        }
    }

    /// The [`CopyField`]s in which `new` differs from `self`, in [`CopyField::ALL`] order.
    pub fn changed_copy_fields(&self, new: &CopySpec) -> Vec<CopyField> {
        CopyField::ALL
            .into_iter()
            .filter(|field| field.differs(self, new))
            .collect()
    }

    /// Name, description and tags: what an in-place update may change.
    pub fn same_attributes(&self, other: &CopySpec) -> bool {
        (&self.image_name, &self.description, &self.tags)
            == (&other.image_name, &other.description, &other.tags)
    }

    /// True when no copy is made: the source image is the result and must never be deleted.
    pub fn is_same_region_no_copy(&self) -> bool {
        self.allow_copy_in_same_region && self.source_region_id == self.destination_region_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> CopySpec {
        CopySpec {
            source_image_id: "m-source01".into(),
            source_region_id: "cn-hangzhou".into(),
            image_name: Some("web".into()),
            ..CopySpec::for_removal("cn-shanghai".into(), Duration::from_secs(600))
        }
    }

    #[test]
    fn each_copy_field_is_told_apart_and_nothing_else_counts() {
        type Change = (CopyField, fn(&mut CopySpec));
        let changes: [Change; 7] = [
            (CopyField::SourceImageId, |s| {
                s.source_image_id = "m-other01".into()
            }),
            (CopyField::SourceRegionId, |s| {
                s.source_region_id = "cn-beijing".into()
            }),
            (CopyField::DestinationRegionId, |s| {
                s.destination_region_id = "cn-beijing".into()
            }),
            (CopyField::Encrypted, |s| s.encrypted = true),
            (CopyField::KmsKeyId, |s| s.kms_key_id = Some("key".into())),
            (CopyField::ResourceGroupId, |s| {
                s.resource_group_id = Some("rg-abcde".into())
            }),
            (CopyField::AllowCopyInSameRegion, |s| {
                s.allow_copy_in_same_region = true
            }),
        ];
        assert_eq!(
            changes.map(|(field, _)| field),
            CopyField::ALL,
            "every field, in list order"
        );
        for (field, change) in changes {
            let mut new = spec();
            change(&mut new);
            assert_eq!(spec().changed_copy_fields(&new), [field]);
        }
        let mut renamed = spec();
        renamed.image_name = Some("renamed".into());
        renamed.force_delete = true;
        assert!(spec().changed_copy_fields(&renamed).is_empty());
        assert!(!spec().same_attributes(&renamed));
        assert!(spec().same_attributes(&spec()));
    }
}
