//! Percent-encoding as Alibaba Cloud's official SDKs do it for RPC signature v1.
//!
//! Hand-written rather than taken from `percent-encoding` so that the client and the
//! emulator (which uses that crate) do not share an encoder: a bug here must show up as a
//! signature mismatch, not be mirrored on both sides.

/// Appends `input` to `out`, percent-encoded: UTF-8 bytes, unreserved `A-Z a-z 0-9 - _ . ~`
/// kept, every other byte as `%XX` with uppercase hex (so space is `%20`, `*` is `%2A`,
/// `+` is `%2B`).
pub fn percent_encode_into(input: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in input.as_bytes() {
        if is_unreserved(byte) {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0x0F)] as char);
        }
    }
}

/// Percent-encodes `input`; see [`percent_encode_into`].
pub fn percent_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len() * 3);
    percent_encode_into(input, &mut out);
    out
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::test_vectors::vectors;

    #[test]
    fn matches_every_sdk_encoding_vector() {
        let vectors = vectors();
        assert!(
            vectors.encode.len() >= 20,
            "vector file lost its encode cases"
        );
        for case in &vectors.encode {
            assert_eq!(
                percent_encode(&case.input),
                case.expected,
                "input {:?}",
                case.input
            );
        }
    }

    #[test]
    fn keeps_exactly_the_unreserved_set() {
        for byte in 0u8..=0x7F {
            let text = (byte as char).to_string();
            let encoded = percent_encode(&text);
            if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
                assert_eq!(encoded, text);
            } else {
                assert_eq!(encoded, format!("%{byte:02X}"));
            }
        }
    }

    #[test]
    fn appends_to_existing_text() {
        let mut out = String::from("k=");
        percent_encode_into("a b", &mut out);
        assert_eq!(out, "k=a%20b");
    }

    proptest::proptest! {
        #[test]
        fn output_is_unreserved_or_escapes_and_decodes_back(input in "\\PC*") {
            let encoded = percent_encode(&input);
            let mut bytes = encoded.bytes();
            while let Some(b) = bytes.next() {
                if b == b'%' {
                    let hi = bytes.next().unwrap();
                    let lo = bytes.next().unwrap();
                    proptest::prop_assert!(hi.is_ascii_digit() || (b'A'..=b'F').contains(&hi));
                    proptest::prop_assert!(lo.is_ascii_digit() || (b'A'..=b'F').contains(&lo));
                } else {
                    proptest::prop_assert!(is_unreserved(b));
                }
            }
            let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8().unwrap();
            proptest::prop_assert_eq!(decoded, input);
        }
    }
}
