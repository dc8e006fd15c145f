//! The HTTP/1.1 front: binds 127.0.0.1, decodes query or form parameters, applies faults,
//! authenticates, dispatches, records every call and writes ECS-shaped JSON.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::auth::{self, Credentials, NonceStore};
use super::control::{CallRecord, Control};
use super::error::ApiError;
use super::faults::{FaultAction, FaultInjector};
use super::http::LoopbackServer;
use super::ops;
use super::params::Params;
use super::regions;
use super::state::State;
use super::EmulatorConfig;

/// Largest request body read; ECS requests are a few kilobytes at most.
const MAX_BODY: usize = 1 << 20;

pub(crate) struct Inner {
    pub state: State,
    pub nonces: NonceStore,
    pub faults: FaultInjector,
    pub calls: Vec<CallRecord>,
}

pub(crate) struct Shared {
    credentials: Credentials,
    inner: Mutex<Inner>,
}

impl Shared {
    /// A panic elsewhere must not take the emulator down for the rest of a test run.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running emulator. Dropping it also stops the server; [`Emulator::shutdown`] waits for that.
pub struct Emulator {
    server: LoopbackServer,
    shared: Arc<Shared>,
}

impl Emulator {
    /// Listens on 127.0.0.1 only; `port` 0 picks a free port.
    pub async fn start(config: EmulatorConfig, port: u16) -> io::Result<Emulator> {
        let shared = Arc::new(Shared {
            credentials: Credentials {
                access_key_id: config.access_key_id.clone(),
                access_key_secret: config.access_key_secret.clone(),
                security_token: config.security_token.clone(),
            },
            inner: Mutex::new(Inner {
                state: State::new(&config),
                nonces: NonceStore::default(),
                faults: FaultInjector::new(config.seed),
                calls: Vec::new(),
            }),
        });
        let serving = shared.clone();
        let server =
            LoopbackServer::start(port, move |request| handle(request, serving.clone())).await?;
        Ok(Emulator { server, shared })
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.server.address())
    }

    pub fn port(&self) -> u16 {
        self.server.address().port()
    }

    pub fn control(&self) -> Control {
        Control {
            shared: self.shared.clone(),
        }
    }

    /// Stops accepting, closes open connections and waits until the server task has ended.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Returned by the service to make hyper close the connection without writing an answer.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
struct DropConnection;

/// `a=b&c=d` with percent-decoding; `+` is a space, as in HTML forms.
fn decode_pairs(raw: &str, into: &mut BTreeMap<String, String>) {
    let decode = |s: &str| {
        let spaced = s.replace('+', " ");
        percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
    };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        into.entry(decode(key)).or_insert_with(|| decode(value));
    }
}

async fn read_params(
    request: Request<Incoming>,
) -> Result<(Method, bool, BTreeMap<String, String>), ApiError> {
    let method = request.method().clone();
    let root = request.uri().path() == "/";
    let mut params = BTreeMap::new();
    decode_pairs(request.uri().query().unwrap_or(""), &mut params);
    let body = Limited::new(request.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|_| ApiError::invalid_parameter("body", "too large or unreadable"))?
        .to_bytes();
    if method == Method::POST {
        decode_pairs(&String::from_utf8_lossy(&body), &mut params);
    }
    Ok((method, root, params))
}

fn process(
    method: &Method,
    root: bool,
    params: &BTreeMap<String, String>,
    shared: &Shared,
) -> Result<ops::Body, ApiError> {
    if *method != Method::GET && *method != Method::POST {
        return Err(ApiError::new(
            400,
            "UnsupportedHTTPMethod",
            "This http method is not supported.",
        ));
    }
    if !root {
        return Err(ops::unknown_action());
    }
    let action = auth::required(params, "Action")?;
    auth::check_version(params)?;
    if !ops::is_known(action) {
        return Err(ops::unknown_action());
    }
    let now = Instant::now();
    let mut guard = shared.lock();
    let inner = &mut *guard;
    auth::verify(
        method.as_str(),
        params,
        &shared.credentials,
        &mut inner.nonces,
        time::OffsetDateTime::now_utc(),
        now,
    )?;
    ops::dispatch(action, &Params(params), &mut inner.state, now)
}

fn redacted(params: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    params
        .iter()
        .map(|(k, v)| match k.as_str() {
            "Signature" | "SecurityToken" => (k.clone(), "<redacted>".to_string()),
            _ => (k.clone(), v.clone()),
        })
        .collect()
}

fn respond(status: u16, request_id: &str, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-acs-request-id", value);
    }
    response
}

async fn handle(
    request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let read = read_params(request).await;
    let params = read.as_ref().map(|(_, _, p)| p.clone()).unwrap_or_default();
    let (fault, latency) = {
        let mut inner = shared.lock();
        (inner.faults.decide(), inner.faults.latency())
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    // Faults are decided before anything else, so a faulted request never changes state.
    let outcome = match (fault, read) {
        (FaultAction::DropConnection, _) => None,
        (FaultAction::Throttle, _) => Some(Err(ApiError::throttled())),
        (FaultAction::InternalError, _) => Some(Err(ApiError::internal_error())),
        (FaultAction::ServiceUnavailable, _) => Some(Err(ApiError::service_unavailable())),
        (FaultAction::Pass, Err(e)) => Some(Err(e)),
        (FaultAction::Pass, Ok((method, root, params))) => {
            Some(process(&method, root, &params, &shared))
        }
    };
    let region_id = params.get("RegionId").cloned();
    let mut inner = shared.lock();
    let request_id = inner.state.request_id();
    let (http_status, error_code, response) = match outcome {
        None => (None, None, None),
        Some(Ok(mut body)) => {
            body.insert("RequestId".into(), Value::String(request_id.clone()));
            (
                Some(200),
                None,
                Some(respond(200, &request_id, Value::Object(body))),
            )
        }
        Some(Err(error)) => {
            let host = region_id
                .as_deref()
                .filter(|r| inner.state.has_region(r))
                .map_or_else(|| "ecs.aliyuncs.com".to_string(), regions::endpoint);
            let body = json!({
                "RequestId": request_id,
                "HostId": host,
                "Code": error.code,
                "Message": error.message,
                "Recommend": format!(
                    "https://api.aliyun.com/troubleshoot?q={}&product=Ecs&requestId={}",
                    error.code, request_id
                ),
            });
            (
                Some(error.status),
                Some(error.code.clone()),
                Some(respond(error.status, &request_id, body)),
            )
        }
    };
    inner.calls.push(CallRecord {
        action: params.get("Action").cloned().unwrap_or_default(),
        region_id,
        params: redacted(&params),
        http_status,
        error_code,
    });
    drop(inner);
    response.ok_or(DropConnection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_handles_percent_plus_and_utf8() {
        let mut params = BTreeMap::new();
        decode_pairs("A=a%20b&B=c+d&C=%E4%B8%AD&D&E=%2B&A=ignored", &mut params);
        assert_eq!(params["A"], "a b");
        assert_eq!(params["B"], "c d");
        assert_eq!(params["C"], "中");
        assert_eq!(params["D"], "");
        assert_eq!(params["E"], "+");
    }

    #[test]
    fn recorded_params_never_hold_signature_or_token() {
        let params: BTreeMap<String, String> = [
            ("Signature", "sig"),
            ("SecurityToken", "tok"),
            ("ImageId", "m-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let shown = format!("{:?}", redacted(&params));
        assert!(!shown.contains("sig\"") && !shown.contains("tok\""));
        assert!(shown.contains("m-1"));
    }
}
