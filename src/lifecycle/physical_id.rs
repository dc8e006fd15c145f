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
                (is_region_id(region) && is_image_id(image)).then(|| PhysicalId {
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

/// `m-` and 1 to 62 lowercase letters or digits: every image id ECS hands out.
fn is_image_id(text: &str) -> bool {
    text.strip_prefix("m-").is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 62
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// The shape of the schemas' region rule (`^[a-z]{2,}(-[a-z0-9]+)+$`, at most 64 bytes),
/// checked by hand: this runs before anything else on every Delete.
pub fn is_region_id(text: &str) -> bool {
    let mut parts = text.split('-');
    let first = parts.next().unwrap_or_default();
    let mut rest = parts.peekable();
    text.len() <= 64
        && first.len() >= 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && rest.peek().is_some()
        && rest.all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}
