//! Symmetric keys and the JWE-like encrypted envelope used for every b5 ciphertext
//! (docs/protocol.md 3.5): `{kid, enc: "A256GCM", cty: "b5+jwk+json", iv, data}`, AES-256-GCM, 12-byte
//! IV, 16-byte tag appended, no AAD, base64url without padding.

use std::fmt;

use aes_gcm::aead::{Aead, AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoding::{b64url_decode, b64url_encode, random_bytes};
use crate::error::{CryptoError, Result};
use crate::jwk::Jwk;

/// `enc` of AES-GCM envelopes.
pub const ENC_A256GCM: &str = "A256GCM";
/// `cty` of every envelope.
pub const CTY: &str = "b5+jwk+json";

/// An encrypted value as it travels and is stored. RSA-wrapped values use the same object with
/// `enc` = `RSA-OAEP`/`RSA-OAEP-256` and no `iv`; PBES2-wrapped keys add `alg`, `p2s`, `p2c`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Id of the key that opens it.
    pub kid: String,
    /// Content encryption: `A256GCM`, `RSA-OAEP` or `RSA-OAEP-256`.
    pub enc: String,
    /// Content type, `b5+jwk+json`.
    #[serde(default = "default_cty")]
    pub cty: String,
    /// 12-byte IV, base64url (AES-GCM only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iv: Option<String>,
    /// Ciphertext (with the GCM tag appended), base64url.
    pub data: String,
    /// Key-derivation algorithm for AUK-wrapped keys (`PBES2g-HS256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Key-derivation salt for AUK-wrapped keys, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p2s: Option<String>,
    /// Key-derivation iterations for AUK-wrapped keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p2c: Option<u32>,
}

fn default_cty() -> String {
    CTY.to_owned()
}

impl Envelope {
    /// Reads an envelope from a JSON value (a typed error when the shape is wrong).
    pub fn from_json(value: &serde_json::Value) -> Result<Self> {
        Self::deserialize(value).map_err(|e| CryptoError::Envelope(e.to_string()))
    }

    /// True when a JSON object looks like an envelope (has `enc`, `kid` and `data`): how the
    /// client tells an encrypted response from a plain one.
    pub fn is_envelope(value: &serde_json::Value) -> bool {
        value.get("enc").is_some() && value.get("data").is_some() && value.get("kid").is_some()
    }
}

/// A 256-bit AES-GCM key with its key id. Zeroized on drop; `Debug` shows the id only.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SymmetricKey {
    kid: String,
    key: [u8; 32],
}

impl SymmetricKey {
    /// A key from its id and bytes.
    pub fn new(kid: impl Into<String>, key: [u8; 32]) -> Self {
        Self {
            kid: kid.into(),
            key,
        }
    }

    /// A fresh random key.
    pub fn generate(kid: impl Into<String>) -> Self {
        Self::new(kid, random_bytes::<32>())
    }

    /// The key id (`kid`).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The raw key bytes. Handle with care.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.key
    }

    /// Reads a symmetric JWK (`kty` `oct`, 32-byte `k`, and a `kid`).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self> {
        if jwk.kty != "oct" {
            return Err(CryptoError::Jwk(format!(
                "expected kty \"oct\", found {:?}",
                jwk.kty
            )));
        }
        let kid = jwk
            .kid
            .clone()
            .ok_or_else(|| CryptoError::Jwk("missing kid".into()))?;
        let k = jwk
            .k
            .as_deref()
            .ok_or_else(|| CryptoError::Jwk("missing k".into()))?;
        let bytes = Zeroizing::new(b64url_decode(k)?);
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Jwk(format!("k must be 32 bytes, not {}", bytes.len())))?;
        Ok(Self::new(kid, key))
    }

    /// Reads a symmetric JWK from its JSON bytes (as found inside a decrypted envelope).
    pub fn from_jwk_json(json: &[u8]) -> Result<Self> {
        let jwk: Jwk = serde_json::from_slice(json).map_err(|e| CryptoError::Jwk(e.to_string()))?;
        Self::from_jwk(&jwk)
    }

    /// The JWK as 1Password writes it: `{alg, ext, k, key_ops, kty, kid}`.
    pub fn to_jwk(&self) -> Jwk {
        let mut jwk = Jwk::default();
        jwk.alg = Some(ENC_A256GCM.to_owned());
        jwk.ext = Some(true);
        jwk.k = Some(b64url_encode(&self.key));
        jwk.key_ops = Some(vec!["encrypt".into(), "decrypt".into()]);
        jwk.kty = "oct".into();
        jwk.kid = Some(self.kid.clone());
        jwk
    }

    /// The JWK serialised to JSON bytes (what gets wrapped).
    pub fn to_jwk_json(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(serde_json::to_vec(&self.to_jwk()).expect("a JWK always serialises"))
    }

    /// Encrypts with a fresh random IV.
    pub fn encrypt(&self, plaintext: &[u8]) -> Envelope {
        self.encrypt_with_iv(plaintext, &random_bytes::<12>())
    }

    /// Encrypts with the given IV (for test vectors; never reuse an IV with one key).
    pub fn encrypt_with_iv(&self, plaintext: &[u8], iv: &[u8; 12]) -> Envelope {
        let cipher = Aes256Gcm::new((&self.key).into());
        let data = cipher
            .encrypt(&Nonce::from(*iv), plaintext)
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        Envelope {
            kid: self.kid.clone(),
            enc: ENC_A256GCM.to_owned(),
            cty: CTY.to_owned(),
            iv: Some(b64url_encode(iv)),
            data: b64url_encode(&data),
            alg: None,
            p2s: None,
            p2c: None,
        }
    }

    /// Encrypts a value serialised as JSON.
    pub fn encrypt_json<T: Serialize>(&self, value: &T) -> Envelope {
        let bytes = Zeroizing::new(serde_json::to_vec(value).expect("serialisable value"));
        self.encrypt(&bytes)
    }

    /// Decrypts an envelope. The envelope must be `A256GCM` and name this key's id.
    pub fn decrypt(&self, envelope: &Envelope) -> Result<Zeroizing<Vec<u8>>> {
        if envelope.enc != ENC_A256GCM {
            return Err(CryptoError::Envelope(format!(
                "expected enc \"A256GCM\", found {:?}",
                envelope.enc
            )));
        }
        if envelope.kid != self.kid {
            return Err(CryptoError::WrongKey {
                expected: envelope.kid.clone(),
                given: self.kid.clone(),
            });
        }
        let iv = envelope
            .iv
            .as_deref()
            .ok_or_else(|| CryptoError::Envelope("missing iv".into()))?;
        self.decrypt_raw(iv, &envelope.data)
    }

    /// Decrypts base64url `iv` and `data` without looking at a `kid`. The ciphertext is decoded
    /// once and decrypted in place: a large answer is not held twice.
    pub fn decrypt_raw(&self, iv_b64url: &str, data_b64url: &str) -> Result<Zeroizing<Vec<u8>>> {
        let iv = b64url_decode(iv_b64url)?;
        let iv: [u8; 12] = iv
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Envelope(format!("iv must be 12 bytes, not {}", iv.len())))?;
        let mut data = Zeroizing::new(b64url_decode(data_b64url)?);
        if data.len() < 16 {
            return Err(CryptoError::Envelope(
                "ciphertext shorter than its tag".into(),
            ));
        }
        let cipher = Aes256Gcm::new((&self.key).into());
        cipher
            .decrypt_in_place(&Nonce::from(iv), b"", &mut *data)
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(data)
    }

    /// Decrypts and parses JSON.
    pub fn decrypt_json<T: serde::de::DeserializeOwned>(&self, envelope: &Envelope) -> Result<T> {
        let plain = self.decrypt(envelope)?;
        serde_json::from_slice(&plain)
            .map_err(|e| CryptoError::Envelope(format!("plaintext is not the expected JSON: {e}")))
    }
}

