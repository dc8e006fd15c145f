//! The reading of properties a Delete uses: only what says where the copy is and how to
//! remove it. A Delete acts on an image that a Create accepted; a rule added since, or a
//! property that does not change what is deleted, must not keep a stack from being deleted
//! (nor its rollback from succeeding).

use serde_json::{Map, Value};

use super::duration::parse_duration;
use super::spec::{CopySpec, Flavour};
use super::tf::DEFAULT_TIMEOUT;
use super::validate::{boolean_text, Context};
use super::violation::{show_value, Violation};
use crate::model::rules::region_id_is_valid as is_region_id;

/// Which flavour properties that full validation could not place are most likely written
/// for. A region-qualified physical id is only ever given to `TF::Alicloud::ImageCopy`.
pub fn guess_flavour(properties: &Value, id_records_region: bool) -> Option<Flavour> {
    let has = |k: &str| properties.get(k).is_some();
    if id_records_region {
        return Some(Flavour::Tf);
    }
    match (
        has("ImageId") || has("DestinationRegionId"),
        has("SourceImageId"),
    ) {
        (true, false) => Some(Flavour::Ros),
        (false, true) => Some(Flavour::Tf),
        _ => None,
    }
}

/// The spec a Delete of a copy needs: its region, `Force`, `DeleteAutoSnapshot` and the
/// delete timeout; the source image (for a same-region no-copy, which is never deleted).
/// Anything unreadable falls back to the default a Create would have applied, except the
/// region: without it the copy cannot be found, and that is the one error.
pub fn delete_spec(
    flavour: Flavour,
    properties: &Value,
    ctx: &Context,
) -> Result<CopySpec, Violation> {
    let empty = Map::new();
    let props = properties.as_object().unwrap_or(&empty);
    let text = |key: &str| props.get(key).and_then(Value::as_str).map(str::to_string);
    let flag = |key: &str| match props.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => boolean_text(s).unwrap_or(false),
        _ => false,
    };
    let region_shaped = |r: &String| is_region_id(r);
    let source_image_id = text(match flavour {
        Flavour::Ros => "ImageId",
        Flavour::Tf => "SourceImageId",
    })
    .unwrap_or_default();
    let base = CopySpec {
        source_image_id,
        updatable_in_place: flavour == Flavour::Tf,
        ..CopySpec::for_removal(String::new(), ctx.default_timeout)
    };
    match flavour {
        Flavour::Ros => {
            let destination = text("DestinationRegionId")
                .filter(region_shaped)
                .ok_or_else(|| {
                    Violation::new(
                        "DestinationRegionId",
                        format!(
                            "is needed to find the copy and must be a region id, got {}",
                            props
                                .get("DestinationRegionId")
                                .map_or("nothing".into(), show_value)
                        ),
                    )
                })?;
            let source_region = text("SourceRegionId")
                .or_else(|| ctx.stack_region_id.clone())
                .or_else(|| ctx.configured_region_id.clone())
                .unwrap_or_default();
            Ok(CopySpec {
                source_region_id: source_region,
                destination_region_id: destination,
                allow_copy_in_same_region: flag("AllowCopyInSameRegion"),
                ..base
            })
        }
        Flavour::Tf => {
            let destination = ctx
                .configured_region_id
                .clone()
                .filter(region_shaped)
                .ok_or_else(|| {
                    Violation::new(
                        "ALIBABA_CLOUD_REGION_ID",
                        "must be set to a region id to find the copy: its physical id predates \
                         region-qualified ids, so the copy is in the provider region",
                    )
                })?;
            let delete_timeout = props
                .get("Timeouts")
                .and_then(|t| t.get("Delete"))
                .and_then(Value::as_str)
                .and_then(|t| parse_duration(t).ok())
                .unwrap_or(DEFAULT_TIMEOUT);
            Ok(CopySpec {
                source_region_id: text("SourceRegionId").unwrap_or_default(),
                destination_region_id: destination,
                force_delete: flag("Force"),
                delete_auto_snapshot: flag("DeleteAutoSnapshot"),
                create_timeout: DEFAULT_TIMEOUT,
                delete_timeout,
                ..base
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::validate;
    use serde_json::json;

    fn ctx() -> Context {
        Context {
            stack_region_id: Some("cn-hangzhou".into()),
            configured_region_id: Some("cn-shanghai".into()),
            default_timeout: Duration::from_secs(3600),
        }
    }

    /// What a Delete reads from valid properties is what their validation says.
    #[test]
    fn valid_properties_read_the_same_as_validated() {
        let cases = [
            (
                Flavour::Tf,
                json!({"SourceImageId": "m-source01", "SourceRegionId": "cn-hangzhou",
                       "Force": "true", "DeleteAutoSnapshot": true,
                       "Timeouts": {"Delete": "25m"}, "ImageName": "web"}),
            ),
            (
                Flavour::Tf,
                json!({"SourceImageId": "m-source01", "SourceRegionId": "cn-hangzhou"}),
            ),
            (
                Flavour::Ros,
                json!({"ImageId": "m-source01", "DestinationRegionId": "cn-beijing",
                       "AllowCopyInSameRegion": "True"}),
            ),
        ];
        for (flavour, props) in cases {
            let full = validate(flavour, &props, &ctx()).unwrap();
            let lenient = delete_spec(flavour, &props, &ctx()).unwrap();
            let relevant = |s: &CopySpec| {
                (
                    s.source_image_id.clone(),
                    s.source_region_id.clone(),
                    s.destination_region_id.clone(),
                    s.allow_copy_in_same_region,
                    s.force_delete,
                    s.delete_auto_snapshot,
                    s.delete_timeout,
                )
            };
            assert_eq!(relevant(&lenient), relevant(&full), "{props}");
        }
    }

    #[test]
    fn rules_that_do_not_locate_the_copy_do_not_stop_a_delete() {
        let props = json!({"SourceImageId": "m-source01", "SourceRegionId": "cn-hangzhou",
            "ImageName": "1-starts-with-a-digit", "Bogus": 1, "Timeouts": {"Delete": "forever"},
            "DeleteAutoSnapshot": "yes"});
        let spec = delete_spec(Flavour::Tf, &props, &ctx()).unwrap();
        assert_eq!(spec.destination_region_id, "cn-shanghai");
        assert_eq!(spec.delete_timeout, DEFAULT_TIMEOUT);
        assert!(
            !spec.delete_auto_snapshot,
            "an unreadable flag keeps its default"
        );
    }

    #[test]
    fn without_a_region_the_delete_cannot_act_and_says_why() {
        let no_region = Context {
            configured_region_id: None,
            ..ctx()
        };
        let err = delete_spec(Flavour::Tf, &json!({}), &no_region).unwrap_err();
        assert_eq!(err.path, "ALIBABA_CLOUD_REGION_ID");
        let err =
            delete_spec(Flavour::Ros, &json!({"DestinationRegionId": 7}), &ctx()).unwrap_err();
        assert_eq!(err.path, "DestinationRegionId");
        assert!(err.rule.contains("got 7"), "{}", err.rule);
    }

    #[test]
    fn flavours_are_guessed_from_what_is_there() {
        assert_eq!(
            guess_flavour(&json!({"ImageId": 1}), false),
            Some(Flavour::Ros)
        );
        assert_eq!(
            guess_flavour(&json!({"SourceImageId": 1}), false),
            Some(Flavour::Tf)
        );
        assert_eq!(guess_flavour(&json!({}), true), Some(Flavour::Tf));
        assert_eq!(guess_flavour(&json!({}), false), None);
        assert_eq!(
            guess_flavour(&json!({"ImageId": 1, "SourceImageId": 2}), false),
            None
        );
    }
}
