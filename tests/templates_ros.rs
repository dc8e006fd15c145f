//! ROS templates have no offline linter, so this is theirs: the format version, every `Ref` and
//! `Fn::GetAtt` pointing at something declared, and the image-copy properties — with each
//! parameter's default substituted — accepted by the same validation the handler runs.

use std::collections::BTreeSet;
use std::time::Duration;

use ecs_image_copy::handler::effective_properties;
use ecs_image_copy::model::{self, Context, Flavour};
use serde_json::{json, Map, Value};

const ROS_VERSION: &str = "2015-09-01";
/// Pseudo parameters every ROS stack has, with the literal used in place of each.
const PSEUDO_PARAMETERS: [(&str, &str); 6] = [
    ("ALIYUN::Region", "cn-hangzhou"),
    ("ALIYUN::StackName", "image-copy-demo"),
    ("ALIYUN::StackId", "7c2a5b1e-4f3d-4c2b-9a1e-0f1e2d3c4b5a"),
    ("ALIYUN::AccountId", "1234567890123456"),
    ("ALIYUN::TenantId", "1234567890123456"),
    ("ALIYUN::NoValue", ""),
];

fn load(name: &str) -> Value {
    let path = format!("{}/templates/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

fn section(template: &Value, key: &str) -> Map<String, Value> {
    template
        .get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Everything wrong with the template's structure, as readable lines.
fn structural_problems(template: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if template["ROSTemplateFormatVersion"] != ROS_VERSION {
        problems.push(format!("ROSTemplateFormatVersion must be {ROS_VERSION:?}"));
    }
    let parameters = section(template, "Parameters");
    let resources = section(template, "Resources");
    if resources.is_empty() {
        problems.push("Resources is empty".into());
    }
    for (name, resource) in &resources {
        if !resource["Type"].is_string() {
            problems.push(format!("resource {name} has no Type"));
        }
    }
    let declared: BTreeSet<&str> = parameters
        .keys()
        .chain(resources.keys())
        .map(String::as_str)
        .chain(PSEUDO_PARAMETERS.iter().map(|(n, _)| *n))
        .collect();
    for part in ["Resources", "Outputs"] {
        walk(&template[part], &mut |node| {
            if let Some(target) = node.get("Ref") {
                match target.as_str() {
                    Some(t) if declared.contains(t) => {}
                    _ => problems.push(format!("{part}: Ref {target} names nothing declared")),
                }
            }
            if let Some(get_att) = node.get("Fn::GetAtt") {
                match get_att.as_array().map(Vec::as_slice) {
                    Some([Value::String(r), Value::String(_)]) if resources.contains_key(r) => {}
                    _ => problems.push(format!(
                        "{part}: Fn::GetAtt {get_att} is not [declared resource, attribute]"
                    )),
                }
            }
        });
    }
    problems
}

fn walk(node: &Value, visit: &mut impl FnMut(&Map<String, Value>)) {
    match node {
        Value::Object(map) => {
            visit(map);
            map.values().for_each(|v| walk(v, visit));
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, visit)),
        _ => {}
    }
}

/// Replaces each `Ref` by a literal: the parameter's default (typed as the stack engine
/// would pass it) or the pseudo parameter's stand-in.
fn substitute(node: &Value, parameters: &Map<String, Value>) -> Value {
    match node {
        Value::Object(map) if map.len() == 1 && map.contains_key("Ref") => {
            let name = map["Ref"].as_str().unwrap_or_default();
            if let Some((_, literal)) = PSEUDO_PARAMETERS.iter().find(|(n, _)| *n == name) {
                return json!(literal);
            }
            let parameter = &parameters[name];
            let default = parameter
                .get("Default")
                .unwrap_or_else(|| panic!("parameter {name} needs a Default to be checked"));
            match (parameter["Type"].as_str(), default) {
                (Some("Boolean"), Value::String(s)) => json!(s.eq_ignore_ascii_case("true")),
                (Some("Number"), Value::String(s)) => {
                    serde_json::from_str(s).unwrap_or_else(|_| default.clone())
                }
                _ => default.clone(),
            }
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, parameters)))
                .collect(),
        ),
        Value::Array(items) => items.iter().map(|v| substitute(v, parameters)).collect(),
        other => other.clone(),
    }
}

