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
