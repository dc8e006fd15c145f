//! The command line: everything the binary does when it is not a Lambda bootstrap.

mod emulated;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tokio::time::Instant;

use crate::envelope::Status;
use crate::handler::{HandleError, Handled, Handler};
use crate::settings::Settings;
use emulated::EmulatedRun;

#[derive(Debug, Parser)]
#[command(
    name = "ecs-image-copy",
    version,
    about = "Copy Alibaba Cloud ECS images between regions for ROS and CloudFormation stacks",
    long_about = "Copy Alibaba Cloud ECS images between regions for ROS and CloudFormation stacks.\n\n\
                  With AWS_LAMBDA_RUNTIME_API set the binary is a Lambda bootstrap; otherwise it is this CLI."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Handle one custom-resource event: copy (or update, or delete), then deliver the answer
    /// to the event's ResponseURL and print it as the last line of stdout.
    #[command(after_help = INVOKE_EXIT_STATUS)]
    Invoke(InvokeArgs),
    /// Run the ECS emulator on 127.0.0.1 until interrupted; its endpoint URL is the first line
    /// printed. Runs the separate `ecs-emulator` binary ($ECS_EMULATOR_BIN, else beside this
    /// one, else on PATH) with the same arguments: see `ecs-image-copy emulator --help`.
    Emulator(EmulatorArgs),
    /// Write the CloudFormation registry schemas of both resource types (or check them).
    Schema(SchemaArgs),
    /// Run as an Alibaba Cloud Function Compute 3.0 custom runtime: serve POST /invoke
    /// (one custom-resource event per request) until stopped.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct InvokeArgs {
    /// Event file (JSON), or - for standard input. Several files are handled in order against
    /// one emulator, each Update/Delete taking the PhysicalResourceId of the previous answer:
    /// a whole lifecycle in one command.
    #[arg(required = true, value_name = "EVENT_FILE")]
    events: Vec<String>,
    /// Run against an ECS emulator holding the events' images instead of Alibaba Cloud (a
    /// child `ecs-emulator` process, found as for `emulator`), and deliver answers whose
    /// ResponseURL is not on this machine to a local receiver it serves. Never implied:
    /// without it and without credentials the stack is answered FAILED naming the missing
    /// variables, as on Lambda.
    #[arg(long)]
    emulator: bool,
    /// Deadline in seconds, counted from process start (Lambda allows at most 900).
    #[arg(long, default_value_t = 900.0, value_parser = positive_seconds)]
    timeout: f64,
}

#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
struct EmulatorArgs {
    /// Arguments of `ecs-emulator` (--port, --image IMAGE_ID:REGION, --copy-seconds,
    /// --realism; --help lists them), passed on unchanged.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    args: Vec<std::ffi::OsString>,
}

#[derive(Debug, clap::Args)]
struct SchemaArgs {
    /// Directory to write the schemas into.
    #[arg(long, default_value = "schema")]
    out: PathBuf,
    /// Do not write; fail if the files in --out differ from what the types generate.
    #[arg(long)]
    check: bool,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Port to listen on [default: FC_SERVER_PORT, else 9000].
    #[arg(long)]
    port: Option<u16>,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    host: String,
    /// Seconds one event may take, from its arrival. Set it to the function's timeout in
    /// Function Compute (FC does not tell a custom runtime its timeout).
    #[arg(long, default_value_t = 900.0, value_parser = positive_seconds)]
    timeout: f64,
}

const INVOKE_EXIT_STATUS: &str = "Exit status:\n  \
    0  every answer was delivered and said SUCCESS\n  \
    3  every answer was delivered, at least one said FAILED\n  \
    1  an answer could not be delivered (or the event names no ResponseURL)\n  \
    2  usage error: bad arguments or an unreadable event file";

/// `invoke`'s exit status: see [`INVOKE_EXIT_STATUS`].
const EXIT_FAILED_DELIVERED: u8 = 3;
const EXIT_USAGE: u8 = 2;

/// Function Compute's default port for a custom runtime.
const FC_DEFAULT_PORT: u16 = 9000;

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a positive number of seconds")),
    }
}