/// Validates every copy in the template, native or routed through the function.
fn copy_problems(template: &Value) -> Vec<String> {
    let parameters = section(template, "Parameters");
    let ctx = Context {
        stack_region_id: Some("cn-hangzhou".into()),
        configured_region_id: None,
        default_timeout: Duration::from_secs(600),
    };
    let mut problems = Vec::new();
    let mut copies = 0;
    for (name, resource) in section(template, "Resources") {
        let properties = substitute(&resource["Properties"], &parameters);
        let (flavour, properties) = match resource["Type"].as_str() {
            Some(Flavour::ROS_TYPE) => (Flavour::Ros, properties),
            Some("ALIYUN::ROS::CustomResource") => {
                if !properties["ServiceToken"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("acs:fc:"))
                {
                    problems.push(format!(
                        "{name}: ServiceToken is not a Function Compute ARN"
                    ));
                }
                // ROS waits only `Timeout` (default 60 s) and does not send it: the template
                // must set it and pass the same value down for the function to answer by.
                let passed_down = &properties["Parameters"]["Timeout"];
                if properties["Timeout"].is_null() || properties["Timeout"] != *passed_down {
                    problems.push(format!(
                        "{name}: Timeout must be set and passed down as Parameters.Timeout"
                    ));
                }
                if let Err(violations) = model::engine_limits(&properties) {
                    problems.push(format!("{name}: {violations}"));
                }
                let inner = effective_properties(&properties);
                match model::detect_flavour(&inner) {
                    Some(flavour) => (flavour, inner),
                    None => {
                        problems.push(format!("{name}: the parameters identify no copy type"));
                        continue;
                    }
                }
            }
            _ => continue,
        };
        copies += 1;
        if let Err(violations) = model::validate(flavour, &properties, &ctx) {
            problems.push(format!("{name}: {violations}"));
        }
    }
    if copies == 0 {
        problems.push("no image copy in the template".into());
    }
    let outputs_image_id = section(template, "Outputs").values().any(|output| {
        matches!(output["Value"]["Fn::GetAtt"].as_array().map(Vec::as_slice),
            Some([_, Value::String(a)]) if a == "ImageId")
    });
    if !outputs_image_id {
        problems.push("no output of Fn::GetAtt [.., ImageId]".into());
    }
    problems
}

/// The RAM policy document users grant: not a template, checked by `tests/ram_policy.rs`.
const RAM_POLICY: &str = "ram-policy.json";

fn declares_copy(template: &Value) -> bool {
    section(template, "Resources").values().any(|r| {
        matches!(
            r["Type"].as_str(),
            Some(Flavour::ROS_TYPE | "ALIYUN::ROS::CustomResource")
        )
    })
}

/// A template without a copy must be the function's role: a RAM role Function Compute may
/// assume, granted exactly the shipped policy document, its ARN an output.
fn role_problems(template: &Value) -> Vec<String> {
    let policy = load(RAM_POLICY);
    let mut problems = Vec::new();
    let roles: Vec<(String, Value)> = section(template, "Resources")
        .into_iter()
        .filter(|(_, r)| r["Type"] == "ALIYUN::RAM::Role")
        .collect();
    if roles.is_empty() {
        problems.push("neither an image copy nor the function's RAM role".into());
    }
    for (name, role) in &roles {
        let properties = &role["Properties"];
        let trusts_fc = properties["AssumeRolePolicyDocument"]["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| {
                s["Effect"] == "Allow"
                    && s["Action"] == "sts:AssumeRole"
                    && s["Principal"]["Service"]
                        .as_array()
                        .is_some_and(|v| v.contains(&json!("fc.aliyuncs.com")))
            });
        if !trusts_fc {
            problems.push(format!("{name}: Function Compute may not assume it"));
        }
        let documents: Vec<&Value> = properties["Policies"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| &p["PolicyDocument"])
            .collect();
        if documents != [&policy] {
            problems.push(format!(
                "{name}: its policies are not exactly templates/{RAM_POLICY}: {documents:?}"
            ));
        }
        let output = section(template, "Outputs")
            .values()
            .any(|o| o["Value"]["Fn::GetAtt"] == json!([name, "Arn"]));
        if !output {
            problems.push(format!("{name}: no output of its Arn"));
        }
    }
    problems
}

