//! Secrets never leak: a distinctive secret and STS token are pushed through every path
//! that produces text — Debug/Display, log lines, and errors built from hostile or
//! broken answers — and must not appear anywhere, nor may the signature or signed query.

mod log_capture;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ecs_image_copy::ecs::transport::TransportFuture;
use ecs_image_copy::ecs::{
    CopyImageRequest, Credentials, EcsClient, EcsError, Endpoints, HttpRequest, HttpResponse,
    RetryPolicy, Transport, TransportError,
};
use tokio::time::Instant;

type Answer = dyn Fn(&HttpRequest) -> Result<HttpResponse, TransportError> + Send + Sync;

/// Answers every request with what `answer` makes of it and keeps the requests, so the test
/// can look for their signatures in everything the client rendered. No network involved.
struct EchoTransport {
    answer: Box<Answer>,
    sent: Mutex<Vec<HttpRequest>>,
}

impl EchoTransport {
    fn requests(&self) -> Vec<HttpRequest> {
        self.sent.lock().unwrap().clone()
    }
}

impl Transport for EchoTransport {
    fn send(&self, request: HttpRequest, _timeout: Duration) -> TransportFuture<'_> {
        let answer = (self.answer)(&request);
        self.sent.lock().unwrap().push(request);
        Box::pin(async move { answer })
    }
}

