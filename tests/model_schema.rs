//! The committed `schema/` files are exactly what the types generate.
//! Regenerate with `cargo run -- schema`, or before the CLI exists:
//! `UPDATE_SCHEMA=1 cargo test --test model_schema`.

use std::path::Path;

use ecs_image_copy::model::{
    registry_schema, render_schema, schema_file_name, write_schemas, Flavour,
};

#[test]
fn committed_schemas_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        let written = write_schemas(&dir).expect("write schema/");
        eprintln!("regenerated {written:?}");
    }
    let mut stale = Vec::new();
    for flavour in [Flavour::Ros, Flavour::Tf] {
        let path = dir.join(schema_file_name(flavour));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != render_schema(&registry_schema(flavour)) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale or missing schema files: {stale:?}\nregenerate with `cargo run -- schema` \
         or `UPDATE_SCHEMA=1 cargo test --test model_schema`, then commit schema/"
    );
}

#[test]
fn registry_traits_follow_the_types() {
    let ros = registry_schema(Flavour::Ros);
    assert_eq!(ros["typeName"], "ALIYUN::ECS::CopyImage");
    assert_eq!(ros["additionalProperties"], false);
    assert_eq!(
        ros["required"],
        serde_json::json!(["ImageId", "DestinationRegionId"])
    );
    let props: Vec<String> = ros["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(props.len(), 10);
    let create_only = ros["createOnlyProperties"].as_array().unwrap();
    assert_eq!(
        create_only.len(),
        props.len(),
        "every ROS property is create-only"
    );
    assert_eq!(
        ros["primaryIdentifier"],
        serde_json::json!(["/properties/ImageId"])
    );

    let tf = registry_schema(Flavour::Tf);
    assert_eq!(tf["typeName"], "TF::Alicloud::ImageCopy");
    assert_eq!(
        tf["required"],
        serde_json::json!(["SourceImageId", "SourceRegionId"])
    );
    assert_eq!(
        tf["createOnlyProperties"],
        serde_json::json!([
            "/properties/SourceImageId",
            "/properties/SourceRegionId",
            "/properties/Encrypted",
            "/properties/KmsKeyId"
        ])
    );
    assert_eq!(
        tf["readOnlyProperties"],
        serde_json::json!([
            "/properties/tfcfnid",
            "/properties/Id",
            "/properties/ImageId"
        ])
    );
    assert_eq!(
        tf["primaryIdentifier"],
        serde_json::json!(["/properties/tfcfnid"])
    );
    assert_eq!(tf["properties"]["Tags"]["maxItems"], 20);
    assert_eq!(
        tf["definitions"]["TagsDefinition"]["additionalProperties"],
        false
    );
    // Registry schemas never declare null as a property type.
    assert!(!serde_json::to_string(&tf).unwrap().contains("\"null\""));

    // ROS names its attributes after inputs: declared read-only for the linters.
    assert_eq!(
        ros["readOnlyProperties"],
        serde_json::json!([
            "/properties/ImageId",
            "/properties/SourceRegionId",
            "/properties/DestinationRegionId"
        ])
    );
    assert!(ros.get("handlers").is_none(), "ROS is never registered");
}

#[test]
fn the_tf_schema_is_a_complete_provider_schema() {
    let tf = registry_schema(Flavour::Tf);
    let pointers = |names: &[&str]| -> serde_json::Value {
        names.iter().map(|n| format!("/properties/{n}")).collect()
    };
    // The one list the lifecycle uses too.
    assert_eq!(
        tf["createOnlyProperties"],
        pointers(&ecs_image_copy::model::tf_create_only())
    );
    assert_eq!(
        tf["readOnlyProperties"],
        pointers(ecs_image_copy::model::TF_READ_ONLY_PROPERTIES)
    );
    for action in ["create", "read", "update", "delete", "list"] {
        let handler = &tf["handlers"][action];
        assert_eq!(handler["permissions"], serde_json::json!([]), "{action}");
        let minutes = handler["timeoutInMinutes"].as_u64().unwrap();
        assert!((2..=2160).contains(&minutes), "{action}: {minutes}");
    }
    // A 36-hour copy fits in every mutating handler's limit.
    for action in ["create", "update", "delete"] {
        assert_eq!(tf["handlers"][action]["timeoutInMinutes"], 36 * 60);
    }
    let config = &tf["typeConfiguration"];
    assert_eq!(config["additionalProperties"], false);
    assert_eq!(
        config["required"],
        serde_json::json!(["AccessKeyId", "AccessKeySecret", "RegionId"])
    );
    let names: Vec<&str> = config["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "AccessKeyId",
            "AccessKeySecret",
            "RegionId",
            "SecurityToken"
        ]
    );
    // A dynamic reference ({{resolve:...}}) must fit where a secret goes.
    for secret in ["AccessKeySecret", "SecurityToken", "AccessKeyId"] {
        assert!(
            config["properties"][secret].get("pattern").is_none(),
            "{secret}"
        );
    }
    assert_eq!(tf["tagging"]["taggable"], false);
    assert_eq!(tf["deprecatedProperties"], pointers(&["Name"]));
}

/// `cfn submit` and `cfn test` read the schema at the registry project's root: it must be the
/// generated one (a symlink to schema/, or a copy kept identical).
#[test]
fn the_registry_project_holds_the_generated_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("registry").join(schema_file_name(Flavour::Tf));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        text == render_schema(&registry_schema(Flavour::Tf)),
        "{} is not the generated schema: make it a symlink to ../schema/ and regenerate",
        path.display()
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("registry/.rpdk-config")).unwrap())
            .unwrap();
    assert_eq!(config["typeName"], "TF::Alicloud::ImageCopy");
    assert_eq!(config["entrypoint"], "bootstrap");
}

#[test]
fn write_schemas_writes_one_file_per_flavour() {
    let dir = std::env::temp_dir().join(format!("ecs-image-copy-schema-{}", std::process::id()));
    let written = write_schemas(&dir).expect("write");
    assert_eq!(written.len(), 2);
    for (path, flavour) in written.iter().zip([Flavour::Ros, Flavour::Tf]) {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.ends_with("}\n"));
        assert_eq!(text, render_schema(&registry_schema(flavour)));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
