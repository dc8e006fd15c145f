//! The emulator as its own process (the `ecs-emulator` binary, which `ecs-image-copy emulator`
//! runs): prints its endpoint as the first line of stdout, then the credentials to use, and
//! serves until Ctrl-C. For a program that starts it (`ecs-image-copy invoke --emulator`) it
//! prints one JSON line instead, can serve a loopback answer receiver beside it, and can stop
//! when its standard input closes, so that it never outlives that program.

use std::io::{self, Write};
use std::time::Duration;

use rand::distr::{Alphanumeric, SampleString};

use serde_json::json;

use super::receiver::Receiver;
use super::{Emulator, EmulatorConfig, Realism, SourceImage};

/// Parses `IMAGE_ID:REGION`, e.g. `m-bp1abc:cn-hangzhou`.
pub fn parse_image_arg(arg: &str) -> Result<SourceImage, String> {
    let (image_id, region_id) = arg.split_once(':').ok_or_else(|| {
        format!("image {arg:?}: expected IMAGE_ID:REGION, e.g. m-bp1abc:cn-hangzhou")
    })?;
    let id_ok = image_id.len() > 2
        && image_id.starts_with("m-")
        && image_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !id_ok {
        return Err(format!(
            "image {arg:?}: IMAGE_ID must start with \"m-\" followed by letters and digits"
        ));
    }
    let region_ok = !region_id.is_empty()
        && region_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !region_ok {
        return Err(format!(
            "image {arg:?}: REGION must be a region id such as cn-hangzhou (lowercase letters, digits, '-')"
        ));
    }
    Ok(SourceImage::new(image_id, region_id))
}

