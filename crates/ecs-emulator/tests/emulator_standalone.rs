//! The standalone entry serves on the port it is given, with the images it is given.

mod emulator_support;

use std::time::Duration;

use ecs_emulator::{parse_image_arg, run_standalone, EmulatorConfig};
use emulator_support::*;

#[tokio::test]
async fn standalone_serves_until_stopped() {
    // Credentials come from the environment when set; this test leaves them unset, so the
    // server generates its own and a caller with other keys is told its key is unknown.
    std::env::remove_var("ALIBABA_CLOUD_ACCESS_KEY_ID");
    std::env::remove_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let image = parse_image_arg("m-wz9standalone0001:cn-shenzhen").unwrap();
    let server = tokio::spawn(run_standalone(port, vec![image], 0.5, None));
    let caller = Caller::new(
        &format!("http://127.0.0.1:{port}"),
        &EmulatorConfig::default(),
    );
    let mut answer = None;
    for _ in 0..50 {
        let params = caller.signed("GET", caller.params("DescribeRegions", &[]));
        if let Ok(a) = caller.send("GET", &params).await {
            answer = Some(a);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    answer
        .expect("standalone emulator answers")
        .expect_error(404, "InvalidAccessKeyId.NotFound");
    assert!(!server.is_finished());
    server.abort();
}

/// Runs `ecs-emulator` with `args` (and `env`), returns its `realism:` banner line.
fn realism_banner(args: &[&str], env: Option<&str>) -> String {
    use std::io::{BufRead, BufReader};
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ecs-emulator"));
    command
        .args(["--port", "0"])
        .args(args)
        .env_remove("ECS_EMULATOR_REALISM")
        .stdout(std::process::Stdio::piped());
    if let Some(spec) = env {
        command.env("ECS_EMULATOR_REALISM", spec);
    }
    let mut child = command.spawn().expect("the binary starts");
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner = lines
        .map_while(Result::ok)
        .find(|l| l.starts_with("realism: "));
    child.kill().ok();
    child.wait().ok();
    banner.expect("a realism line in the banner")
}

#[test]
fn the_binary_takes_realism_from_its_flag_or_the_environment() {
    assert_eq!(realism_banner(&[], None), "realism: off");
    assert_eq!(
        realism_banner(&["--realism", "busy-source,invisible=2"], None),
        "realism: invisible=2,busy-source"
    );
    let harsh = ecs_emulator::Realism::harsh().to_string();
    assert_eq!(
        realism_banner(&[], Some("harsh")),
        format!("realism: {harsh}")
    );
    // The flag wins over the environment.
    assert_eq!(
        realism_banner(&["--realism", "off"], Some("harsh")),
        "realism: off"
    );
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_ecs-emulator"))
        .args(["--port", "0", "--realism", "fast"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("unknown behaviour \"fast\""), "{stderr}");
}
