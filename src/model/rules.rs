//! The single-property rules, written once as JSON Schema fragments. The derive attributes in
//! the flavour modules point here, the generated schema carries them to the linters, and the
//! run-time validator reads them back from that schema; [`describe_pattern`] only words them.

use schemars::Schema;
use serde_json::{json, Value};

/// Letters, digits and CJK unified ideographs; ASCII-only escapes so that ECMA-262 (cfn-lint,
/// via Python `re`) and the Rust engine read the pattern identically.
pub const IMAGE_NAME_PATTERN: &str = r"^[A-Za-z\u4e00-\u9fa5][A-Za-z0-9\u4e00-\u9fa5.:_-]*$";
pub const REGION_ID_PATTERN: &str = r"^[a-z]{2,}(-[a-z0-9]+)+$";
pub const IMAGE_ID_PATTERN: &str = r"^m-[a-z0-9]{5,62}$";
pub const RESOURCE_GROUP_ID_PATTERN: &str = r"^rg-[a-z0-9]{5,61}$";
/// Terraform/Go duration strings restricted to the units a copy timeout needs.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?[hms])+$";

const LINK_PREFIXES: &[&str] = &["http://", "https://"];
const RESERVED_PREFIXES: &[&str] = &["http://", "https://", "acs:", "aliyun"];

/// The human wording of each pattern above, used when a value does not match.
pub fn describe_pattern(pattern: &str) -> Option<&'static str> {
    Some(match pattern {
        IMAGE_NAME_PATTERN => {
            "must start with a letter or Chinese character and contain only letters, digits, \
             Chinese characters, '.', ':', '_', '-'"
        }
        REGION_ID_PATTERN => "must be a region id such as cn-hangzhou or ap-southeast-1",
        IMAGE_ID_PATTERN => {
            "must be an image id: \"m-\" followed by 5 to 62 lowercase letters or digits"
        }
        RESOURCE_GROUP_ID_PATTERN => {
            "must be a resource group id: \"rg-\" followed by 5 to 61 lowercase letters or digits"
        }
        DURATION_PATTERN => {
            "must be a duration such as 90s, 10m, 2h or 1h30m (units h, m, s; no sign)"
        }
        _ => return None,
    })
}

/// If `pattern` only forbids a literal prefix (`^(?!acs:)`), that prefix.
pub fn forbidden_prefix(pattern: &str) -> Option<&str> {
    let literal = pattern.strip_prefix("^(?!")?.strip_suffix(')')?;
    let plain = literal
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '-' | '_'));
    (plain && !literal.is_empty()).then_some(literal)
}

fn forbid_prefixes(schema: &mut Schema, prefixes: &[&str]) {
    // One negative lookahead per prefix so that a violation names the exact prefix it hit.
    // (`not` would read better, but the registry meta-schema does not allow it in properties.)
    let clauses: Vec<Value> = prefixes
        .iter()
        .map(|p| json!({ "pattern": format!("^(?!{p})") }))
        .collect();
    schema.insert("allOf".into(), Value::Array(clauses));
}

/// Descriptions may not start with a link.
pub fn no_link_prefix(schema: &mut Schema) {
    forbid_prefixes(schema, LINK_PREFIXES);
}

/// Image names and tags may not start with a link or a prefix Alibaba Cloud reserves.
pub fn no_reserved_prefix(schema: &mut Schema) {
    forbid_prefixes(schema, RESERVED_PREFIXES);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_has_wording() {
        for p in [
            IMAGE_NAME_PATTERN,
            REGION_ID_PATTERN,
            IMAGE_ID_PATTERN,
            RESOURCE_GROUP_ID_PATTERN,
            DURATION_PATTERN,
        ] {
            assert!(describe_pattern(p).is_some(), "{p}");
        }
        assert_eq!(describe_pattern("^x$"), None);
    }

    #[test]
    fn forbidden_prefix_only_for_plain_prefixes() {
        assert_eq!(forbidden_prefix("^(?!acs:)"), Some("acs:"));
        assert_eq!(forbidden_prefix("^(?!https://)"), Some("https://"));
        assert_eq!(forbidden_prefix("^(?!a.c)"), None);
        assert_eq!(forbidden_prefix("^acs:"), None);
        assert_eq!(forbidden_prefix("^(?!)"), None);
    }
}
