//! Two-Secret Key Derivation (2SKD): the Account Unlock Key and SRP `x` (docs/protocol.md 1.2, 1.3).

use hkdf::Hkdf;
use sha2::{Sha256, Sha512};
use zeroize::Zeroizing;

use crate::envelope::SymmetricKey;
use crate::error::{CryptoError, Result};
use crate::secret::{Password, SecretBytes32};
use crate::secret_key::SecretKey;

/// The PBKDF2 variant named by an `alg` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KdfAlgorithm {
    /// `PBES2g-HS256`: PBKDF2-HMAC-SHA256 (every current account).
    Pbes2gHs256,
    /// `PBES2g-HS512`: PBKDF2-HMAC-SHA512 truncated to 32 bytes.
    Pbes2gHs512,
}

impl KdfAlgorithm {
    /// Parses an `alg` string; anything but the two `PBES2g-` names is a typed error.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "PBES2g-HS256" => Ok(Self::Pbes2gHs256),
            "PBES2g-HS512" => Ok(Self::Pbes2gHs512),
            other => Err(CryptoError::UnsupportedAlgorithm(other.to_owned())),
        }
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pbes2gHs256 => "PBES2g-HS256",
            Self::Pbes2gHs512 => "PBES2g-HS512",
        }
    }
}

/// The SRP method for which `x` is derived: only `SRPg-4096` is implemented.
pub const SRP_METHOD: &str = "SRPg-4096";

/// Key-derivation parameters: the `alg`/`p2s`/`p2c` of a keyset's `encSymKey`, or the
/// `alg`/`salt`/`iterations` of `userAuth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdfParams {
    /// PBKDF2 variant.
    pub alg: KdfAlgorithm,
    /// Salt bytes (16 random bytes for new accounts).
    pub salt: Vec<u8>,
    /// PBKDF2 iterations (650000 today, 100000 on older accounts).
    pub iterations: u32,
}

impl KdfParams {
    /// Parses the wire form: alg name, base64url salt and iteration count.
    pub fn from_wire(alg: &str, salt_b64url: &str, iterations: u32) -> Result<Self> {
        if iterations == 0 {
            return Err(CryptoError::UnsupportedAlgorithm("0 iterations".into()));
        }
        Ok(Self {
            alg: KdfAlgorithm::parse(alg)?,
            salt: crate::encoding::b64url_decode(salt_b64url)?,
            iterations,
        })
    }

    /// Fresh parameters with a random 16-byte salt.
    pub fn generate(iterations: u32) -> Self {
        Self {
            alg: KdfAlgorithm::Pbes2gHs256,
            salt: crate::encoding::random_bytes::<16>().to_vec(),
            iterations,
        }
    }

    /// The salt as base64url (the wire form of `p2s` and `salt`).
    pub fn salt_b64url(&self) -> String {
        crate::encoding::b64url_encode(&self.salt)
    }
}

/// The smallest PBKDF2 iteration count accepted by default: 100,000, what older accounts and
/// service accounts use (current accounts use 650,000).
pub const DEFAULT_MIN_ITERATIONS: u32 = 100_000;

/// The lowest floor that can be configured at all: 1Password's own client refuses 9,999
/// iterations or fewer, so this client never goes below 10,000 either.
pub const LOWEST_MIN_ITERATIONS: u32 = 10_000;

/// The largest PBKDF2 iteration count accepted: about 15 times today's 650,000, which keeps one
/// derivation to a second or two on a small machine (PBKDF2-HMAC-SHA256 runs at roughly ten
/// million iterations a second on one core of the project's 2-core test machine).
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// The longest salt accepted from a server (real ones are 16 bytes).
pub const MAX_SALT_BYTES: usize = 1024;

/// The range of server-supplied PBKDF2 iteration counts a client accepts before deriving a key.
///
/// A server (or anything in between) chooses the iteration count of both derivations (SRP `x`
/// from `userAuth`, the Account Unlock Key from the primary keyset's `p2c`). A count of 1 makes
/// the derived verifier cheap to brute-force; `u32::MAX` pins a thread for hours. Every
/// derivation the SDK makes from server parameters is checked against these limits first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfLimits {
    min: u32,
    max: u32,
}

