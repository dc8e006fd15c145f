//! What an operation is given (its time budget) and what it reports: how far it got, or
//! what failed and what it leaves behind.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::look::CopyWatch;
use super::LifecycleError;

/// Time limits for one operation within one invocation.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Stop waiting for ECS here, leaving time to clean up and answer.
    pub stop_waiting_at: Instant,
    /// Cleanup calls (cancel, delete) must be done by here so the answer still goes out.
    pub cleanup_by: Instant,
    /// When this invocation runs out before the operation's own timeout, hand back
    /// [`Progress::Pending`] instead of giving up (another invocation will resume).
    pub may_continue_elsewhere: bool,
    /// What set `cleanup_by`, for the reason of a copy that timed out against it.
    pub bound: Bound,
}

/// The limit a budget was cut to: this invocation's time, or the stack engine's wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Invocation,
    /// `key` is the template's setting (`ServiceTimeout`, `Timeout`) or the engine's default.
    Engine {
        key: &'static str,
        seconds: u32,
    },
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Invocation => f.write_str("time this invocation has left"),
            Bound::Engine { key, seconds } => write!(
                f,
                "time the stack engine waits for the answer ({key} {seconds}s, less a safety margin)"
            ),
        }
    }
}

/// What a pending operation is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaitKind {
    /// A copy becoming Available (Create, or Update by replacement).
    Copy,
    /// An image disappearing (Delete).
    Delete,
}

/// How far an operation got in this invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Finished; the image id to answer with.
    Done(String),
    /// Nothing to change: the stack keeps the resource (and physical id) it has.
    Kept,
    /// Still under way when this invocation's time ran out, within the operation's timeout.
    Pending(Pending),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub kind: WaitKind,
    pub image_id: String,
    /// When the operation began; its timeout counts from here.
    pub started: Instant,
    /// Snapshots to delete once the image is gone (Delete with `DeleteAutoSnapshot`).
    pub snapshot_ids: Vec<String>,
    /// The last state seen, for logs.
    pub last_seen: String,
    /// What the copy wait has learnt, for the next driver to go on from (Copy only).
    pub watch: Option<Box<CopyWatch>>,
}

/// Records the image a Create started, so that even if the handler dies mid-way (a panic)
/// the answer can name the image and the rollback removes it.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Option<String>>>);

impl Journal {
    pub fn record(&self, image_id: &str) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(image_id.to_string());
    }

    pub fn started_image(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A failed operation and the image it leaves for the stack to own, if any.
#[derive(Debug)]
pub struct Failure {
    pub error: LifecycleError,
    /// An image that may still exist and belongs to this resource: the rollback's Delete
    /// removes it, or finds it gone.
    pub leftover_image_id: Option<String>,
}

impl From<LifecycleError> for Failure {
    fn from(error: LifecycleError) -> Self {
        Failure {
            error,
            leftover_image_id: None,
        }
    }
}
