//! Where the emulator's randomness comes from: the operating system, or, when a seed is given, a
//! SHA-256 counter generator so that ids, keys and salts repeat from run to run. RSA key pairs come
//! from a pool: with a seed, the pool embedded in this crate (`keypool.json`, test keys only);
//! without, pairs generated at start.

use std::sync::Mutex;

use opadmin_crypto::encoding::{UuidCase, random_bytes, uuid_from_bytes};
use opadmin_crypto::envelope::SymmetricKey;
use opadmin_crypto::jwk::Jwk;
use opadmin_crypto::rsa::{RsaOaep, RsaPrivateKey};
use sha2::{Digest, Sha256};

/// Number of key pairs that idle users and generated groups share.
pub const POOL_SIZE: usize = 8;

/// Source of ids, keys and salts.
pub struct Entropy {
    seeded: Option<Mutex<([u8; 32], u64)>>,
}

impl Entropy {
    /// Operating-system randomness, or a repeatable stream from `seed`.
    pub fn new(seed: Option<u64>) -> Self {
        Self {
            seeded: seed.map(|s| Mutex::new((Sha256::digest(s.to_be_bytes()).into(), 0u64))),
        }
    }

    /// Whether a seed was given.
    pub fn is_seeded(&self) -> bool {
        self.seeded.is_some()
    }

    /// N bytes.
    pub fn bytes<const N: usize>(&self) -> [u8; N] {
        let Some(state) = &self.seeded else {
            return random_bytes::<N>();
        };
        let mut guard = state.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(32) {
            guard.1 += 1;
            let block: [u8; 32] = Sha256::new()
                .chain_update(guard.0)
                .chain_update(guard.1.to_be_bytes())
                .finalize()
                .into();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        out
    }

    /// A b5 id in the given case.
    pub fn uuid(&self, case: UuidCase) -> String {
        uuid_from_bytes(&self.bytes::<16>(), case)
    }

    /// A fresh symmetric key.
    pub fn symmetric_key(&self, kid: impl Into<String>) -> SymmetricKey {
        SymmetricKey::new(kid, self.bytes::<32>())
    }

    /// A base32 TOTP secret (20 bytes).
    pub fn totp_secret(&self) -> String {
        opadmin_crypto::encoding::base32_encode(&self.bytes::<20>())
    }

    /// The shared key-pair pool.
    pub fn key_pool(&self) -> Vec<RsaPrivateKey> {
        if self.is_seeded() {
            let jwks: Vec<Jwk> = serde_json::from_str(include_str!("keypool.json"))
                .expect("embedded key pool is valid JSON");
            jwks.iter()
                .map(|j| RsaPrivateKey::from_jwk(j).expect("embedded key pool holds valid keys"))
                .collect()
        } else {
            (0..POOL_SIZE)
                .map(|i| {
                    RsaPrivateKey::generate(format!("pool{i}"), RsaOaep::Sha1)
                        .expect("RSA key generation")
                })
                .collect()
        }
    }

    /// A dedicated key pair (for users who sign in): generated, or from the pool when seeded.
    pub fn key_pair(&self, kid: &str, pool: &[RsaPrivateKey], index: usize) -> RsaPrivateKey {
        if self.is_seeded() {
            pool[index % pool.len()].with_kid(kid)
        } else {
            RsaPrivateKey::generate(kid, RsaOaep::Sha1).expect("RSA key generation")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_streams_repeat_and_differ_by_seed() {
        let a = Entropy::new(Some(7));
        let b = Entropy::new(Some(7));
        let c = Entropy::new(Some(8));
        let (x, y, z) = (
            a.uuid(UuidCase::Lower),
            b.uuid(UuidCase::Lower),
            c.uuid(UuidCase::Lower),
        );
        assert_eq!(x, y);
        assert_ne!(x, z);
        assert_eq!(x.len(), 26);
        assert_ne!(
            Entropy::new(None).bytes::<16>(),
            Entropy::new(None).bytes::<16>()
        );
    }
}
