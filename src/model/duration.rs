//! Terraform timeout strings (`10m`, `1h30m`, `1.5h`): Go's `time.ParseDuration` limited to
//! the units h, m and s. The schema pattern screens the syntax for linters; this parser turns
//! a string into a [`Duration`] and adds what a pattern cannot say (non-zero, no overflow).

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("must not be empty")]
    Empty,
    #[error("must be a duration such as 90s, 10m, 2h or 1h30m (units h, m, s; no sign)")]
    Syntax,
    #[error("must be longer than zero")]
    Zero,
    #[error("is too long")]
    Overflow,
}

const NANOS_PER_SEC: u128 = 1_000_000_000;

pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let bytes = text.as_bytes();
    let mut total_nanos: u128 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let int_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let int_part = &text[int_start..i];
        let mut frac_part = "";
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            let frac_start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            frac_part = &text[frac_start..i];
            if frac_part.is_empty() {
                return Err(DurationError::Syntax);
            }
        }
        if int_part.is_empty() {
            return Err(DurationError::Syntax);
        }
        let unit_secs: u128 = match bytes.get(i) {
            Some(b'h') => 3600,
            Some(b'm') => 60,
            Some(b's') => 1,
            _ => return Err(DurationError::Syntax),
        };
        i += 1;
        let unit_nanos = unit_secs * NANOS_PER_SEC;
        let whole: u128 = int_part.parse().map_err(|_| DurationError::Overflow)?;
        let mut nanos = whole
            .checked_mul(unit_nanos)
            .ok_or(DurationError::Overflow)?;
        // Digits past nanosecond precision cannot change the result for h/m/s units.
        let mut scale = unit_nanos;
        for digit in frac_part.bytes().take(15) {
            scale /= 10;
            nanos += u128::from(digit - b'0') * scale;
        }
        total_nanos = total_nanos
            .checked_add(nanos)
            .ok_or(DurationError::Overflow)?;
    }
    if total_nanos == 0 {
        return Err(DurationError::Zero);
    }
    let secs = u64::try_from(total_nanos / NANOS_PER_SEC).map_err(|_| DurationError::Overflow)?;
    let sub = (total_nanos % NANOS_PER_SEC) as u32;
    Ok(Duration::new(secs, sub))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_terraform_durations() {
        let cases: &[(&str, u64)] = &[
            ("10m", 600),
            ("1h30m", 5400),
            ("90s", 90),
            ("2h", 7200),
            ("1h0m30s", 3630),
            ("1.5h", 5400),
            ("0.5m", 30),
            ("1m1m", 120),
            ("007s", 7),
        ];
        for (text, secs) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(*secs)),
                "{text}"
            );
        }
        assert_eq!(parse_duration("1.25s"), Ok(Duration::from_millis(1250)));
    }

    #[test]
    fn rejects_bad_durations() {
        use DurationError::*;
        let cases: &[(&str, DurationError)] = &[
            ("", Empty),
            ("10", Syntax),
            ("m", Syntax),
            ("-10m", Syntax),
            ("+10m", Syntax),
            ("10 m", Syntax),
            ("10ms", Syntax),
            ("10d", Syntax),
            ("1.h", Syntax),
            (".5h", Syntax),
            ("ten minutes", Syntax),
            ("10m ", Syntax),
            ("0s", Zero),
            ("0h0m0s", Zero),
            ("0.0m", Zero),
            ("99999999999999999999999999999999999999999h", Overflow),
            ("9999999999999999999h", Overflow),
        ];
        for (text, err) in cases {
            assert_eq!(parse_duration(text).as_ref(), Err(err), "{text}");
        }
    }
}