impl fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SymmetricKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl PartialEq for SymmetricKey {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.kid == other.kid && bool::from(self.key.ct_eq(&other.key))
    }
}
impl Eq for SymmetricKey {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tampering_and_wrong_keys_are_typed_errors() {
        let key = SymmetricKey::generate("K");
        let mut env = key.encrypt(b"hello");
        let mut raw = b64url_decode(&env.data).unwrap();
        raw[0] ^= 1;
        env.data = b64url_encode(&raw);
        assert_eq!(key.decrypt(&env), Err(CryptoError::Decrypt));

        let env = key.encrypt(b"hello");
        let other = SymmetricKey::generate("K");
        assert_eq!(other.decrypt(&env), Err(CryptoError::Decrypt));
        let named = SymmetricKey::generate("L");
        assert!(matches!(
            named.decrypt(&env),
            Err(CryptoError::WrongKey { .. })
        ));

        let mut bad_iv = env.clone();
        bad_iv.iv = Some("AAAA".into());
        assert!(matches!(
            key.decrypt(&bad_iv),
            Err(CryptoError::Envelope(_))
        ));
        let mut no_iv = env.clone();
        no_iv.iv = None;
        assert!(matches!(key.decrypt(&no_iv), Err(CryptoError::Envelope(_))));
        let mut rsa = env.clone();
        rsa.enc = "RSA-OAEP".into();
        assert!(matches!(key.decrypt(&rsa), Err(CryptoError::Envelope(_))));
        let mut short = env;
        short.data = "AAAA".into();
        assert!(matches!(key.decrypt(&short), Err(CryptoError::Envelope(_))));
    }

    #[test]
    fn malformed_jwks_are_typed_errors() {
        assert!(SymmetricKey::from_jwk_json(b"not json").is_err());
        assert!(SymmetricKey::from_jwk_json(br#"{"kty":"RSA","kid":"a","k":"AA"}"#).is_err());
        assert!(SymmetricKey::from_jwk_json(br#"{"kty":"oct","k":"AA"}"#).is_err());
        assert!(SymmetricKey::from_jwk_json(br#"{"kty":"oct","kid":"a","k":"AAAA"}"#).is_err());
        let k = SymmetricKey::generate("abc");
        assert_eq!(SymmetricKey::from_jwk_json(&k.to_jwk_json()).unwrap(), k);
        assert!(!format!("{k:?}").contains(&b64url_encode(k.expose_secret())));
    }

    #[test]
    fn envelope_detection() {
        let env = serde_json::to_value(SymmetricKey::generate("s").encrypt(b"{}")).unwrap();
        assert!(Envelope::is_envelope(&env));
        assert!(!Envelope::is_envelope(&serde_json::json!({"users": []})));
    }

    proptest! {
        #[test]
        fn envelope_round_trip(key in any::<[u8; 32]>(), plain in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let k = SymmetricKey::new("kid", key);
            let env = k.encrypt(&plain);
            let json = serde_json::to_string(&env).unwrap();
            let back: Envelope = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&*k.decrypt(&back).unwrap(), plain.as_slice());
        }
    }
}
