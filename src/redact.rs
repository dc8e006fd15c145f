//! What may be shown of a URL. Presigned callback URLs and signed ECS requests carry their
//! signature (and the STS token) in the query, which must never reach a log line, an error,
//! an answer or a ProgressEvent. Every layer that shows a URL or relays a message that may
//! echo one goes through here, so this module imports nothing from the crate.

/// What stands in for a removed query.
pub const REDACTED_QUERY: &str = "?<redacted>";

/// A URL fit for logs: scheme, host and path only; a query or fragment becomes
/// [`REDACTED_QUERY`].
pub fn redact_url(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let mut shown = url[..cut].to_string();
    if cut < url.len() {
        shown.push_str(REDACTED_QUERY);
    }
    shown
}

/// Free text with the query of every URL-looking token in it replaced by
/// [`REDACTED_QUERY`], in case an error message from below reqwest echoes the request target.
pub fn strip_url_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('?') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>'))
            .unwrap_or(after.len());
        out.push_str(REDACTED_QUERY);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_drops_the_query_and_fragment() {
        assert_eq!(
            redact_url("https://b.s3.amazonaws.com/k?X-Amz-Signature=abc&x=1"),
            "https://b.s3.amazonaws.com/k?<redacted>"
        );
        assert_eq!(redact_url("https://h/p#frag"), "https://h/p?<redacted>");
        assert_eq!(redact_url("https://h/p"), "https://h/p");
    }

    #[test]
    fn strips_queries_from_free_text() {
        assert_eq!(
            strip_url_queries("error for url (http://h/?Signature=abc): refused"),
            "error for url (http://h/?<redacted>): refused"
        );
        assert_eq!(strip_url_queries("no query here"), "no query here");
    }
}
