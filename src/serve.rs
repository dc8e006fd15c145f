//! The Alibaba Cloud Function Compute 3.0 custom runtime: an HTTP server that FC calls with
//! `POST /invoke` for each event (ROS custom resources invoke FC this way).
//!
//! FC hands the function role's temporary credentials over in each request's headers, so the
//! handler depends on the request; it is kept between requests while the credentials stay
//! the same, so a warm instance reuses its HTTP clients until FC rotates the keys.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::time::Instant;

use crate::ecs::Credentials;
use crate::handler::{HandleError, Handled, Handler};
use crate::settings::Settings;

pub const HEADER_REQUEST_ID: &str = "x-fc-request-id";
pub const HEADER_ACCESS_KEY_ID: &str = "x-fc-access-key-id";
pub const HEADER_ACCESS_KEY_SECRET: &str = "x-fc-access-key-secret";
pub const HEADER_SECURITY_TOKEN: &str = "x-fc-security-token";
/// FC reads the outcome of an event invocation from this response header (and the status).
pub const HEADER_STATUS: &str = "x-fc-status";
/// FC's documented code for "the function failed" in a custom runtime's answer.
const FUNCTION_FAILED: StatusCode = StatusCode::NOT_FOUND;
/// FC caps a synchronous event body at 32 MB; a custom-resource event is a few KB.
const MAX_EVENT_BYTES: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Time allowed for one event, from its arrival. FC does not tell a custom runtime its
    /// function timeout, so this must be set no longer than the function's configured timeout.
    pub timeout: Duration,
}

/// Serves until the process is stopped. Prints `listening on http://ADDR` on stdout first.
pub async fn run(host: &str, port: u16, config: ServeConfig) -> std::io::Result<()> {
    let listener = TcpListener::bind((host, port)).await?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    serve(
        listener,
        Arc::new(Server::new(Settings::load().await, config)),
    )
    .await
}

