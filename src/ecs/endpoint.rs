//! Which host serves ECS for a region. The exceptions to `ecs.<region>.aliyuncs.com` are
//! data taken from the official SDKs (`endpoint_exceptions.json`, which names its source).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

pub const ENV_ECS_ENDPOINT: &str = "ALIBABA_CLOUD_ECS_ENDPOINT";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("{ENV_ECS_ENDPOINT} must be an http:// or https:// URL with a host and without user info, query or fragment, got {0:?}")]
    InvalidOverride(String),
    #[error("region id {0:?} is not a region id (lowercase letters, digits and '-')")]
    InvalidRegion(String),
}

#[derive(Deserialize)]
struct EndpointData {
    regional_pattern: String,
    exceptions: BTreeMap<String, String>,
}

fn data() -> &'static EndpointData {
    static DATA: OnceLock<EndpointData> = OnceLock::new();
    DATA.get_or_init(|| {
        serde_json::from_str(include_str!("endpoint_exceptions.json"))
            .expect("endpoint_exceptions.json is valid (checked by a unit test)")
    })
}

/// Resolves the base URL (scheme and host, no trailing `/`) that serves a region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoints {
    override_url: Option<String>,
}

impl Endpoints {
    /// Alibaba Cloud's own hosts.
    pub fn official() -> Self {
        Endpoints { override_url: None }
    }

    /// Every region goes to `url` (an emulator, a proxy, a VPC endpoint); the region still
    /// travels as the `RegionId` parameter.
    pub fn with_override(url: &str) -> Result<Self, EndpointError> {
        Ok(Endpoints {
            override_url: Some(validate_override(url)?),
        })
    }

    /// [`Endpoints::with_override`] when `ALIBABA_CLOUD_ECS_ENDPOINT` is set and not empty.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EndpointError> {
        match lookup(ENV_ECS_ENDPOINT).filter(|v| !v.trim().is_empty()) {
            Some(url) => Self::with_override(&url),
            None => Ok(Self::official()),
        }
    }

    pub fn from_env() -> Result<Self, EndpointError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn override_url(&self) -> Option<&str> {
        self.override_url.as_deref()
    }

    pub fn base_url(&self, region_id: &str) -> Result<String, EndpointError> {
        // Checked even with an override so a bad region fails the same way everywhere,
        // and so a region id can never smuggle a different host into the URL.
        if !is_region_id(region_id) {
            return Err(EndpointError::InvalidRegion(region_id.to_string()));
        }
        if let Some(url) = &self.override_url {
            return Ok(url.clone());
        }
        let data = data();
        let host = match data.exceptions.get(region_id) {
            Some(host) => host.clone(),
            None => data.regional_pattern.replace("{region}", region_id),
        };
        Ok(format!("https://{host}"))
    }
}

fn is_region_id(region_id: &str) -> bool {
    !region_id.is_empty()
        && region_id.len() <= 64
        && region_id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn validate_override(raw: &str) -> Result<String, EndpointError> {
    let invalid = || EndpointError::InvalidOverride(raw.to_string());
    let trimmed = raw.trim();
    let url = reqwest::Url::parse(trimmed).map_err(|_| invalid())?;
    let scheme_ok = matches!(url.scheme(), "http" | "https");
    let host_ok = url.host_str().is_some_and(|h| !h.is_empty());
    // User info would end up in logs; a query or fragment would corrupt the signed query.
    let clean = url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    if !(scheme_ok && host_ok && clean) {
        return Err(invalid());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_data_parses_and_names_its_source() {
        let raw: serde_json::Value =
            serde_json::from_str(include_str!("endpoint_exceptions.json")).unwrap();
        assert!(raw["source"]
            .as_str()
            .unwrap()
            .contains("aliyun-python-sdk-core"));
        assert!(data().exceptions.len() >= 10);
    }

    #[test]
    fn documented_exceptions_use_the_central_host() {
        let endpoints = Endpoints::official();
        for region in [
            "cn-hangzhou",
            "cn-qingdao",
            "cn-beijing",
            "cn-shanghai",
            "cn-shenzhen",
            "cn-hongkong",
            "ap-southeast-1",
            "us-west-1",
            "us-east-1",
        ] {
            assert_eq!(
                endpoints.base_url(region).unwrap(),
                "https://ecs-cn-hangzhou.aliyuncs.com",
                "{region}"
            );
        }
    }

    #[test]
    fn other_regions_use_the_regional_host() {
        let endpoints = Endpoints::official();
        assert_eq!(
            endpoints.base_url("eu-central-1").unwrap(),
            "https://ecs.eu-central-1.aliyuncs.com"
        );
        assert_eq!(
            endpoints.base_url("cn-zhangjiakou").unwrap(),
            "https://ecs.cn-zhangjiakou.aliyuncs.com"
        );
        assert_eq!(
            endpoints.base_url("ap-southeast-7").unwrap(),
            "https://ecs.ap-southeast-7.aliyuncs.com"
        );
    }

    #[test]
    fn override_applies_to_every_region() {
        let endpoints = Endpoints::with_override("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            endpoints.base_url("cn-hangzhou").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            endpoints.base_url("eu-west-1").unwrap(),
            "http://127.0.0.1:8080"
        );
        let endpoints = Endpoints::with_override("https://ecs.example.internal").unwrap();
        assert_eq!(
            endpoints.base_url("us-east-1").unwrap(),
            "https://ecs.example.internal"
        );
    }

    #[test]
    fn bad_overrides_are_rejected_with_the_variable_name() {
        for bad in [
            "",
            "127.0.0.1:8080",
            "ftp://host",
            "http://",
            "http://user:pw@host",
            "http://host/?a=b",
            "http://host/#frag",
            "not a url",
        ] {
            let err = Endpoints::with_override(bad).unwrap_err();
            assert!(err.to_string().contains(ENV_ECS_ENDPOINT), "{bad}: {err}");
        }
    }

    #[test]
    fn env_lookup_reads_the_override() {
        let endpoints = Endpoints::from_lookup(|n| {
            (n == ENV_ECS_ENDPOINT).then(|| "http://127.0.0.1:1".into())
        })
        .unwrap();
        assert_eq!(endpoints.override_url(), Some("http://127.0.0.1:1"));
        assert_eq!(
            Endpoints::from_lookup(|_| None).unwrap(),
            Endpoints::official()
        );
        assert_eq!(
            Endpoints::from_lookup(|_| Some("  ".into())).unwrap(),
            Endpoints::official()
        );
    }

    #[test]
    fn region_ids_cannot_inject_hosts() {
        let endpoints = Endpoints::official();
        for bad in [
            "",
            "evil.com/",
            "cn-hangzhou.evil.com",
            "CN-HANGZHOU",
            "a b",
            "a@b",
        ] {
            assert!(endpoints.base_url(bad).is_err(), "{bad}");
        }
    }
}
