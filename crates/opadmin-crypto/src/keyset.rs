//! Keysets: the wire shape of an encrypted keyset, generation, and the decryption chain
//! AUK -> keyset symmetric key -> RSA private key -> keysets and vault keys wrapped to it
//! (PROTOCOL.md 4.1, 4.4).

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
    #[serde(default, rename = "encSPriKey", skip_serializing_if = "Option::is_none")]
    pub enc_s_pri_key: Option<serde_json::Value>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}
