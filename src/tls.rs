//! TLS set-up shared by every HTTPS client in the process.

/// reqwest is built without a default crypto provider (to avoid aws-lc's C build and size),
/// so ring must be installed before the first client is built. Installing twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
