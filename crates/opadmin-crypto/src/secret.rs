//! Small secret containers with zeroize-on-drop and redacting `Debug`.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// An account password. Zeroized on drop; `Debug` shows nothing of it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// The password as typed. Handle with care.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The password as 2SKD uses it: trimmed, Unicode NFKD normalised, UTF-8 (docs/protocol.md 1.1).
    pub fn normalized(&self) -> Zeroizing<Vec<u8>> {
        use unicode_normalization::UnicodeNormalization;
        let s: Zeroizing<String> = Zeroizing::new(self.0.trim().nfkd().collect());
        Zeroizing::new(s.as_bytes().to_vec())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl From<&str> for Password {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for Password {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

/// 32 secret bytes (derived keys, SRP `x`, session keys). Zeroized on drop; `Debug` redacts.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes32([u8; 32]);

impl SecretBytes32 {
    /// Wraps 32 bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes. Handle with care.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes32(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_normalisation_trims_and_applies_nfkd() {
        // U+FB01 (the "fi" ligature) decomposes to "fi" under NFKD; é (U+00E9) to e + U+0301.
        let p = Password::new("  \u{fb01}\u{e9} \n");
        assert_eq!(&*p.normalized(), "fie\u{301}".as_bytes());
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
    }
}
