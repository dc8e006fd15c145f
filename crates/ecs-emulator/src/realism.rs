//! Behaviours of real ECS that make a client's life harder, each one switchable.
//!
//! [`Realism::off`] (the default) is the kind emulator the early tests were written against;
//! [`Realism::harsh`] turns every behaviour on with durations short enough for tests. Where a
//! behaviour is our reading of ECS rather than something its documents state, the field says so.
//!
//! The standalone emulator and `invoke --emulator` take a spec (`--realism` or the
//! [`REALISM_ENV`] variable): `off`, `harsh`, or a comma list such as
//! `invisible=5,cancel=10,usable=3,delete-denied=2,token=1,busy-source,late-snapshots`
//! (durations in seconds; a list starts from `off`).

use std::fmt;
use std::time::Duration;

/// The environment variable holding a realism spec: read by `ecs-emulator` (also when
/// `invoke --emulator` runs it) and by the test suites' in-process emulators.
pub const REALISM_ENV: &str = "ECS_EMULATOR_REALISM";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Realism {
    /// A new copy is not listed by `DescribeImages` for this long after `CopyImage` answered
    /// (eventual consistency between the API and the listing; an assumption — ECS documents
    /// no such guarantee either way, and cloud APIs commonly lag like this).
    pub invisible_for: Duration,
    /// `CopyImage` answers 403 `OperationDenied.ImageCopying` while the source image has a
    /// copy task in flight (Waiting or Creating) to any region. The API reference documents
    /// the code ("the source image is being copied. Try again later."); that a second copy of
    /// the same source is refused until the first ends is our reading of it.
    pub busy_source: bool,
    /// After `CancelCopyImage` the image stays listed (status unchanged, progress frozen)
    /// for this long, then goes with its partial snapshots; a repeated cancel meanwhile is
    /// answered 400 `IncorrectImageStatus`. An assumption: ECS documents neither the delay
    /// nor what happens to a cancelled copy's snapshots. Removing them is the only model a
    /// client could cope with: DescribeSnapshots cannot filter by image, and the cancelled
    /// image never listed them.
    pub cancel_takes: Duration,
    /// `DiskDeviceMappings` lists no snapshot while the copy is Waiting or Creating.
    pub late_snapshots: bool,
    /// `Usable` stays false for this long after the copy became `Available`.
    pub usable_lag: Duration,
    /// `DeleteImage` answers 403 `OperationDenied.ImageCopying` for this long after the
    /// image's copy ended (the DeleteImage reference lists the code; the window is assumed).
    pub delete_denied_after_copy: Duration,
    /// A `CopyImage` replaying a `ClientToken` within this long of the first request is
    /// answered 400 `LastTokenProcessing` (the first is taken to be still in flight; code as
    /// terraform-provider-alicloud retries it, status assumed).
    pub token_processing: Duration,
}

impl Realism {
    /// The kind emulator: every behaviour off.
    pub fn off() -> Self {
        Realism::default()
    }

    /// Every behaviour on, with durations a test can afford.
    pub fn harsh() -> Self {
        Realism {
            invisible_for: Duration::from_millis(1500),
            busy_source: true,
            cancel_takes: Duration::from_millis(1200),
            late_snapshots: true,
            usable_lag: Duration::from_millis(1200),
            delete_denied_after_copy: Duration::from_millis(800),
            token_processing: Duration::from_millis(300),
        }
    }

    pub fn is_off(&self) -> bool {
        *self == Realism::off()
    }

    /// The spec in [`REALISM_ENV`]; off when unset.
    pub fn from_env() -> Result<Self, RealismError> {
        std::env::var(REALISM_ENV).map_or(Ok(Realism::off()), |spec| Realism::parse(&spec))
    }

