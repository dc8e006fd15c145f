//! Reading operation parameters the way ECS does: empty counts as absent, booleans are
//! `true`/`false`, lists are `Name.N` with N counted from 1.

use std::collections::BTreeMap;

use super::error::ApiError;
use super::rules;

/// Parameters every request carries; they never distinguish one operation call from another.
pub const COMMON: &[&str] = &[
    "AccessKeyId",
    "Format",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureType",
    "SignatureVersion",
    "Timestamp",
    "Version",
];

/// Most tags a request may name, and most tags one resource may hold.
pub const MAX_TAGS: usize = 20;

pub(crate) struct Params<'a>(pub &'a BTreeMap<String, String>);

impl<'a> Params<'a> {
    pub fn optional(&self, name: &str) -> Option<&'a str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&'a str, ApiError> {
        self.optional(name)
            .ok_or_else(|| ApiError::missing_parameter(name))
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.optional(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid_parameter(name, "must be true or false")),
        }
    }

    pub fn number(
        &self,
        name: &str,
        min: usize,
        max: usize,
        default: usize,
    ) -> Result<usize, ApiError> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid_parameter(
                        name,
                        &format!("must be a whole number from {min} to {max}"),
                    )
                }),
        }
    }

    /// Values of `Prefix.N` (N from 1 to `max`), in N order.
    pub fn list(&self, prefix: &str, max: usize) -> Result<Vec<&'a str>, ApiError> {
        let mut found: Vec<(usize, &str)> = Vec::new();
        for (key, value) in self.0 {
            let Some(index) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            let n = index
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid_parameter(key, &format!("N must be from 1 to {max}"))
                })?;
            if !value.is_empty() {
                found.push((n, value));
            }
        }
        found.sort();
        Ok(found.into_iter().map(|(_, v)| v).collect())
    }

    /// `Tag.N.Key` / `Tag.N.Value` pairs, validated.
    pub fn tags(&self) -> Result<BTreeMap<String, String>, ApiError> {
        let mut by_index: BTreeMap<usize, (Option<&str>, &str)> = BTreeMap::new();
        for (key, value) in self.0 {
            let Some(rest) = key.strip_prefix("Tag.") else {
                continue;
            };
            let Some((index, field)) = rest.split_once('.') else {
                continue;
            };
            let n = index
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_TAGS).contains(n))
                .ok_or_else(|| {
                    ApiError::new(
                        400,
                        "InvalidTagCount",
                        "The specified tags are beyond the permitted range.",
                    )
                })?;
            let entry = by_index.entry(n).or_insert((None, ""));
            match field {
                "Key" => entry.0 = Some(value),
                "Value" => entry.1 = value,
                _ => return Err(ApiError::invalid_parameter(key, "unknown tag field")),
            }
        }
        let mut tags = BTreeMap::new();
        for (n, (key, value)) in by_index {
            let key = key.unwrap_or("");
            if !rules::tag_key_is_valid(key) {
                return Err(ApiError::new(
                    400,
                    "InvalidTagKey.Malformed",
                    format!("The specified Tag.{n}.Key is not valid."),
                ));
            }
            if !rules::tag_value_is_valid(value) {
                return Err(ApiError::new(
                    400,
                    "InvalidTagValue.Malformed",
                    format!("The specified Tag.{n}.Value is not valid."),
                ));
            }
            if tags.insert(key.to_string(), value.to_string()).is_some() {
                return Err(ApiError::new(
                    400,
                    "InvalidTagKey.Duplicated",
                    format!("The specified Tag.{n}.Key is duplicated."),
                ));
            }
        }
        Ok(tags)
    }

    /// The operation's own parameters in canonical form, to compare two calls.
    pub fn fingerprint(&self) -> String {
        self.0
            .iter()
            .filter(|(k, _)| !COMMON.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn lists_follow_n_not_byte_order() {
        let m = map(&[
            ("ResourceId.10", "j"),
            ("ResourceId.2", "b"),
            ("ResourceId.1", "a"),
        ]);
        assert_eq!(
            Params(&m).list("ResourceId", 50).unwrap(),
            vec!["a", "b", "j"]
        );
        let m = map(&[("ResourceId.0", "x")]);
        assert!(Params(&m).list("ResourceId", 50).is_err());
    }

    #[test]
    fn tags_are_validated() {
        let ok = map(&[
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
            ("Tag.2.Key", "team"),
        ]);
        let tags = Params(&ok).tags().unwrap();
        assert_eq!(tags.get("env").map(String::as_str), Some("prod"));
        assert_eq!(tags.get("team").map(String::as_str), Some(""));
        let cases = [
            (map(&[("Tag.21.Key", "k")]), "InvalidTagCount"),
            (map(&[("Tag.1.Value", "v")]), "InvalidTagKey.Malformed"),
            (map(&[("Tag.1.Key", "aliyun-x")]), "InvalidTagKey.Malformed"),
            (
                map(&[("Tag.1.Key", "k"), ("Tag.1.Value", "acs:v")]),
                "InvalidTagValue.Malformed",
            ),
            (
                map(&[("Tag.1.Key", "k"), ("Tag.2.Key", "k")]),
                "InvalidTagKey.Duplicated",
            ),
        ];
        for (params, code) in cases {
            assert_eq!(Params(&params).tags().unwrap_err().code, code, "{params:?}");
        }
    }

    #[test]
    fn booleans_numbers_and_fingerprint() {
        let m = map(&[
            ("Force", "TRUE"),
            ("PageSize", "101"),
            ("Signature", "x"),
            ("ImageId", "m-1"),
        ]);
        let p = Params(&m);
        assert_eq!(p.boolean("Force").unwrap(), Some(true));
        assert_eq!(p.boolean("Absent").unwrap(), None);
        assert!(p.number("PageSize", 1, 100, 10).is_err());
        assert_eq!(p.number("PageNumber", 1, usize::MAX, 1).unwrap(), 1);
        assert_eq!(p.fingerprint(), "Force=TRUE\nImageId=m-1\nPageSize=101\n");
    }
}
