//! JSON Web Keys as 1Password stores them: symmetric (`oct`, A256GCM) and RSA (`RSA-OAEP`,
//! `RSA-OAEP-256`). Secret members are zeroized on drop and never shown by `Debug`.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A JSON Web Key. One struct serves both kinds; unused members are absent from the JSON.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Jwk {
    /// Algorithm: `A256GCM`, `RSA-OAEP` or `RSA-OAEP-256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Extractable flag (WebCrypto).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<bool>,
    /// Symmetric key bytes, base64url (secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
    /// Allowed operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    /// Key type: `oct` or `RSA`.
    #[serde(default)]
    pub kty: String,
    /// Key id: a keyset or vault-key uuid, or `mp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// RSA modulus, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent, base64url (`AQAB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// RSA private exponent (secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    /// RSA first prime (secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    /// RSA second prime (secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// RSA `d mod (p-1)` (secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dp: Option<String>,
    /// RSA `d mod (q-1)` (secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dq: Option<String>,
    /// RSA `q^-1 mod p` (secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qi: Option<String>,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = self.k.is_some() || self.d.is_some();
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field(
                "secret_members",
                &if secret { "<redacted>" } else { "none" },
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_key_material() {
        let mut jwk = Jwk::default();
        jwk.kty = "oct".into();
        jwk.k = Some("c2VjcmV0LWtleS1ieXRlcw".into());
        jwk.kid = Some("abc".into());
        let shown = format!("{jwk:?}");
        assert!(!shown.contains("c2VjcmV0"));
        assert!(shown.contains("<redacted>"));
    }
}
