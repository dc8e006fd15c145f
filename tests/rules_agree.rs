//! One rule per value kind, three places that apply it: the documented rule functions
//! (`model::rules`, each quoting the API reference), the handler's schema validation of both
//! resource types, and the emulator answering CopyImage over HTTP. For every value of a corpus
//! built around each rule's edges, all three must give the same verdict, so the emulator can
//! never be kinder (or harsher) than the validation users see.

mod emulator_support;

use std::time::Duration;

use ecs_emulator::EmulatorConfig;
use ecs_image_copy::model::rules::{
    description_is_valid, image_name_is_valid, tag_key_is_valid, tag_value_is_valid,
};
use ecs_image_copy::model::{validate, Context, Flavour};
use emulator_support::*;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy)]
enum Kind {
    ImageName,
    Description,
    TagKey,
    TagValue,
}

impl Kind {
    fn documented(self, value: &str) -> bool {
        match self {
            Kind::ImageName => image_name_is_valid(value),
            Kind::Description => description_is_valid(value),
            Kind::TagKey => tag_key_is_valid(value),
            Kind::TagValue => tag_value_is_valid(value),
        }
    }

    fn properties(self, flavour: Flavour, value: &str) -> Value {
        let mut props = match flavour {
            Flavour::Ros => {
                json!({"ImageId": "m-bp1h46wfpjsjastc", "DestinationRegionId": "cn-beijing"})
            }
            Flavour::Tf => {
                json!({"SourceImageId": "m-bp1h46wfpjsjastc", "SourceRegionId": "cn-hangzhou"})
            }
        };
        let (name, description, tags) = match flavour {
            Flavour::Ros => ("DestinationImageName", "DestinationDescription", "Tag"),
            Flavour::Tf => ("ImageName", "Description", "Tags"),
        };
        let (key, val) = match flavour {
            Flavour::Ros => ("Key", "Value"),
            Flavour::Tf => ("MapKey", "MapValue"),
        };
        match self {
            Kind::ImageName => props[name] = json!(value),
            Kind::Description => props[description] = json!(value),
            Kind::TagKey => props[tags] = json!([{ key: value, val: "v" }]),
            Kind::TagValue => props[tags] = json!([{ key: "k", val: value }]),
        }
        props
    }

    fn copy_params(self, value: &str) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("RegionId", "cn-hangzhou".to_string()),
            ("ImageId", HANGZHOU_IMAGE.to_string()),
            ("DestinationRegionId", "cn-shanghai".to_string()),
        ];
        match self {
            Kind::ImageName => params.push(("DestinationImageName", value.to_string())),
            Kind::Description => params.push(("DestinationDescription", value.to_string())),
            Kind::TagKey => {
                params.push(("Tag.1.Key", value.to_string()));
                params.push(("Tag.1.Value", "v".to_string()));
            }
            Kind::TagValue => {
                params.push(("Tag.1.Key", "k".to_string()));
                params.push(("Tag.1.Value", value.to_string()));
            }
        }
        params
    }

    /// The code ECS answers for a value this rule refuses.
    fn malformed_code(self) -> &'static str {
        match self {
            Kind::ImageName => "InvalidImageName.Malformed",
            Kind::Description => "InvalidDescription.Malformed",
            Kind::TagKey => "InvalidTagKey.Malformed",
            Kind::TagValue => "InvalidTagValue.Malformed",
        }
    }
}

fn ctx() -> Context {
    Context {
        stack_region_id: Some("cn-hangzhou".into()),
        configured_region_id: Some("cn-shanghai".into()),
        default_timeout: Duration::from_secs(3600),
    }
}

/// Values on both sides of every edge the rules draw: reserved prefixes in either case, links
/// at the start and further in (also after a line break), the CJK range's ends and
/// neighbours, characters outside the name set, and the length bounds.
fn corpus() -> Vec<String> {
    let heads = [
        "", "a", "Z", "1", "-", " ", "aliyun", "Aliyun", "ALIYUN", "acs:", "ACS:", "http://",
        "https://", "HTTP://", "\u{4e00}", "\u{9fa5}", "\u{9fa6}", "\u{3400}", "\u{4dff}", "é",
    ];
    let tails = [
        "",
        "b",
        "x-y.z:1_2",
        " see http://x",
        "\nhttps://y",
        "/p",
        "中文",
        "http:/",
    ];
    let mut values: Vec<String> = heads
        .iter()
        .flat_map(|h| tails.iter().map(move |t| format!("{h}{t}")))
        .collect();
    for n in [1, 2, 127, 128, 129, 255, 256, 257] {
        values.push(format!("a{}", "b".repeat(n - 1)));
        values.push("中".repeat(n));
    }
    values.sort();
    values.dedup();
    values
}

#[tokio::test]
async fn documented_rules_schema_validation_and_emulator_agree() {
    let config = EmulatorConfig {
        copy_duration: Duration::from_secs(3600),
        ..EmulatorConfig::default()
    };
    let (emulator, caller) = start(config).await;
    let values = corpus();
    let mut disagreements = Vec::new();
    let mut accepted_and_refused = [(0, 0); 4];
    for (slot, kind) in [
        Kind::ImageName,
        Kind::Description,
        Kind::TagKey,
        Kind::TagValue,
    ]
    .into_iter()
    .enumerate()
    {
        for value in &values {
            // An empty parameter is an absent one to ECS (and SDKs drop it); the schema keeps
            // its own word on an empty name or description.
            if value.is_empty() && matches!(kind, Kind::ImageName | Kind::Description) {
                continue;
            }
            let documented = kind.documented(value);
            if documented {
                accepted_and_refused[slot].0 += 1;
            } else {
                accepted_and_refused[slot].1 += 1;
            }
            for flavour in [Flavour::Ros, Flavour::Tf] {
                let schema = validate(flavour, &kind.properties(flavour, value), &ctx()).is_ok();
                if schema != documented {
                    disagreements.push(format!(
                        "{kind:?} {value:?}: rule {documented}, {flavour:?} validation {schema}"
                    ));
                }
            }
            let params = kind.copy_params(value);
            let borrowed: Vec<(&str, &str)> =
                params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let answer = caller.call("CopyImage", &borrowed).await;
            let emulator_accepts = answer.status == 200;
            if emulator_accepts != documented
                || (!emulator_accepts && answer.code() != kind.malformed_code())
            {
                disagreements.push(format!(
                    "{kind:?} {value:?}: rule {documented}, emulator {} {}",
                    answer.status,
                    answer.code()
                ));
            }
        }
    }
    emulator.shutdown().await;
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    // The corpus must exercise both verdicts of every rule, or agreement proves nothing.
    for (accepted, refused) in accepted_and_refused {
        assert!(accepted >= 10 && refused >= 10, "{accepted_and_refused:?}");
    }
}
