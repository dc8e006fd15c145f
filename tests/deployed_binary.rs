//! The artifact deployed to Lambda and Function Compute (the release build when
//! `ECS_IMAGE_COPY_BIN` names it, as scripts/test does) carries none of the test doubles:
//! no code of the ECS emulator or of the loopback answer receiver. Symbols are stripped from
//! the release build, but panic locations, crate paths and string constants survive; each
//! absence is checked beside a presence that must hold, so the test cannot pass by reading
//! the wrong file or a file with no strings at all.

mod deploy_support;

/// The binary as text: every needle is ASCII, which a lossy conversion keeps byte for byte,
/// and `str::contains` runs std's (optimised) searcher even in a debug test build.
fn deployed() -> (String, String) {
    let path = deploy_support::binary();
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("reading the binary under test {}: {e}", path.display()));
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (path.display().to_string(), text)
}

#[test]
fn the_deployed_binary_holds_no_emulator_and_no_receiver() {
    let (path, binary) = deployed();
    // Present: the product's own code (panic locations of its lifecycle), and the shared
    // parameter rules, which the product validates with.
    let present = [
        "src/lifecycle/",
        ecs_image_copy::model::rules::RESOURCE_GROUP_ID_PATTERN,
        ecs_image_copy::model::rules::DURATION_PATTERN,
    ];
    for needle in present {
        assert!(
            binary.contains(needle),
            "{path} lacks {needle:?}: not the product binary?"
        );
    }
    // Absent: the emulator crate's paths and name (its panic locations; the receiver is in
    // it too), its constants, and its messages.
    let absent = [
        "crates/ecs-emulator/",
        "ecs_emulator",
        "connection dropped by fault injection",
        ecs_emulator::DEFAULT_ACCESS_KEY_SECRET,
        ecs_emulator::DEFAULT_ACCESS_KEY_ID,
        ecs_emulator::DEFAULT_IMAGES[0].2,
    ];
    for needle in absent {
        assert!(
            !binary.contains(needle),
            "{path} carries {needle:?}: emulator code is in the deployed binary"
        );
    }
}
