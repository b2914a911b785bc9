//! Second factors: the remember-this-device `dshmac` and TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s).

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::encoding::{b64url_decode, b64url_encode, base32_decode};
use crate::error::{CryptoError, Result};

/// `dshmac = b64url(HMAC-SHA256(b64url-decode(dsecret), base32-decode(sessionID)))[0..8]`
/// (docs/protocol.md 3.6).
pub fn dshmac(dsecret: &str, session_id: &str) -> Result<String> {
    let key = Zeroizing::new(b64url_decode(dsecret)?);
    let msg = base32_decode(session_id)?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).expect("any key length");
    mac.update(&msg);
    let full = b64url_encode(&mac.finalize().into_bytes());
    Ok(full[..8].to_owned())
}

/// A TOTP code (RFC 6238 with SHA-1, 6 digits, 30-second steps) for a base32 secret at a Unix
/// time in seconds. Spaces and dashes in the secret are ignored, as authenticator apps do.
pub fn totp(secret_base32: &str, unix_seconds: u64) -> Result<String> {
    let cleaned: Zeroizing<String> = Zeroizing::new(
        secret_base32
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect(),
    );
    let key = Zeroizing::new(base32_decode(&cleaned)?);
    if key.is_empty() {
        return Err(CryptoError::Encoding("base32 (empty TOTP secret)"));
    }
    Ok(hotp(&key, unix_seconds / 30, HotpDigits::SIX))
}

/// How many digits an HOTP/TOTP code has: 6, 7 or 8 (RFC 4226 section 5.3 requires at least 6
/// and describes 7 and 8; more would exceed what the 31-bit truncated value carries well, and
/// `10^digits` must stay within `u32`). The type makes every count it holds safe to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotpDigits(u32);

impl HotpDigits {
    /// Six digits (TOTP as authenticator apps and 1Password use it).
    pub const SIX: Self = Self(6);
    /// Eight digits (RFC 6238's test vectors).
    pub const EIGHT: Self = Self(8);

    /// A digit count, or an error outside 6..=8.
    pub fn new(digits: u32) -> Result<Self> {
        if (6..=8).contains(&digits) {
            Ok(Self(digits))
        } else {
            Err(CryptoError::UnsupportedAlgorithm(format!(
                "HOTP with {digits} digits (6 to 8 are supported)"
            )))
        }
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// HOTP (RFC 4226) with HMAC-SHA1.
pub fn hotp(key: &[u8], counter: u64, digits: HotpDigits) -> String {
    let digits = digits.get();
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[h.len() - 1] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    let code = bin % 10u32.pow(digits);
    format!("{code:0width$}", width = digits as usize)
}

/// Compares a code the client sent with the expected one (a TOTP code, a `dshmac`) in time that
/// does not depend on where they differ (only on their lengths, which are public).
pub fn codes_match(expected: &str, given: &str) -> bool {
    bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 Appendix B, SHA-1 seed "12345678901234567890" (base32 below), 8 digits there;
    // the 6-digit codes are the last six digits of those values.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc6238_vectors() {
        for (t, code8) in [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(totp(RFC_SECRET, t).unwrap(), &code8[2..]);
            assert_eq!(
                hotp(b"12345678901234567890", t / 30, HotpDigits::EIGHT),
                code8
            );
        }
    }

    #[test]
    fn digit_counts_are_bounded() {
        for bad in [0, 1, 5, 9, 10, 11, 32, u32::MAX] {
            assert!(HotpDigits::new(bad).is_err(), "{bad} digits");
        }
        let key = b"12345678901234567890";
        for n in 6..=8 {
            let digits = HotpDigits::new(n).unwrap();
            let code = hotp(key, 1, digits);
            assert_eq!(code.len(), n as usize);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
        // RFC 4226 Appendix D, counter 1: 287082 (6 digits); the 7-digit code ends with it.
        assert_eq!(hotp(key, 1, HotpDigits::SIX), "287082");
        assert!(hotp(key, 1, HotpDigits::new(7).unwrap()).ends_with("287082"));
    }

    #[test]
    fn codes_compare_exactly() {
        assert!(codes_match("123456", "123456"));
        assert!(!codes_match("123456", "123457"));
        assert!(!codes_match("123456", "12345"));
        assert!(!codes_match("123456", ""));
    }

    #[test]
    fn bad_secrets_are_typed_errors() {
        assert!(totp("not base32 !!", 0).is_err());
        assert!(totp("", 0).is_err());
        assert!(dshmac("***", "HPI33B234JDIHCRKHCO3LDDIII").is_err());
    }
}
