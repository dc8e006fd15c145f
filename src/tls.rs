//! TLS and the HTTPS client shared by every part of the process.

use std::sync::OnceLock;
use std::time::Duration;

/// reqwest is built without a default crypto provider (to avoid aws-lc's C build and size),
/// so ring must be installed before the first client is built. Installing twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One HTTPS client for the whole process (ECS, the stack callback, Lambda Invoke): the
/// system's root certificates are loaded once instead of per client (each load costs
/// milliseconds and memory), and connections are pooled across events. Built on first use,
/// so a Lambda bootstrap asks for its first event without waiting on it. Every request sets
/// its own overall timeout.
pub fn shared_client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            install_crypto_provider();
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .user_agent(concat!("ecs-image-copy/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("a client with static settings always builds")
        })
        .clone()
}
