//! One small pure function per ECS operation: typed arguments → action parameters.
//! Common parameters (signature, nonce, ...) are added later by [`super::request`].

use super::types::{ImageStatus, Tag};

pub const TAGS_PER_CALL: usize = 20;

/// Every ECS action the client can send. Each request builder below starts from one of these,
/// so this list is the client's whole footprint: the RAM policy users grant
/// (`templates/ram-policy.json`) is tested against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    CopyImage,
    DescribeImages,
    CancelCopyImage,
    DeleteImage,
    ModifyImageAttribute,
    TagResources,
    UntagResources,
    DeleteSnapshot,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::CopyImage,
        Action::DescribeImages,
        Action::CancelCopyImage,
        Action::DeleteImage,
        Action::ModifyImageAttribute,
        Action::TagResources,
        Action::UntagResources,
        Action::DeleteSnapshot,
    ];

    /// The `Action` parameter, which is also the RAM action after `ecs:`.
    pub const fn name(self) -> &'static str {
        match self {
            Action::CopyImage => "CopyImage",
            Action::DescribeImages => "DescribeImages",
            Action::CancelCopyImage => "CancelCopyImage",
            Action::DeleteImage => "DeleteImage",
            Action::ModifyImageAttribute => "ModifyImageAttribute",
            Action::TagResources => "TagResources",
            Action::UntagResources => "UntagResources",
            Action::DeleteSnapshot => "DeleteSnapshot",
        }
    }

    /// `DeleteSnapshot` declares no `RegionId` (the snapshot id alone names it; see the
    /// official SDK's `DeleteSnapshotRequest`, which has none); every other action requires it.
    pub const fn takes_region_id(self) -> bool {
        !matches!(self, Action::DeleteSnapshot)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub action: &'static str,
    /// Picks the endpoint; also sent as `RegionId` when `sends_region_id`.
    pub region_id: String,
    pub sends_region_id: bool,
    pub params: Vec<(String, String)>,
}

impl Operation {
    fn new(action: Action, region_id: &str) -> Self {
        Operation {
            action: action.name(),
            region_id: region_id.to_string(),
            sends_region_id: action.takes_region_id(),
            params: Vec::new(),
        }
    }

    fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((key.into(), value.into()));
        self
    }

    fn with_opt(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }

    fn with_tags(mut self, tags: &[Tag]) -> Self {
        for (index, tag) in tags.iter().enumerate() {
            let n = index + 1;
            self.params.push((format!("Tag.{n}.Key"), tag.key.clone()));
            self.params
                .push((format!("Tag.{n}.Value"), tag.value.clone()));
        }
        self
    }
}

