//! The plain checks held to the regex engine, and the documented rules quoted case by case.

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
        prop::string::string_regex(pattern.trim_start_matches('^').trim_end_matches('$')).unwrap(),
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn forbidden_text_checks_agree_with_the_regex_engine(
        text in prop::sample::select(LINKS.to_vec()),
        head in near_miss(),
        middle in prop::sample::select(vec!["", "http:/", "https:", "HTTP://", "\n", "http://", "https://"]),
        tail in near_miss(),
    ) {
        let pattern = format!("{ANYTHING_BEFORE}{text})");
        agree(&pattern, &format!("{head}{middle}{tail}"))?;
        agree(&pattern, &format!("{head}\n{text}{tail}"))?;
    }
}

#[test]
fn forbidden_text_only_for_plain_literals() {
    assert_eq!(forbidden_text(r"^(?![\s\S]*http://)"), Some("http://"));
    assert_eq!(forbidden_text(r"^(?!.*http://)"), None);
    assert_eq!(forbidden_text(r"^(?![\s\S]*a.c)"), None);
    assert_eq!(forbidden_text(r"^(?![\s\S]*)"), None);
    assert_eq!(forbidden_prefix(r"^(?![\s\S]*http://)"), None);
}

// Each case below quotes the parameter description it follows (ECS API reference, the
// same sentences as the request classes of alibabacloud-ecs20140526 7.11.8).

/// CopyImage `DestinationImageName`, ModifyImageAttribute `ImageName`: "The name must be 2
/// to 128 characters in length. It must start with a letter or a Chinese character, and
/// cannot start with aliyun or acs:. It cannot contain http:// or https://. It can contain
/// digits, periods (.), colons (:), underscores (_), and hyphens (-)."
#[test]
fn image_name_rule_as_documented() {
    let longest = format!("a{}", "b".repeat(127));
    for ok in [
        "ab",
        "web-server_v1.2:prod",
        "\u{4e2d}\u{6587}",
        "\u{9fa5}x",
        "Aliyun-image",
        "ACS:image",
        &longest,
    ] {
        assert!(image_name_is_valid(ok), "{ok:?}");
    }
    let too_long = format!("a{}", "b".repeat(128));
    for bad in [
        "a",
        "",
        "1abc",
        "-abc",
        "has space",
        "slash/name",
        "aliyun-image",
        "acs:image",
        "http://x",
        "\u{9fa6}x",
        "\u{3400}x",
        "image\n",
        &too_long,
    ] {
        assert!(!image_name_is_valid(bad), "{bad:?}");
    }
}

/// CopyImage `DestinationDescription`, ModifyImageAttribute `Description`: "The description
/// must be 2 to 256 characters in length and cannot start with http:// or https://."
#[test]
fn description_rule_as_documented() {
    assert!(description_is_valid("ok"));
    assert!(description_is_valid("A copy: see http://example.com"));
    assert!(description_is_valid("HTTPS://example.com"));
    assert!(description_is_valid(&"d".repeat(256)));
    assert!(!description_is_valid("x"));
    assert!(!description_is_valid(&"d".repeat(257)));
    assert!(!description_is_valid("http://example.com"));
    assert!(!description_is_valid("https://example.com"));
}

/// CopyImage `Tag.N.Key`: "If you specify this parameter, it cannot be an empty string. The
/// tag key can be up to 128 characters in length. It cannot start with aliyun or acs:, and
/// cannot contain http:// or https://."
#[test]
fn tag_key_rule_as_documented() {
    assert!(tag_key_is_valid("env"));
    assert!(tag_key_is_valid("Aliyun-team"));
    assert!(tag_key_is_valid(&"k".repeat(128)));
    assert!(!tag_key_is_valid(""));
    assert!(!tag_key_is_valid(&"k".repeat(129)));
    assert!(!tag_key_is_valid("aliyun:x"));
    assert!(!tag_key_is_valid("acs:x"));
    assert!(!tag_key_is_valid("see http://x"));
    assert!(!tag_key_is_valid("line\nhttps://x"));
}

/// CopyImage `Tag.N.Value`: "If you specify this parameter, it can be an empty string. The
/// tag value can be up to 128 characters in length. It cannot start with acs:, and cannot
/// contain http:// or https://." (TagResources: "It cannot be null but can be an empty
/// string. It can be up to 128 characters in length and cannot contain http:// or
/// https://.")
#[test]
fn tag_value_rule_as_documented() {
    assert!(tag_value_is_valid(""));
    assert!(tag_value_is_valid("aliyun-value"));
    assert!(tag_value_is_valid(&"v".repeat(128)));
    assert!(!tag_value_is_valid(&"v".repeat(129)));
    assert!(!tag_value_is_valid("acs:v"));
    assert!(!tag_value_is_valid("see https://example.com"));
    assert!(!tag_value_is_valid("http://x"));
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

// ---- Identifiers, one rule each for every reader ----

/// The read-back image-id rule is the template rule without its lower bound.
const IMAGE_ID_OF_A_COPY: &str = r"^m-[a-z0-9]{1,62}$";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn identifier_readers_agree_with_the_schema_patterns(
        value in prop_oneof![
            near_miss(),
            mutated(REGION_ID_PATTERN),
            mutated(IMAGE_ID_PATTERN),
            mutated(IMAGE_ID_OF_A_COPY),
        ]
    ) {
        let region = engine(REGION_ID_PATTERN).is_match(&value).unwrap()
            && value.len() <= REGION_ID_MAX_LENGTH;
        prop_assert_eq!(region_id_is_valid(&value), region, "{:?}", value);
        let copy = engine(IMAGE_ID_OF_A_COPY).is_match(&value).unwrap();
        prop_assert_eq!(image_id_may_name_a_copy(&value), copy, "{:?}", value);
        if engine(IMAGE_ID_PATTERN).is_match(&value).unwrap() {
            prop_assert!(image_id_may_name_a_copy(&value), "{:?}", value);
        }
    }
}

#[test]
fn identifier_readers_at_their_bounds() {
    assert!(region_id_is_valid(&format!("cn-{}", "a".repeat(61))));
    assert!(!region_id_is_valid(&format!("cn-{}", "a".repeat(62))));
    for bad in [
        "",
        "cn-",
        "CN-HANGZHOU",
        "cnhangzhou",
        "evil.example/",
        "cn-hangzhou/x",
    ] {
        assert!(!region_id_is_valid(bad), "{bad:?}");
    }
    assert!(image_id_may_name_a_copy("m-a"));
    assert!(image_id_may_name_a_copy(&format!("m-{}", "a".repeat(62))));
    for bad in ["m-", "m-ABC", "x-abcde", &format!("m-{}", "a".repeat(63))] {
        assert!(!image_id_may_name_a_copy(bad), "{bad:?}");
    }
}
