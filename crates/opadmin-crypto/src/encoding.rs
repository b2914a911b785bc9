//! Byte encodings used on the wire: base64url without padding, lowercase hex, RFC 4648 base32.

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

use crate::error::{CryptoError, Result};

/// Encodes bytes as base64url without padding (the b5 wire form).
pub fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url; trailing `=` padding is tolerated, as some servers send it.
pub fn b64url_decode(text: &str) -> Result<Vec<u8>> {
    let trimmed = text.trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(trimmed)
        .or_else(|_| URL_SAFE.decode(text))
        .map_err(|_| CryptoError::Encoding("base64url"))
}

/// Encodes bytes as lowercase hex.
pub fn hex_encode(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// Decodes hex of either case; an odd number of digits is read as if a leading zero were present.
pub fn hex_decode(text: &str) -> Result<Vec<u8>> {
    let lower = text.trim().to_ascii_lowercase();
    let padded = if lower.len() % 2 == 1 {
        format!("0{lower}")
    } else {
        lower
    };
    data_encoding::HEXLOWER
        .decode(padded.as_bytes())
        .map_err(|_| CryptoError::Encoding("hex"))
}

/// Encodes bytes as RFC 4648 base32 without padding, upper case.
pub fn base32_encode(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

/// Decodes RFC 4648 base32 of either case, with or without padding.
pub fn base32_decode(text: &str) -> Result<Vec<u8>> {
    let upper = text.trim().trim_end_matches('=').to_ascii_uppercase();
    data_encoding::BASE32_NOPAD
        .decode(upper.as_bytes())
        .map_err(|_| CryptoError::Encoding("base32"))
}

/// Fills a buffer with bytes from the operating system's secure random generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // aws-lc's generator only fails if the OS cannot provide entropy at all; there is nothing
    // sensible to continue with then.
    aws_lc_rs::rand::fill(&mut out).expect("the operating system's random generator failed");
    out
}

/// Kinds of b5 identifier: which case the 26-character base32 form uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UuidCase {
    /// Sessions, accounts and users: upper case.
    Upper,
    /// Vaults, groups, keysets and devices: lower case.
    Lower,
}

/// Generates a b5 identifier: 16 random bytes, RFC 4648 base32 without padding (26 characters).
pub fn generate_uuid(case: UuidCase) -> String {
    uuid_from_bytes(&random_bytes::<16>(), case)
}

/// Formats 16 bytes as a b5 identifier (used by deterministic generators).
pub fn uuid_from_bytes(bytes: &[u8; 16], case: UuidCase) -> String {
    let upper = base32_encode(bytes);
    match case {
        UuidCase::Upper => upper,
        UuidCase::Lower => upper.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_accepts_odd_length_and_upper_case() {
        assert_eq!(hex_decode("abc").unwrap(), vec![0x0a, 0xbc]);
        assert_eq!(hex_decode("ABCD").unwrap(), vec![0xab, 0xcd]);
        assert!(hex_decode("zz").is_err());
    }

    #[test]
    fn b64url_tolerates_padding() {
        assert_eq!(b64url_decode("YQ").unwrap(), b"a");
        assert_eq!(b64url_decode("YQ==").unwrap(), b"a");
        assert!(b64url_decode("!!").is_err());
    }

    #[test]
    fn uuids_are_26_chars_in_their_case() {
        let u = generate_uuid(UuidCase::Upper);
        assert_eq!(u.len(), 26);
        assert_eq!(u, u.to_ascii_uppercase());
        let l = generate_uuid(UuidCase::Lower);
        assert_eq!(l, l.to_ascii_lowercase());
        assert_eq!(base32_decode(&l).unwrap().len(), 16);
    }
}