    /// Parses `off`, `harsh`, or a comma list of behaviours (see the module documentation).
    pub fn parse(spec: &str) -> Result<Self, RealismError> {
        let spec = spec.trim();
        match spec {
            "" | "off" => return Ok(Realism::off()),
            "harsh" => return Ok(Realism::harsh()),
            _ => {}
        }
        let mut realism = Realism::off();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = match item.split_once('=') {
                Some((key, value)) => (key.trim(), Some(value.trim())),
                None => (item, None),
            };
            let seconds = || -> Result<Duration, RealismError> {
                let raw = value.ok_or_else(|| RealismError::MissingSeconds(key.to_string()))?;
                raw.parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 86_400.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| RealismError::BadSeconds(item.to_string()))
            };
            let flag = || -> Result<bool, RealismError> {
                match value {
                    None | Some("on" | "true") => Ok(true),
                    Some("off" | "false") => Ok(false),
                    Some(_) => Err(RealismError::BadSeconds(item.to_string())),
                }
            };
            match key {
                "invisible" => realism.invisible_for = seconds()?,
                "busy-source" => realism.busy_source = flag()?,
                "cancel" => realism.cancel_takes = seconds()?,
                "late-snapshots" => realism.late_snapshots = flag()?,
                "usable" => realism.usable_lag = seconds()?,
                "delete-denied" => realism.delete_denied_after_copy = seconds()?,
                "token" => realism.token_processing = seconds()?,
                _ => return Err(RealismError::UnknownBehaviour(key.to_string())),
            }
        }
        Ok(realism)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RealismError {
    #[error("realism: unknown behaviour {0:?}; known: invisible=S, busy-source, cancel=S, late-snapshots, usable=S, delete-denied=S, token=S (or off, harsh)")]
    UnknownBehaviour(String),
    #[error("realism: {0:?} needs a number of seconds, e.g. {0}=2")]
    MissingSeconds(String),
    #[error("realism: {0:?} is not a valid value (seconds from 0 to 86400, or on/off)")]
    BadSeconds(String),
}

impl fmt::Display for Realism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_off() {
            return f.write_str("off");
        }
        let mut parts = Vec::new();
        let mut secs = |name: &str, d: Duration| {
            if !d.is_zero() {
                parts.push(format!("{name}={}", d.as_secs_f64()));
            }
        };
        secs("invisible", self.invisible_for);
        secs("cancel", self.cancel_takes);
        secs("usable", self.usable_lag);
        secs("delete-denied", self.delete_denied_after_copy);
        secs("token", self.token_processing);
        if self.busy_source {
            parts.push("busy-source".into());
        }
        if self.late_snapshots {
            parts.push("late-snapshots".into());
        }
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_specs_and_lists_parse() {
        assert_eq!(Realism::parse("off"), Ok(Realism::off()));
        assert_eq!(Realism::parse(""), Ok(Realism::off()));
        assert_eq!(Realism::parse("harsh"), Ok(Realism::harsh()));
        let listed = Realism::parse(
            "invisible=5, busy-source,cancel=0.5,late-snapshots,usable=3,delete-denied=2,token=1",
        )
        .unwrap();
        assert_eq!(listed.invisible_for, Duration::from_secs(5));
        assert!(listed.busy_source && listed.late_snapshots);
        assert_eq!(listed.cancel_takes, Duration::from_millis(500));
        assert_eq!(listed.usable_lag, Duration::from_secs(3));
        assert_eq!(listed.delete_denied_after_copy, Duration::from_secs(2));
        assert_eq!(listed.token_processing, Duration::from_secs(1));
        assert_eq!(
            Realism::parse("busy-source=off,usable=2").unwrap(),
            Realism {
                usable_lag: Duration::from_secs(2),
                ..Realism::off()
            }
        );
    }

    #[test]
    fn the_display_form_parses_back() {
        for realism in [Realism::off(), Realism::harsh()] {
            assert_eq!(Realism::parse(&realism.to_string()), Ok(realism));
        }
    }

    #[test]
    fn bad_specs_name_the_problem() {
        for (spec, needle) in [
            ("fast", "unknown behaviour \"fast\""),
            ("invisible", "needs a number of seconds"),
            ("cancel=-1", "not a valid value"),
            ("usable=NaN", "not a valid value"),
            ("busy-source=maybe", "not a valid value"),
        ] {
            let error = Realism::parse(spec).unwrap_err().to_string();
            assert!(error.contains(needle), "{spec}: {error}");
        }
        assert!(Realism::harsh().busy_source && !Realism::off().busy_source);
    }
}
