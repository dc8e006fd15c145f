//! TLS and the HTTPS client shared by every part of the process.
//!
//! Trust: Mozilla's root certificates, compiled in (`webpki-roots`), plus the PEM certificates
//! named by `SSL_CERT_FILE` and found in `SSL_CERT_DIR` when those are set (a private CA, or a
//! proxy that inspects TLS). Why not the system's store: every endpoint this function talks
//! to (ECS, the CloudFormation and ROS ResponseURLs, Lambda `Invoke`) chains to a root in
//! Mozilla's program. Reading the system bundle cost about 0.4 MiB of peak memory and
//! milliseconds on the first event. Worse, an empty or unreadable bundle made the client
//! impossible to build, so the stack was never answered. Compiled-in roots cannot go
//! missing, and the same roots are trusted wherever the function runs.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One HTTPS client for the whole process (ECS, the stack callback, Lambda Invoke): roots are
/// assembled once instead of per client, and connections are pooled across events. Built on
/// first use, so a Lambda bootstrap asks for its first event without waiting on it. Every
/// request sets its own overall timeout.
pub fn shared_client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| client(CONNECT_TIMEOUT)).clone()
}

/// A client with this module's trust policy.
pub fn client(connect_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .user_agent(concat!("ecs-image-copy/", env!("CARGO_PKG_VERSION")))
        .tls_backend_preconfigured(tls_config(trusted_roots()))
        .build()
        // Nothing above depends on the environment: the roots were assembled already.
        .expect("a client with a prepared TLS configuration always builds")
}

/// The error and its causes ("error sending request: invalid peer certificate: UnknownIssuer"),
/// since reqwest's top level alone rarely says what went wrong. Callers strip the URL first:
/// a presigned URL's query is a credential.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The host of `url` when it is not ASCII. This build's `idna` has no Unicode back end
/// (`idna_adapter` 1.0, pinned in Cargo.toml to keep ICU4X's tables out of the binary), so
/// the URL crate refuses such a host with "invalid international domain name"; callers say
/// why instead. Every host the function calls is ASCII; the IDNA form (`xn--…`) of a Unicode
/// name is ASCII too and is accepted.
pub fn non_ascii_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    (!host.is_ascii()).then_some(host)
}

/// What to tell the user about a host [`non_ascii_host`] found.
pub fn non_ascii_host_problem(host: &str) -> String {
    format!("the host name {host:?} is not ASCII; write it in its IDNA ASCII form (xn--...), this build does not convert Unicode host names")
}

/// ring, named here rather than installed as the process default: reqwest is built without a
/// provider of its own (to avoid aws-lc's C build and size), and this is its only TLS setup.
fn tls_config(roots: RootCertStore) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// Mozilla's roots plus the ones `SSL_CERT_FILE` and `SSL_CERT_DIR` add. Problems with the
/// extra ones are logged, never fatal: the compiled-in roots still reach every endpoint.
fn trusted_roots() -> RootCertStore {
    let env_path = |name: &str| std::env::var_os(name).map(PathBuf::from);
    let extra = extra_roots(
        env_path("SSL_CERT_FILE").as_deref(),
        env_path("SSL_CERT_DIR").as_deref(),
    );
    for problem in &extra.problems {
        tracing::warn!(problem = %problem, "extra root certificates");
    }
    let mut store = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let (added, ignored) = store.add_parsable_certificates(extra.certs);
    if added > 0 || ignored > 0 {
        tracing::info!(added, ignored, "extra root certificates");
    }
    store
}

#[derive(Debug, Default)]
struct ExtraRoots {
    certs: Vec<CertificateDer<'static>>,
    /// One line per file that could not be read, naming the file.
    problems: Vec<String>,
}

/// The certificates of a PEM bundle and of every PEM file directly inside a directory (as
/// OpenSSL's `SSL_CERT_FILE` and `SSL_CERT_DIR` mean them).
fn extra_roots(file: Option<&Path>, dir: Option<&Path>) -> ExtraRoots {
    let mut extra = ExtraRoots::default();
    if let Some(file) = file {
        read_pem(file, &mut extra);
    }
    if let Some(dir) = dir {
        match std::fs::read_dir(dir) {
            Ok(entries) => {
                let mut files: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_file())
                    .collect();
                files.sort();
                for path in files {
                    read_pem(&path, &mut extra);
                }
            }
            Err(e) => extra
                .problems
                .push(format!("SSL_CERT_DIR {}: {e}", dir.display())),
        }
    }
    extra
}

fn read_pem(path: &Path, extra: &mut ExtraRoots) {
    let certs = match CertificateDer::pem_file_iter(path) {
        Ok(certs) => certs,
        Err(e) => {
            extra.problems.push(format!("{}: {e}", path.display()));
            return;
        }
    };
    for cert in certs {
        match cert {
            Ok(cert) => extra.certs.push(cert),
            Err(e) => {
                extra.problems.push(format!("{}: {e}", path.display()));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/tls")
            .join(name)
    }

    #[test]
    fn a_bundle_named_by_ssl_cert_file_adds_its_certificates() {
        let extra = extra_roots(Some(&fixture("loopback-cert.pem")), None);
        assert!(extra.problems.is_empty(), "{:?}", extra.problems);
        assert_eq!(extra.certs.len(), 1);
        let mut store = RootCertStore::empty();
        assert_eq!(store.add_parsable_certificates(extra.certs), (1, 0));
    }

    #[test]
    fn a_directory_named_by_ssl_cert_dir_adds_every_pem_file_in_it() {
        let extra = extra_roots(None, Some(&fixture("")));
        assert_eq!(extra.certs.len(), 1, "{:?}", extra.problems);
    }

    #[test]
    fn missing_or_broken_extra_roots_are_reported_not_fatal() {
        let extra = extra_roots(
            Some(Path::new("/nonexistent/bundle.pem")),
            Some(Path::new("/nonexistent-dir")),
        );
        assert!(extra.certs.is_empty());
        assert_eq!(extra.problems.len(), 2, "{:?}", extra.problems);
        assert!(extra.problems[0].contains("/nonexistent/bundle.pem"));
        assert!(extra.problems[1].starts_with("SSL_CERT_DIR /nonexistent-dir"));
    }

    #[test]
    fn unicode_host_names_are_refused_and_named_while_their_ascii_form_is_accepted() {
        let unicode = "https://bücher.example:8443/cfn?X-Amz-Signature=secret";
        assert_eq!(non_ascii_host(unicode), Some("bücher.example:8443"));
        assert!(
            reqwest::Url::parse(unicode).is_err(),
            "ASCII-only IDNA back end"
        );
        assert!(non_ascii_host_problem("bücher.example").contains("xn--"));

        for ascii in [
            "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/a?b=c",
            "https://ecs.cn-hangzhou.aliyuncs.com/",
            "https://xn--bcher-kva.example/cfn",
            "http://user:pässword@127.0.0.1:9/x/ü",
        ] {
            assert_eq!(non_ascii_host(ascii), None, "{ascii}");
        }
        let ascii_form = reqwest::Url::parse("https://xn--bcher-kva.example/cfn").unwrap();
        assert_eq!(ascii_form.host_str(), Some("xn--bcher-kva.example"));
    }

    #[test]
    fn the_client_builds_whatever_the_environment_holds() {
        let _ = client(Duration::from_secs(1));
        assert!(!webpki_roots::TLS_SERVER_ROOTS.is_empty());
    }
}
