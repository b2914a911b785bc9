//! SRP over the RFC 5054 4096-bit group with g = 5, in 1Password's two flavours (docs/protocol.md 2).
//!
//! The `srp` crate supplies the group and the constant-time modular arithmetic
//! (`compute_g_x`, `compute_premaster_secret`, `compute_b_pub`); the 1Password-specific parts
//! (k, u, the session key, the proofs) are computed here and pinned by the vectors.
//!
//! * v1: `k` = the ASCII bytes of the session id as an integer; `u = SHA256(hexA ‖ hexB)` over the
//!   trimmed lowercase hex strings; no M1/M2 (the key is proven by `auth/verify`).
//! * v2: `k = SHA256(N ‖ PAD(g))`; `u = SHA256(PAD(A) ‖ PAD(B))`; M1/M2 proofs over the identity
//!   `b64url(SHA256(SHA256(skid) ‖ SHA256(email)))`.
//!
//! In both, `K = SHA256(lowercase hex of S without leading zeros)`.

use std::fmt;

use sha2::{Digest, Sha256};
use srp::bigint::{BoxedUint, NonZero};
use srp::groups::{G4096, Group};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::encoding::{b64url_decode, b64url_encode, hex_decode, hex_encode, random_bytes};
use crate::error::{CryptoError, Result};
use crate::kdf::normalize_email;
use crate::secret::SecretBytes32;

type Client = srp::Client<G4096, Sha256>;
type Server = srp::Server<G4096, Sha256>;

/// Byte length of the group modulus (4096 bits).
const N_LEN: usize = 512;

/// Which SRP flavour a sign-in uses (docs/decisions.md, decision 1: v2 by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SrpVersion {
    /// Session-id multiplier, hex-string u, proof by `auth/verify`.
    V1,
    /// RFC 5054 k and u with M1/M2 (`auth/confirm-key`).
    #[default]
    V2,
}

fn modulus() -> NonZero<BoxedUint> {
    NonZero::from(G4096::generator().params().modulus().clone())
}

fn modulus_bytes() -> Vec<u8> {
    G4096::generator()
        .params()
        .modulus()
        .to_be_bytes_trimmed_vartime()
        .into()
}

fn uint_from_bytes(bytes: &[u8]) -> BoxedUint {
    BoxedUint::from_be_slice_vartime(bytes)
}

fn uint_bytes(n: &BoxedUint) -> Vec<u8> {
    n.to_be_bytes_trimmed_vartime().into()
}

/// Lowercase hex without leading zeros, as 1Password's servers and clients write SRP numbers.
pub fn to_server_hex(bytes: &[u8]) -> String {
    let hex = hex_encode(bytes);
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Even-length lowercase hex (one leading zero added when needed): what the official client
/// requires of `userB` (docs/protocol.md "Observed from 1Password's own client").
pub fn to_even_hex(bytes: &[u8]) -> String {
    let hex = to_server_hex(bytes);
    if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex
    }
}

/// Reduces a public value mod N and rejects 0 and 1 (both sides' safety check).
fn checked_public(hex: &str, which: &'static str) -> Result<BoxedUint> {
    let value = uint_from_bytes(&hex_decode(hex)?);
    let reduced = value.rem(&modulus());
    if bool::from(reduced.is_zero()) || bool::from(reduced.is_one()) {
        return Err(CryptoError::SrpBadPublic(which));
    }
    Ok(reduced)
}

fn left_pad(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; N_LEN.saturating_sub(bytes.len())];
    out.extend_from_slice(bytes);
    out
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The verifier `v = g^x mod N` (big-endian, no leading zeros).
pub fn verifier(x: &SecretBytes32) -> Vec<u8> {
    uint_bytes(&Client::new().compute_g_x(&uint_from_bytes(x.expose_secret())))
}

/// v1 `u = SHA256(ASCII(hexA ‖ hexB))` over the trimmed lowercase hex strings.
pub fn v1_u(a_pub: &[u8], b_pub: &[u8]) -> [u8; 32] {
    let text = format!("{}{}", to_server_hex(a_pub), to_server_hex(b_pub));
    sha256(&[text.as_bytes()])
}

/// v1 `k`: the session id's ASCII bytes read as a big-endian integer.
pub fn v1_k(session_id: &str) -> Vec<u8> {
    session_id.as_bytes().to_vec()
}

/// v2 `k = SHA256(N ‖ PAD(g))`.
pub fn v2_k() -> [u8; 32] {
    let g = uint_bytes(&G4096::generator().retrieve());
    sha256(&[&modulus_bytes(), &left_pad(&g)])
}

