//! Copies that outlast one Lambda invocation: the function hands the wait on to a fresh
//! asynchronous invocation of itself, carrying a signed continuation record, and only the
//! invocation that sees the copy finish answers the stack. Nothing else is needed: no
//! scheduler, no state store.

mod invoke;
mod record;

pub use crate::lifecycle::WaitKind;
pub use invoke::{AwsCredentials, HandoverSettings, InvokeError, Invoker};
pub use record::{Continuation, RecordError, CONTINUATION_KEY};

/// A runaway chain of hand-overs would keep a stack waiting forever; this many 15-minute
/// invocations is a day, far past what either stack engine waits.
pub const MAX_HAND_OVERS: u32 = 96;
