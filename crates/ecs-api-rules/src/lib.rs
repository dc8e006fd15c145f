//! The single-property rules, written once as JSON Schema fragments. The derive attributes in
//! the flavour modules point here, the generated schema carries them to the linters, and the
//! run-time validator reads them back from that schema; [`describe_pattern`] words them and
//! [`plain_check`] evaluates them.
//!
//! Why plain checks instead of a regular-expression engine at run time: the patterns are a
//! closed set owned by this module, each is a few lines of code, and compiling them with
//! `fancy-regex` cost the function about a quarter of a MiB of peak memory (8.18 → 7.93 MiB
//! when this changed; BENCHMARKS.md has the current figure). The tests below hold every check
//! to the regex engine's verdict.

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

// The documented rules, settled against the CopyImage / ModifyImageAttribute / TagResources
// parameter descriptions (ECS API reference, seed 004; the same text is in the request classes
// of the official SDK alibabacloud-ecs20140526). Where the sources differ, the stricter one
// wins. Prefixes are literal and case-sensitive, as documented: nothing says `Aliyun` is
// reserved. "Chinese character" is read as U+4E00..=U+9FA5, the range the console patterns use.

const LINK_PREFIXES: &[&str] = &["http://", "https://"];
/// Image names: "cannot start with aliyun or acs:. It cannot contain http:// or https://."
/// (a name cannot contain '/', so the link prefixes are the only way a link could start one).
const RESERVED_PREFIXES: &[&str] = &["http://", "https://", "acs:", "aliyun"];
/// Tag keys: "cannot start with aliyun or acs:, and cannot contain http:// or https://".
const TAG_KEY_PREFIXES: &[&str] = &["aliyun", "acs:"];
/// Tag values: "cannot start with acs:, and cannot contain http:// or https://" (CopyImage);
/// `aliyun` is only reserved for keys.
const TAG_VALUE_PREFIXES: &[&str] = &["acs:"];
/// Anywhere in a tag key or value.
const LINKS: &[&str] = &["http://", "https://"];

/// Lengths in characters, as the parameter descriptions state them.
pub const IMAGE_NAME_LENGTH: std::ops::RangeInclusive<usize> = 2..=128;
pub const DESCRIPTION_LENGTH: std::ops::RangeInclusive<usize> = 2..=256;
pub const TAG_KEY_LENGTH: std::ops::RangeInclusive<usize> = 1..=128;
pub const TAG_VALUE_LENGTH: std::ops::RangeInclusive<usize> = 0..=128;

fn length_in(value: &str, range: &std::ops::RangeInclusive<usize>) -> bool {
    range.contains(&value.chars().count())
}

fn starts_with_any(value: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| value.starts_with(p))
}

fn contains_any(value: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| value.contains(n))
}

/// An image name (DestinationImageName, ImageName) as ECS accepts it. The generated schema
/// carries the same rule; `tests/rules_agree.rs` holds the two together.
pub fn image_name_is_valid(name: &str) -> bool {
    length_in(name, &IMAGE_NAME_LENGTH)
        && is_image_name(name)
        && !starts_with_any(name, RESERVED_PREFIXES)
}

/// An image description (DestinationDescription, Description).
pub fn description_is_valid(description: &str) -> bool {
    length_in(description, &DESCRIPTION_LENGTH) && !starts_with_any(description, LINK_PREFIXES)
}

pub fn tag_key_is_valid(key: &str) -> bool {
    length_in(key, &TAG_KEY_LENGTH)
        && !starts_with_any(key, TAG_KEY_PREFIXES)
        && !contains_any(key, LINKS)
}

pub fn tag_value_is_valid(value: &str) -> bool {
    length_in(value, &TAG_VALUE_LENGTH)
        && !starts_with_any(value, TAG_VALUE_PREFIXES)
        && !contains_any(value, LINKS)
}

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

/// How a value is checked against one of this module's patterns.
#[derive(Debug, Clone)]
pub enum PlainCheck {
    /// `^(?!prefix)`: the value must not start with the prefix.
    ForbiddenPrefix(String),
    /// `^(?![\s\S]*text)`: the value must not contain the text anywhere, across lines too.
    ForbiddenText(String),
    /// One of the anchored patterns above, as code.
    Known(fn(&str) -> bool),
}

impl PlainCheck {
    pub fn accepts(&self, value: &str) -> bool {
        match self {
            PlainCheck::ForbiddenPrefix(prefix) => !value.starts_with(prefix.as_str()),
            PlainCheck::ForbiddenText(text) => !value.contains(text.as_str()),
            PlainCheck::Known(check) => check(value),
        }
    }
}

/// The plain check for a pattern of this module; `None` for any other pattern, which the
/// run-time validator then refuses to compile (so a new pattern cannot go unchecked).
pub fn plain_check(pattern: &str) -> Option<PlainCheck> {
    if let Some(prefix) = forbidden_prefix(pattern) {
        return Some(PlainCheck::ForbiddenPrefix(prefix.to_string()));
    }
    if let Some(text) = forbidden_text(pattern) {
        return Some(PlainCheck::ForbiddenText(text.to_string()));
    }
    let check: fn(&str) -> bool = match pattern {
        IMAGE_NAME_PATTERN => is_image_name,
        REGION_ID_PATTERN => is_region_id,
        IMAGE_ID_PATTERN => |v| is_prefixed_id(v, "m-", 5..=62),
        RESOURCE_GROUP_ID_PATTERN => |v| is_prefixed_id(v, "rg-", 5..=61),
        DURATION_PATTERN => is_duration,
        _ => return None,
    };
    Some(PlainCheck::Known(check))
}

