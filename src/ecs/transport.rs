//! The swappable seam between the client and the network: tests plug in fakes, production
//! uses [`ReqwestTransport`] (rustls with the ring provider, no OpenSSL).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;

use crate::redact::{redact_url, strip_url_queries};

/// One signed GET. The URL's query carries the signature, so `Debug` shows it redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Bytes,
}

/// Messages are sanitized: they never carry a URL query (it holds the signature).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("HTTP exchange failed: {0}")]
    Other(String),
}

impl TransportError {
    pub fn connect(detail: &str) -> Self {
        TransportError::Connect(strip_url_queries(detail))
    }

    pub fn other(detail: &str) -> Self {
        TransportError::Other(strip_url_queries(detail))
    }
}

pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'a>>;

pub trait Transport: Send + Sync + 'static {
    /// Sends one request; `timeout` bounds the whole exchange including the body.
    fn send(&self, request: HttpRequest, timeout: Duration) -> TransportFuture<'_>;
}

pub struct ReqwestTransport {
    /// `None`: the process-wide client (built on first use; see `crate::tls::shared_client`).
    client: Option<reqwest::Client>,
}

impl ReqwestTransport {
    /// A transport with its own client (and connect timeout), trusting what the process-wide
    /// one trusts.
    pub fn new(connect_timeout: Duration) -> Self {
        ReqwestTransport {
            client: Some(crate::tls::client(connect_timeout)),
        }
    }

    /// Uses the process-wide HTTPS client, shared with the rest of the program.
    pub fn shared() -> Self {
        ReqwestTransport { client: None }
    }

    async fn exchange(
        &self,
        request: HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let client = match &self.client {
            Some(own) => own.clone(),
            None => crate::tls::shared_client(),
        };
        let response = client
            .get(&request.url)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| classify(e, timeout))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| classify(e, timeout))?;
        Ok(HttpResponse { status, body })
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: HttpRequest, timeout: Duration) -> TransportFuture<'_> {
        Box::pin(self.exchange(request, timeout))
    }
}

fn classify(error: reqwest::Error, timeout: Duration) -> TransportError {
    let error = error.without_url();
    if error.is_timeout() {
        TransportError::Timeout(timeout)
    } else if error.is_connect() {
        TransportError::connect(&crate::tls::error_chain(&error))
    } else {
        TransportError::other(&crate::tls::error_chain(&error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn debug_hides_the_query() {
        let request = HttpRequest {
            url: "http://127.0.0.1:1/?Action=X&SecurityToken=TOKEN-canary&Signature=SIG-canary"
                .into(),
        };
        let shown = format!("{request:?}");
        assert!(shown.contains("http://127.0.0.1:1/"), "{shown}");
        assert!(!shown.contains("canary"), "{shown}");
        assert!(!shown.contains("Action"), "{shown}");
    }

    #[test]
    fn messages_lose_url_queries() {
        assert_eq!(
            TransportError::other("x http://h/?a=b y").to_string(),
            "HTTP exchange failed: x http://h/?<redacted> y"
        );
    }

    #[tokio::test]
    async fn connection_refused_is_a_connect_error_without_the_query() {
        // Bind then drop to get a port that refuses connections.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let transport = ReqwestTransport::new(Duration::from_secs(2));
        let err = transport
            .send(
                HttpRequest {
                    url: format!("http://127.0.0.1:{port}/?Signature=SIG-canary"),
                },
                Duration::from_secs(2),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::Connect(_)), "{err:?}");
        assert!(!err.to_string().contains("SIG-canary"), "{err}");
        assert!(!format!("{err:?}").contains("SIG-canary"), "{err:?}");
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(socket);
        });
        let transport = ReqwestTransport::new(Duration::from_secs(2));
        let err = transport
            .send(
                HttpRequest {
                    url: format!("http://{addr}/?Signature=SIG-canary"),
                },
                Duration::from_millis(200),
            )
            .await
            .unwrap_err();
        assert_eq!(err, TransportError::Timeout(Duration::from_millis(200)));
        server.abort();
    }

    #[tokio::test]
    async fn returns_status_and_body_and_sends_the_query() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 1024];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                seen.extend_from_slice(&buf[..n]);
            }
            let body = br#"{"Code":"Throttling"}"#;
            let head = format!(
                "HTTP/1.1 503 Service Unavailable\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            socket.write_all(head.as_bytes()).await.unwrap();
            socket.write_all(body).await.unwrap();
            String::from_utf8(seen).unwrap()
        });
        let transport = ReqwestTransport::new(Duration::from_secs(2));
        let response = transport
            .send(
                HttpRequest {
                    url: format!("http://{addr}/?Action=DescribeImages&Tag=a%2Bb"),
                },
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        assert_eq!(response.status, 503);
        assert_eq!(&response.body[..], br#"{"Code":"Throttling"}"#);
        let head = server.await.unwrap();
        assert!(
            head.starts_with("GET /?Action=DescribeImages&Tag=a%2Bb HTTP/1.1"),
            "{head}"
        );
    }
}
