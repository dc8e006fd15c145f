//! `ecs-image-copy emulator ARGS` and `invoke --emulator` reach the emulator by running the
//! separate `ecs-emulator` binary ($ECS_EMULATOR_BIN, else beside the product's binary, else
//! on PATH): the same interface as when it was built in, and a clear error when it is absent.

mod deploy_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test (the release build under scripts/test), finding `ecs-emulator` by
/// itself unless a test names it.
fn product() -> Command {
    let mut command = deploy_support::command();
    command
        .env_remove("ECS_EMULATOR_REALISM")
        .env_remove("ECS_EMULATOR_BIN")
        .env("RUST_LOG", "warn");
    command
}

#[test]
fn the_emulator_subcommand_runs_the_emulator_with_its_arguments() {
    let mut child = product()
        .args(["emulator", "--port", "0", "--realism", "harsh"])
        .args(["--image", "m-wz9cli0000001:cn-shenzhen"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .take_while(|l| l != "press Ctrl-C to stop")
        .collect();
    child.kill().ok();
    child.wait().ok();
    assert!(lines[0].starts_with("http://127.0.0.1:"), "{lines:?}");
    assert!(lines
        .iter()
        .any(|l| l.starts_with("ALIBABA_CLOUD_ACCESS_KEY_SECRET=")));
    assert!(lines.contains(&"image m-wz9cli0000001 in cn-shenzhen (Available)".to_string()));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("realism: ") && l != "realism: off"));

    let refused = product()
        .args(["emulator", "--port", "0", "--realism", "fast"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "a usage error, as before");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("unknown behaviour \"fast\""), "{stderr}");
}

#[test]
fn an_absent_emulator_binary_is_named_with_where_it_was_looked_for() {
    let missing = std::env::temp_dir().join("no-such-dir-ecs-image-copy/ecs-emulator");
    let output = product()
        .args(["emulator", "--port", "0"])
        .env("ECS_EMULATOR_BIN", &missing)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("ECS_EMULATOR_BIN={}", missing.display())),
        "{stderr}"
    );

    let output = product()
        .args(["invoke", "--emulator", "tests/events/cfn-tf-create.json"])
        .env("ECS_EMULATOR_BIN", &missing)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "nothing was answered");
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ECS_EMULATOR_BIN="), "{stderr}");
}

/// The emulator `invoke` ran, from its "running against" note: its pid.
fn emulator_pid(note: &str) -> u32 {
    let (_, rest) = note.split_once(", pid ").expect("the note names the pid");
    rest.split(')').next().unwrap().parse().unwrap()
}

/// Whether `pid` is a live (not zombie) process.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, fields)| !fields.starts_with('Z')),
        Err(_) => false,
    }
}

fn wait_until_gone(pid: u32) -> bool {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn invoke_runs_its_emulator_as_a_child_that_ends_with_it() {
    let binary = deploy_support::emulator_binary();
    let output = product()
        .args(["invoke", "--emulator", "tests/events/ros-ros-create.json"])
        .env("ECS_EMULATOR_BIN", &binary)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let note = stderr
        .lines()
        .find(|l| l.contains("running against the ECS emulator"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(note.contains(&binary.display().to_string()), "{note}");
    assert!(!alive(emulator_pid(note)), "the emulator outlived invoke");

    // Killed outright, the product cannot stop its child; the child stops by itself when
    // its standard input (the product's end of a pipe) closes.
    let mut child = product()
        .args(["invoke", "--emulator", "--timeout", "30"])
        .args(["tests/events/cfn-tf-create.json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let note = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("running against the ECS emulator"))
        .expect("the note comes first");
    let pid = emulator_pid(&note);
    assert!(alive(pid));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        wait_until_gone(pid),
        "the emulator outlived a killed invoke"
    );
}

#[test]
fn without_one_beside_it_the_emulator_is_found_on_path_or_named_as_missing() {
    // The product alone in a directory, as when only it is installed.
    let dir = std::env::temp_dir().join(format!("ecs-image-copy-alone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let alone = dir.join("ecs-image-copy");
    let _ = std::fs::remove_file(&alone);
    if std::fs::hard_link(deploy_support::binary(), &alone).is_err() {
        std::fs::copy(deploy_support::binary(), &alone).unwrap();
    }
    let run = |path: &std::ffi::OsStr| {
        let mut command = Command::new(&alone);
        command
            .args(["emulator", "--port", "0", "--realism", "fast"])
            .env_remove("ECS_EMULATOR_BIN")
            .env("PATH", path)
            .stdin(Stdio::null());
        command.output().unwrap()
    };
    let emulator_dir = deploy_support::emulator_binary()
        .parent()
        .unwrap()
        .to_path_buf();
    // Found on PATH: the emulator itself refuses the bad flag (its usage error, exit 2).
    let found = run(std::env::join_paths([dir.clone(), emulator_dir])
        .unwrap()
        .as_os_str());
    let stderr = String::from_utf8_lossy(&found.stderr);
    assert_eq!(found.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown behaviour \"fast\""), "{stderr}");
    // Nowhere: the error says where it looked and how to get it.
    let missing = run(dir.as_os_str());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(1), "{stderr}");
    for named in [
        "ECS_EMULATOR_BIN is not set",
        &dir.join("ecs-emulator").display().to_string(),
        "no ecs-emulator is on PATH",
        "cargo build -p ecs-emulator",
    ] {
        assert!(stderr.contains(named), "{named:?} in {stderr}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
