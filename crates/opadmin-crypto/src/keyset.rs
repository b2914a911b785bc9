//! Keysets: the wire shape of an encrypted keyset, generation, and the decryption chain
//! AUK -> keyset symmetric key -> RSA private key -> keysets and vault keys wrapped to it
//! (docs/protocol.md 4.1, 4.4).

use serde::{Deserialize, Serialize};

use crate::envelope::Envelope;
use crate::jwk::Jwk;

/// An encrypted keyset as the server stores and sends it (`KeysetCiphertext`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeysetCiphertext {
    /// Keyset uuid (lower-case base32); also the `kid` of its symmetric key and key pair.
    pub uuid: String,
    /// Serial number: the highest `sn` encrypted by `mp` is the active primary keyset.
    #[serde(default)]
    pub sn: u64,
    /// What encrypted `encSymKey`: `mp` (the AUK), another keyset's uuid, or `""`.
    #[serde(default)]
    pub encrypted_by: String,
    /// The keyset's symmetric key: AES-GCM under the AUK (with `alg`/`p2s`/`p2c`), or
    /// RSA-OAEP to a member's public key for group keysets.
    pub enc_sym_key: Envelope,
    /// The RSA public key (JWK).
    pub pub_key: Jwk,
    /// The RSA private key JWK, AES-GCM under the keyset's symmetric key.
    pub enc_pri_key: Envelope,
    /// ECDSA signing public key (unused by 1Password's clients; often `null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spub_key: Option<serde_json::Value>,
    /// ECDSA signing private key, encrypted (often `null`).
    #[serde(
        default,
        rename = "encSPriKey",
        skip_serializing_if = "Option::is_none"
    )]
    pub enc_s_pri_key: Option<serde_json::Value>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

use std::collections::HashMap;
use std::fmt;

use crate::envelope::SymmetricKey;
use crate::error::{CryptoError, Result};
use crate::kdf::KdfParams;
use crate::rsa::{RsaOaep, RsaPrivateKey, RsaPublicKey};

/// `encryptedBy` of a primary keyset: the Account Unlock Key.
pub const ENCRYPTED_BY_AUK: &str = "mp";

/// A decrypted keyset: its symmetric key and RSA key pair, both with the keyset's uuid as `kid`.
#[derive(Clone)]
pub struct Keyset {
    uuid: String,
    symmetric: SymmetricKey,
    private: RsaPrivateKey,
}

impl Keyset {
    /// Generates a keyset (fresh symmetric key and RSA-2048 key pair) with the given uuid.
    pub fn generate(uuid: impl Into<String>) -> Result<Self> {
        let uuid = uuid.into();
        let private = RsaPrivateKey::generate(uuid.clone(), RsaOaep::Sha1)?;
        Ok(Self::from_parts(
            SymmetricKey::generate(uuid.clone()),
            private,
        ))
    }

    /// Assembles a keyset from its keys (their ids must be the keyset's uuid).
    pub fn from_parts(symmetric: SymmetricKey, private: RsaPrivateKey) -> Self {
        Self {
            uuid: symmetric.kid().to_owned(),
            symmetric,
            private,
        }
    }

    /// The keyset uuid.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// The symmetric key.
    pub fn symmetric_key(&self) -> &SymmetricKey {
        &self.symmetric
    }

    /// The RSA private key.
    pub fn private_key(&self) -> &RsaPrivateKey {
        &self.private
    }

    /// The RSA public key (what others wrap vault keys and group keysets to).
    pub fn public_key(&self) -> &RsaPublicKey {
        self.private.public_key()
    }

    fn ciphertext(
        &self,
        enc_sym_key: crate::envelope::Envelope,
        encrypted_by: &str,
        sn: u64,
    ) -> Result<KeysetCiphertext> {
        Ok(KeysetCiphertext {
            uuid: self.uuid.clone(),
            sn,
            encrypted_by: encrypted_by.to_owned(),
            enc_sym_key,
            pub_key: self.public_key().to_jwk(),
            enc_pri_key: self.symmetric.encrypt(&self.private.to_jwk_json()?),
            spub_key: None,
            enc_s_pri_key: None,
            created_at: None,
            updated_at: None,
        })
    }