fn is_cjk_unified(c: char) -> bool {
    ('\u{4e00}'..='\u{9fa5}').contains(&c)
}

fn is_image_name(value: &str) -> bool {
    let mut chars = value.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || is_cjk_unified(c))
        && chars.all(|c| {
            c.is_ascii_alphanumeric() || is_cjk_unified(c) || matches!(c, '.' | ':' | '_' | '-')
        })
}

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_region_id(value: &str) -> bool {
    let Some((first, rest)) = value.split_once('-') else {
        return false;
    };
    first.len() >= 2
        && first.chars().all(|c| c.is_ascii_lowercase())
        && rest
            .split('-')
            .all(|p| !p.is_empty() && p.chars().all(is_lower_alnum))
}

fn is_prefixed_id(value: &str, prefix: &str, length: std::ops::RangeInclusive<usize>) -> bool {
    value.strip_prefix(prefix).is_some_and(|rest| {
        length.contains(&rest.chars().count()) && rest.chars().all(is_lower_alnum)
    })
}

/// One or more `<digits>[.<digits>]<unit>` groups, unit one of h, m, s.
fn is_duration(value: &str) -> bool {
    let mut rest = value.as_bytes();
    if rest.is_empty() {
        return false;
    }
    let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    while !rest.is_empty() {
        let whole = digits(rest);
        if whole == 0 {
            return false;
        }
        rest = &rest[whole..];
        if let Some(after_point) = rest.strip_prefix(b".") {
            let fraction = digits(after_point);
            if fraction == 0 {
                return false;
            }
            rest = &after_point[fraction..];
        }
        match rest.split_first() {
            Some((b'h' | b'm' | b's', tail)) => rest = tail,
            _ => return false,
        }
    }
    true
}

fn plain_literal(literal: &str) -> Option<&str> {
    let plain = literal
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '-' | '_'));
    (plain && !literal.is_empty()).then_some(literal)
}

/// If `pattern` only forbids a literal prefix (`^(?!acs:)`), that prefix.
pub fn forbidden_prefix(pattern: &str) -> Option<&str> {
    plain_literal(pattern.strip_prefix("^(?!")?.strip_suffix(')')?)
}

/// `[\s\S]` rather than `.`: in ECMA-262 and Python `re`, `.` stops at a line break.
const ANYTHING_BEFORE: &str = r"^(?![\s\S]*";

/// If `pattern` only forbids a literal anywhere in the value (`^(?![\s\S]*http://)`), that
/// literal.
pub fn forbidden_text(pattern: &str) -> Option<&str> {
    plain_literal(pattern.strip_prefix(ANYTHING_BEFORE)?.strip_suffix(')')?)
}

fn forbid(schema: &mut Schema, prefixes: &[&str], anywhere: &[&str]) {
    // One negative lookahead per literal so that a violation names the exact one it hit.
    // (`not` would read better, but the registry meta-schema does not allow it in properties.)
    let clauses: Vec<Value> = prefixes
        .iter()
        .map(|p| format!("^(?!{p})"))
        .chain(anywhere.iter().map(|t| format!("{ANYTHING_BEFORE}{t})")))
        .map(|pattern| json!({ "pattern": pattern }))
        .collect();
    schema.insert("allOf".into(), Value::Array(clauses));
}

/// Descriptions may not start with a link.
pub fn no_link_prefix(schema: &mut Schema) {
    forbid(schema, LINK_PREFIXES, &[]);
}

/// Image names may not start with a link or a prefix Alibaba Cloud reserves.
pub fn no_reserved_prefix(schema: &mut Schema) {
    forbid(schema, RESERVED_PREFIXES, &[]);
}

/// Tag keys: no reserved prefix, no link anywhere.
pub fn tag_key_rules(schema: &mut Schema) {
    forbid(schema, TAG_KEY_PREFIXES, LINKS);
}

/// Tag values: no `acs:` prefix, no link anywhere.
pub fn tag_value_rules(schema: &mut Schema) {
    forbid(schema, TAG_VALUE_PREFIXES, LINKS);
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;

// ---- Identifiers, one rule each for every reader ----
// The schemas carry the patterns above; these are the same rules for the code that reads ids
// outside the schemas: the ECS endpoint chosen for a region, the physical ids a Delete gets.

/// Region ids are at most this many bytes: the schemas' `maxLength` and every reader's bound.
pub const REGION_ID_MAX_LENGTH: usize = 64;

/// A region id as the schemas accept it: [`REGION_ID_PATTERN`], at most
/// [`REGION_ID_MAX_LENGTH`] bytes. Also what picks an ECS endpoint and what a physical id may
/// record, so a region id can never carry another host or a path into a URL.
pub fn region_id_is_valid(text: &str) -> bool {
    text.len() <= REGION_ID_MAX_LENGTH && is_region_id(text)
}

/// Whether a physical id's image part can name an image this handler made: `m-` and 1 to 62
/// lowercase letters or digits, i.e. [`IMAGE_ID_PATTERN`] without its lower bound of five.
/// Looser on purpose: ids ECS hands out are long, but a Delete must remove whatever copy any
/// version of this handler recorded, and a look-alike costs only a NotFound (the Delete still
/// succeeds). Anything else is foreign, and its Delete touches nothing.
pub fn image_id_may_name_a_copy(text: &str) -> bool {
    is_prefixed_id(text, "m-", 1..=62)
}