/// v2 `u = SHA256(PAD(A) ‖ PAD(B))` (values already reduced mod N).
pub fn v2_u(a_pub: &[u8], b_pub: &[u8]) -> [u8; 32] {
    sha256(&[&left_pad(a_pub), &left_pad(b_pub)])
}

/// `K = SHA256(ASCII lowercase hex of S without leading zeros)`.
fn key_from_premaster(s: &BoxedUint) -> SecretBytes32 {
    let hex = Zeroizing::new(to_server_hex(&Zeroizing::new(uint_bytes(s))));
    SecretBytes32::new(sha256(&[hex.as_bytes()]))
}

/// The v2 identity `I = b64url(SHA256(SHA256(skid) ‖ SHA256(lower(trim(email)))))`.
pub fn v2_identity(skid: &str, email: &str) -> String {
    let email = normalize_email(email);
    b64url_encode(&sha256(&[
        &sha256(&[skid.as_bytes()]),
        &sha256(&[email.as_bytes()]),
    ]))
}

/// The v2 client proof
/// `M1 = SHA256((SHA256(N) ⊕ SHA256(g)) ‖ SHA256(I) ‖ salt ‖ A ‖ B ‖ K)` (unpadded values).
pub fn v2_m1(
    a_pub: &[u8],
    b_pub: &[u8],
    key: &[u8; 32],
    salt: &[u8],
    skid: &str,
    email: &str,
) -> [u8; 32] {
    let hn = sha256(&[&modulus_bytes()]);
    let hg = sha256(&[&uint_bytes(&G4096::generator().retrieve())]);
    let mut x = [0u8; 32];
    for (o, (a, b)) in x.iter_mut().zip(hn.iter().zip(hg.iter())) {
        *o = a ^ b;
    }
    let hi = sha256(&[v2_identity(skid, email).as_bytes()]);
    let a = uint_bytes(&uint_from_bytes(a_pub));
    let b = uint_bytes(&uint_from_bytes(b_pub));
    sha256(&[&x, &hi, salt, &a, &b, key])
}

/// The v2 server proof `M2 = SHA256(A ‖ M1 ‖ K)` (A unpadded).
pub fn v2_m2(a_pub: &[u8], m1: &[u8; 32], key: &[u8; 32]) -> [u8; 32] {
    let a = uint_bytes(&uint_from_bytes(a_pub));
    sha256(&[&a, m1, key])
}

/// v1 `clientVerifyHash = b64url(SHA256(SHA256(skid) ‖ SHA256(sessionID)))`.
pub fn v1_client_verify_hash(skid: &str, session_id: &str) -> String {
    b64url_encode(&sha256(&[
        &sha256(&[skid.as_bytes()]),
        &sha256(&[session_id.as_bytes()]),
    ]))
}

/// v1 `serverVerifyHash = b64url(SHA256(SHA256(sessionID) ‖ SHA256(clientVerifyHash string)))`.
pub fn v1_server_verify_hash(session_id: &str, client_verify_hash: &str) -> String {
    b64url_encode(&sha256(&[
        &sha256(&[session_id.as_bytes()]),
        &sha256(&[client_verify_hash.as_bytes()]),
    ]))
}

fn ct_eq_b64(expected: &[u8; 32], received_b64: &str) -> Result<()> {
    let received = b64url_decode(received_b64).map_err(|_| CryptoError::SrpProof)?;
    if received.len() == 32 && bool::from(expected.ct_eq(received.as_slice())) {
        Ok(())
    } else {
        Err(CryptoError::SrpProof)
    }
}

/// The client half: a random secret `a` and its public `A = g^a mod N`.
pub struct SrpClient {
    a: Zeroizing<Vec<u8>>,
    a_pub: Vec<u8>,
}

impl SrpClient {
    /// A client with a fresh 32-byte random secret.
    pub fn generate() -> Self {
        Self::from_secret(&random_bytes::<32>())
    }

    /// A client with a given secret `a` (big-endian bytes; for test vectors).
    pub fn from_secret(a: &[u8]) -> Self {
        let a_pub = Client::new().compute_public_ephemeral(a);
        Self {
            a: Zeroizing::new(a.to_vec()),
            a_pub,
        }
    }

    /// `A` as big-endian bytes without leading zeros.
    pub fn public_bytes(&self) -> &[u8] {
        &self.a_pub
    }

    /// `A` as sent on the wire (`userA`): lowercase hex without leading zeros.
    pub fn public_hex(&self) -> String {
        to_server_hex(&self.a_pub)
    }

    fn premaster(&self, x: &SecretBytes32, b: &BoxedUint, k: &[u8], u: &[u8]) -> SecretBytes32 {
        let s = Client::new().compute_premaster_secret(
            b,
            &uint_from_bytes(k),
            &uint_from_bytes(x.expose_secret()),
            &uint_from_bytes(&self.a),
            &uint_from_bytes(u),
        );
        key_from_premaster(&s)
    }

