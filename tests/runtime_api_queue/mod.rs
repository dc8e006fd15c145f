//! As much of the Lambda Runtime API as a bootstrap needs to work through a queue of events
//! (tests/lambda_runtime.rs has the full fake, with deadlines and error posts).
#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

/// Hands out the queued events (each names its `RequestId`), records what is posted back.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    responses: Arc<Mutex<Vec<String>>>,
}

impl RuntimeApi {
    pub async fn start(events: Vec<Value>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let pending = Arc::new(Mutex::new(events.into_iter().collect::<VecDeque<_>>()));
        let responses = Arc::new(Mutex::new(Vec::new()));
        let posted = Arc::clone(&responses);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (pending, posted) = (Arc::clone(&pending), Arc::clone(&posted));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<_>| {
                        let (pending, posted) = (Arc::clone(&pending), Arc::clone(&posted));
                        async move { Ok::<_, Infallible>(runtime_api(req, &pending, &posted).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        RuntimeApi { addr, responses }
    }

    /// The paths posted back once there are `count`, or after 30 s however many there are.
    pub async fn wait_for_responses(&self, count: usize) -> Vec<String> {
        for _ in 0..600 {
            if self.responses.lock().unwrap().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.responses.lock().unwrap().clone()
    }
}

async fn runtime_api(
    req: Request<hyper::body::Incoming>,
    pending: &Mutex<VecDeque<Value>>,
    posted: &Mutex<Vec<String>>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    if path.ends_with("/invocation/next") {
        // The queue ran dry: hold the long poll, as Lambda does between events.
        loop {
            let next = pending.lock().unwrap().pop_front();
            if let Some(event) = next {
                let deadline = std::time::SystemTime::now() + Duration::from_secs(60);
                let deadline_ms = deadline
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis();
                let id = event["RequestId"].as_str().unwrap().to_string();
                return Response::builder()
                    .header("Lambda-Runtime-Aws-Request-Id", id)
                    .header("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string())
                    .header(
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:ecs-image-copy",
                    )
                    .body(Full::new(Bytes::from(event.to_string())))
                    .unwrap();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    posted.lock().unwrap().push(path);
    Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .unwrap()
}
