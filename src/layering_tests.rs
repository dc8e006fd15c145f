//! The layering the README's "How the code is laid out" describes, held by a test: each
//! top-level module of the product imports only modules of a lower layer, so data flows one way
//! (request → validated spec → lifecycle steps → outcome → answer) and the lower layers can be
//! read, tested and reused without the ones above them. A new import that runs the other way
//! fails here; move the code, or change the table and the README together.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Layer of each top-level module: a module may import modules of strictly lower layers only.
const LAYERS: &[(&str, u8)] = &[
    // Leaves: nothing of the crate below them.
    ("model", 0),
    ("redact", 0),
    ("retry", 0),
    ("tls", 0),
    ("test_env", 0),
    // The ECS client and the stack engines' envelope.
    ("ecs", 1),
    ("envelope", 1),
    // The resource lifecycle, on a small trait over the ECS client; structured logs.
    ("lifecycle", 2),
    ("logging", 2),
    // AWS calls with the function's role (secrets, log shipping, Lambda invoke).
    ("aws", 3),
    // Answering the ResponseURL; handing a long wait on to a fresh invocation.
    ("callback", 4),
    ("handover", 4),
    ("settings", 5),
    // The two protocol drivers over the one lifecycle: custom resource and resource provider.
    ("handler", 6),
    ("provider", 6),
    // Entries: Lambda, Function Compute, the command line.
    ("lambda", 7),
    ("serve", 7),
    ("cli", 8),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::<module>` paths in code (not in comments) of one file.
fn imported_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

#[test]
fn every_import_runs_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut checked = 0;
    let mut upward = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .trim_end_matches("_tests") // a module's tests beside it: `retry_tests.rs`
            .to_string();
        if matches!(top.as_str(), "lib" | "main" | "layering") {
            continue;
        }
        let own = layer(&top).unwrap_or_else(|| {
            panic!("src/{top} is not in LAYERS: give it a layer here and a line in the README")
        });
        for imported in imported_modules(&std::fs::read_to_string(file).unwrap()) {
            if imported == top {
                continue;
            }
            let Some(theirs) = layer(&imported) else {
                continue; // `crate::` inside a macro or a string, not a module of ours
            };
            checked += 1;
            if theirs >= own {
                upward.push(format!(
                    "{} (layer {own}) imports crate::{imported} (layer {theirs})",
                    relative.display()
                ));
            }
        }
    }
    assert!(
        checked > 40,
        "only {checked} imports found: the scan is broken"
    );
    assert!(
        upward.is_empty(),
        "imports against the layering:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_scan_sees_code_and_skips_comments() {
    let text = "use crate::ecs::EcsClient;\n// crate::cli in a comment\nlet x = crate::model::rules::X; // crate::serve\n";
    let found: Vec<_> = imported_modules(text).into_iter().collect();
    assert_eq!(found, ["ecs", "model"]);
}

/// The test double is a crate of its own that knows nothing of the product, and the product
/// takes it only for its tests: what `tests/deployed_binary.rs` shows of the binary, this
/// shows of the manifests.
#[test]
fn the_emulator_never_depends_on_the_product_and_the_product_only_tests_with_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let emulator = std::fs::read_to_string(root.join("crates/ecs-emulator/Cargo.toml")).unwrap();
    assert!(
        emulator.contains("ecs-api-rules"),
        "the emulator shares the rules crate"
    );
    assert!(!emulator.contains("ecs-image-copy"), "{emulator}");
    let product = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let (normal, dev) = product
        .split_once("[dev-dependencies]")
        .expect("the product has dev-dependencies");
    assert!(!normal.contains("ecs-emulator = "), "only a dev-dependency");
    assert!(dev.contains("ecs-emulator"), "{dev}");
}