    /// v1 session key from the server's `userB`, with the session id as multiplier.
    pub fn v1_session_key(
        &self,
        x: &SecretBytes32,
        b_hex: &str,
        session_id: &str,
    ) -> Result<SecretBytes32> {
        let b = checked_public(b_hex, "B")?;
        let u = v1_u(&self.a_pub, &uint_bytes(&b));
        Ok(self.premaster(x, &b, &v1_k(session_id), &u))
    }

    /// v1 session key with `u` supplied (only for published vectors that force `u`).
    pub fn v1_session_key_with_u(
        &self,
        x: &SecretBytes32,
        b_hex: &str,
        session_id: &str,
        u: &[u8],
    ) -> Result<SecretBytes32> {
        let b = checked_public(b_hex, "B")?;
        Ok(self.premaster(x, &b, &v1_k(session_id), u))
    }

    /// v2: the session key, the client proof M1 and the server proof M2 to expect.
    pub fn v2_session(
        &self,
        x: &SecretBytes32,
        b_hex: &str,
        salt: &[u8],
        skid: &str,
        email: &str,
    ) -> Result<SrpV2Proof> {
        let b = checked_public(b_hex, "B")?;
        let b_bytes = uint_bytes(&b);
        let u = v2_u(&self.a_pub, &b_bytes);
        let key = self.premaster(x, &b, &v2_k(), &u);
        let m1 = v2_m1(
            &self.a_pub,
            &b_bytes,
            key.expose_secret(),
            salt,
            skid,
            email,
        );
        let m2 = v2_m2(&self.a_pub, &m1, key.expose_secret());
        Ok(SrpV2Proof { key, m1, m2 })
    }
}

impl fmt::Debug for SrpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrpClient")
            .field("a", &"<redacted>")
            .field("A", &self.public_hex())
            .finish()
    }
}

/// The result of the v2 client step: the session key and both proofs.
pub struct SrpV2Proof {
    key: SecretBytes32,
    m1: [u8; 32],
    m2: [u8; 32],
}

impl SrpV2Proof {
    /// The session key K.
    pub fn key(&self) -> &SecretBytes32 {
        &self.key
    }

    /// `clientVerifyHash` to send to `auth/confirm-key`: b64url(M1).
    pub fn client_verify_hash(&self) -> String {
        b64url_encode(&self.m1)
    }

    /// Checks the server's `serverVerifyHash` (b64url M2) in constant time.
    pub fn verify_server(&self, server_verify_hash: &str) -> Result<()> {
        ct_eq_b64(&self.m2, server_verify_hash)
    }
}

impl fmt::Debug for SrpV2Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SrpV2Proof(<redacted>)")
    }
}

/// The server half: holds the verifier and a random secret `b`; used by the emulator.
pub struct SrpServer {
    version: SrpVersion,
    v: Vec<u8>,
    b: Zeroizing<Vec<u8>>,
    b_pub: Vec<u8>,
}

impl SrpServer {
    /// Starts an exchange for a user's verifier `v`. `session_id` is v1's multiplier.
    pub fn new(version: SrpVersion, verifier: &[u8], session_id: &str) -> Self {
        Self::with_secret(version, verifier, session_id, &random_bytes::<32>())
    }

    /// As [`SrpServer::new`] with a given secret `b` (for deterministic tests).
    pub fn with_secret(version: SrpVersion, verifier: &[u8], session_id: &str, b: &[u8]) -> Self {
        let k = match version {
            SrpVersion::V1 => v1_k(session_id),
            SrpVersion::V2 => v2_k().to_vec(),
        };
        let b_pub = uint_bytes(&Server::new().compute_b_pub(
            &uint_from_bytes(b),
            &uint_from_bytes(&k),
            &uint_from_bytes(verifier),
        ));
        Self {
            version,
            v: verifier.to_vec(),
            b: Zeroizing::new(b.to_vec()),
            b_pub,
        }
    }

    /// `B` as the official client requires it (`userB`): even-length lowercase hex.
    pub fn public_hex(&self) -> String {
        to_even_hex(&self.b_pub)
    }

    /// The session key from the client's `userA`; rejects A ≡ 0 or 1 (mod N).
    pub fn session_key(&self, a_hex: &str) -> Result<SecretBytes32> {
        let a = checked_public(a_hex, "A")?;
        let a_bytes = uint_bytes(&a);
        let u = match self.version {
            SrpVersion::V1 => v1_u(&a_bytes, &self.b_pub),
            SrpVersion::V2 => v2_u(&a_bytes, &self.b_pub),
        };
        let s = Server::new().compute_premaster_secret(
            &a,
            &uint_from_bytes(&self.v),
            &uint_from_bytes(&u),
            &uint_from_bytes(&self.b),
        );
        Ok(key_from_premaster(&s))
    }