fn bool_text(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopyImageRequest {
    pub source_region_id: String,
    pub image_id: String,
    pub destination_region_id: String,
    pub destination_image_name: Option<String>,
    pub destination_description: Option<String>,
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub resource_group_id: Option<String>,
    pub tags: Vec<Tag>,
    /// Makes a retried CopyImage return the first copy instead of starting another.
    pub client_token: Option<String>,
}

/// The region of CopyImage is the source's; the destination is a parameter.
pub fn copy_image(req: &CopyImageRequest) -> Operation {
    let mut op = Operation::new(Action::CopyImage, &req.source_region_id)
        .with("ImageId", &req.image_id)
        .with("DestinationRegionId", &req.destination_region_id)
        .with_opt(
            "DestinationImageName",
            req.destination_image_name.as_deref(),
        )
        .with_opt(
            "DestinationDescription",
            req.destination_description.as_deref(),
        )
        .with_opt("KMSKeyId", req.kms_key_id.as_deref())
        .with_opt("ResourceGroupId", req.resource_group_id.as_deref())
        .with_opt("ClientToken", req.client_token.as_deref())
        .with_tags(&req.tags);
    if let Some(encrypted) = req.encrypted {
        op = op.with("Encrypted", bool_text(encrypted));
    }
    op
}

pub fn describe_image(region_id: &str, image_id: &str) -> Operation {
    Operation::new(Action::DescribeImages, region_id)
        .with("ImageId", image_id)
        .with("Status", ImageStatus::ALL_FILTER)
        .with("ImageOwnerAlias", "self")
}

/// One page of the account's own images in `region_id` (any status) that carry the tag
/// key `tag_key`, newest first.
pub fn list_images_tagged(
    region_id: &str,
    tag_key: &str,
    page_number: u32,
    page_size: u32,
) -> Operation {
    Operation::new(Action::DescribeImages, region_id)
        .with("Status", ImageStatus::ALL_FILTER)
        .with("ImageOwnerAlias", "self")
        .with("Tag.1.Key", tag_key)
        .with("PageNumber", page_number.to_string())
        .with("PageSize", page_size.to_string())
}

/// Region is the destination: the copy task lives there.
pub fn cancel_copy_image(region_id: &str, image_id: &str) -> Operation {
    Operation::new(Action::CancelCopyImage, region_id).with("ImageId", image_id)
}

pub fn delete_image(region_id: &str, image_id: &str, force: bool) -> Operation {
    Operation::new(Action::DeleteImage, region_id)
        .with("ImageId", image_id)
        .with("Force", bool_text(force))
}

pub fn modify_image_attribute(
    region_id: &str,
    image_id: &str,
    name: Option<&str>,
    description: Option<&str>,
) -> Operation {
    Operation::new(Action::ModifyImageAttribute, region_id)
        .with("ImageId", image_id)
        .with_opt("ImageName", name)
        .with_opt("Description", description)
}

/// ECS accepts at most 20 tags per call: one operation per chunk.
pub fn tag_resources(region_id: &str, image_id: &str, tags: &[Tag]) -> Vec<Operation> {
    tags.chunks(TAGS_PER_CALL)
        .map(|chunk| {
            Operation::new(Action::TagResources, region_id)
                .with("ResourceType", "image")
                .with("ResourceId.1", image_id)
                .with_tags(chunk)
        })
        .collect()
}

pub fn untag_resources(region_id: &str, image_id: &str, keys: &[String]) -> Vec<Operation> {
    keys.chunks(TAGS_PER_CALL)
        .map(|chunk| {
            let mut op = Operation::new(Action::UntagResources, region_id)
                .with("ResourceType", "image")
                .with("ResourceId.1", image_id);
            for (index, key) in chunk.iter().enumerate() {
                op = op.with(format!("TagKey.{}", index + 1), key);
            }
            op
        })
        .collect()
}

/// `region_id` only picks the endpoint (the snapshot's region): the action has no `RegionId`.
pub fn delete_snapshot(region_id: &str, snapshot_id: &str, force: bool) -> Operation {
    Operation::new(Action::DeleteSnapshot, region_id)
        .with("SnapshotId", snapshot_id)
        .with("Force", bool_text(force))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(op: &Operation) -> Vec<(&str, &str)> {
        op.params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn copy_image_minimal_omits_unset_fields() {
        let op = copy_image(&CopyImageRequest {
            source_region_id: "cn-hangzhou".into(),
            image_id: "m-src".into(),
            destination_region_id: "cn-shanghai".into(),
            ..Default::default()
        });
        assert_eq!(op.action, "CopyImage");
        assert_eq!(op.region_id, "cn-hangzhou");
        assert_eq!(
            pairs(&op),
            [("ImageId", "m-src"), ("DestinationRegionId", "cn-shanghai")]
        );
    }

    #[test]
    fn copy_image_full_maps_every_field() {
        let op = copy_image(&CopyImageRequest {
            source_region_id: "cn-hangzhou".into(),
            image_id: "m-src".into(),
            destination_region_id: "cn-shanghai".into(),
            destination_image_name: Some("copy".into()),
            destination_description: Some("desc".into()),
            encrypted: Some(true),
            kms_key_id: Some("key-1".into()),
            resource_group_id: Some("rg-1".into()),
            tags: vec![Tag::new("a", "1"), Tag::new("b", "")],
            client_token: Some("tok-1".into()),
        });
        assert_eq!(
            pairs(&op),
            [
                ("ImageId", "m-src"),
                ("DestinationRegionId", "cn-shanghai"),
                ("DestinationImageName", "copy"),
                ("DestinationDescription", "desc"),
                ("KMSKeyId", "key-1"),
                ("ResourceGroupId", "rg-1"),
                ("ClientToken", "tok-1"),
                ("Tag.1.Key", "a"),
                ("Tag.1.Value", "1"),
                ("Tag.2.Key", "b"),
                ("Tag.2.Value", ""),
                ("Encrypted", "true"),
            ]
        );
        let unencrypted = copy_image(&CopyImageRequest {
            encrypted: Some(false),
            ..Default::default()
        });
        assert!(pairs(&unencrypted).contains(&("Encrypted", "false")));
    }

    #[test]
    fn describe_image_asks_for_every_status_of_own_images() {
        let op = describe_image("cn-shanghai", "m-1");
        assert_eq!(op.action, "DescribeImages");
        assert_eq!(
            pairs(&op),
            [
                ("ImageId", "m-1"),
                (
                    "Status",
                    "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated"
                ),
                ("ImageOwnerAlias", "self"),
            ]
        );
    }

    #[test]
    fn simple_operations() {
        assert_eq!(
            pairs(&cancel_copy_image("cn-shanghai", "m-1")),
            [("ImageId", "m-1")]
        );
        assert_eq!(
            pairs(&delete_image("r", "m-1", true)),
            [("ImageId", "m-1"), ("Force", "true")]
        );
        assert_eq!(
            pairs(&delete_snapshot("r", "s-1", false)),
            [("SnapshotId", "s-1"), ("Force", "false")]
        );
        assert_eq!(
            pairs(&modify_image_attribute("r", "m-1", Some("n"), None)),
            [("ImageId", "m-1"), ("ImageName", "n")]
        );
        assert_eq!(
            pairs(&modify_image_attribute("r", "m-1", None, Some("d"))),
            [("ImageId", "m-1"), ("Description", "d")]
        );
    }

    #[test]
    fn every_builder_uses_a_listed_action_and_only_delete_snapshot_omits_the_region() {
        let built = [
            copy_image(&CopyImageRequest {
                source_region_id: "r".into(),
                ..Default::default()
            }),
            describe_image("r", "m-1"),
            cancel_copy_image("r", "m-1"),
            delete_image("r", "m-1", false),
            modify_image_attribute("r", "m-1", None, None),
            tag_resources("r", "m-1", &[Tag::new("k", "v")]).remove(0),
            untag_resources("r", "m-1", &["k".to_string()]).remove(0),
            delete_snapshot("r", "s-1", true),
        ];
        let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        let used: Vec<&str> = built.iter().map(|op| op.action).collect();
        assert_eq!(used, names, "one builder per listed action, in list order");
        for op in &built {
            assert_eq!(op.sends_region_id, op.action != "DeleteSnapshot", "{op:?}");
            assert_eq!(op.region_id, "r", "{op:?}");
        }
    }

    #[test]
    fn tags_are_chunked_by_twenty() {
        let tags: Vec<Tag> = (1..=45)
            .map(|i| Tag::new(format!("k{i}"), format!("v{i}")))
            .collect();
        let ops = tag_resources("r", "m-1", &tags);
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[0].params.len(), 2 + 40);
        assert_eq!(ops[2].params.len(), 2 + 10);
        assert!(pairs(&ops[1]).contains(&("Tag.1.Key", "k21")));
        assert!(pairs(&ops[1]).contains(&("Tag.20.Value", "v40")));
        assert!(pairs(&ops[2]).contains(&("ResourceId.1", "m-1")));
        assert!(tag_resources("r", "m-1", &[]).is_empty());

        let keys: Vec<String> = (1..=21).map(|i| format!("k{i}")).collect();
        let ops = untag_resources("r", "m-1", &keys);
        assert_eq!(ops.len(), 2);
        assert!(pairs(&ops[0]).contains(&("TagKey.20", "k20")));
        assert_eq!(
            pairs(&ops[1]),
            [
                ("ResourceType", "image"),
                ("ResourceId.1", "m-1"),
                ("TagKey.1", "k21")
            ]
        );
    }
}