impl Default for KdfLimits {
    fn default() -> Self {
        Self {
            min: DEFAULT_MIN_ITERATIONS,
            max: MAX_ITERATIONS,
        }
    }
}

impl KdfLimits {
    /// The default limits: at least [`DEFAULT_MIN_ITERATIONS`], at most [`MAX_ITERATIONS`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Lowers (or raises) the floor. **Unsafe for real accounts**: meant for test servers and the
    /// emulator, which hand out low counts to keep tests fast. A floor below
    /// [`LOWEST_MIN_ITERATIONS`] or above [`MAX_ITERATIONS`] is refused with
    /// [`CryptoError::KdfIterationsOutOfRange`] naming the allowed range.
    pub fn with_min_iterations(self, min: u32) -> Result<Self> {
        if !(LOWEST_MIN_ITERATIONS..=MAX_ITERATIONS).contains(&min) {
            return Err(CryptoError::KdfIterationsOutOfRange {
                iterations: min,
                min: LOWEST_MIN_ITERATIONS,
                max: MAX_ITERATIONS,
            });
        }
        Ok(Self { min, ..self })
    }

    /// The smallest iteration count accepted.
    pub fn min_iterations(&self) -> u32 {
        self.min
    }

    /// The largest iteration count accepted.
    pub fn max_iterations(&self) -> u32 {
        self.max
    }

    /// Checks server-supplied parameters before any derivation: the iteration count within the
    /// range, the salt not empty and at most [`MAX_SALT_BYTES`].
    pub fn check(&self, params: &KdfParams) -> Result<()> {
        if !(self.min..=self.max).contains(&params.iterations) {
            return Err(CryptoError::KdfIterationsOutOfRange {
                iterations: params.iterations,
                min: self.min,
                max: self.max,
            });
        }
        if params.salt.is_empty() || params.salt.len() > MAX_SALT_BYTES {
            return Err(CryptoError::UnsupportedAlgorithm(format!(
                "a key-derivation salt of {} bytes (1 to {MAX_SALT_BYTES} accepted)",
                params.salt.len()
            )));
        }
        Ok(())
    }
}

/// HKDF-SHA256 with 32 bytes of output.
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // 32 bytes is always within HKDF-SHA256's limit of 8160.
    let _ = hkdf_sha256_into(ikm, salt, info, &mut out);
    out
}

/// HKDF-SHA256 of any output length up to 8160 bytes; longer is a typed error.
pub fn hkdf_sha256_into(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) -> Result<()> {
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out)
        .map_err(|_| {
            CryptoError::UnsupportedAlgorithm(format!(
                "HKDF-SHA256 output of {} bytes (at most 8160)",
                out.len()
            ))
        })
}

/// PBKDF2 with the given variant into `out`.
pub fn pbkdf2(alg: KdfAlgorithm, password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    match alg {
        KdfAlgorithm::Pbes2gHs256 => {
            pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, out);
        }
        KdfAlgorithm::Pbes2gHs512 => {
            pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, out);
        }
    }
}

/// The Secret Key's HKDF: ikm = secret, salt = account id, info = format.
pub fn secret_key_hkdf(secret_key: &SecretKey) -> SecretBytes32 {
    SecretBytes32::new(hkdf_sha256(
        secret_key.expose_secret().as_bytes(),
        secret_key.account_id().as_bytes(),
        secret_key.format().as_bytes(),
    ))
}

/// The 2SKD itself (docs/protocol.md 1.2): `PBKDF2(password, HKDF(salt, email, info)) XOR HKDF(Secret Key)`.
pub fn two_secret_derive(
    password: &Password,
    email: &str,
    secret_key: &SecretKey,
    info: &str,
    params: &KdfParams,
) -> SecretBytes32 {
    let email = normalize_email(email);
    let k1 = Zeroizing::new(hkdf_sha256(&params.salt, email.as_bytes(), info.as_bytes()));
    let mut k2 = Zeroizing::new([0u8; 32]);
    pbkdf2(
        params.alg,
        &password.normalized(),
        &*k1,
        params.iterations,
        &mut *k2,
    );
    let ks = secret_key_hkdf(secret_key);
    let mut out = [0u8; 32];
    for (o, (a, b)) in out.iter_mut().zip(k2.iter().zip(ks.expose_secret())) {
        *o = a ^ b;
    }
    SecretBytes32::new(out)
}

