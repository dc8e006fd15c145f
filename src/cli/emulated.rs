//! `invoke --emulator`: an ECS emulator holding the events' images, and a local receiver
//! standing in for ResponseURLs that cannot be reached from here, both served by a child
//! `ecs-emulator` process (the emulator is not part of this binary). Only ever on request:
//! without the flag nothing here runs.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::ecs::credentials::{ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SECURITY_TOKEN};
use crate::ecs::credentials::{ENV_TF_ACCESS_KEY, ENV_TF_SECRET_KEY, ENV_TF_SECURITY_TOKEN};
use crate::model::rules::{image_id_may_name_a_copy, region_id_is_valid};
use crate::settings::Settings;

/// Names the `ecs-emulator` binary to run, before the usual places are looked in.
pub(super) const EMULATOR_BIN_ENV: &str = "ECS_EMULATOR_BIN";
const EMULATOR_BIN_NAME: &str = "ecs-emulator";

/// How long the emulator may take to say where it listens.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A copy's time in `Creating`: short, so that a whole lifecycle takes seconds.
const EMULATED_COPY_SECONDS: &str = "2";

/// Where the copy lands in emulator mode when the environment names no region.
const EMULATED_DEFAULT_REGION: &str = "cn-shanghai";

/// The `ecs-emulator` binary: `$ECS_EMULATOR_BIN`, else beside this executable, else on `PATH`.
pub(super) fn emulator_binary() -> Result<PathBuf, String> {
    let file_name = format!("{EMULATOR_BIN_NAME}{}", std::env::consts::EXE_SUFFIX);
    if let Some(named) = std::env::var_os(EMULATOR_BIN_ENV).filter(|v| !v.is_empty()) {
        let named = PathBuf::from(named);
        return match named.is_file() {
            true => Ok(named),
            false => Err(format!(
                "{EMULATOR_BIN_ENV}={} names no file",
                named.display()
            )),
        };
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&file_name)));
    if let Some(beside) = beside.as_ref().filter(|p| p.is_file()) {
        return Ok(beside.clone());
    }
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join(&file_name))
        .find(|p| p.is_file());
    on_path.ok_or_else(|| {
        format!(
            "the ECS emulator binary {file_name} was not found: {EMULATOR_BIN_ENV} is not set, \
             {} does not exist, and no {file_name} is on PATH; build it with \
             `cargo build -p ecs-emulator` (plain `cargo build` at the workspace root does) \
             or set {EMULATOR_BIN_ENV}",
            beside.map_or_else(|| "(no directory)".into(), |p| p.display().to_string())
        )
    })
}

/// The line `ecs-emulator --ready-json` prints once it listens.
#[derive(Deserialize)]
struct Ready {
    endpoint: String,
    access_key_id: String,
    access_key_secret: String,
    security_token: Option<String>,
    answers: Option<String>,
}

