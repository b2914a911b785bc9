//! Small bodies shared by many endpoints: `{"success": 1}`, error bodies, public keys.

use opadmin_crypto::jwk::Jwk;
use serde::{Deserialize, Serialize};

/// `{"success": 1}`: the answer of most writes. Always the number 1 on the wire (the official
/// client rejects `true`, `{}` or an encrypted body for vault-access writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuccessResponse {
    /// 1 on success.
    pub success: i64,
}

impl SuccessResponse {
    /// `{"success": 1}`.
    pub const OK: Self = Self { success: 1 };

    /// True when `success` is 1.
    pub fn is_success(self) -> bool {
        self.success == 1
    }
}

impl Default for SuccessResponse {
    fn default() -> Self {
        Self::OK
    }
}

/// An error body: `{errorCode, errorMessage, requestId}` or `{reason}` (docs/protocol.md 3.7). Every
/// field is optional, so `{}` (the server's answer to an unknown account) parses too.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerErrorBody {
    /// Server error code, e.g. 102 "authentication required", 117 "not found".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The server's request id (useful to 1Password support).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i64>,
    /// Machine-readable reason, e.g. `account_policy`, `user_suspended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ServerErrorBody {
    /// True when the body carries an error code or a reason (a body that is "an error").
    pub fn is_error(&self) -> bool {
        self.error_code.is_some() || self.reason.is_some()
    }
}

/// One entry of `GET /api/v1/user/pubkeys` or `GET /api/v1/group/pubkeys`: `[{uuid, pubKey}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyEntry {
    /// The user or group uuid.
    pub uuid: String,
    /// Its active keyset's RSA public key; `kid` is the keyset uuid.
    pub pub_key: Jwk,
}

/// `{uuids: [...]}`: bodies naming several people (travel mode and similar).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UuidsBody {
    /// The uuids.
    pub uuids: Vec<String>,
}

/// Reads a string field that may be `null` as the empty string (serde's `default` covers only a
/// missing key).
pub fn null_as_empty<'de, D>(deserializer: D) -> Result<String, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(<Option<String> as serde::Deserialize>::deserialize(deserializer)?.unwrap_or_default())
}
