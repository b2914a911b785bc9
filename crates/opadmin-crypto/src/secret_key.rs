//! The Secret Key (historically "Account Key"): parsing what a person pastes, display, generation.
//!
//! Printed form `A3-ASWWYB-798JRY-LJVD4-23DC2-86TVM-H43EB`: format (2), account id (6), secret (26;
//! 25 for the legacy `A2` format), over the alphabet `23456789ABCDEFGHJKLMNPQRSTVWXYZ`
//! (docs/protocol.md 1.4).

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{CryptoError, Result};

/// The 31 characters a Secret Key is made of.
pub const ALPHABET: &str = "23456789ABCDEFGHJKLMNPQRSTVWXYZ";

/// A parsed Secret Key. The secret part is zeroized on drop and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey {
    format: String,
    account_id: String,
    secret: String,
}

impl SecretKey {
    /// Parses a Secret Key as a person would paste it: any case, with or without dashes and
    /// spaces. Characters outside the alphabet other than separators are an error.
    pub fn parse(input: &str) -> Result<Self> {
        let mut cleaned = String::with_capacity(34);
        for c in input.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let up = c.to_ascii_uppercase();
            if !ALPHABET.contains(up) {
                cleaned.zeroize();
                return Err(CryptoError::SecretKey(
                    "it contains a character that cannot appear in a Secret Key",
                ));
            }
            if cleaned.len() == 34 {
                // Stop before the buffer grows: growing would leave a copy of the key's characters
                // in freed memory that is never zeroized (and a pasted megabyte needs no copy).
                cleaned.zeroize();
                return Err(CryptoError::SecretKey("it is too long"));
            }
            cleaned.push(up);
        }
        let result = Self::split(&cleaned);
        cleaned.zeroize();
        result
    }

    fn split(cleaned: &str) -> Result<Self> {
        let (format, secret_len) = match cleaned.len() {
            34 => (&cleaned[..2], 26),
            33 if cleaned.starts_with("A2") => ("A2", 25),
            0 => return Err(CryptoError::SecretKey("it is empty")),
            n if n < 33 => return Err(CryptoError::SecretKey("it is too short")),
            _ => return Err(CryptoError::SecretKey("it is too long")),
        };
        if format == "A2" && secret_len == 26 {
            return Err(CryptoError::SecretKey(
                "an A2 key has 33 characters, not 34",
            ));
        }
        Ok(Self {
            format: format.to_owned(),
            account_id: cleaned[2..8].to_owned(),
            secret: cleaned[8..8 + secret_len].to_owned(),
        })
    }

    /// Generates a new `A3` Secret Key with uniformly random account id and secret.
    pub fn generate() -> Self {
        Self {
            format: "A3".to_owned(),
            account_id: random_chars(6),
            secret: random_chars(26),
        }
    }

    /// Builds a key from its parts, validating each (used when a server or token supplies them).
    pub fn from_parts(format: &str, account_id: &str, secret: &str) -> Result<Self> {
        Self::parse(&format!("{format}{account_id}{secret}"))
    }

    /// The format, `A3` (or legacy `A2`): sent as `skFormat`.
    pub fn format(&self) -> &str {
        &self.format
    }

    /// The 6-character account id: sent as `skid` and echoed as `accountKeyUuid`.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The secret part. Handle with care: this is half of what protects the account.
    pub fn expose_secret(&self) -> &str {
        &self.secret
    }

    /// The readable form, `A3-ABCDEF-GHJKLM-NPQRS-TVWXY-Z2345-6789A`. This shows the secret.
    pub fn to_readable(&self) -> String {
        let s = &self.secret;
        let groups: Vec<&str> = if self.format == "A2" {
            (0..5).map(|i| &s[i * 5..i * 5 + 5]).collect()
        } else {
            vec![&s[0..6], &s[6..11], &s[11..16], &s[16..21], &s[21..26]]
        };
        format!("{}-{}-{}", self.format, self.account_id, groups.join("-"))
    }

    /// The masked form, safe to show and log: `A3-ABCDEF-•••••• ••••• ••••• ••••• •••••`.
    pub fn to_masked(&self) -> String {
        format!(
            "{}-{}-•••••• ••••• ••••• ••••• •••••",
            self.format, self.account_id
        )
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.to_masked())
    }
}

impl fmt::Display for SecretKey {
    /// Displays the masked form; use [`SecretKey::to_readable`] to show the whole key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_masked())
    }
}

impl std::str::FromStr for SecretKey {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

fn random_chars(n: usize) -> String {
    let alphabet = ALPHABET.as_bytes();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        // Rejection sampling keeps the choice uniform over 31 symbols (248 = 8 * 31).
        for b in crate::encoding::random_bytes::<32>() {
            if b < 248 && out.len() < n {
                out.push(alphabet[(b % 31) as usize] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_messy_input() {
        let k = SecretKey::parse(" a3-rtn9sa dy9445-y5ff96-x6e7b-5gpfa-95r9 ").unwrap();
        assert_eq!(k.format(), "A3");
        assert_eq!(k.account_id(), "RTN9SA");
        assert_eq!(k.expose_secret(), "DY9445Y5FF96X6E7B5GPFA95R9");
    }

    #[test]
    fn legacy_a2() {
        let k = SecretKey::parse("A2-RTN9SA-DY944-5Y5FF-96X6E-7B5GP-FA95R").unwrap();
        assert_eq!(k.format(), "A2");
        assert_eq!(k.expose_secret().len(), 25);
        assert_eq!(SecretKey::parse(&k.to_readable()).unwrap(), k);
    }

    #[test]
    fn errors_name_the_problem_and_never_echo_the_key() {
        for (input, reason) in [
            ("", "empty"),
            ("A3-RTN9SA", "too short"),
            ("A3-RTN9SA-DY9445Y5FF96X6E7B5GPFA95R9XX", "too long"),
            ("A3-RTN9SA-DY9445Y5FF96X6E7B5GPFA95R0", "character"),
        ] {
            let err = SecretKey::parse(input).unwrap_err().to_string();
            assert!(err.contains(reason), "{err}");
            assert!(!err.contains("DY9445"), "{err}");
        }
    }

    #[test]
    fn debug_and_display_are_masked() {
        let k = SecretKey::parse("A3-RTN9SA-DY9445Y5FF96X6E7B5GPFA95R9").unwrap();
        for shown in [format!("{k:?}"), k.to_string()] {
            assert!(shown.contains("RTN9SA"));
            assert!(!shown.contains("DY9445"));
        }
    }

    #[test]
    fn generated_keys_use_the_alphabet() {
        let k = SecretKey::generate();
        assert_eq!(k.to_readable().len(), 40);
        assert!(k.expose_secret().chars().all(|c| ALPHABET.contains(c)));
        assert_ne!(SecretKey::generate(), k);
    }

    proptest! {
        #[test]
        fn parse_of_display_is_identity(seed in proptest::collection::vec(0usize..31, 32)) {
            let chars: String = seed.iter().map(|&i| ALPHABET.as_bytes()[i] as char).collect();
            let k = SecretKey::from_parts("A3", &chars[..6], &chars[6..]).unwrap();
            prop_assert_eq!(SecretKey::parse(&k.to_readable()).unwrap(), k.clone());
            prop_assert_eq!(SecretKey::parse(&k.to_readable().to_lowercase()).unwrap(), k);
        }
    }
}