    /// Encrypts as a user's primary keyset: `encSymKey` under the AUK (kid `mp`) carrying the
    /// AUK's derivation parameters `alg`/`p2s`/`p2c`.
    pub fn encrypt_with_auk(
        &self,
        auk: &SymmetricKey,
        params: &KdfParams,
        sn: u64,
    ) -> Result<KeysetCiphertext> {
        let mut enc = auk.encrypt(&self.symmetric.to_jwk_json());
        enc.alg = Some(params.alg.name().to_owned());
        enc.p2s = Some(params.salt_b64url());
        enc.p2c = Some(params.iterations);
        self.ciphertext(enc, ENCRYPTED_BY_AUK, sn)
    }

    /// Encrypts a copy for a member (group keysets): `encSymKey` RSA-OAEP to the member's public
    /// key, `encryptedBy` empty as in the real server's responses.
    pub fn encrypt_for_member(&self, member: &RsaPublicKey, sn: u64) -> Result<KeysetCiphertext> {
        self.ciphertext(member.wrap_key(&self.symmetric)?, "", sn)
    }

    /// Opens a primary keyset with the AUK.
    pub fn decrypt_with_auk(ct: &KeysetCiphertext, auk: &SymmetricKey) -> Result<Self> {
        let symmetric = SymmetricKey::from_jwk_json(&auk.decrypt(&ct.enc_sym_key)?)?;
        Self::finish(ct, symmetric)
    }

    /// Opens a keyset whose `encSymKey` is RSA-wrapped to `parent`'s public key.
    pub fn decrypt_with_keyset(ct: &KeysetCiphertext, parent: &Keyset) -> Result<Self> {
        let symmetric = parent.private.unwrap_key(&ct.enc_sym_key)?;
        Self::finish(ct, symmetric)
    }

    fn finish(ct: &KeysetCiphertext, symmetric: SymmetricKey) -> Result<Self> {
        if symmetric.kid() != ct.uuid {
            return Err(CryptoError::Jwk(format!(
                "keyset {} holds a symmetric key with id {}",
                ct.uuid,
                symmetric.kid()
            )));
        }
        let private = RsaPrivateKey::from_jwk_json(&symmetric.decrypt(&ct.enc_pri_key)?)?;
        Ok(Self::from_parts(symmetric, private))
    }
}

impl fmt::Debug for Keyset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyset")
            .field("uuid", &self.uuid)
            .finish_non_exhaustive()
    }
}

/// Every keyset a signed-in user can open, by uuid: the decryption chain
/// AUK -> primary keyset -> keysets wrapped to it (group keysets) -> vault keys.
#[derive(Clone, Default)]
pub struct Keyring {
    primary: Option<String>,
    keysets: HashMap<String, Keyset>,
}

impl Keyring {
    /// Opens the active primary keyset (highest `sn` encrypted by `mp`) with the AUK, then every
    /// other keyset in `keysets` reachable from it.
    pub fn unlock(keysets: &[KeysetCiphertext], auk: &SymmetricKey) -> Result<Self> {
        let primary = keysets
            .iter()
            .filter(|k| k.encrypted_by == ENCRYPTED_BY_AUK)
            .max_by_key(|k| k.sn)
            .ok_or_else(|| {
                CryptoError::Jwk("no keyset is encrypted by the Account Unlock Key".into())
            })?;
        let mut ring = Self::default();
        let opened = Keyset::decrypt_with_auk(primary, auk)?;
        ring.primary = Some(opened.uuid().to_owned());
        ring.keysets.insert(opened.uuid().to_owned(), opened);
        ring.add_all(keysets.iter().filter(|k| k.uuid != primary.uuid))?;
        Ok(ring)
    }

    /// Like [`unlock`](Self::unlock), but only the primary keyset must open: every other keyset
    /// that does not (a damaged one, or one whose parent keyset is missing or did not open) is
    /// returned by uuid with its error instead of failing the whole keyring.
    pub fn unlock_partial(
        keysets: &[KeysetCiphertext],
        auk: &SymmetricKey,
    ) -> Result<(Self, Vec<(String, CryptoError)>)> {
        let primary = keysets
            .iter()
            .filter(|k| k.encrypted_by == ENCRYPTED_BY_AUK)
            .max_by_key(|k| k.sn)
            .ok_or_else(|| {
                CryptoError::Jwk("no keyset is encrypted by the Account Unlock Key".into())
            })?;
        let mut ring = Self::default();
        let opened = Keyset::decrypt_with_auk(primary, auk)?;
        ring.primary = Some(opened.uuid().to_owned());
        ring.keysets.insert(opened.uuid().to_owned(), opened);
        let failed = ring.add_each(keysets.iter().filter(|k| k.uuid != primary.uuid));
        Ok((ring, failed))
    }

