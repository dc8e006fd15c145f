//! The command line: everything the binary does when it is not a Lambda bootstrap.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::Value;
use tokio::time::Instant;

use crate::emulator::{self, Emulator, EmulatorConfig, SourceImage};
use crate::envelope::Status;
use crate::handler::{HandleError, Handler};
use crate::receiver::Receiver;
use crate::settings::Settings;

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
    /// Run the ECS emulator on 127.0.0.1 until interrupted; its endpoint URL is the first line printed.
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
    /// Run against an in-process ECS emulator holding the events' images instead of Alibaba
    /// Cloud, and deliver answers whose ResponseURL is not on this machine to a local
    /// receiver. Never implied: without it and without credentials the stack is answered
    /// FAILED naming the missing variables, as on Lambda.
    #[arg(long)]
    emulator: bool,
    /// Deadline in seconds, counted from process start (Lambda allows at most 900).
    #[arg(long, default_value_t = 900.0, value_parser = positive_seconds)]
    timeout: f64,
}

#[derive(Debug, clap::Args)]
struct EmulatorArgs {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// An Available source image to hold, as IMAGE_ID:REGION (repeatable).
    #[arg(long = "image", value_parser = emulator::parse_image_arg)]
    images: Vec<SourceImage>,
    /// How long a copy spends Creating.
    #[arg(long, default_value_t = 5.0, value_parser = positive_seconds)]
    copy_seconds: f64,
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
        Command::Emulator(args) => {
            match emulator::run_standalone(args.port, args.images, args.copy_seconds).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(format!("emulator: {e}")),
            }
        }
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
    let mut settings = Settings::from_env();
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
            Ok(handled) => {
                println!("{}", handled.body.json);
                any_failed |= handled.body.status == Status::Failed;
                let answer: Value = serde_json::from_str(&handled.body.json).unwrap_or_default();
                previous_id = answer["PhysicalResourceId"].as_str().map(str::to_string);
            }
            Err(HandleError::NotDelivered { body, source }) => {
                eprintln!("error: event {}: {source}", i + 1);
                println!("{}", body.json);
                return ExitCode::FAILURE;
            }
            Err(e @ HandleError::Unanswerable(_)) => return fail(format!("event {}: {e}", i + 1)),
            // Only on Lambda, where a hand-over is configured; another invocation answers.
            Err(e @ HandleError::HandedOver { .. }) => eprintln!("note: event {}: {e}", i + 1),
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

/// An in-process emulator, and a local answer receiver, for an `invoke` with no cloud.
struct EmulatedRun {
    /// Kept alive for the run.
    _emulator: Emulator,
    receiver: Receiver,
}

/// Where the copy lands in emulator mode when the environment names no region.
const EMULATED_DEFAULT_REGION: &str = "cn-shanghai";

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

impl EmulatedRun {
    /// Starts an emulator that holds every source image the events name (and, when the
    /// events start with no Create, the copy they act on).
    async fn start(events: &[Vec<u8>], settings: &mut Settings) -> Result<Self, String> {
        let mut config = EmulatorConfig::default();
        let region = settings
            .region_id
            .get_or_insert_with(|| EMULATED_DEFAULT_REGION.to_string())
            .clone();
        let parsed: Vec<Value> = events
            .iter()
            .filter_map(|raw| serde_json::from_slice(raw).ok())
            .collect();
        let has_create = parsed.iter().any(|e| e["RequestType"] == "Create");
        for event in &parsed {
            let props = crate::handler::effective_properties(&event["ResourceProperties"]);
            let source_region = text(&props, "SourceRegionId")
                .or_else(|| text(event, "RegionId"))
                .unwrap_or_else(|| region.clone());
            let destination = text(&props, "DestinationRegionId").unwrap_or_else(|| region.clone());
            for r in [&source_region, &destination] {
                if !config.regions.contains(r) {
                    config.regions.push(r.clone());
                }
            }
            let mut hold = |image_id: String, region_id: String| {
                if !config.images.iter().any(|i| i.image_id == image_id) {
                    config.images.push(SourceImage {
                        image_id,
                        region_id,
                        name: None,
                    });
                }
            };
            if let Some(id) = text(&props, "ImageId").or_else(|| text(&props, "SourceImageId")) {
                hold(id, source_region);
            }
            let recorded = text(event, "PhysicalResourceId")
                .and_then(|id| crate::lifecycle::PhysicalId::parse(&id));
            if let (Some(recorded), false) = (recorded, has_create) {
                hold(recorded.image_id, recorded.region_id.unwrap_or(destination));
            }
        }
        let emulator = Emulator::start(config.clone(), 0)
            .await
            .map_err(|e| format!("starting the emulator: {e}"))?;
        let receiver = Receiver::start()
            .await
            .map_err(|e| format!("starting the local answer receiver: {e}"))?;
        eprintln!(
            "note: running against the in-process ECS emulator at {}",
            emulator.endpoint()
        );
        settings.credentials = Ok(Some(crate::ecs::Credentials::new(
            config.access_key_id.clone(),
            config.access_key_secret.clone(),
            config.security_token.clone(),
        )));
        settings.ecs_endpoint = Some(emulator.endpoint());
        Ok(EmulatedRun {
            _emulator: emulator,
            receiver,
        })
    }

    /// Points an unreachable ResponseURL at the local receiver and, in a sequence, makes an
    /// Update or Delete act on the copy the previous event answered with.
    fn prepare(&self, raw: Vec<u8>, previous_id: Option<&str>) -> Vec<u8> {
        let Ok(Value::Object(mut event)) = serde_json::from_slice::<Value>(&raw) else {
            return raw;
        };
        if let (Some(id), Some(Value::String(_))) = (previous_id, event.get("PhysicalResourceId")) {
            if event.get("RequestType").and_then(Value::as_str) != Some("Create") {
                eprintln!("note: acting on {id}, the PhysicalResourceId of the previous answer");
                event.insert("PhysicalResourceId".into(), Value::String(id.to_string()));
            }
        }
        if let Some(url) = event.get("ResponseURL").and_then(Value::as_str) {
            if !is_loopback_url(url) && url.contains("://") {
                let path = url
                    .split_once("://")
                    .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
                    .unwrap_or_else(|| "/".to_string());
                let local = self.receiver.url(&path);
                eprintln!(
                    "note: the event's ResponseURL ({}) cannot be reached from an emulator run; \
                     the answer goes to a local receiver at {} instead",
                    crate::envelope::redact_url(url),
                    crate::envelope::redact_url(&local)
                );
                event.insert("ResponseURL".into(), Value::String(local));
            }
        }
        serde_json::to_vec(&Value::Object(event)).unwrap_or(raw)
    }
}

/// Whether `url` points at this machine: a loopback address or `localhost`.
fn is_loopback_url(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
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

#[cfg(test)]
mod tests {
    use super::is_loopback_url;

    #[test]
    fn only_this_machine_counts_as_loopback() {
        for url in [
            "http://127.0.0.1:9/cb",
            "http://127.8.0.1/",
            "http://localhost:80/x?y",
            "http://[::1]:5/",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "https://localhost.example.com/",
            "https://s3.amazonaws.com/127.0.0.1",
            "not a url",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }
}
