//! Test-only ECS caller for driving the emulator over real HTTP on 127.0.0.1.
//!
//! The project's ECS client is built separately; until it lands, these tests sign requests with
//! the small signer below, written from Alibaba Cloud's signature v1 description and independent
//! of both the client and the emulator. Client ↔ emulator tests come with the client.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use ecs_emulator::{Emulator, EmulatorConfig};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha1::Sha1;

/// RFC 3986 encoding: unreserved bytes stay, every other byte becomes `%XX` (uppercase).
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

pub fn string_to_sign(method: &str, params: &BTreeMap<String, String>) -> String {
    let canonical = params
        .iter()
        .filter(|(k, _)| k.as_str() != "Signature")
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!("{method}&%2F&{}", encode(&canonical))
}

pub fn sign(secret: &str, text: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub fn timestamp(offset_secs: i64) -> String {
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.format(&format).unwrap()
}

pub fn fresh_nonce() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// An answer: HTTP status and JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["Code"].as_str().unwrap_or("")
    }

    pub fn str(&self, field: &str) -> &str {
        self.body[field].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "expected success, got {}", self.body);
        self.body
    }

    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "unexpected answer {}",
            self.body
        );
        for field in ["RequestId", "HostId", "Message", "Recommend"] {
            assert!(
                self.body[field].is_string(),
                "{field} missing in {}",
                self.body
            );
        }
    }
}

pub struct Caller {
    pub endpoint: String,
    pub access_key_id: String,
    pub secret: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
}

impl Caller {
    pub fn new(endpoint: &str, config: &EmulatorConfig) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Caller {
            endpoint: endpoint.to_string(),
            access_key_id: config.access_key_id.clone(),
            secret: config.access_key_secret.clone(),
            token: config.security_token.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        }
    }

    /// Common parameters plus `extra`, without the signature.
    pub fn params(&self, action: &str, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut p: BTreeMap<String, String> = [
            ("Action", action.to_string()),
            ("AccessKeyId", self.access_key_id.clone()),
            ("Format", "JSON".to_string()),
            ("SignatureMethod", "HMAC-SHA1".to_string()),
            ("SignatureNonce", fresh_nonce()),
            ("SignatureVersion", "1.0".to_string()),
            ("Timestamp", timestamp(0)),
            ("Version", "2014-05-26".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        if let Some(token) = &self.token {
            p.insert("SecurityToken".into(), token.clone());
        }
        for (k, v) in extra {
            p.insert(k.to_string(), v.to_string());
        }
        p
    }

    pub fn signed(
        &self,
        method: &str,
        mut params: BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let signature = sign(&self.secret, &string_to_sign(method, &params));
        params.insert("Signature".into(), signature);
        params
    }

    /// Sends exactly `params` (already signed or deliberately not).
    pub async fn send(
        &self,
        method: &str,
        params: &BTreeMap<String, String>,
    ) -> reqwest::Result<Answer> {
        let encoded = params
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = if method == "POST" {
            self.http
                .post(format!("{}/", self.endpoint))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encoded)
        } else {
            self.http.get(format!("{}/?{encoded}", self.endpoint))
        };
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer { status, body })
    }

    /// Signs and sends a GET.
    pub async fn call(&self, action: &str, extra: &[(&str, &str)]) -> Answer {
        let params = self.signed("GET", self.params(action, extra));
        self.send("GET", &params).await.expect("emulator answers")
    }
}

/// A started emulator with a caller holding its credentials.
pub async fn start(config: EmulatorConfig) -> (Emulator, Caller) {
    let emulator = Emulator::start(config.clone(), 0)
        .await
        .expect("emulator starts");
    let caller = Caller::new(&emulator.endpoint(), &config);
    (emulator, caller)
}

pub const HANGZHOU_IMAGE: &str = "m-bp1emulatorbase0001";

/// CopyImage from the default Hangzhou image to `destination`.
pub async fn copy_to(caller: &Caller, destination: &str, extra: &[(&str, &str)]) -> Answer {
    let mut params = vec![
        ("RegionId", "cn-hangzhou"),
        ("ImageId", HANGZHOU_IMAGE),
        ("DestinationRegionId", destination),
    ];
    params.extend_from_slice(extra);
    caller.call("CopyImage", &params).await
}

/// One image as DescribeImages shows it, asking for every status.
pub async fn describe_one(caller: &Caller, region: &str, image_id: &str) -> Option<Value> {
    let body = caller
        .call(
            "DescribeImages",
            &[
                ("RegionId", region),
                ("ImageId", image_id),
                (
                    "Status",
                    "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated",
                ),
            ],
        )
        .await
        .ok();
    body["Images"]["Image"]
        .as_array()
        .and_then(|a| a.first().cloned())
}
