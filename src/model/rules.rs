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

/// How a value is checked against one of this module's patterns.
#[derive(Debug, Clone)]
pub enum PlainCheck {
    /// `^(?!prefix)`: the value must not start with the prefix.
    ForbiddenPrefix(String),
    /// One of the anchored patterns above, as code.
    Known(fn(&str) -> bool),
}

impl PlainCheck {
    pub fn accepts(&self, value: &str) -> bool {
        match self {
            PlainCheck::ForbiddenPrefix(prefix) => !value.starts_with(prefix.as_str()),
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
    use proptest::prelude::*;

    const ANCHORED: [&str; 5] = [
        IMAGE_NAME_PATTERN,
        REGION_ID_PATTERN,
        IMAGE_ID_PATTERN,
        RESOURCE_GROUP_ID_PATTERN,
        DURATION_PATTERN,
    ];

    /// The verdict of the engine `jsonschema` would have used for a `pattern` keyword.
    fn engine(pattern: &str) -> fancy_regex::Regex {
        thread_local! {
            static COMPILED: std::cell::RefCell<std::collections::HashMap<String, fancy_regex::Regex>> =
                Default::default();
        }
        COMPILED.with_borrow_mut(|cache| {
            cache
                .entry(pattern.to_string())
                .or_insert_with(|| fancy_regex::Regex::new(pattern).expect("patterns compile"))
                .clone()
        })
    }

    fn agree(pattern: &str, value: &str) -> Result<(), TestCaseError> {
        let check = plain_check(pattern).expect("every pattern has a plain check");
        let expected = engine(pattern).is_match(value).unwrap();
        prop_assert_eq!(check.accepts(value), expected, "{} on {:?}", pattern, value);
        Ok(())
    }

    /// Characters on both sides of every class boundary the patterns draw.
    fn edge_char() -> impl Strategy<Value = char> {
        prop::sample::select(vec![
            'a',
            'z',
            'A',
            'Z',
            '0',
            '9',
            'm',
            'r',
            'g',
            'h',
            's',
            'c',
            'n',
            '-',
            '.',
            ':',
            '_',
            '/',
            ' ',
            '\n',
            '`',
            '{',
            '@',
            '[',
            '\u{4e00}',
            '\u{9fa5}',
            '\u{4dff}',
            '\u{9fa6}',
            'é',
            'ß',
            'İ',
            '\u{0}',
            '\u{10ffff}',
        ])
    }

    fn near_miss() -> impl Strategy<Value = String> {
        prop::collection::vec(edge_char(), 0..70).prop_map(|c| c.into_iter().collect())
    }

    /// A value the pattern accepts, then possibly one character changed, dropped or added.
    fn mutated(pattern: &'static str) -> impl Strategy<Value = String> {
        (
            prop::string::string_regex(pattern.trim_start_matches('^').trim_end_matches('$'))
                .unwrap(),
            any::<prop::sample::Index>(),
            edge_char(),
            0..4u8,
        )
            .prop_map(|(valid, at, c, how)| {
                let mut chars: Vec<char> = valid.chars().collect();
                let i = at.index(chars.len() + 1);
                match how {
                    0 => {}
                    1 if i < chars.len() => chars[i] = c,
                    2 if i < chars.len() => {
                        chars.remove(i);
                    }
                    _ => chars.insert(i, c),
                }
                chars.into_iter().collect()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn plain_checks_agree_with_the_regex_engine_on_near_misses(value in near_miss()) {
            for pattern in ANCHORED {
                agree(pattern, &value)?;
            }
        }

        #[test]
        fn plain_checks_agree_with_the_regex_engine_around_valid_values(
            (pattern, value) in prop::sample::select(ANCHORED.to_vec())
                .prop_flat_map(|p| mutated(p).prop_map(move |v| (p, v)))
        ) {
            agree(pattern, &value)?;
        }

        #[test]
        fn forbidden_prefix_checks_agree_with_the_regex_engine(
            prefix in prop::sample::select(RESERVED_PREFIXES.to_vec()),
            head in prop::sample::select(vec!["", "a", "aliyu", "acs", "http:/", "https", "ALIYUN", " "]),
            tail in near_miss(),
        ) {
            agree(&format!("^(?!{prefix})"), &format!("{head}{tail}"))?;
            agree(&format!("^(?!{prefix})"), &format!("{prefix}{tail}"))?;
        }
    }

    #[test]
    fn patterns_from_elsewhere_have_no_plain_check() {
        assert!(plain_check("^x$").is_none());
        assert!(plain_check("^(?!a.c)").is_none());
        assert!(plain_check("").is_none());
    }

    #[test]
    fn boundary_values() {
        let check = |p: &str, v: &str| plain_check(p).unwrap().accepts(v);
        assert!(check(DURATION_PATTERN, "1h30m"));
        assert!(check(DURATION_PATTERN, "1.5h"));
        assert!(!check(DURATION_PATTERN, "1.h"));
        assert!(!check(DURATION_PATTERN, "h"));
        assert!(!check(DURATION_PATTERN, ""));
        assert!(check(REGION_ID_PATTERN, "cn-hangzhou"));
        assert!(check(REGION_ID_PATTERN, "ap-southeast-1"));
        assert!(!check(REGION_ID_PATTERN, "cn-"));
        assert!(!check(REGION_ID_PATTERN, "c-hangzhou"));
        assert!(!check(REGION_ID_PATTERN, "cnhangzhou"));
        assert!(check(IMAGE_ID_PATTERN, "m-abcde"));
        assert!(!check(IMAGE_ID_PATTERN, "m-abcd"));
        assert!(check(IMAGE_ID_PATTERN, &format!("m-{}", "a".repeat(62))));
        assert!(!check(IMAGE_ID_PATTERN, &format!("m-{}", "a".repeat(63))));
        assert!(check(
            RESOURCE_GROUP_ID_PATTERN,
            &format!("rg-{}", "0".repeat(61))
        ));
        assert!(!check(
            RESOURCE_GROUP_ID_PATTERN,
            &format!("rg-{}", "0".repeat(62))
        ));
        assert!(check(IMAGE_NAME_PATTERN, "\u{4e2d}文-image.v1:2_x"));
        assert!(!check(IMAGE_NAME_PATTERN, "1image"));
        assert!(!check(IMAGE_NAME_PATTERN, "image\n"));
    }

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