pub async fn run(started: Instant, args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Invoke(args) => invoke(started, args).await,
        Command::Emulator(args) => run_emulator(args.args),
        Command::Schema(args) => schema(args),
        Command::Serve(args) => serve(args).await,
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let port = match args.port {
        Some(port) => port,
        None => match std::env::var("FC_SERVER_PORT") {
            Ok(v) => match v.trim().parse() {
                Ok(port) => port,
                Err(_) => return fail(format!("FC_SERVER_PORT={v:?} is not a port number")),
            },
            Err(_) => FC_DEFAULT_PORT,
        },
    };
    let config = crate::serve::ServeConfig {
        timeout: Duration::from_secs_f64(args.timeout),
    };
    match crate::serve::run(&args.host, port, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("serve on {}:{port}: {e}", args.host)),
    }
}

/// `ecs-image-copy emulator ARGS`: becomes `ecs-emulator ARGS` (on Unix the process is
/// replaced, so that signals and the exit status are the emulator's own).
fn run_emulator(args: Vec<std::ffi::OsString>) -> ExitCode {
    let binary = match emulated::emulator_binary() {
        Ok(binary) => binary,
        Err(e) => return fail(e),
    };
    let mut command = std::process::Command::new(&binary);
    command.args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = command.exec();
        fail(format!("running {}: {e}", binary.display()))
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::FAILURE,
        },
        Err(e) => fail(format!("running {}: {e}", binary.display())),
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

async fn invoke(started: Instant, args: InvokeArgs) -> ExitCode {
    let deadline = started + Duration::from_secs_f64(args.timeout);
    let mut events = Vec::new();
    for path in &args.events {
        match read_event(path) {
            Ok(raw) => events.push(raw),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
    let mut settings = Settings::load().await;
    // Only when asked: a run that quietly went to an emulator would answer a real stack
    // SUCCESS for a copy that never happened.
    let emulated = if args.emulator {
        match EmulatedRun::start(&events, &mut settings).await {
            Ok(run) => Some(run),
            Err(e) => return fail(e),
        }
    } else {
        None
    };
    let handler = Handler::new(settings);
    let mut previous_id: Option<String> = None;
    let mut any_failed = false;
    for (i, raw) in events.into_iter().enumerate() {
        let raw = match &emulated {
            Some(run) => run.prepare(raw, previous_id.as_deref()),
            None => raw,
        };
        match handler.handle(&raw, deadline).await {
            Ok(Handled::Answered(answered)) => {
                println!("{}", answered.body.json);
                any_failed |= answered.body.status == Status::Failed;
                previous_id = Some(answered.body.physical_resource_id);
            }
            // Only on Lambda, where a hand-over is configured; another invocation answers.
            Ok(Handled::HandedOver {
                image_id,
                hand_overs,
            }) => eprintln!(
                "note: event {}: the wait for {image_id} was handed over to a new invocation (hand-over {hand_overs})",
                i + 1
            ),
            Err(HandleError::NotDelivered { body, source }) => {
                eprintln!("error: event {}: {source}", i + 1);
                println!("{}", body.json);
                return ExitCode::FAILURE;
            }
            Err(e @ HandleError::Unanswerable(_)) => return fail(format!("event {}: {e}", i + 1)),
        }
    }
    if any_failed {
        ExitCode::from(EXIT_FAILED_DELIVERED)
    } else {
        ExitCode::SUCCESS
    }
}

fn read_event(path: &str) -> Result<Vec<u8>, String> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| format!("reading the event from stdin: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| format!("reading the event file {path}: {e}"))
    }
}

fn schema(args: SchemaArgs) -> ExitCode {
    use crate::model::{registry_schema, schema_file_name, Flavour};
    if args.check {
        let mut stale = Vec::new();
        for flavour in [Flavour::Ros, Flavour::Tf] {
            let path = args.out.join(schema_file_name(flavour));
            let expected = crate::model::render_schema(&registry_schema(flavour));
            if std::fs::read_to_string(&path).ok().as_deref() != Some(expected.as_str()) {
                stale.push(path.display().to_string());
            }
        }
        if stale.is_empty() {
            println!("schemas in {} are up to date", args.out.display());
            return ExitCode::SUCCESS;
        }
        return fail(format!(
            "stale or missing: {}; regenerate with `cargo run -- schema`",
            stale.join(", ")
        ));
    }
    match crate::model::write_schemas(&args.out) {
        Ok(paths) => {
            for p in paths {
                println!("wrote {}", p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("writing schemas to {}: {e}", args.out.display())),
    }
}
