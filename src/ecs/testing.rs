//! A scripted [`Transport`] for tests of code that calls ECS: answers come from a
//! closure, and every request is recorded for assertions. No network involved.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use super::transport::{HttpRequest, HttpResponse, Transport, TransportError, TransportFuture};

type Handler = dyn Fn(&HttpRequest, usize) -> Result<HttpResponse, TransportError> + Send + Sync;

pub struct ScriptedTransport {
    handler: Box<Handler>,
    requests: Mutex<Vec<HttpRequest>>,
}

impl ScriptedTransport {
    /// `handler(request, index)` answers the `index`-th request (0-based).
    pub fn new(
        handler: impl Fn(&HttpRequest, usize) -> Result<HttpResponse, TransportError>
            + Send
            + Sync
            + 'static,
    ) -> Arc<Self> {
        Arc::new(ScriptedTransport {
            handler: Box::new(handler),
            requests: Mutex::new(Vec::new()),
        })
    }

    /// Answers in order; the last answer repeats.
    pub fn sequence(answers: Vec<Result<HttpResponse, TransportError>>) -> Arc<Self> {
        assert!(!answers.is_empty(), "a sequence needs at least one answer");
        Self::new(move |_, index| answers[index.min(answers.len() - 1)].clone())
    }

    pub fn requests(&self) -> Vec<HttpRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The decoded query parameters of request `index`, for assertions.
    pub fn params(&self, index: usize) -> Vec<(String, String)> {
        let request = &self.requests()[index];
        let query = request.url.split_once('?').map_or("", |(_, q)| q);
        decode_query(query)
    }
}

/// Decodes with the `percent-encoding` crate, independent of the client's encoder.
pub fn decode_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// A JSON answer with the given status.
pub fn json(status: u16, body: serde_json::Value) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse {
        status,
        body: Bytes::from(body.to_string()),
    })
}

/// An ECS-shaped error answer.
pub fn api_error(status: u16, code: &str, message: &str) -> Result<HttpResponse, TransportError> {
    json(
        status,
        serde_json::json!({
            "RequestId": format!("req-{code}"),
            "HostId": "ecs.aliyuncs.com",
            "Code": code,
            "Message": message,
            "Recommend": "https://api.aliyun.com/troubleshoot",
        }),
    )
}

impl Transport for ScriptedTransport {
    fn send(&self, request: HttpRequest, _timeout: Duration) -> TransportFuture<'_> {
        let index = {
            let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
            requests.push(request.clone());
            requests.len() - 1
        };
        let answer = (self.handler)(&request, index);
        Box::pin(async move { answer })
    }
}
