use std::process::ExitCode;

#[tokio::main]
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
