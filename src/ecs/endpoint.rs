//! Which URL serves ECS for a region.
//!
//! The rules follow the official SDKs' resolver chain (aliyun-python-sdk-core 2.16.1:
//! `UserCustomizedEndpointResolver`, then `LocalConfigRegionalEndpointResolver`, then
//! `EndpointResolverRules`), most specific first:
//! 1. `ALIBABA_CLOUD_ECS_ENDPOINTS`, a per-region map (the SDK's `add_endpoint(region, ...)`):
//!    `cn-hangzhou=https://ecs-vpc.cn-hangzhou.aliyuncs.com,cn-beijing=https://proxy:8443`;
//! 2. `ALIBABA_CLOUD_ECS_ENDPOINT`, one URL for every other region, in which `{region}` stands
//!    for the region id (`https://ecs-vpc.{region}.aliyuncs.com`);
//! 3. `ALIBABA_CLOUD_NETWORK` (the SDK's `network`): `public` (the default) uses the SDK's
//!    exceptions (`endpoint_exceptions.json`, which names its source) and else
//!    `ecs.<region>.aliyuncs.com`; any other network `vpc`, `share`, ... gives
//!    `ecs-<network>.<region>.aliyuncs.com` with no exceptions, as `EndpointResolverRules`
//!    consults the exceptions for `public` only.
//!
//! A copy calls two regions (source and destination), so one URL for both is wrong whenever
//! the endpoints are private (VPC endpoints, a proxy per region).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::model::rules::region_id_is_valid as is_region_id;

pub const ENV_ECS_ENDPOINT: &str = "ALIBABA_CLOUD_ECS_ENDPOINT";
pub const ENV_ECS_ENDPOINTS: &str = "ALIBABA_CLOUD_ECS_ENDPOINTS";
pub const ENV_NETWORK: &str = "ALIBABA_CLOUD_NETWORK";
/// Stands for the region id in `ALIBABA_CLOUD_ECS_ENDPOINT`.
pub const REGION_PLACEHOLDER: &str = "{region}";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("{variable} must be an http:// or https:// URL with a host and without user info, query or fragment ({REGION_PLACEHOLDER} may stand for the region id in the host or path), got {value:?}")]
    InvalidUrl {
        variable: &'static str,
        value: String,
    },
    #[error("{variable} {problem}")]
    NonAsciiHost {
        variable: &'static str,
        problem: String,
    },
    #[error("{ENV_ECS_ENDPOINTS} must be a comma-separated list of REGION=URL entries, each region once; entry {entry:?} is not: {rule}")]
    InvalidMapEntry { entry: String, rule: &'static str },
    #[error("{ENV_NETWORK} must be a network name of letters, digits, '-' and '_' such as public or vpc, got {0:?}")]
    InvalidNetwork(String),
    #[error("region id {0:?} is not a region id (such as cn-hangzhou or ap-southeast-1)")]
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

/// Resolves the base URL (scheme, host, maybe a path; no trailing `/`) that serves a region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoints {
    /// Per region, most specific.
    per_region: BTreeMap<String, String>,
    /// Every other region; may contain [`REGION_PLACEHOLDER`].
    fallback: Option<String>,
    /// `None` is `public`.
    network: Option<String>,
}

impl Endpoints {
    /// Alibaba Cloud's own public hosts.
    pub fn official() -> Self {
        Endpoints::default()
    }

    /// Every region goes to `url` (an emulator, a proxy), with `{region}` replaced by the
    /// region id; the region also travels as the `RegionId` parameter.
    pub fn with_override(url: &str) -> Result<Self, EndpointError> {
        Ok(Endpoints {
            fallback: Some(validate_url(ENV_ECS_ENDPOINT, url)?),
            ..Endpoints::default()
        })
    }

    /// Official hosts in `network` (`vpc`: `ecs-vpc.<region>.aliyuncs.com`).
    pub fn with_network(mut self, network: &str) -> Result<Self, EndpointError> {
        self.network = parse_network(network)?;
        Ok(self)
    }

    /// The three variables of the module documentation; unset or empty ones do not count.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EndpointError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut endpoints = match get(ENV_ECS_ENDPOINT) {
            Some(url) => Self::with_override(&url)?,
            None => Self::official(),
        };
        if let Some(network) = get(ENV_NETWORK) {
            endpoints = endpoints.with_network(&network)?;
        }
        if let Some(map) = get(ENV_ECS_ENDPOINTS) {
            endpoints.per_region = parse_map(&map)?;
        }
        Ok(endpoints)
    }

    pub fn base_url(&self, region_id: &str) -> Result<String, EndpointError> {
        // Checked before any rule so a bad region fails the same way everywhere, and so a
        // region id can never smuggle a different host into the URL.
        if !is_region_id(region_id) {
            return Err(EndpointError::InvalidRegion(region_id.to_string()));
        }
        if let Some(url) = self.per_region.get(region_id) {
            return Ok(url.clone());
        }
        if let Some(url) = &self.fallback {
            return Ok(url.replace(REGION_PLACEHOLDER, region_id));
        }
        let data = data();
        let host = match (&self.network, data.exceptions.get(region_id)) {
            (None, Some(host)) => host.clone(),
            (None, None) => data.regional_pattern.replace(REGION_PLACEHOLDER, region_id),
            (Some(network), _) => format!("ecs-{network}.{region_id}.aliyuncs.com"),
        };
        Ok(format!("https://{host}"))
    }
}

/// The SDK's pattern for `network` (`^[a-zA-Z0-9_-]+$`); host names are case-blind, so it is
/// kept in lowercase. `public` means the default hosts.
fn parse_network(raw: &str) -> Result<Option<String>, EndpointError> {
    let network = raw.trim().to_ascii_lowercase();
    let valid = !network.is_empty()
        && network.len() <= 32
        && network
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(EndpointError::InvalidNetwork(raw.to_string()));
    }
    Ok((network != "public").then_some(network))
}

fn parse_map(raw: &str) -> Result<BTreeMap<String, String>, EndpointError> {
    let mut map = BTreeMap::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let invalid = |rule| EndpointError::InvalidMapEntry {
            entry: entry.to_string(),
            rule,
        };
        let (region, url) = entry
            .split_once('=')
            .ok_or_else(|| invalid("no '=' between region and URL"))?;
        let region = region.trim();
        if !is_region_id(region) {
            return Err(invalid(
                "the region is not a region id (such as cn-hangzhou or ap-southeast-1)",
            ));
        }
        let url = validate_url(ENV_ECS_ENDPOINTS, url)?;
        if map.insert(region.to_string(), url).is_some() {
            return Err(invalid("the region is named twice"));
        }
    }
    Ok(map)
}

fn validate_url(variable: &'static str, raw: &str) -> Result<String, EndpointError> {
    let invalid = || EndpointError::InvalidUrl {
        variable,
        value: raw.to_string(),
    };
    let trimmed = raw.trim();
    if let Some(host) = crate::tls::non_ascii_host(trimmed) {
        return Err(EndpointError::NonAsciiHost {
            variable,
            problem: crate::tls::non_ascii_host_problem(host),
        });
    }
    // Checked with a region in place of the placeholder: that is the URL requests will use.
    let url = reqwest::Url::parse(&trimmed.replace(REGION_PLACEHOLDER, "cn-hangzhou"))
        .map_err(|_| invalid())?;
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
    Ok(trimmed.trim_end_matches('/').to_string())
}

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;
