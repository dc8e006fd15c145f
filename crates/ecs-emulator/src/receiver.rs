//! A loopback stand-in for a stack engine's `ResponseURL`: records every request and answers
//! with scripted statuses. Tests use it to see exactly what was sent; `invoke` uses it to
//! catch the answer when the event's own URL cannot be reached from this machine.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::sync::Notify;

use crate::http::LoopbackServer;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    /// Path and query exactly as they arrived on the request line.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status the receiver answered with.
    pub status: u16,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<u16>,
    recorded: Vec<Recorded>,
}

pub struct Receiver {
    /// Dropping the receiver stops its server.
    server: LoopbackServer,
    state: Arc<Mutex<State>>,
    arrived: Arc<Notify>,
}

impl Receiver {
    pub async fn start() -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State::default()));
        let arrived = Arc::new(Notify::new());
        let (st, ar) = (Arc::clone(&state), Arc::clone(&arrived));
        let server =
            LoopbackServer::start(0, move |req| record(req, Arc::clone(&st), Arc::clone(&ar)))
                .await?;
        Ok(Receiver {
            server,
            state,
            arrived,
        })
    }

    /// A URL on this receiver; `path_and_query` starts with `/`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.server.address(), path_and_query)
    }

    /// The next `count` requests are answered with `status` instead of 200.
    pub fn fail_next(&self, count: usize, status: u16) {
        let mut state = self.state.lock().unwrap();
        state.script.extend(std::iter::repeat_n(status, count));
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().recorded.clone()
    }

    /// Requests answered with 2xx.
    pub fn accepted(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    /// Waits until at least `count` requests were accepted, or `timeout` passes.
    pub async fn wait_for_accepted(&self, count: usize, timeout: Duration) -> Vec<Recorded> {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            let accepted = self.accepted();
            if accepted.len() >= count {
                return accepted;
            }
            if tokio::time::timeout_at(until, notified).await.is_err() {
                return self.accepted();
            }
        }
    }
}

async fn record(
    req: Request<Incoming>,
    state: Arc<Mutex<State>>,
    arrived: Arc<Notify>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let status = {
        let mut state = state.lock().unwrap();
        let status = state.script.pop_front().unwrap_or(200);
        state.recorded.push(Recorded {
            method,
            target,
            headers,
            body,
            status,
        });
        status
    };
    arrived.notify_waiters();
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    Ok(response)
}
