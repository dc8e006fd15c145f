use std::process::ExitCode;

// One thread: the work is waiting on HTTP, a Lambda function has a fraction of a vCPU, and
// every worker thread would add to start-up time and memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let started = tokio::time::Instant::now();
    ecs_image_copy::logging::init();
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return match ecs_image_copy::lambda::run().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    ecs_image_copy::cli::run(started, std::env::args_os()).await
}