async fn serve(listener: TcpListener, server: Arc<Server>) -> std::io::Result<()> {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let server = Arc::clone(&server);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let server = Arc::clone(&server);
                async move { Ok::<_, Infallible>(server.route(req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Binds `host:port` and serves in the background; for tests and embedding.
pub async fn spawn(
    host: &str,
    port: u16,
    settings: Settings,
    config: ServeConfig,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind((host, port)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(serve(listener, Arc::new(Server::new(settings, config))));
    Ok(addr)
}

struct Server {
    /// The environment's settings; the credentials in them are the fallback when a request
    /// carries none (a function without a role).
    base: Settings,
    config: ServeConfig,
    /// The handler for the most recent credentials (FC rotates them, rarely).
    current: Mutex<Option<(Option<Credentials>, Arc<Handler>)>>,
}

impl Server {
    fn new(base: Settings, config: ServeConfig) -> Self {
        Server {
            base,
            config,
            current: Mutex::new(None),
        }
    }

    async fn route(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        match (req.method(), req.uri().path()) {
            (&Method::POST, "/invoke") => self.invoke(req).await,
            (method, path) => {
                tracing::warn!(%method, path, "not an event invocation; only POST /invoke is served");
                plain(StatusCode::NOT_FOUND, "only POST /invoke is served")
            }
        }
    }

    async fn invoke(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let arrived = Instant::now();
        let deadline = arrived + self.config.timeout;
        let request_id = header(&req, HEADER_REQUEST_ID).unwrap_or_default();
        // FC's log collection and console key on these exact lines on stdout.
        println!("FC Invoke Start RequestId: {request_id}");
        let response = match self.handler_for(&req) {
            Ok(handler) => match read_body(req).await {
                Ok(raw) => outcome(handler.handle(&raw, deadline).await),
                Err(message) => failed(StatusCode::BAD_REQUEST, &message),
            },
            Err(message) => failed(FUNCTION_FAILED, &message),
        };
        println!("FC Invoke End RequestId: {request_id}");
        response
    }

    /// Credentials from the request's headers, else the environment's; a half-given pair is
    /// a configuration error and yields a handler that answers the stack FAILED saying so.
    fn handler_for(&self, req: &Request<Incoming>) -> Result<Arc<Handler>, String> {
        let mut settings = self.base.clone();
        match (
            header(req, HEADER_ACCESS_KEY_ID).filter(|v| !v.is_empty()),
            header(req, HEADER_ACCESS_KEY_SECRET).filter(|v| !v.is_empty()),
        ) {
            (Some(id), Some(secret)) => {
                let token = header(req, HEADER_SECURITY_TOKEN);
                settings.credentials = Ok(Some(Credentials::new(id, secret, token)));
            }
            (None, None) => {}
            (Some(_), None) => {
                settings.credentials = Err(format!(
                    "the request carries {HEADER_ACCESS_KEY_ID} but no {HEADER_ACCESS_KEY_SECRET}"
                ))
            }
            (None, Some(_)) => {
                settings.credentials = Err(format!(
                    "the request carries {HEADER_ACCESS_KEY_SECRET} but no {HEADER_ACCESS_KEY_ID}"
                ))
            }
        }
        let key = settings.credentials.clone().ok().flatten();
        let mut current = self
            .current
            .lock()
            .map_err(|_| "internal error: poisoned lock")?;
        if let Some((cached_key, handler)) = current.as_ref() {
            if settings.credentials.is_ok() && *cached_key == key {
                return Ok(Arc::clone(handler));
            }
        }
        let handler = Arc::new(Handler::new(settings.clone()));
        if settings.credentials.is_ok() {
            *current = Some((key, Arc::clone(&handler)));
        }
        Ok(handler)
    }
}

fn header(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

async fn read_body(req: Request<Incoming>) -> Result<Vec<u8>, String> {
    let limited = http_body_util::Limited::new(req.into_body(), MAX_EVENT_BYTES);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(e) => Err(format!(
            "reading the event body (at most {MAX_EVENT_BYTES} bytes): {e}"
        )),
    }
}

/// What Function Compute gets back for an answered event, serialised once.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AnsweredResponse<'a> {
    answered: &'static str,
    physical_resource_id: &'a str,
    attempts: u32,
}

/// A stack that was answered (SUCCESS or FAILED) is a successful invocation: FC retries
/// failed asynchronous invocations, which would redo the work and answer twice. A hand-over
/// is reported as before, as the function's failure: it only happens where a Lambda
/// hand-over is configured, which Function Compute does not use.
fn outcome(result: Result<Handled, HandleError>) -> Response<Full<Bytes>> {
    match result {
        Ok(Handled::Answered(answered)) => {
            let body = AnsweredResponse {
                answered: answered.body.status.as_str(),
                physical_resource_id: &answered.body.physical_resource_id,
                attempts: answered.delivery.attempts,
            };
            let json = serde_json::to_string(&body).expect("a response of strings serializes");
            with_status(StatusCode::OK, "application/json", json)
        }
        Ok(Handled::HandedOver {
            image_id,
            hand_overs,
        }) => failed(
            FUNCTION_FAILED,
            &format!(
                "the wait for {image_id} was handed over to a new invocation (hand-over {hand_overs})"
            ),
        ),
        Err(e) => failed(FUNCTION_FAILED, &e.to_string()),
    }
}

fn failed(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    tracing::error!(error = message, "invocation failed");
    let body = json!({ "errorMessage": message, "errorType": "HandlerError" });
    with_status(status, "application/json", body.to_string())
}

fn plain(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    with_status(status, "text/plain", message.to_string())
}

fn with_status(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        HEADER_STATUS,
        hyper::header::HeaderValue::from(status.as_u16()),
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        headers.insert(hyper::header::CONTENT_TYPE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callback::Delivery;
    use crate::envelope::{Answer, AnswerTarget, Engine};
    use crate::handler::Answered;

    async fn shown(response: Response<Full<Bytes>>) -> (u16, serde_json::Value) {
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn an_answered_event_is_reported_from_the_answer_as_sent() {
        let target = AnswerTarget {
            engine: Engine::Ros,
            response_url: "http://127.0.0.1:1/cb".into(),
            stack_id: "s".into(),
            request_id: "r".into(),
            logical_resource_id: "Copy".into(),
            physical_resource_id: None,
        };
        let body = Answer::failed("m-abc", "no").to_body(&target);
        let delivery = Delivery {
            attempts: 2,
            http_status: 200,
        };
        let (status, json) =
            shown(outcome(Ok(Handled::Answered(Answered { body, delivery })))).await;
        assert_eq!(status, 200);
        assert_eq!(
            json,
            json!({"Answered": "FAILED", "PhysicalResourceId": "m-abc", "Attempts": 2})
        );
    }

    #[tokio::test]
    async fn a_hand_over_is_reported_as_before_as_the_function_s_failure() {
        let handed_over = Handled::HandedOver {
            image_id: "m-copy".into(),
            hand_overs: 1,
        };
        let (status, json) = shown(outcome(Ok(handed_over))).await;
        assert_eq!(status, FUNCTION_FAILED.as_u16());
        assert_eq!(
            json["errorMessage"],
            "the wait for m-copy was handed over to a new invocation (hand-over 1)"
        );
    }
}