/// Email as 2SKD and the SRP identity use it: trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Derives the Account Unlock Key (kid `mp`) from the primary keyset's `encSymKey` parameters.
pub fn derive_auk(
    password: &Password,
    email: &str,
    secret_key: &SecretKey,
    params: &KdfParams,
) -> SymmetricKey {
    let bytes = two_secret_derive(password, email, secret_key, params.alg.name(), params);
    SymmetricKey::new("mp", *bytes.expose_secret())
}

/// Derives SRP `x` from `userAuth` (`method` must be `SRPg-4096`).
pub fn derive_srp_x(
    password: &Password,
    email: &str,
    secret_key: &SecretKey,
    method: &str,
    params: &KdfParams,
) -> Result<SecretBytes32> {
    if method != SRP_METHOD {
        return Err(CryptoError::UnsupportedAlgorithm(method.to_owned()));
    }
    Ok(two_secret_derive(
        password, email, secret_key, method, params,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_algorithms_are_typed_errors() {
        assert!(matches!(
            KdfAlgorithm::parse("PBES2-HS256"),
            Err(CryptoError::UnsupportedAlgorithm(_))
        ));
        assert!(KdfParams::from_wire("SHA1", "AAAA", 1).is_err());
        assert!(KdfParams::from_wire("PBES2g-HS256", "AAAA", 0).is_err());
        let sk = SecretKey::generate();
        let p = KdfParams::generate(1);
        let e = derive_srp_x(&"pw".into(), "a@b.c", &sk, "SRP-4096", &p).unwrap_err();
        assert_eq!(e, CryptoError::UnsupportedAlgorithm("SRP-4096".into()));
    }

    #[test]
    fn limits_refuse_counts_outside_the_range() {
        let limits = KdfLimits::default();
        for bad in [1, 99_999, MAX_ITERATIONS + 1, u32::MAX] {
            let e = limits.check(&KdfParams::generate(bad)).unwrap_err();
            assert_eq!(
                e,
                CryptoError::KdfIterationsOutOfRange {
                    iterations: bad,
                    min: DEFAULT_MIN_ITERATIONS,
                    max: MAX_ITERATIONS
                }
            );
        }
        for good in [100_000, 650_000, MAX_ITERATIONS] {
            limits.check(&KdfParams::generate(good)).unwrap();
        }
        let low = limits.with_min_iterations(10_000).unwrap();
        low.check(&KdfParams::generate(10_000)).unwrap();
        assert!(low.check(&KdfParams::generate(9_999)).is_err());
        assert!(limits.with_min_iterations(9_999).is_err());
        assert!(limits.with_min_iterations(1).is_err());
        let mut no_salt = KdfParams::generate(650_000);
        no_salt.salt.clear();
        assert!(limits.check(&no_salt).is_err());
        let mut huge_salt = KdfParams::generate(650_000);
        huge_salt.salt = vec![0; MAX_SALT_BYTES + 1];
        assert!(limits.check(&huge_salt).is_err());
    }

    #[test]
    fn email_is_trimmed_and_lowercased() {
        let sk = SecretKey::generate();
        let p = KdfParams::generate(10);
        let a = two_secret_derive(&"pw".into(), " Ops@Example.COM ", &sk, "PBES2g-HS256", &p);
        let b = two_secret_derive(&"pw".into(), "ops@example.com", &sk, "PBES2g-HS256", &p);
        assert_eq!(a, b);
        let c = two_secret_derive(&"pw2".into(), "ops@example.com", &sk, "PBES2g-HS256", &p);
        assert_ne!(a, c);
    }
}
