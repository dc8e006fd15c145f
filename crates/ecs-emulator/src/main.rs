//! `ecs-emulator`: the ECS emulator as its own process on 127.0.0.1, until interrupted.
//! `ecs-image-copy emulator ARGS` runs this binary with the same ARGS.

use std::process::ExitCode;

use clap::Parser;
use ecs_emulator::{parse_image_arg, Realism, SourceImage, Standalone};

#[derive(Debug, Parser)]
#[command(
    name = "ecs-emulator",
    version,
    about = "Run the ECS emulator on 127.0.0.1 until interrupted; its endpoint URL is the first line printed"
)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// An Available source image to hold, as IMAGE_ID:REGION (repeatable).
    #[arg(long = "image", value_parser = parse_image_arg)]
    images: Vec<SourceImage>,
    /// A region to know besides the default ones and the images' (repeatable).
    #[arg(long = "region", value_parser = region_arg)]
    regions: Vec<String>,
    /// How long a copy spends Creating.
    #[arg(long, default_value_t = 5.0, value_parser = positive_seconds)]
    copy_seconds: f64,
    /// Real ECS's harder behaviours: off, harsh, or a list such as
    /// invisible=5,cancel=10,usable=3,busy-source (default: $ECS_EMULATOR_REALISM, else off).
    #[arg(long, value_parser = Realism::parse)]
    realism: Option<Realism>,
    /// Also serve a loopback answer receiver (a stand-in ResponseURL that answers 200).
    #[arg(long)]
    answers: bool,
    /// For a program that starts this one: print a single JSON line
    /// ({"endpoint", "access_key_id", "access_key_secret", "security_token", "answers"})
    /// instead of the banner.
    #[arg(long)]
    ready_json: bool,
    /// Also stop when standard input closes (the starting program exited).
    #[arg(long)]
    until_stdin_closes: bool,
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a positive number of seconds")),
    }
}

fn region_arg(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    match ok {
        true => Ok(s.to_string()),
        false => Err(format!(
            "{s:?} is not a region id such as cn-hangzhou (lowercase letters, digits, '-')"
        )),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let standalone = Standalone {
        port: args.port,
        images: args.images,
        regions: args.regions,
        copy_seconds: args.copy_seconds,
        realism: args.realism,
        ready_json: args.ready_json,
        answers: args.answers,
        until_stdin_closes: args.until_stdin_closes,
    };
    match standalone.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: emulator: {e}");
            ExitCode::FAILURE
        }
    }
}
