//! Keys the stack engines add to (or document for) every custom resource's properties. They
//! are not properties of the copy: validation strips them, and the time limits among them
//! bound how long the handler may work before it must answer.
//!
//! - `ServiceToken` (CloudFormation `AWS::CloudFormation::CustomResource`, ROS
//!   `ALIYUN::ROS::CustomResource`): where the engine sends the event.
//! - `ServiceTimeout` (CloudFormation): seconds, 1 to 3600, default 3600; the engine fails
//!   the resource when it passes.
//! - `Timeout` (ROS): seconds, 1 to 43200, default 60; ROS waits only this long for the
//!   answer. ROS does not send it (it sends the content of `Parameters`), so templates pass
//!   it down among the parameters as well.

use std::time::Duration;

use serde_json::Value;

use super::violation::{show_value, Violation, Violations};

pub const SERVICE_TOKEN: &str = "ServiceToken";
pub const SERVICE_TIMEOUT: &str = "ServiceTimeout";
pub const ROS_TIMEOUT: &str = "Timeout";

/// Every engine-added key; none of them is a property of the copy.
pub const ENGINE_KEYS: [&str; 3] = [SERVICE_TOKEN, SERVICE_TIMEOUT, ROS_TIMEOUT];

/// CloudFormation's wait for a custom resource when `ServiceTimeout` is not set.
pub const CLOUDFORMATION_DEFAULT_WAIT: Duration = Duration::from_secs(3600);

/// How long the stack engine waits for the answer, as the template declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EngineLimits {
    /// `ServiceTimeout`, seconds.
    pub service_timeout: Option<u32>,
    /// ROS `Timeout`, seconds.
    pub ros_timeout: Option<u32>,
}

impl EngineLimits {
    /// The tightest declared limit and the key that declared it.
    pub fn tightest(&self) -> Option<(&'static str, u32)> {
        let given = [
            self.service_timeout.map(|s| (SERVICE_TIMEOUT, s)),
            self.ros_timeout.map(|s| (ROS_TIMEOUT, s)),
        ];
        given.into_iter().flatten().min_by_key(|(_, s)| *s)
    }
}

/// Reads the time limits from the event's properties: at the top, and (ROS's nested shape)
/// inside `Parameters`, where the template passes `Timeout` down to the function. When both
/// places give one, the shorter counts.
pub fn engine_limits(properties: &Value) -> Result<EngineLimits, Violations> {
    let mut violations = Vec::new();
    let mut read = |key: &'static str, max: u32| {
        let places = [
            properties.get(key),
            properties.get("Parameters").and_then(|p| p.get(key)),
        ];
        places
            .into_iter()
            .flatten()
            .filter_map(|value| match seconds(value, max) {
                Some(s) => Some(s),
                None => {
                    violations.push(Violation::new(
                        key,
                        format!(
                            "must be a whole number of seconds from 1 to {max} (a number or a \
                             string of digits), got {}",
                            show_value(value)
                        ),
                    ));
                    None
                }
            })
            .min()
    };
    let limits = EngineLimits {
        service_timeout: read(SERVICE_TIMEOUT, 3600),
        ros_timeout: read(ROS_TIMEOUT, 43_200),
    };
    if violations.is_empty() {
        Ok(limits)
    } else {
        Err(Violations(violations))
    }
}

/// Engines send numbers as strings; both forms are accepted, fractions are not.
fn seconds(value: &Value, max: u32) -> Option<u32> {
    let whole = match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s)
            if !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.parse().ok()
        }
        _ => None,
    }?;
    u32::try_from(whole).ok().filter(|s| (1..=max).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn limits_arrive_as_numbers_or_strings_flat_or_beside_parameters() {
        let flat = json!({"ServiceTimeout": "120", "ImageId": "m-abcde"});
        assert_eq!(
            engine_limits(&flat).unwrap(),
            EngineLimits {
                service_timeout: Some(120),
                ros_timeout: None
            }
        );
        let nested = json!({"Timeout": 600, "Parameters": {"Timeout": "300", "ImageId": "m-a"}});
        assert_eq!(engine_limits(&nested).unwrap().ros_timeout, Some(300));
        assert_eq!(
            engine_limits(&json!({"Timeout": 7200.0}))
                .unwrap()
                .ros_timeout,
            Some(7200)
        );
        assert_eq!(engine_limits(&json!({})).unwrap(), EngineLimits::default());
        let both = EngineLimits {
            service_timeout: Some(900),
            ros_timeout: Some(60),
        };
        assert_eq!(both.tightest(), Some((ROS_TIMEOUT, 60)));
    }

    #[test]
    fn out_of_range_or_fractional_limits_name_the_key_and_the_rule() {
        for (props, key) in [
            (json!({"ServiceTimeout": 0}), "ServiceTimeout"),
            (json!({"ServiceTimeout": 3601}), "ServiceTimeout"),
            (json!({"ServiceTimeout": "1h"}), "ServiceTimeout"),
            (json!({"Timeout": 43201}), "Timeout"),
            (json!({"Timeout": 1.5}), "Timeout"),
            (json!({"Timeout": -5}), "Timeout"),
            (json!({"Timeout": true}), "Timeout"),
            (json!({"Parameters": {"Timeout": " 60"}}), "Timeout"),
        ] {
            let violations = engine_limits(&props).unwrap_err();
            assert_eq!(violations.0[0].path, key, "{props}");
            assert!(
                violations.0[0].rule.contains("whole number of seconds"),
                "{violations}"
            );
        }
    }
}
