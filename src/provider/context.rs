//! What an IN_PROGRESS answer records for the next callback: everything needed to resume
//! in a fresh process. The rest of the state lives in ECS.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::lifecycle::look::CopyWatch;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "Phase")]
pub enum CallbackContext {
    /// A copy started by CREATE, waited for until Available.
    Copying {
        image_id: String,
        region_id: String,
        /// When CopyImage answered (Unix ms): the create timeout and the listing grace
        /// count from here.
        started_at_ms: u64,
        create_timeout_s: u64,
        watch: CopyWatch,
    },
    /// An image being cancelled or deleted by DELETE, waited for until gone.
    Removing {
        image_id: String,
        region_id: String,
        started_at_ms: u64,
        delete_timeout_s: u64,
        snapshot_ids: Vec<String>,
        looks: u32,
    },
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Time since `started_at_ms`; zero when the clock went backwards.
pub fn since(started_at_ms: u64) -> Duration {
    Duration::from_millis(now_ms().saturating_sub(started_at_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_round_trip_through_json() {
        let context = CallbackContext::Copying {
            image_id: "m-abc".into(),
            region_id: "cn-shanghai".into(),
            started_at_ms: 1,
            create_timeout_s: 600,
            watch: CopyWatch::new(),
        };
        let text = serde_json::to_value(&context).unwrap();
        assert_eq!(text["Phase"], "Copying");
        assert_eq!(
            serde_json::from_value::<CallbackContext>(text).unwrap(),
            context
        );
    }
}