    /// Opens more keysets, in any order, as [`add_all`](Self::add_all) does, but a keyset that
    /// does not open, or whose parent never opens, is returned (uuid and error) rather than
    /// stopping the others. Each uuid is reported at most once.
    pub fn add_each<'a>(
        &mut self,
        keysets: impl IntoIterator<Item = &'a KeysetCiphertext>,
    ) -> Vec<(String, CryptoError)> {
        let mut failed: Vec<(String, CryptoError)> = Vec::new();
        let mut failed_ids: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut pending: Vec<&KeysetCiphertext> = keysets
            .into_iter()
            .filter(|k| !self.keysets.contains_key(&k.uuid))
            .collect();
        while !pending.is_empty() {
            let before = pending.len();
            let mut rest = Vec::new();
            for ct in pending {
                if self.keysets.contains_key(&ct.uuid) || failed_ids.contains(&ct.uuid) {
                    continue;
                }
                match self.keysets.get(&ct.enc_sym_key.kid) {
                    Some(parent) => match Self::open_child(ct, parent) {
                        Ok(ks) => {
                            self.keysets.insert(ks.uuid().to_owned(), ks);
                        }
                        Err(e) => {
                            failed_ids.insert(ct.uuid.clone());
                            failed.push((ct.uuid.clone(), e));
                        }
                    },
                    None => rest.push(ct),
                }
            }
            if rest.len() == before {
                for ct in rest {
                    if failed_ids.insert(ct.uuid.clone()) {
                        let kid: String = ct.enc_sym_key.kid.chars().take(64).collect();
                        failed.push((
                            ct.uuid.clone(),
                            CryptoError::Jwk(format!("no open keyset for key id {kid:?}")),
                        ));
                    }
                }
                break;
            }
            pending = rest;
        }
        failed
    }

    /// Opens a keyset with the keyset its `encSymKey` names.
    fn open_child(ct: &KeysetCiphertext, parent: &Keyset) -> Result<Keyset> {
        if ct.enc_sym_key.enc != crate::envelope::ENC_A256GCM {
            Keyset::decrypt_with_keyset(ct, parent)
        } else {
            let symmetric =
                SymmetricKey::from_jwk_json(&parent.symmetric.decrypt(&ct.enc_sym_key)?)?;
            Keyset::finish(ct, symmetric)
        }
    }

    /// A keyring holding one already-open keyset as primary (service accounts, emulator).
    pub fn from_primary(keyset: Keyset) -> Self {
        let uuid = keyset.uuid().to_owned();
        let mut keysets = HashMap::new();
        keysets.insert(uuid.clone(), keyset);
        Self {
            primary: Some(uuid),
            keysets,
        }
    }

    /// Opens more keysets (for example group keysets from `userMembership`), in any order:
    /// each is opened once the keyset its `encSymKey` names is open. Keysets whose parent is
    /// never found are an error; ones already open are skipped.
    pub fn add_all<'a>(
        &mut self,
        keysets: impl IntoIterator<Item = &'a KeysetCiphertext>,
    ) -> Result<()> {
        let mut pending: Vec<&KeysetCiphertext> = keysets
            .into_iter()
            .filter(|k| !self.keysets.contains_key(&k.uuid))
            .collect();
        while !pending.is_empty() {
            let before = pending.len();
            let mut rest = Vec::new();
            for ct in pending {
                if self.keysets.contains_key(&ct.uuid) {
                    // A duplicate of a keyset opened in this pass: already open, skip it.
                    continue;
                }
                match self.keysets.get(&ct.enc_sym_key.kid) {
                    Some(parent) if ct.enc_sym_key.enc != crate::envelope::ENC_A256GCM => {
                        let ks = Keyset::decrypt_with_keyset(ct, parent)?;
                        self.keysets.insert(ks.uuid().to_owned(), ks);
                    }
                    Some(parent) => {
                        let symmetric = SymmetricKey::from_jwk_json(
                            &parent.symmetric.decrypt(&ct.enc_sym_key)?,
                        )?;
                        let ks = Keyset::finish(ct, symmetric)?;
                        self.keysets.insert(ks.uuid().to_owned(), ks);
                    }
                    None => rest.push(ct),
                }
            }
            if rest.len() == before {
                // Name a few of the missing parents: a hostile list can hold thousands.
                const SHOWN: usize = 5;
                let mut missing: Vec<&str> =
                    rest.iter().map(|k| k.enc_sym_key.kid.as_str()).collect();
                missing.sort_unstable();
                missing.dedup();
                let more = missing.len().saturating_sub(SHOWN);
                let mut named = missing
                    .iter()
                    .take(SHOWN)
                    .map(|kid| format!("{:?}", kid.chars().take(64).collect::<String>()))
                    .collect::<Vec<_>>()
                    .join(", ");
                if more > 0 {
                    named.push_str(&format!(" and {more} more"));
                }
                return Err(CryptoError::Jwk(format!(
                    "no open keyset for key id(s) {named}"
                )));
            }
            pending = rest;
        }
        Ok(())
    }

    /// The primary keyset.
    pub fn primary(&self) -> Option<&Keyset> {
        self.primary.as_ref().and_then(|u| self.keysets.get(u))
    }

    /// A keyset by uuid.
    pub fn get(&self, uuid: &str) -> Option<&Keyset> {
        self.keysets.get(uuid)
    }

    /// Whether a keyset is open.
    pub fn contains(&self, uuid: &str) -> bool {
        self.keysets.contains_key(uuid)
    }

    /// Number of open keysets.
    pub fn len(&self) -> usize {
        self.keysets.len()
    }

    /// True when nothing is open.
    pub fn is_empty(&self) -> bool {
        self.keysets.is_empty()
    }

    /// Opens a key (a vault key) wrapped to one of these keysets: RSA-OAEP to its public key, or
    /// AES-GCM under its symmetric key, as the envelope's `kid` and `enc` say.
    pub fn unwrap_key(&self, wrapped: &crate::envelope::Envelope) -> Result<SymmetricKey> {
        let keyset = self
            .keysets
            .get(&wrapped.kid)
            .ok_or_else(|| CryptoError::WrongKey {
                expected: wrapped.kid.clone(),
                given: self.keysets.keys().cloned().collect::<Vec<_>>().join(","),
            })?;
        if wrapped.enc == crate::envelope::ENC_A256GCM {
            SymmetricKey::from_jwk_json(&keyset.symmetric.decrypt(wrapped)?)
        } else {
            keyset.private.unwrap_key(wrapped)
        }
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.keysets.keys().collect();
        ids.sort();
        f.debug_struct("Keyring")
            .field("primary", &self.primary)
            .field("keysets", &ids)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keysets_round_trip_through_the_chain() {
        let auk = SymmetricKey::generate("mp");
        let params = KdfParams::generate(1000);
        let user = Keyset::generate("useruuid").unwrap();
        let group = Keyset::generate("groupuuid").unwrap();
        let user_ct = user.encrypt_with_auk(&auk, &params, 1).unwrap();
        assert_eq!(user_ct.enc_sym_key.p2c, Some(1000));
        assert_eq!(user_ct.enc_sym_key.alg.as_deref(), Some("PBES2g-HS256"));
        let group_ct = group.encrypt_for_member(user.public_key(), 1).unwrap();
        assert_eq!(group_ct.enc_sym_key.kid, "useruuid");
        // Out of order on purpose: the group keyset comes first.
        let ring = Keyring::unlock(&[group_ct.clone(), user_ct.clone()], &auk).unwrap();
        assert_eq!(ring.len(), 2);
        assert_eq!(ring.primary().unwrap().uuid(), "useruuid");
        let vault_key = SymmetricKey::generate("vaultkey");
        let wrapped = group.public_key().wrap_key(&vault_key).unwrap();
        assert_eq!(ring.unwrap_key(&wrapped).unwrap(), vault_key);

        let wrong = SymmetricKey::generate("mp");
        assert_eq!(
            Keyring::unlock(std::slice::from_ref(&user_ct), &wrong).unwrap_err(),
            CryptoError::Decrypt
        );
        let orphan = Keyset::generate("orphan").unwrap();
        let orphan_ct = group.encrypt_for_member(orphan.public_key(), 1).unwrap();
        assert!(Keyring::unlock(&[user_ct, orphan_ct], &auk).is_err());
        assert!(Keyring::unlock(&[], &auk).is_err());
        assert!(!format!("{ring:?}").contains("k\""));
    }
}