fn all_problems(template: &Value) -> Vec<String> {
    let mut problems = structural_problems(template);
    if declares_copy(template) {
        problems.extend(copy_problems(template));
    } else {
        problems.extend(role_problems(template));
    }
    problems
}

#[test]
fn native_copy_image_template_is_sound() {
    let problems = all_problems(&load("ros-copy-image.json"));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn custom_resource_template_routes_a_valid_copy_to_function_compute() {
    let template = load("ros-custom-resource.json");
    let problems = all_problems(&template);
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(
        template["Resources"]["Copy"]["Type"],
        "ALIYUN::ROS::CustomResource"
    );
}

#[test]
fn every_ros_template_in_the_directory_is_checked() {
    let dir = format!("{}/templates", env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name == RAM_POLICY {
                continue;
            }
            let problems = all_problems(&load(&name));
            assert!(problems.is_empty(), "{name}: {problems:#?}");
            checked += 1;
        }
    }
    assert!(checked >= 3, "found {checked} ROS templates");
}

#[test]
fn function_role_template_grants_exactly_the_shipped_policy() {
    let template = load("ros-function-role.json");
    let problems = all_problems(&template);
    assert!(problems.is_empty(), "{problems:#?}");

    let mut wider = template.clone();
    wider["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        [0]["Action"]
        .as_array_mut()
        .unwrap()
        .push(json!("ecs:*"));
    assert!(role_problems(&wider)
        .iter()
        .any(|p| p.contains("not exactly")));

    let mut untrusted = template.clone();
    untrusted["Resources"]["FunctionRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        [0]["Principal"]["Service"] = json!(["ecs.aliyuncs.com"]);
    assert!(role_problems(&untrusted)
        .iter()
        .any(|p| p.contains("may not assume")));

    let mut nothing = template;
    nothing["Resources"]["FunctionRole"]["Type"] = json!("ALIYUN::RAM::User");
    assert!(!all_problems(&nothing).is_empty());
}

#[test]
fn broken_templates_are_caught() {
    let good = load("ros-copy-image.json");

    let mut wrong_version = good.clone();
    wrong_version["ROSTemplateFormatVersion"] = json!("2010-09-09");
    assert!(all_problems(&wrong_version)
        .iter()
        .any(|p| p.contains("ROSTemplateFormatVersion")));

    let mut dangling_ref = good.clone();
    dangling_ref["Resources"]["Copy"]["Properties"]["ImageId"] = json!({"Ref": "SourceImage"});
    assert!(structural_problems(&dangling_ref)
        .iter()
        .any(|p| p.contains("SourceImage")));

    let mut dangling_get_att = good.clone();
    dangling_get_att["Outputs"]["ImageId"]["Value"] = json!({"Fn::GetAtt": ["Kopy", "ImageId"]});
    assert!(structural_problems(&dangling_get_att)
        .iter()
        .any(|p| p.contains("Kopy")));

    let mut bad_name = good.clone();
    bad_name["Parameters"]["DestinationImageName"]["Default"] = json!("http://not-a-name");
    let problems = copy_problems(&bad_name);
    assert!(
        problems.iter().any(|p| p.contains("DestinationImageName")),
        "{problems:#?}"
    );

    let mut missing_region = load("ros-custom-resource.json");
    missing_region["Resources"]["Copy"]["Properties"]["Parameters"]
        .as_object_mut()
        .unwrap()
        .remove("DestinationRegionId");
    let problems = copy_problems(&missing_region);
    assert!(
        problems.iter().any(|p| p.contains("identify no copy type")),
        "{problems:#?}"
    );

    let mut timeout_kept_from_the_function = load("ros-custom-resource.json");
    timeout_kept_from_the_function["Resources"]["Copy"]["Properties"]["Parameters"]
        .as_object_mut()
        .unwrap()
        .remove("Timeout");
    let problems = copy_problems(&timeout_kept_from_the_function);
    assert!(
        problems.iter().any(|p| p.contains("passed down")),
        "{problems:#?}"
    );
}
