//! RSA-OAEP key wrapping with `aws-lc-rs` (docs/protocol.md 4.1, 4.2): `RSA-OAEP` is OAEP with SHA-1
//! (MGF1-SHA1), `RSA-OAEP-256` OAEP with SHA-256. Keys travel as JWKs; they are converted to and
//! from DER (PKCS#1 inside PKCS#8 / SubjectPublicKeyInfo) with the `pkcs1`/`pkcs8` crates.

use std::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm, OaepPrivateDecryptingKey,
    OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
};
use pkcs1::der::{Decode, Encode};
use zeroize::Zeroizing;

use crate::encoding::{b64url_decode, b64url_encode};
use crate::envelope::{CTY, Envelope, SymmetricKey};
use crate::error::{CryptoError, Result};
use crate::jwk::Jwk;

/// The OAEP variant named by a JWK's or envelope's algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RsaOaep {
    /// `RSA-OAEP`: SHA-1 (the default of 1Password's clients).
    #[default]
    Sha1,
    /// `RSA-OAEP-256`: SHA-256.
    Sha256,
}

impl RsaOaep {
    /// Parses `RSA-OAEP` / `RSA-OAEP-256`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "RSA-OAEP" => Ok(Self::Sha1),
            "RSA-OAEP-256" => Ok(Self::Sha256),
            other => Err(CryptoError::UnsupportedAlgorithm(other.to_owned())),
        }
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "RSA-OAEP",
            Self::Sha256 => "RSA-OAEP-256",
        }
    }

    fn algorithm(self) -> &'static OaepAlgorithm {
        match self {
            Self::Sha1 => &OAEP_SHA1_MGF1SHA1,
            Self::Sha256 => &OAEP_SHA256_MGF1SHA256,
        }
    }
}

fn component(jwk: &Jwk, value: &Option<String>, name: &str) -> Result<Zeroizing<Vec<u8>>> {
    let text = value
        .as_deref()
        .ok_or_else(|| CryptoError::Jwk(format!("RSA key {:?} is missing {name}", jwk.kid)))?;
    let bytes = b64url_decode(text)?;
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    if start == bytes.len() {
        return Err(CryptoError::Jwk(format!("RSA component {name} is zero")));
    }
    Ok(Zeroizing::new(bytes[start..].to_vec()))
}

fn uint_ref(bytes: &[u8]) -> Result<pkcs1::UintRef<'_>> {
    pkcs1::UintRef::new(bytes).map_err(|e| CryptoError::Jwk(format!("RSA component: {e}")))
}

fn rsa_alg_of(jwk: &Jwk) -> Result<RsaOaep> {
    if jwk.kty != "RSA" {
        return Err(CryptoError::Jwk(format!(
            "expected kty \"RSA\", found {:?}",
            jwk.kty
        )));
    }
    jwk.alg
        .as_deref()
        .map(RsaOaep::parse)
        .unwrap_or(Ok(RsaOaep::Sha1))
}

