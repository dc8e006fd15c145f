//! The trust policy of the HTTPS client, through the real binary: an answer goes to a
//! ResponseURL served over TLS on 127.0.0.1 with a self-signed certificate. Mozilla's roots
//! alone must refuse it; `SSL_CERT_FILE` or `SSL_CERT_DIR` naming it must make it trusted;
//! an unusable system or extra trust store must never stop the function from answering.

use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const BIN: &str = env!("CARGO_BIN_EXE_ecs-image-copy");
const CERT: &str = "tests/data/tls/loopback-cert.pem";
const KEY: &str = "tests/data/tls-key/loopback-key.pem";

/// An HTTPS endpoint on 127.0.0.1 that answers 200 to anything and records request lines.
struct TlsReceiver {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl TlsReceiver {
    async fn start() -> TlsReceiver {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let certs = vec![CertificateDer::from_pem_file(CERT).unwrap()];
        let key = PrivateKeyDer::from_pem_file(KEY).unwrap();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    // A refused handshake is what some tests expect; nothing to record then.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n")
                        && tls.read(&mut byte).await.unwrap_or(0) == 1
                    {
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    let length = head
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    let mut body = vec![0u8; length];
                    let _ = tls.read_exact(&mut body).await;
                    seen.lock()
                        .unwrap()
                        .push(head.lines().next().unwrap_or_default().to_string());
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        TlsReceiver { port, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Runs `invoke` on a Create event whose answer goes to a fresh HTTPS receiver, with the
/// trust settings given (none inherited from this environment).
async fn answer_over_tls(
    name: &str,
    timeout: &str,
    trust: &[(&str, &str)],
) -> (TlsReceiver, Output) {
    let receiver = TlsReceiver::start().await;
    let dir =
        std::env::temp_dir().join(format!("ecs-image-copy-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string("tests/events/cfn-tf-create.json").unwrap();
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["ResponseURL"] = Value::String(format!(
        "https://127.0.0.1:{}/answer?X-Amz-Signature=secret",
        receiver.port
    ));
    let event_file = dir.join("event.json");
    std::fs::write(&event_file, serde_json::to_vec(&event).unwrap()).unwrap();

    let mut command = Command::new(BIN);
    command
        .arg("invoke")
        .arg("--emulator")
        .arg("--timeout")
        .arg(timeout)
        .arg(&event_file)
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .env_remove("ALIBABA_CLOUD_ECS_ENDPOINT")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in trust {
        command.env(name, value);
    }
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    (receiver, output)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_named_by_ssl_cert_file_is_trusted() {
    let (receiver, output) = answer_over_tls("file", "60", &[("SSL_CERT_FILE", CERT)]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(receiver.requests().len(), 1, "{stderr}");
    assert!(
        receiver.requests()[0].starts_with("PUT /answer?"),
        "{:?}",
        receiver.requests()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_directory_named_by_ssl_cert_dir_is_trusted() {
    let (receiver, output) =
        answer_over_tls("dir", "60", &[("SSL_CERT_DIR", "tests/data/tls")]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_built_in_roots_alone_refuse_a_self_signed_certificate() {
    let (receiver, output) = answer_over_tls("none", "12", &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(receiver.requests().is_empty());
    assert!(
        stderr.contains("invalid peer certificate"),
        "says the certificate was the problem: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unusable_trust_settings_are_reported_and_the_answer_still_goes_out() {
    // Before the roots were compiled in, an empty system store made the client unbuildable:
    // the process panicked while answering and the stack waited for an hour.
    let (receiver, output) = answer_over_tls(
        "broken",
        "60",
        &[
            ("SSL_CERT_DIR", "/nonexistent-cert-dir"),
            ("SSL_CERT_FILE", CERT),
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(receiver.requests().len(), 1, "{stderr}");
    assert!(
        stderr.contains("/nonexistent-cert-dir"),
        "names the unusable setting: {stderr}"
    );
}
