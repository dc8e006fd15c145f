//! Captures every log line written at TRACE level, for tests that assert what must never be
//! logged (secrets, tokens, signatures).
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn subscriber(captured: &Captured) -> impl tracing::Subscriber + Send + Sync {
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
}

/// For the whole process. tracing caches per-callsite interest, which a thread-scoped
/// subscriber in one of several parallel tests does not reliably get: a binary that captures
/// this way should hold a single test.
pub fn capture_globally() -> Captured {
    let captured = Captured::default();
    tracing::subscriber::set_global_default(subscriber(&captured)).unwrap();
    captured
}

/// For this thread, until the guard is dropped.
pub fn capture_on_this_thread() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let guard = tracing::subscriber::set_default(subscriber(&captured));
    (captured, guard)
}
