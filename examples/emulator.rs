//! Stand-alone emulator until the `emulator` CLI subcommand exists:
//! `cargo run --example emulator -- [PORT] [--copy-seconds S]`. Prints the endpoint URL first,
//! then the credentials (taken from ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET when both are set).

use ecs_image_copy::emulator::run_standalone;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut port = 0u16;
    let mut copy_seconds = 2.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let invalid =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_string());
        if arg == "--copy-seconds" {
            copy_seconds = args
                .next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| invalid("--copy-seconds needs a number of seconds"))?;
        } else {
            port = arg
                .parse()
                .map_err(|_| invalid("PORT must be a number from 0 to 65535"))?;
        }
    }
    run_standalone(port, Vec::new(), copy_seconds).await
}
