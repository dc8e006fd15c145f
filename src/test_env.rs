//! A process environment for unit tests: the settings readers all take a lookup function
//! rather than reading `std::env`, so each test hands them exactly the variables it means.

/// Looks `name` up in `pairs`; the first pair with that name wins.
pub(crate) fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}
