//! `invoke --emulator`: an in-process ECS emulator holding the events' images, and a local
//! receiver standing in for ResponseURLs that cannot be reached from here. Only ever on
//! request: without the flag nothing here runs.

use serde_json::Value;

use crate::emulator::{Emulator, EmulatorConfig, SourceImage};
use crate::receiver::Receiver;
use crate::settings::Settings;

/// An in-process emulator, and a local answer receiver, for an `invoke` with no cloud.
pub(super) struct EmulatedRun {
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
    pub(super) async fn start(events: &[Vec<u8>], settings: &mut Settings) -> Result<Self, String> {
        let mut config = EmulatorConfig {
            realism: crate::emulator::Realism::from_env().map_err(|e| e.to_string())?,
            ..EmulatorConfig::default()
        };
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
        settings.ecs_endpoints = crate::ecs::Endpoints::with_override(&emulator.endpoint());
        Ok(EmulatedRun {
            _emulator: emulator,
            receiver,
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