/// Builds the standalone configuration; `env` reads an environment variable.
/// Returns whether the credentials were generated (and so must be shown to the user).
fn standalone_config(
    images: Vec<SourceImage>,
    copy_seconds: f64,
    realism: Option<Realism>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(EmulatorConfig, bool), String> {
    let realism = match realism {
        Some(realism) => realism,
        None => env(super::REALISM_ENV)
            .map_or(Ok(Realism::off()), |spec| Realism::parse(&spec))
            .map_err(|e| e.to_string())?,
    };
    if !copy_seconds.is_finite() || copy_seconds < 0.0 {
        return Err(format!(
            "copy-seconds must be a non-negative number of seconds, got {copy_seconds}"
        ));
    }
    let mut config = EmulatorConfig {
        copy_duration: Duration::from_secs_f64(copy_seconds),
        realism,
        ..EmulatorConfig::default()
    };
    let id = env("ALIBABA_CLOUD_ACCESS_KEY_ID").filter(|v| !v.is_empty());
    let secret = env("ALIBABA_CLOUD_ACCESS_KEY_SECRET").filter(|v| !v.is_empty());
    let generated = match (id, secret) {
        (Some(id), Some(secret)) => {
            config.access_key_id = id;
            config.access_key_secret = secret;
            config.security_token = env("ALIBABA_CLOUD_SECURITY_TOKEN").filter(|v| !v.is_empty());
            false
        }
        _ => {
            let mut rng = rand::rng();
            config.access_key_id = format!("LTAIemu{}", Alphanumeric.sample_string(&mut rng, 17));
            config.access_key_secret = Alphanumeric.sample_string(&mut rng, 30);
            true
        }
    };
    for image in images {
        if !config.regions.contains(&image.region_id) {
            config.regions.push(image.region_id.clone());
        }
        config.images.retain(|i| i.image_id != image.image_id);
        config.images.push(image);
    }
    Ok((config, generated))
}

/// What the process prints: the endpoint first, always.
fn banner(endpoint: &str, config: &EmulatorConfig, generated: bool) -> Vec<String> {
    let mut lines = vec![endpoint.to_string()];
    if generated {
        // Throwaway credentials of a local test server; showing them is the point.
        lines.push(format!(
            "ALIBABA_CLOUD_ACCESS_KEY_ID={}",
            config.access_key_id
        ));
        lines.push(format!(
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET={}",
            config.access_key_secret
        ));
    } else {
        lines.push(
            "credentials: from ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET"
                .to_string(),
        );
    }
    lines.push(format!("ALIBABA_CLOUD_ECS_ENDPOINT={endpoint}"));
    lines.push(format!("realism: {}", config.realism));
    for image in &config.images {
        lines.push(format!(
            "image {} in {} (Available)",
            image.image_id, image.region_id
        ));
    }
    lines.push("press Ctrl-C to stop".to_string());
    lines
}

/// Runs the emulator on 127.0.0.1:`port` (0 = any free port) until Ctrl-C.
pub async fn run_standalone(
    port: u16,
    images: Vec<SourceImage>,
    copy_seconds: f64,
    realism: Option<Realism>,
) -> io::Result<()> {
    Standalone {
        port,
        images,
        copy_seconds,
        realism,
        ..Standalone::default()
    }
    .run()
    .await
}

/// What the `ecs-emulator` process serves, and how it tells its caller.
#[derive(Debug, Clone)]
pub struct Standalone {
    /// 0 picks a free port.
    pub port: u16,
    /// Added to the default images (replacing one with the same id); their regions are known.
    pub images: Vec<SourceImage>,
    /// Known besides the default regions and the images' regions.
    pub regions: Vec<String>,
    pub copy_seconds: f64,
    /// `None`: from [`super::REALISM_ENV`], else off.
    pub realism: Option<Realism>,
    /// Print [`ready_line`] instead of the human banner.
    pub ready_json: bool,
    /// Also serve a loopback answer receiver (every request answered 200).
    pub answers: bool,
    /// Stop when standard input reaches its end (the starting program exited), not only on Ctrl-C.
    pub until_stdin_closes: bool,
}

impl Default for Standalone {
    fn default() -> Self {
        Standalone {
            port: 0,
            images: Vec::new(),
            regions: Vec::new(),
            copy_seconds: 5.0,
            realism: None,
            ready_json: false,
            answers: false,
            until_stdin_closes: false,
        }
    }
}

/// The one line a starting program reads: where to call, with which (throwaway) keys, and
/// where answers may go.
fn ready_line(endpoint: &str, config: &EmulatorConfig, answers: Option<&str>) -> String {
    json!({
        "endpoint": endpoint,
        "access_key_id": config.access_key_id,
        "access_key_secret": config.access_key_secret,
        "security_token": config.security_token,
        "answers": answers,
    })
    .to_string()
}

impl Standalone {
    /// Serves until Ctrl-C (or the end of standard input when asked).
    pub async fn run(self) -> io::Result<()> {
        let (mut config, generated) =
            standalone_config(self.images, self.copy_seconds, self.realism, |name| {
                std::env::var(name).ok()
            })
            .map_err(|message| io::Error::new(io::ErrorKind::InvalidInput, message))?;
        for region in self.regions {
            if !config.regions.contains(&region) {
                config.regions.push(region);
            }
        }
        let emulator = Emulator::start(config.clone(), self.port).await?;
        let receiver = match self.answers {
            true => Some(Receiver::start().await?),
            false => None,
        };
        {
            let mut out = io::stdout().lock();
            if self.ready_json {
                let answers = receiver.as_ref().map(|r| r.url("/"));
                let line = ready_line(&emulator.endpoint(), &config, answers.as_deref());
                writeln!(out, "{line}")?;
            } else {
                for line in banner(&emulator.endpoint(), &config, generated) {
                    writeln!(out, "{line}")?;
                }
                if let Some(receiver) = &receiver {
                    writeln!(out, "answers: {}", receiver.url("/"))?;
                }
            }
            out.flush()?;
        }
        if self.until_stdin_closes {
            let (closed, stdin_closed) = tokio::sync::oneshot::channel::<()>();
            // A plain thread: a blocking read on the runtime's pool would hold up its shutdown.
            std::thread::spawn(move || {
                let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
                let _ = closed.send(());
            });
            tokio::select! {
                signal = tokio::signal::ctrl_c() => signal?,
                _ = stdin_closed => {}
            }
        } else {
            tokio::signal::ctrl_c().await?;
        }
        drop(receiver);
        emulator.shutdown().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_args() {
        let image = parse_image_arg("m-bp1abc:cn-hangzhou").unwrap();
        assert_eq!(image, SourceImage::new("m-bp1abc", "cn-hangzhou"));
        for bad in [
            "m-bp1abc",
            "bp1abc:cn-hangzhou",
            "m-:cn-hangzhou",
            "m-x:",
            "m-x:CN_HZ",
            "m-a b:cn-hangzhou",
        ] {
            assert!(parse_image_arg(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn credentials_from_environment_or_generated() {
        let env = |name: &str| match name {
            "ALIBABA_CLOUD_ACCESS_KEY_ID" => Some("my-id".to_string()),
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET" => Some("my-secret".to_string()),
            _ => None,
        };
        let (config, generated) = standalone_config(vec![], 1.5, None, env).unwrap();
        assert!(!generated);
        assert_eq!(config.access_key_id, "my-id");
        assert_eq!(config.copy_duration, Duration::from_millis(1500));
        let lines = banner("http://127.0.0.1:1", &config, generated);
        assert_eq!(lines[0], "http://127.0.0.1:1");
        assert!(lines.iter().all(|l| !l.contains("my-secret")));

        let (config, generated) = standalone_config(vec![], 0.0, None, |_| None).unwrap();
        assert!(generated);
        assert!(config.access_key_id.starts_with("LTAIemu"));
        assert_eq!(config.access_key_secret.len(), 30);
        let lines = banner("http://127.0.0.1:1", &config, generated);
        assert_eq!(lines[0], "http://127.0.0.1:1");
        assert!(lines.iter().any(|l| l.contains(&config.access_key_secret)));
    }

    #[test]
    fn realism_from_the_flag_else_the_environment() {
        let env = |name: &str| (name == super::super::REALISM_ENV).then(|| "harsh".to_string());
        let (config, _) = standalone_config(vec![], 1.0, None, env).unwrap();
        assert_eq!(config.realism, Realism::harsh());
        let (config, _) = standalone_config(vec![], 1.0, Some(Realism::off()), env).unwrap();
        assert_eq!(config.realism, Realism::off());
        let lines = banner("http://127.0.0.1:1", &config, true);
        assert!(lines.contains(&"realism: off".to_string()), "{lines:?}");
        let bad = |name: &str| (name == super::super::REALISM_ENV).then(|| "nope".to_string());
        let error = standalone_config(vec![], 1.0, None, bad).unwrap_err();
        assert!(error.contains("unknown behaviour"), "{error}");
    }

    #[test]
    fn extra_images_and_their_regions_are_added() {
        let extra = vec![SourceImage::new("m-new1", "xx-test-1")];
        let (config, _) = standalone_config(extra, 2.0, None, |_| None).unwrap();
        assert!(config.regions.iter().any(|r| r == "xx-test-1"));
        assert!(config.images.iter().any(|i| i.image_id == "m-new1"));
        assert!(standalone_config(vec![], -1.0, None, |_| None).is_err());
        assert!(standalone_config(vec![], f64::NAN, None, |_| None).is_err());
    }

    #[test]
    fn the_ready_line_is_one_json_object_with_everything_a_caller_needs() {
        let (config, _) = standalone_config(vec![], 1.0, None, |_| None).unwrap();
        let line = ready_line("http://127.0.0.1:1", &config, Some("http://127.0.0.1:2/"));
        assert!(!line.contains('\n'));
        let ready: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(ready["endpoint"], "http://127.0.0.1:1");
        assert_eq!(ready["access_key_id"], config.access_key_id.as_str());
        assert_eq!(
            ready["access_key_secret"],
            config.access_key_secret.as_str()
        );
        assert!(ready["security_token"].is_null());
        assert_eq!(ready["answers"], "http://127.0.0.1:2/");
    }
}
