//! What the client hands back, and the JSON shapes ECS answers with (`Images.Image[]`,
//! `Tags.Tag[]`: the XML heritage shows in the nesting).

use serde::{Deserialize, Deserializer};

/// The ECS module's own tag: independent of the resource models on purpose.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ImageStatus {
    Waiting,
    Creating,
    Available,
    UnAvailable,
    CreateFailed,
    Deprecated,
    /// A status this client does not know yet; kept verbatim for messages.
    Other(String),
}

impl ImageStatus {
    /// Every status DescribeImages can filter on; it hides all but `Available` unless
    /// asked, so a copy in progress would look absent without this list.
    pub const ALL_FILTER: &'static str =
        "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated";

    pub fn parse(text: &str) -> Self {
        match text {
            "Waiting" => ImageStatus::Waiting,
            "Creating" => ImageStatus::Creating,
            "Available" => ImageStatus::Available,
            "UnAvailable" => ImageStatus::UnAvailable,
            "CreateFailed" => ImageStatus::CreateFailed,
            "Deprecated" => ImageStatus::Deprecated,
            other => ImageStatus::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ImageStatus::Waiting => "Waiting",
            ImageStatus::Creating => "Creating",
            ImageStatus::Available => "Available",
            ImageStatus::UnAvailable => "UnAvailable",
            ImageStatus::CreateFailed => "CreateFailed",
            ImageStatus::Deprecated => "Deprecated",
            ImageStatus::Other(text) => text,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub image_id: String,
    pub image_name: Option<String>,
    pub description: Option<String>,
    pub status: ImageStatus,
    /// Percent complete, when ECS says.
    pub progress: Option<u8>,
    pub usable: Option<bool>,
    pub region_id: String,
    pub snapshot_ids: Vec<String>,
    pub tags: Vec<Tag>,
    pub creation_time: Option<String>,
}

/// ECS writes progress as `"45%"`, sometimes `"45"`, `""` before it starts, and some
/// tools write a bare number. Anything else is treated as unknown rather than an error:
/// progress is informational.
fn parse_progress(value: &serde_json::Value) -> Option<u8> {
    let number = match value {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => {
            let trimmed = s.trim();
            let digits = trimmed.strip_suffix('%').unwrap_or(trimmed).trim();
            if digits.is_empty() {
                return None;
            }
            digits.parse::<f64>().ok()?
        }
        _ => return None,
    };
    if !number.is_finite() || number < 0.0 {
        return None;
    }
    Some(number.min(100.0) as u8)
}

fn progress_field<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u8>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(parse_progress(&value))
}

// ---- wire shapes (crate-private) ----

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeImagesResponse {
    #[serde(default)]
    pub images: ImageList,
    #[serde(default)]
    pub total_count: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ImageList {
    #[serde(default)]
    pub image: Vec<WireImage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WireImage {
    pub image_id: String,
    pub image_name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default, deserialize_with = "progress_field")]
    pub progress: Option<u8>,
    pub usable: Option<bool>,
    pub creation_time: Option<String>,
    #[serde(default)]
    pub disk_device_mappings: DiskDeviceMappings,
    #[serde(default)]
    pub tags: WireTags,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DiskDeviceMappings {
    #[serde(default)]
    pub disk_device_mapping: Vec<DiskDeviceMapping>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DiskDeviceMapping {
    pub snapshot_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WireTags {
    #[serde(default)]
    pub tag: Vec<WireTag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WireTag {
    pub tag_key: String,
    #[serde(default)]
    pub tag_value: String,
}

impl WireImage {
    pub fn into_image(self, region_id: &str) -> Image {
        Image {
            image_id: self.image_id,
            image_name: self.image_name.filter(|s| !s.is_empty()),
            description: self.description.filter(|s| !s.is_empty()),
            status: ImageStatus::parse(&self.status),
            progress: self.progress,
            usable: self.usable,
            region_id: region_id.to_string(),
            snapshot_ids: self
                .disk_device_mappings
                .disk_device_mapping
                .into_iter()
                .filter_map(|m| m.snapshot_id.filter(|s| !s.is_empty()))
                .collect(),
            tags: self
                .tags
                .tag
                .into_iter()
                .map(|t| Tag::new(t.tag_key, t.tag_value))
                .collect(),
            creation_time: self.creation_time.filter(|s| !s.is_empty()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CopyImageResponse {
    pub image_id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Ignored {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn progress_accepts_every_shape_ecs_uses() {
        assert_eq!(parse_progress(&json!("45%")), Some(45));
        assert_eq!(parse_progress(&json!("45")), Some(45));
        assert_eq!(parse_progress(&json!(" 100% ")), Some(100));
        assert_eq!(parse_progress(&json!("")), None);
        assert_eq!(parse_progress(&json!(45)), Some(45));
        assert_eq!(parse_progress(&json!(45.7)), Some(45));
        assert_eq!(parse_progress(&json!(250)), Some(100));
        assert_eq!(parse_progress(&json!(-1)), None);
        assert_eq!(parse_progress(&json!("n/a")), None);
        assert_eq!(parse_progress(&json!(null)), None);
    }

    #[test]
    fn status_round_trips_and_keeps_unknown_text() {
        for text in ImageStatus::ALL_FILTER.split(',') {
            assert_eq!(ImageStatus::parse(text).as_str(), text);
            assert!(!matches!(ImageStatus::parse(text), ImageStatus::Other(_)));
        }
        assert_eq!(
            ImageStatus::parse("Importing"),
            ImageStatus::Other("Importing".into())
        );
    }

    #[test]
    fn describe_images_shape_maps_to_image() {
        let body = json!({
            "RequestId": "R",
            "TotalCount": 1, "PageNumber": 1, "PageSize": 10, "RegionId": "cn-shanghai",
            "Images": {"Image": [{
                "ImageId": "m-copy", "ImageName": "copy", "Description": "",
                "Status": "Creating", "Progress": "45%", "Usable": false,
                "CreationTime": "2024-05-06T07:08:09Z",
                "DiskDeviceMappings": {"DiskDeviceMapping": [
                    {"SnapshotId": "s-1", "Size": "40", "Device": "/dev/xvda"},
                    {"SnapshotId": "", "Device": "/dev/xvdb"}
                ]},
                "Tags": {"Tag": [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "k"}]}
            }]}
        });
        let parsed: DescribeImagesResponse = serde_json::from_value(body).unwrap();
        let image = parsed
            .images
            .image
            .into_iter()
            .next()
            .unwrap()
            .into_image("cn-shanghai");
        assert_eq!(
            image,
            Image {
                image_id: "m-copy".into(),
                image_name: Some("copy".into()),
                description: None,
                status: ImageStatus::Creating,
                progress: Some(45),
                usable: Some(false),
                region_id: "cn-shanghai".into(),
                snapshot_ids: vec!["s-1".into()],
                tags: vec![Tag::new("env", "prod"), Tag::new("k", "")],
                creation_time: Some("2024-05-06T07:08:09Z".into()),
            }
        );
    }

    #[test]
    fn empty_collections_may_be_missing() {
        let parsed: DescribeImagesResponse =
            serde_json::from_value(json!({"RequestId": "R", "Images": {}})).unwrap();
        assert!(parsed.images.image.is_empty());
    }
}
