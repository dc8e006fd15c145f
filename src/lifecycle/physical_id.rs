//! The physical resource id the stack keeps for a copy, and the one rule that says whether an
//! id can name an image this handler made.
//!
//! `TF::Alicloud::ImageCopy` copies into the provider region, which is read from the
//! environment at each event and may change between Create and Delete; its properties do not
//! say where the copy is. The stack keeps nothing but the physical id, so that id carries the
//! region: `cn-shanghai/m-bp1...`. `ALIYUN::ECS::CopyImage` names its `DestinationRegionId`
//! (create-only) in its properties, so its id stays the plain image id, as `Ref` users expect.
//! Plain ids from earlier versions are still read: their region comes from the properties or
//! the environment, as it did then.

use crate::model::rules::{image_id_may_name_a_copy as is_image_id, region_id_is_valid};

/// The parts of a physical id this handler made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhysicalId {
    /// Where the copy was made, when the id records it.
    pub region_id: Option<String>,
    pub image_id: String,
}

impl PhysicalId {
    /// `None` for every id this handler cannot have made: the failed-create marker, another
    /// tool's ids (cfn-response's log-stream names, UUIDs), empty or oversized ones.
    pub fn parse(physical_id: &str) -> Option<PhysicalId> {
        match physical_id.split_once('/') {
            None => is_image_id(physical_id).then(|| PhysicalId {
                region_id: None,
                image_id: physical_id.to_string(),
            }),
            Some((region, image)) => {
                (region_id_is_valid(region) && is_image_id(image)).then(|| PhysicalId {
                    region_id: Some(region.to_string()),
                    image_id: image.to_string(),
                })
            }
        }
    }

    /// The id for a copy: region-qualified when the region is to be recorded.
    pub fn format(region_id: Option<&str>, image_id: &str) -> String {
        match region_id {
            Some(region) => format!("{region}/{image_id}"),
            None => image_id.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_qualified_and_plain_ids_round_trip() {
        let id = PhysicalId::format(Some("cn-shanghai"), "m-bp1abc");
        assert_eq!(id, "cn-shanghai/m-bp1abc");
        assert_eq!(
            PhysicalId::parse(&id),
            Some(PhysicalId {
                region_id: Some("cn-shanghai".into()),
                image_id: "m-bp1abc".into()
            })
        );
        assert_eq!(PhysicalId::format(None, "m-bp1abc"), "m-bp1abc");
        assert_eq!(
            PhysicalId::parse("m-bp1abc").unwrap().region_id,
            None,
            "ids from earlier versions still parse"
        );
    }

    #[test]
    fn ids_of_other_tools_are_foreign() {
        for id in [
            "ecs-image-copy:create-failed",
            "2026/11/23/[$LATEST]ab12cd34",
            "c3a9e0f2-1b7d-4e8a-9f00-2b1c3d4e5f60",
            "",
            "/m-abcde",
            "cn-shanghai/",
            "cn-shanghai/m-abcde/x",
            "CN-SHANGHAI/m-abcde",
            "cn-shanghai/m-ABCDE",
            "cn-shanghai//m-abcde",
            "m-",
            "cn-/m-abcde",
            "c-x/m-abcde",
            &format!("cn-shanghai/m-{}", "a".repeat(63)),
            &format!("{}/m-abcde", "a".repeat(300)),
        ] {
            assert!(PhysicalId::parse(id).is_none(), "{id:?}");
        }
        for id in ["m-bp1h46wfpjsjastc1234", "m-abc", "ap-southeast-1/m-abcde"] {
            assert!(PhysicalId::parse(id).is_some(), "{id:?}");
        }
    }
}
