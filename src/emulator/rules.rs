//! Value rules ECS enforces on names, descriptions and tags.

/// Counts as a "Chinese character" for the start-of-name rule: the CJK unified ideographs.
fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

fn starts_with_forbidden_prefix(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    ["http://", "https://", "acs:", "aliyun"]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
}

/// Image name: 2–128 characters, starts with a letter or Chinese character, then letters,
/// digits, Chinese characters and `. : _ -`; may not start with `http://`, `https://`,
/// `acs:` or `aliyun`.
pub fn image_name_is_valid(name: &str) -> bool {
    let length = name.chars().count();
    if !(2..=128).contains(&length) || starts_with_forbidden_prefix(name) {
        return false;
    }
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || is_chinese(c));
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || is_chinese(c) || ".:_-".contains(c))
}

/// Description: 2–256 characters, may not start with `http://` or `https://`.
pub fn description_is_valid(description: &str) -> bool {
    let length = description.chars().count();
    let lower = description.to_ascii_lowercase();
    (2..=256).contains(&length) && !lower.starts_with("http://") && !lower.starts_with("https://")
}

fn tag_text_is_valid(text: &str) -> bool {
    text.chars().count() <= 128
        && !text.starts_with("aliyun")
        && !text.starts_with("acs:")
        && !text.contains("http://")
        && !text.contains("https://")
}

/// Tag key: 1–128 characters, not `aliyun…`/`acs:…`, no `http://` or `https://`.
pub fn tag_key_is_valid(key: &str) -> bool {
    !key.is_empty() && tag_text_is_valid(key)
}

/// Tag value: like a key but may be empty.
pub fn tag_value_is_valid(value: &str) -> bool {
    tag_text_is_valid(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names() {
        let valid = [
            "ab",
            "web-server_v1.2:prod",
            "镜像副本",
            "a1",
            &"x".repeat(128),
        ];
        for name in valid {
            assert!(image_name_is_valid(name), "{name:?} should be valid");
        }
        let long = "x".repeat(129);
        let invalid = [
            "a",
            "",
            "1abc",
            "-abc",
            "has space",
            "slash/name",
            "aliyun-image",
            "Aliyun-image",
            "acs:image",
            "http://x",
            "https://x",
            long.as_str(),
        ];
        for name in invalid {
            assert!(!image_name_is_valid(name), "{name:?} should be invalid");
        }
    }

    #[test]
    fn descriptions() {
        assert!(description_is_valid("ok"));
        assert!(description_is_valid("A copy: see http://example.com"));
        assert!(description_is_valid(&"d".repeat(256)));
        assert!(!description_is_valid("x"));
        assert!(!description_is_valid(&"d".repeat(257)));
        assert!(!description_is_valid("http://example.com"));
        assert!(!description_is_valid("HTTPS://example.com"));
    }

    #[test]
    fn tags() {
        assert!(tag_key_is_valid("env"));
        assert!(!tag_key_is_valid(""));
        assert!(!tag_key_is_valid("aliyun:x"));
        assert!(!tag_key_is_valid("acs:x"));
        assert!(!tag_key_is_valid("see http://x"));
        assert!(!tag_key_is_valid(&"k".repeat(129)));
        assert!(tag_value_is_valid(""));
        assert!(tag_value_is_valid(&"v".repeat(128)));
        assert!(!tag_value_is_valid(&"v".repeat(129)));
        assert!(!tag_value_is_valid("aliyunvalue"));
    }
}
