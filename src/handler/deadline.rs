//! How long the stack engine waits for the answer, and what that leaves this invocation.
//!
//! The engine's clock starts when it sends the event, a little before the first invocation
//! sees it; the handler counts from the first invocation (carried through hand-overs) and
//! answers a margin before the limit, so the FAILED answer with the copy cancelled arrives
//! while the engine still listens.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::envelope::Engine;
use crate::lifecycle::Bound;
use crate::model::{EngineLimits, CLOUDFORMATION_DEFAULT_WAIT};

/// The instant the answer must be sent by for the engine's sake, and the limit behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct EngineDeadline {
    pub answer_by: SystemTime,
    pub bound: Bound,
}

/// `None`: the engine's wait is not known (ROS without `Timeout`); the invocation's own
/// deadline is all there is.
pub(super) fn engine_deadline(
    engine: Engine,
    limits: &EngineLimits,
    first_invocation: SystemTime,
) -> Option<EngineDeadline> {
    let (key, seconds) = match (limits.tightest(), engine) {
        (Some(given), _) => given,
        (None, Engine::CloudFormation) => (
            "the default ServiceTimeout",
            CLOUDFORMATION_DEFAULT_WAIT.as_secs() as u32,
        ),
        (None, Engine::Ros) => return None,
    };
    let limit = Duration::from_secs(u64::from(seconds));
    Some(EngineDeadline {
        answer_by: first_invocation + limit - margin(limit),
        bound: Bound::Engine { key, seconds },
    })
}

/// A tenth of the limit, at least a second (event dispatch, a cold start) and at most a
/// minute; never more than half of a very short limit.
fn margin(limit: Duration) -> Duration {
    (limit / 10)
        .clamp(Duration::from_secs(1), Duration::from_secs(60))
        .min(limit / 2)
}

/// What an invocation that starts after the engine's deadline keeps to clean up and answer.
const PAST_DEADLINE_CLEANUP: Duration = Duration::from_secs(3);

/// The deadline this invocation works to, what set it, and whether the work may be handed
/// over to a fresh invocation (only when the engine waits longer than this one runs).
pub(super) fn effective_deadline(
    invocation: Instant,
    engine: Option<EngineDeadline>,
    can_hand_over: bool,
) -> (Instant, Bound, bool) {
    let Some(engine) = engine else {
        return (invocation, Bound::Invocation, can_hand_over);
    };
    // Past already (a hand-over delivered late): the engine may have stopped listening, but
    // a running copy must still be cancelled, so the invocation keeps a little time for it.
    let left = engine
        .answer_by
        .duration_since(SystemTime::now())
        .unwrap_or(PAST_DEADLINE_CLEANUP);
    let engine_at = Instant::now() + left;
    if engine_at < invocation {
        (engine_at, engine.bound, false)
    } else {
        (invocation, Bound::Invocation, can_hand_over)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudformation_waits_an_hour_unless_told_and_ros_is_unknown_unless_told() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let none = EngineLimits::default();
        let cfn = engine_deadline(Engine::CloudFormation, &none, t0).unwrap();
        assert_eq!(cfn.answer_by, t0 + Duration::from_secs(3600 - 60));
        assert_eq!(engine_deadline(Engine::Ros, &none, t0), None);
        let ros = EngineLimits {
            ros_timeout: Some(120),
            ..none
        };
        let ros = engine_deadline(Engine::Ros, &ros, t0).unwrap();
        assert_eq!(ros.answer_by, t0 + Duration::from_secs(108));
        assert_eq!(
            ros.bound,
            Bound::Engine {
                key: "Timeout",
                seconds: 120
            }
        );
        let short = EngineLimits {
            service_timeout: Some(1),
            ..none
        };
        let short = engine_deadline(Engine::CloudFormation, &short, t0).unwrap();
        assert_eq!(short.answer_by, t0 + Duration::from_millis(500));
    }

    #[tokio::test]
    async fn the_earlier_deadline_wins_and_only_a_later_engine_allows_a_hand_over() {
        let invocation = Instant::now() + Duration::from_secs(900);
        let soon = EngineDeadline {
            answer_by: SystemTime::now() + Duration::from_secs(100),
            bound: Bound::Engine {
                key: "ServiceTimeout",
                seconds: 110,
            },
        };
        let (at, bound, hand_over) = effective_deadline(invocation, Some(soon), true);
        assert!(at < invocation && !hand_over);
        assert_eq!(bound, soon.bound);
        let late = EngineDeadline {
            answer_by: SystemTime::now() + Duration::from_secs(3000),
            ..soon
        };
        let (at, bound, hand_over) = effective_deadline(invocation, Some(late), true);
        assert_eq!(
            (at, bound, hand_over),
            (invocation, Bound::Invocation, true)
        );
        assert_eq!(
            effective_deadline(invocation, None, false),
            (invocation, Bound::Invocation, false)
        );
        let passed = EngineDeadline {
            answer_by: SystemTime::now() - Duration::from_secs(30),
            ..soon
        };
        let (at, _, hand_over) = effective_deadline(invocation, Some(passed), true);
        let kept = at.saturating_duration_since(Instant::now());
        assert!(
            kept > Duration::from_secs(2) && !hand_over,
            "a late invocation still gets time to cancel the copy: {kept:?}"
        );
    }
}