/// Reads the PKCS#1 components of a key held by aws-lc (for JWK export).
fn with_components(
    key: &PrivateDecryptingKey,
    f: impl FnOnce(&pkcs1::RsaPrivateKeyRef<'_>),
) -> Result<()> {
    let der: Pkcs8V1Der = key
        .as_der()
        .map_err(|_| CryptoError::Backend("RSA key export"))?;
    let der = Zeroizing::new(der.as_ref().to_vec());
    let info = pkcs8::PrivateKeyInfoRef::from_der(&der)
        .map_err(|_| CryptoError::Backend("RSA key export"))?;
    let pk = pkcs1::RsaPrivateKeyRef::from_der(info.private_key.as_bytes())
        .map_err(|_| CryptoError::Backend("RSA key export"))?;
    f(&pk);
    Ok(())
}

/// An RSA public key that wraps keys for its owner (a user's or group's keyset).
#[derive(Clone)]
pub struct RsaPublicKey {
    kid: String,
    alg: RsaOaep,
    n: Vec<u8>,
    e: Vec<u8>,
    key: PublicEncryptingKey,
}

impl RsaPublicKey {
    /// Imports a public JWK (`kty` RSA, `n`, `e`, `kid`; `alg` defaults to `RSA-OAEP`).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self> {
        let alg = rsa_alg_of(jwk)?;
        let kid = jwk
            .kid
            .clone()
            .ok_or_else(|| CryptoError::Jwk("RSA key is missing kid".into()))?;
        let n = component(jwk, &jwk.n, "n")?;
        let e = component(jwk, &jwk.e, "e")?;
        let pkcs1_der = pkcs1::RsaPublicKey {
            modulus: uint_ref(&n)?,
            public_exponent: uint_ref(&e)?,
        }
        .to_der()
        .map_err(|e| CryptoError::Jwk(e.to_string()))?;
        let spki = pkcs8::spki::SubjectPublicKeyInfoRef {
            algorithm: pkcs1::ALGORITHM_ID,
            subject_public_key: pkcs8::der::asn1::BitStringRef::from_bytes(&pkcs1_der)
                .map_err(|e| CryptoError::Jwk(e.to_string()))?,
        }
        .to_der()
        .map_err(|e| CryptoError::Jwk(e.to_string()))?;
        let key = PublicEncryptingKey::from_der(&spki)
            .map_err(|_| CryptoError::Jwk("RSA public key rejected".into()))?;
        Ok(Self {
            kid,
            alg,
            n: n.to_vec(),
            e: e.to_vec(),
            key,
        })
    }

    /// The JWK as 1Password writes it: `{alg, e, ext, key_ops: [encrypt], kid, kty, n}`.
    pub fn to_jwk(&self) -> Jwk {
        let mut jwk = Jwk::default();
        jwk.alg = Some(self.alg.name().to_owned());
        jwk.e = Some(b64url_encode(&self.e));
        jwk.ext = Some(true);
        jwk.key_ops = Some(vec!["encrypt".into()]);
        jwk.kid = Some(self.kid.clone());
        jwk.kty = "RSA".into();
        jwk.n = Some(b64url_encode(&self.n));
        jwk
    }

    /// The key id (the owner's keyset uuid).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The OAEP variant.
    pub fn alg(&self) -> RsaOaep {
        self.alg
    }

    /// Encrypts bytes: `{kid, enc: RSA-OAEP(-256), cty, data}`.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Envelope> {
        let oaep = OaepPublicEncryptingKey::new(self.key.clone())
            .map_err(|_| CryptoError::Backend("RSA-OAEP key"))?;
        let mut out = vec![0u8; oaep.ciphertext_size()];
        let ct = oaep
            .encrypt(self.alg.algorithm(), plaintext, &mut out, None)
            .map_err(|_| CryptoError::Backend("RSA-OAEP encryption (plaintext too long?)"))?;
        Ok(Envelope {
            kid: self.kid.clone(),
            enc: self.alg.name().to_owned(),
            cty: CTY.to_owned(),
            iv: None,
            data: b64url_encode(ct),
            alg: None,
            p2s: None,
            p2c: None,
        })
    }

    /// Wraps a symmetric key (its JWK) for this public key's owner.
    pub fn wrap_key(&self, key: &SymmetricKey) -> Result<Envelope> {
        self.encrypt(&key.to_jwk_json())
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPublicKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// An RSA private key that opens what was wrapped to its public key. `Debug` shows the id only.
#[derive(Clone)]
pub struct RsaPrivateKey {
    public: RsaPublicKey,
    key: PrivateDecryptingKey,
}

impl RsaPrivateKey {
    /// Generates an RSA-2048 key pair with the given key id.
    pub fn generate(kid: impl Into<String>, alg: RsaOaep) -> Result<Self> {
        let key = PrivateDecryptingKey::generate(KeySize::Rsa2048)
            .map_err(|_| CryptoError::Backend("RSA key generation"))?;
        let mut jwk = Jwk::default();
        jwk.kty = "RSA".into();
        jwk.kid = Some(kid.into());
        jwk.alg = Some(alg.name().to_owned());
        with_components(&key, |pk| {
            jwk.n = Some(b64url_encode(pk.modulus.as_bytes()));
            jwk.e = Some(b64url_encode(pk.public_exponent.as_bytes()));
        })?;
        let public = RsaPublicKey::from_jwk(&jwk)?;
        Ok(Self { public, key })
    }

    /// Imports a private JWK (`n, e, d, p, q, dp, dq, qi`, `kid`).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self> {
        let public = RsaPublicKey::from_jwk(jwk)?;
        let parts = [
            component(jwk, &jwk.d, "d")?,
            component(jwk, &jwk.p, "p")?,
            component(jwk, &jwk.q, "q")?,
            component(jwk, &jwk.dp, "dp")?,
            component(jwk, &jwk.dq, "dq")?,
            component(jwk, &jwk.qi, "qi")?,
        ];
        let [d, p, q, dp, dq, qi] = &parts;
        let pkcs1_der = Zeroizing::new(
            pkcs1::RsaPrivateKey {
                modulus: uint_ref(&public.n)?,
                public_exponent: uint_ref(&public.e)?,
                private_exponent: uint_ref(d)?,
                prime1: uint_ref(p)?,
                prime2: uint_ref(q)?,
                exponent1: uint_ref(dp)?,
                exponent2: uint_ref(dq)?,
                coefficient: uint_ref(qi)?,
                other_prime_infos: None,
            }
            .to_der()
            .map_err(|e| CryptoError::Jwk(e.to_string()))?,
        );
        let octets = pkcs8::der::asn1::OctetStringRef::new(&pkcs1_der)
            .map_err(|e| CryptoError::Jwk(e.to_string()))?;
        let info = pkcs8::PrivateKeyInfoRef::new(pkcs1::ALGORITHM_ID, octets);
        let pkcs8_der = Zeroizing::new(info.to_der().map_err(|e| CryptoError::Jwk(e.to_string()))?);
        let key = PrivateDecryptingKey::from_pkcs8(&pkcs8_der).map_err(|_| {
            CryptoError::Jwk("RSA private key rejected (inconsistent components?)".into())
        })?;
        Ok(Self { public, key })
    }

    /// Imports a private JWK from JSON bytes (as found inside a decrypted `encPriKey`).
    pub fn from_jwk_json(json: &[u8]) -> Result<Self> {
        let jwk: Jwk = serde_json::from_slice(json).map_err(|e| CryptoError::Jwk(e.to_string()))?;
        Self::from_jwk(&jwk)
    }

    /// The private JWK as 1Password writes it (`alg, d, dp, dq, e, ext, key_ops, kid, kty, n, p, q, qi`).
    pub fn to_jwk(&self) -> Result<Jwk> {
        let mut jwk = self.public.to_jwk();
        jwk.key_ops = Some(vec!["decrypt".into()]);
        with_components(&self.key, |pk| {
            jwk.d = Some(b64url_encode(pk.private_exponent.as_bytes()));
            jwk.p = Some(b64url_encode(pk.prime1.as_bytes()));
            jwk.q = Some(b64url_encode(pk.prime2.as_bytes()));
            jwk.dp = Some(b64url_encode(pk.exponent1.as_bytes()));
            jwk.dq = Some(b64url_encode(pk.exponent2.as_bytes()));
            jwk.qi = Some(b64url_encode(pk.coefficient.as_bytes()));
        })?;
        Ok(jwk)
    }

    /// The private JWK serialised to JSON (what `encPriKey` encrypts).
    pub fn to_jwk_json(&self) -> Result<Zeroizing<Vec<u8>>> {
        Ok(Zeroizing::new(
            serde_json::to_vec(&self.to_jwk()?).map_err(|e| CryptoError::Jwk(e.to_string()))?,
        ))
    }

    /// The same key pair under another key id. Cheap (the key material is shared), for
    /// emulated accounts whose many idle users and groups share a small pool of key pairs.
    pub fn with_kid(&self, kid: impl Into<String>) -> Self {
        let mut public = self.public.clone();
        public.kid = kid.into();
        Self {
            public,
            key: self.key.clone(),
        }
    }

    /// The public half.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        self.public.kid()
    }

    /// Decrypts an RSA envelope (`enc` `RSA-OAEP` or `RSA-OAEP-256`; the envelope's `enc`
    /// decides the hash).
    pub fn decrypt(&self, envelope: &Envelope) -> Result<Zeroizing<Vec<u8>>> {
        let alg = RsaOaep::parse(&envelope.enc).map_err(|_| {
            CryptoError::Envelope(format!(
                "expected an RSA-OAEP envelope, found enc {:?}",
                envelope.enc
            ))
        })?;
        let data = b64url_decode(&envelope.data)?;
        let oaep = OaepPrivateDecryptingKey::new(self.key.clone())
            .map_err(|_| CryptoError::Backend("RSA-OAEP key"))?;
        let mut out = Zeroizing::new(vec![0u8; oaep.min_output_size()]);
        let len = oaep
            .decrypt(alg.algorithm(), &data, &mut out, None)
            .map_err(|_| CryptoError::Decrypt)?
            .len();
        out.truncate(len);
        Ok(out)
    }

    /// Unwraps a symmetric key (a vault key or a group keyset's key) wrapped to this key.
    pub fn unwrap_key(&self, envelope: &Envelope) -> Result<SymmetricKey> {
        SymmetricKey::from_jwk_json(&self.decrypt(envelope)?)
    }
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPrivateKey")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn pair() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::generate("abc", RsaOaep::Sha1).unwrap())
    }

    #[test]
    fn jwk_export_import_round_trip() {
        let k = pair();
        let jwk = k.to_jwk().unwrap();
        let back = RsaPrivateKey::from_jwk(&jwk).unwrap();
        let wrapped = back.public_key().encrypt(b"hi").unwrap();
        assert_eq!(&*k.decrypt(&wrapped).unwrap(), b"hi");
        assert!(!format!("{k:?}").contains(jwk.d.as_deref().unwrap()));
    }

    #[test]
    fn sha256_variant_and_wrong_variant() {
        let k = pair();
        let mut jwk = k.public_key().to_jwk();
        jwk.alg = Some("RSA-OAEP-256".into());
        let p256 = RsaPublicKey::from_jwk(&jwk).unwrap();
        let mut env = p256.encrypt(b"x").unwrap();
        assert_eq!(env.enc, "RSA-OAEP-256");
        assert_eq!(&*k.decrypt(&env).unwrap(), b"x");
        env.enc = "RSA-OAEP".into();
        assert_eq!(k.decrypt(&env).unwrap_err(), CryptoError::Decrypt);
    }

    #[test]
    fn malformed_keys_and_ciphertexts_are_typed_errors() {
        let k = pair();
        let mut jwk = k.to_jwk().unwrap();
        jwk.d = None;
        assert!(matches!(
            RsaPrivateKey::from_jwk(&jwk),
            Err(CryptoError::Jwk(_))
        ));
        let mut jwk = k.to_jwk().unwrap();
        jwk.kty = "EC".into();
        assert!(matches!(
            RsaPrivateKey::from_jwk(&jwk),
            Err(CryptoError::Jwk(_))
        ));
        let mut jwk = k.to_jwk().unwrap();
        jwk.p = jwk.q.clone();
        assert!(RsaPrivateKey::from_jwk(&jwk).is_err());
        let mut jwk = k.public_key().to_jwk();
        jwk.alg = Some("RSA1_5".into());
        assert!(matches!(
            RsaPublicKey::from_jwk(&jwk),
            Err(CryptoError::UnsupportedAlgorithm(_))
        ));
        assert!(RsaPrivateKey::from_jwk_json(b"{").is_err());

        let mut env = k.public_key().encrypt(b"secret").unwrap();
        let mut raw = b64url_decode(&env.data).unwrap();
        raw[10] ^= 0xff;
        env.data = b64url_encode(&raw);
        assert_eq!(k.decrypt(&env).unwrap_err(), CryptoError::Decrypt);
        env.enc = "A256GCM".into();
        assert!(matches!(k.decrypt(&env), Err(CryptoError::Envelope(_))));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn wrap_unwrap_round_trip(key in any::<[u8; 32]>(), kid in "[a-z2-7]{26}") {
            let k = pair();
            let sym = SymmetricKey::new(kid, key);
            let wrapped = k.public_key().wrap_key(&sym).unwrap();
            prop_assert_eq!(k.unwrap_key(&wrapped).unwrap(), sym);
        }
    }
}