/// The child `ecs-emulator`; killed when dropped (and it stops by itself when its stdin closes).
struct EmulatorProcess {
    child: Child,
    _stdin: Option<ChildStdin>,
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl EmulatorProcess {
    async fn start(binary: &Path, args: Vec<OsString>) -> Result<(Self, Ready), String> {
        let shown = binary.display();
        let mut command = Command::new(binary);
        command
            .args([
                "--port",
                "0",
                "--ready-json",
                "--answers",
                "--until-stdin-closes",
            ])
            .args(["--copy-seconds", EMULATED_COPY_SECONDS])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // Its keys are its own throwaway ones, read back from its ready line; it must never
        // be handed the caller's real ones.
        for var in [
            ENV_ACCESS_KEY_ID,
            ENV_ACCESS_KEY_SECRET,
            ENV_SECURITY_TOKEN,
            ENV_TF_ACCESS_KEY,
            ENV_TF_SECRET_KEY,
            ENV_TF_SECURITY_TOKEN,
        ] {
            command.env_remove(var);
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("starting the ECS emulator {shown}: {e}"))?;
        let stdout = child.stdout.take();
        let stdin = child.stdin.take();
        let mut process = EmulatorProcess {
            child,
            _stdin: stdin,
        };
        let (line_tx, line_rx) = tokio::sync::oneshot::channel();
        if let Some(stdout) = stdout {
            // A plain thread: the runtime has one thread, and the line may be slow to come.
            std::thread::spawn(move || {
                let mut lines = BufReader::new(stdout).lines();
                let _ = line_tx.send(lines.next().and_then(Result::ok));
                // Keep its stdout open and drained for as long as it runs.
                lines.for_each(drop);
            });
        }
        let line = match tokio::time::timeout(READY_TIMEOUT, line_rx).await {
            Ok(Ok(Some(line))) => line,
            Ok(_) => {
                let status = process.child.wait().map_or_else(
                    |e| format!("could not be waited for ({e})"),
                    |s| format!("exited ({s})"),
                );
                return Err(format!(
                    "the ECS emulator {shown} {status} before it was ready"
                ));
            }
            Err(_) => {
                return Err(format!(
                    "the ECS emulator {shown} did not say where it listens within {}s",
                    READY_TIMEOUT.as_secs()
                ))
            }
        };
        let ready: Ready = serde_json::from_str(&line).map_err(|e| {
            format!("the ECS emulator {shown} printed no ready line ({e}): it may be of another version")
        })?;
        Ok((process, ready))
    }
}

/// A child emulator, and its local answer receiver, for an `invoke` with no cloud.
pub(super) struct EmulatedRun {
    /// Kept alive for the run.
    _emulator: EmulatorProcess,
    /// `http://127.0.0.1:PORT`, with no path.
    receiver_base: String,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Only ids the schemas accept reach the emulator (a subset of what `ecs-emulator --image`
/// and `--region` take): any other id fails validation, so nothing calls ECS for it.
fn holdable(image_id: &str, region_id: &str) -> bool {
    image_id_may_name_a_copy(image_id) && region_id_is_valid(region_id)
}

/// The `ecs-emulator` arguments that make it hold every source image the events name (and,
/// when the events start with no Create, the copy they act on) in the regions they name.
fn emulator_args(events: &[Vec<u8>], region: &str) -> Vec<OsString> {
    let mut regions: Vec<String> = Vec::new();
    let mut images: Vec<(String, String)> = Vec::new();
    let parsed: Vec<Value> = events
        .iter()
        .filter_map(|raw| serde_json::from_slice(raw).ok())
        .collect();
    let has_create = parsed.iter().any(|e| e["RequestType"] == "Create");
    for event in &parsed {
        let props = crate::handler::effective_properties(&event["ResourceProperties"]);
        let source_region = text(&props, "SourceRegionId")
            .or_else(|| text(event, "RegionId"))
            .unwrap_or_else(|| region.to_string());
        let destination = text(&props, "DestinationRegionId").unwrap_or_else(|| region.to_string());
        for r in [&source_region, &destination] {
            if !regions.contains(r) {
                regions.push(r.clone());
            }
        }
        let mut hold = |image_id: String, region_id: String| {
            if !images.iter().any(|(id, _)| *id == image_id) {
                images.push((image_id, region_id));
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
    let mut args = Vec::new();
    for region in regions.into_iter().filter(|r| region_id_is_valid(r)) {
        args.extend(["--region".into(), region.into()]);
    }
    for (image_id, region_id) in images {
        if holdable(&image_id, &region_id) {
            args.extend(["--image".into(), format!("{image_id}:{region_id}").into()]);
        }
    }
    args
}

impl EmulatedRun {
    /// Starts a child emulator that holds every source image the events name.
    pub(super) async fn start(events: &[Vec<u8>], settings: &mut Settings) -> Result<Self, String> {
        let region = settings
            .region_id
            .get_or_insert_with(|| EMULATED_DEFAULT_REGION.to_string())
            .clone();
        let binary = emulator_binary()?;
        let (process, ready) =
            EmulatorProcess::start(&binary, emulator_args(events, &region)).await?;
        let receiver_base = ready
            .answers
            .as_deref()
            .map(|url| url.trim_end_matches('/').to_string())
            .ok_or_else(|| {
                format!(
                    "the ECS emulator {} serves no answer receiver",
                    binary.display()
                )
            })?;
        eprintln!(
            "note: running against the ECS emulator ({}, pid {}) at {}",
            binary.display(),
            process.child.id(),
            ready.endpoint
        );
        settings.credentials = Ok(Some(crate::ecs::Credentials::new(
            ready.access_key_id,
            ready.access_key_secret,
            ready.security_token,
        )));
        settings.ecs_endpoints = crate::ecs::Endpoints::with_override(&ready.endpoint);
        Ok(EmulatedRun {
            _emulator: process,
            receiver_base,
        })
    }

    /// Points an unreachable ResponseURL at the local receiver and, in a sequence, makes an
    /// Update or Delete act on the copy the previous event answered with.
    pub(super) fn prepare(&self, raw: Vec<u8>, previous_id: Option<&str>) -> Vec<u8> {
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
                let local = format!("{}{path}", self.receiver_base);
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

#[cfg(test)]
mod tests {
    use super::*;

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

    fn event(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    #[test]
    fn the_emulator_holds_the_images_and_regions_the_events_name() {
        let create = event(serde_json::json!({
            "RequestType": "Create",
            "ResourceProperties": {"SourceImageId": "m-source01", "SourceRegionId": "cn-beijing"},
        }));
        let args = emulator_args(&[create], "xx-test-1");
        let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            args,
            [
                "--region",
                "cn-beijing",
                "--region",
                "xx-test-1",
                "--image",
                "m-source01:cn-beijing"
            ]
        );
    }

    #[test]
    fn ids_no_emulator_could_hold_are_left_out() {
        let create = event(serde_json::json!({
            "RequestType": "Create",
            "ResourceProperties": {"SourceImageId": "not an id", "SourceRegionId": "CN_HZ"},
        }));
        let args = emulator_args(&[create], "cn-shanghai");
        let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(args, ["--region", "cn-shanghai"]);
        assert!(holdable("m-abc1", "cn-hangzhou"));
        assert!(!holdable("m-", "cn-hangzhou") && !holdable("x-abc", "cn-hangzhou"));
        assert!(!holdable("m-abc1", "") && !holdable("m-abc1", "Cn"));
    }
}