/// Decodes with the `percent-encoding` crate, independent of the client's encoder.
fn decode_query(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

const SECRET: &str = "SECRET-canary-123";
const TOKEN: &str = "TOKEN-canary-456/+=";

fn credentials() -> Credentials {
    Credentials::new("LTAIcanaryid", SECRET, Some(TOKEN.to_string()))
}

fn forbidden(extra: &[String]) -> Vec<String> {
    let encoded = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let mut needles = vec![
        SECRET.to_string(),
        "TOKEN-canary-456".to_string(),
        encoded(TOKEN),
        encoded(&encoded(TOKEN)),
    ];
    needles.extend(extra.iter().cloned());
    needles
}

fn assert_clean(label: &str, text: &str, needles: &[String]) {
    for needle in needles {
        assert!(
            !text.contains(needle.as_str()),
            "{label} leaks {needle:?}:\n{text}"
        );
    }
}

/// Hostile or broken answers that echo whatever they were sent.
fn echoing_answer(request: &HttpRequest, kind: usize) -> Result<HttpResponse, TransportError> {
    let query = request.url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let params = decode_query(query);
    let string_to_sign = format!(
        "GET&%2F&{}",
        percent_encoding::utf8_percent_encode(
            query
                .rsplit_once("&Signature=")
                .map(|(q, _)| q)
                .unwrap_or(query),
            percent_encoding::NON_ALPHANUMERIC
        )
    );
    let token = params
        .iter()
        .find(|(k, _)| k == "SecurityToken")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let body = |status: u16, text: String| {
        Ok(HttpResponse {
            status,
            body: Bytes::from(text),
        })
    };
    match kind % 7 {
        0 => body(
            400,
            serde_json::json!({
                "RequestId": "R0", "Code": "SignatureDoesNotMatch",
                "Message": format!("Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"),
            })
            .to_string(),
        ),
        1 => body(
            400,
            serde_json::json!({
                "RequestId": format!("R1-{token}"), "Code": "InvalidSecurityToken.Malformed",
                "Message": format!("token {token} and secret {SECRET} rejected for {}", request.url),
            })
            .to_string(),
        ),
        2 => body(
            502,
            format!("<html><head><title>Bad Gateway for {}</title></head></html>", request.url),
        ),
        3 => body(414, format!("URI too long: {}", request.url)),
        4 => body(200, format!("not json {} {token}", request.url)),
        5 => Err(TransportError::other(&format!(
            "error sending request for url ({})",
            request.url
        ))),
        _ => Err(TransportError::connect(&format!("refused: {}", request.url))),
    }
}

#[tokio::test(start_paused = true)]
async fn no_secret_token_or_signature_in_debug_logs_or_errors() {
    let (logs, _guard) = log_capture::capture_on_this_thread();
    // Every attempt of call N gets answer kind N, so retries see the same kind.
    let round = Arc::new(AtomicUsize::new(0));
    let current = round.clone();
    let transport = Arc::new(EchoTransport {
        answer: Box::new(move |request| echoing_answer(request, current.load(Ordering::SeqCst))),
        sent: Mutex::default(),
    });
    let client = EcsClient::with_transport(
        credentials(),
        Endpoints::with_override("http://127.0.0.1:9").unwrap(),
        transport.clone(),
        RetryPolicy::seeded(
            Duration::from_millis(200),
            Duration::from_secs(5),
            Duration::from_secs(10),
            1,
        ),
    );

    let mut texts = vec![
        format!("{:?}", credentials()),
        format!("{:#?}", credentials()),
        credentials().to_string(),
        format!("{client:?}"),
    ];
    let request = CopyImageRequest {
        source_region_id: "cn-hangzhou".into(),
        image_id: "m-src".into(),
        destination_region_id: "cn-shanghai".into(),
        ..Default::default()
    };
    // Seven calls walk through every kind of answer; each error and its source chain is
    // rendered in every way a caller might.
    for kind in 0..7 {
        round.store(kind, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(if kind % 2 == 0 { 1 } else { 30 });
        let err = client.copy_image(&request, deadline).await.unwrap_err();
        texts.push(err.to_string());
        texts.push(format!("{err:?}"));
        texts.push(format!("{err:#?}"));
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            texts.push(cause.to_string());
            source = cause.source();
        }
        if let EcsError::DeadlineExceeded {
            last: Some(last), ..
        } = &err
        {
            texts.push(last.to_string());
        }
    }

    let sent = transport.requests();
    assert!(sent.len() >= 7);
    let mut extra = Vec::new();
    for request in &sent {
        texts.push(format!("{request:?}"));
        let query = request.url.split_once('?').unwrap().1.to_string();
        let signature = decode_query(&query).pop().unwrap().1;
        extra.push(signature.clone());
        extra.push(
            percent_encoding::utf8_percent_encode(&signature, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
        );
        extra.push(query);
    }
    let needles = forbidden(&extra);
    let log_text = logs.text();
    assert!(
        log_text.contains("CopyImage"),
        "nothing was logged: {log_text}"
    );
    assert!(log_text.contains("SignatureDoesNotMatch"), "{log_text}");
    assert_clean("logs", &log_text, &needles);
    for text in &texts {
        assert_clean("rendered text", text, &needles);
    }
    // The errors still say what went wrong.
    let all = texts.join("\n");
    for expected in [
        "SignatureDoesNotMatch",
        "InvalidSecurityToken.Malformed",
        "Bad Gateway",
        "HTTP 414",
        "deadline passed",
        "could not connect",
    ] {
        assert!(all.contains(expected), "no {expected:?} in:\n{all}");
    }
}

#[tokio::test]
async fn real_http_failures_do_not_leak_the_signed_query() {
    let (logs, _guard) = log_capture::capture_on_this_thread();
    // A server that accepts and hangs up at once, and a port that refuses.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            drop(socket);
        }
    });
    let refused_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    let mut texts = Vec::new();
    for url in [
        format!("http://{addr}"),
        format!("http://127.0.0.1:{refused_port}"),
    ] {
        let client = EcsClient::new(credentials(), Some(&url)).unwrap();
        let err = client
            .describe_image(
                "cn-hangzhou",
                "m-1",
                Instant::now() + Duration::from_millis(800),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, EcsError::DeadlineExceeded { .. }), "{err:?}");
        texts.push(err.to_string());
        texts.push(format!("{err:?}"));
    }
    server.abort();
    let needles = forbidden(&["Signature=".to_string(), "SignatureNonce".to_string()]);
    for text in &texts {
        assert_clean("error", text, &needles);
    }
    assert_clean("logs", &logs.text(), &needles);
}