    /// v2: checks the client's M1 (b64url) and returns M2 (b64url) for `serverVerifyHash`.
    pub fn v2_confirm(
        &self,
        a_hex: &str,
        key: &SecretBytes32,
        salt: &[u8],
        skid: &str,
        email: &str,
        client_verify_hash: &str,
    ) -> Result<String> {
        let a = uint_bytes(&checked_public(a_hex, "A")?);
        let m1 = v2_m1(&a, &self.b_pub, key.expose_secret(), salt, skid, email);
        ct_eq_b64(&m1, client_verify_hash)?;
        Ok(b64url_encode(&v2_m2(&a, &m1, key.expose_secret())))
    }

    /// The flavour of this exchange.
    pub fn version(&self) -> SrpVersion {
        self.version
    }
}

impl fmt::Debug for SrpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrpServer")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x() -> SecretBytes32 {
        SecretBytes32::new([42u8; 32])
    }

    #[test]
    fn v2_client_and_server_agree_and_prove() {
        let v = verifier(&x());
        let server = SrpServer::new(SrpVersion::V2, &v, "SESSION");
        let client = SrpClient::generate();
        let proof = client
            .v2_session(&x(), &server.public_hex(), b"salt", "ABCDEF", "a@b.c")
            .unwrap();
        let key = server.session_key(&client.public_hex()).unwrap();
        assert_eq!(&key, proof.key());
        let m2 = server
            .v2_confirm(
                &client.public_hex(),
                &key,
                b"salt",
                "ABCDEF",
                "A@b.c ",
                &proof.client_verify_hash(),
            )
            .unwrap();
        proof.verify_server(&m2).unwrap();
        assert_eq!(
            proof.verify_server(&b64url_encode(&[0u8; 32])),
            Err(CryptoError::SrpProof)
        );
        assert_eq!(proof.verify_server("###"), Err(CryptoError::SrpProof));
        // A client with the wrong x produces a proof the server rejects.
        let wrong = client
            .v2_session(
                &SecretBytes32::new([1u8; 32]),
                &server.public_hex(),
                b"salt",
                "ABCDEF",
                "a@b.c",
            )
            .unwrap();
        assert_eq!(
            server.v2_confirm(
                &client.public_hex(),
                &key,
                b"salt",
                "ABCDEF",
                "a@b.c",
                &wrong.client_verify_hash()
            ),
            Err(CryptoError::SrpProof)
        );
    }

    #[test]
    fn v1_client_and_server_agree() {
        let v = verifier(&x());
        let server = SrpServer::new(SrpVersion::V1, &v, "TOZVTFIFBZGFDFNE5KSZFY7EZY");
        let client = SrpClient::generate();
        let ck = client
            .v1_session_key(&x(), &server.public_hex(), "TOZVTFIFBZGFDFNE5KSZFY7EZY")
            .unwrap();
        assert_eq!(server.session_key(&client.public_hex()).unwrap(), ck);
        let other = client
            .v1_session_key(&x(), &server.public_hex(), "OTHERSESSIONIDXXXXXXXXXXXX")
            .unwrap();
        assert_ne!(other, ck);
    }

    #[test]
    fn public_values_congruent_to_zero_or_one_are_rejected() {
        let n_hex = hex_encode(&modulus_bytes());
        let n_plus_one = hex_encode(&uint_bytes(&modulus().get().wrapping_add(BoxedUint::one())));
        let client = SrpClient::generate();
        let server = SrpServer::new(SrpVersion::V2, &verifier(&x()), "S");
        for bad in ["0", "1", "000", n_hex.as_str(), n_plus_one.as_str()] {
            assert_eq!(
                client.v1_session_key(&x(), bad, "S").unwrap_err(),
                CryptoError::SrpBadPublic("B")
            );
            assert!(client.v2_session(&x(), bad, b"", "A", "b").is_err());
            assert_eq!(
                server.session_key(bad).unwrap_err(),
                CryptoError::SrpBadPublic("A")
            );
        }
        assert!(server.session_key("not hex").is_err());
    }

    #[test]
    fn server_b_is_even_length_hex() {
        for _ in 0..8 {
            let s = SrpServer::new(SrpVersion::V2, &verifier(&x()), "S");
            assert_eq!(s.public_hex().len() % 2, 0);
        }
        assert_eq!(to_even_hex(&[0x0a, 0xbc]), "0abc");
        assert_eq!(to_server_hex(&[0x00, 0x0a, 0xbc]), "abc");
        assert_eq!(to_server_hex(&[0]), "0");
    }
}
