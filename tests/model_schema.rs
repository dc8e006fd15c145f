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
