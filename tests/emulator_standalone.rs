//! The standalone entry serves on the port it is given, with the images it is given.

mod emulator_support;

use std::time::Duration;

use ecs_image_copy::emulator::{parse_image_arg, run_standalone, EmulatorConfig};
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
