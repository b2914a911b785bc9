//! Sign-in messages (docs/protocol.md 3.2 to 3.6): session start, device registration, SRP v1 and
//! v2, verify (v1) and complete (v2), MFA challenge and answer.

use serde::{Deserialize, Serialize};

/// `POST /api/v3/auth/start` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartAuthRequest {
    /// The account email.
    pub email: String,
    /// Secret Key format, e.g. `A3`.
    pub sk_format: String,
    /// Secret Key id (the six characters after the format).
    pub skid: String,
    /// The device uuid (26 characters, lower-case base32).
    pub device_uuid: String,
    /// The user uuid, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_uuid: Option<String>,
}

/// `status` of a [`StartAuthResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum StartAuthStatus {
    /// `ok`: go on with SRP.
    Ok,
    /// `device-not-registered`: register the device (`POST /api/v1/device`), then start again.
    DeviceNotRegistered,
    /// `device-deleted`: reauthorize the device (`PUT /api/v1/device/{uuid}/reauthorize`),
    /// then start again.
    DeviceDeleted,
    /// Any other status (domain or email changes, newer statuses).
    Other(String),
}

impl From<String> for StartAuthStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "ok" => Self::Ok,
            "device-not-registered" => Self::DeviceNotRegistered,
            "device-deleted" => Self::DeviceDeleted,
            _ => Self::Other(s),
        }
    }
}

impl From<StartAuthStatus> for String {
    fn from(s: StartAuthStatus) -> Self {
        match s {
            StartAuthStatus::Ok => "ok".into(),
            StartAuthStatus::DeviceNotRegistered => "device-not-registered".into(),
            StartAuthStatus::DeviceDeleted => "device-deleted".into(),
            StartAuthStatus::Other(s) => s,
        }
    }
}

/// Key-derivation and SRP parameters of a user (`userAuth`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAuth {
    /// SRP method, e.g. `SRPg-4096`.
    pub method: String,
    /// Key-derivation algorithm, e.g. `PBES2g-HS256`.
    pub alg: String,
    /// PBKDF2 iterations (650000 for current accounts).
    pub iterations: u32,
    /// Salt, base64url.
    pub salt: String,
}

/// `POST /api/v3/auth/start` answer.
///
/// `newEmail` and `newHost` are always serialised (as `null` when absent): the official client
/// fails to parse the answer without them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartAuthResponse {
    /// What to do next.
    pub status: StartAuthStatus,
    /// The new session's id (upper-case base32).
    #[serde(rename = "sessionID", default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Format of the user's Secret Key (must equal the client's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_key_format: Option<String>,
    /// Id of the user's Secret Key (must equal the client's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_key_uuid: Option<String>,
    /// Key-derivation and SRP parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_auth: Option<UserAuth>,
    /// The account's new domain, when it moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_domain: Option<String>,
    /// The account's new host, when it moved (always serialised).
    #[serde(default)]
    pub new_host: Option<String>,
    /// The user's new email, when it changed (always serialised).
    #[serde(default)]
    pub new_email: Option<String>,
}

/// A client device (`POST /api/v1/device`, and inside verify/complete bodies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// Device uuid (26 characters, lower-case base32).
    pub uuid: String,
    /// Client name, e.g. `1Password SDK`.
    pub client_name: String,
    /// Client version, e.g. `0050002`.
    pub client_version: String,
    /// Device name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Device model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Operating system name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    /// Operating system version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// User agent string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// SRP v1 `POST /api/v1/auth` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SrpV1Request {
    /// The session id (echoed back by the server).
    #[serde(rename = "sessionID")]
    pub session_id: String,
    /// The client's public value A, hex.
    pub user_a: String,
}

/// SRP v1 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SrpV1Response {
    /// The session id; the client checks it equals its own.
    #[serde(rename = "sessionID")]
    pub session_id: String,
    /// The server's public value B, hex (possibly odd-length).
    pub user_b: String,
    /// Seen as `"nil"` in real answers; meaning unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_config: Option<serde_json::Value>,
}

/// SRP v2 `POST /api/v2/auth` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SrpV2Request {
    /// The client's public value A, hex.
    pub user_a: String,
}

/// SRP v2 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SrpV2Response {
    /// The server's public value B, hex (a server should send it even-length).
    pub user_b: String,
}

/// SRP v2 `POST /api/v2/auth/confirm-key` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmKeyRequest {
    /// The client proof M1, base64url.
    pub client_verify_hash: String,
}

/// SRP v2 confirm-key answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmKeyResponse {
    /// The server proof M2, base64url.
    pub server_verify_hash: String,
}

/// SRP v1 `POST /api/v2/auth/verify` body (sent encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    /// The session id.
    #[serde(rename = "sessionID")]
    pub session_id: String,
    /// The client's verify hash, base64url.
    pub client_verify_hash: String,
    /// `clientName/clientVersion`.
    pub client: String,
    /// This device.
    pub device: Device,
}

/// SRP v2 `POST /api/v2/auth/complete` body (sent encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteRequest {
    /// `clientName/clientVersion`.
    pub client: String,
    /// This device.
    pub device: Device,
}

/// Answer of verify (v1) and complete (v2), decrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyResponse {
    /// Notification web-socket URL.
    #[serde(default)]
    pub notifier: String,
    /// The account's uuid.
    #[serde(default)]
    pub account_uuid: String,
    /// The signed-in user's uuid (the official client requires it).
    pub user_uuid: String,
    /// The server's verify hash (v1 only), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_verify_hash: Option<String>,
    /// The second factors the account requires, when it requires one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<MfaChallenge>,
}

/// Alias: the v2 `complete` answer has the same shape as the v1 `verify` answer.
pub type CompleteResponse = VerifyResponse;

/// A factor that is only on or off (`dsecret`, `dsecretProxy`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaEnabled {
    /// Whether the factor is offered.
    #[serde(default)]
    pub enabled: bool,
}

/// TOTP challenge.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpChallenge {
    /// Whether TOTP is offered.
    #[serde(default)]
    pub enabled: bool,
    /// Number of digits of a code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digits: Option<u32>,
}

/// Duo challenge (reported, not performed).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DuoChallenge {
    /// Whether Duo is offered.
    #[serde(default)]
    pub enabled: bool,
    /// The Duo API host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Duo v2 signed request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig_request: Option<String>,
    /// Duo v4 (Universal Prompt) URL.
    #[serde(rename = "authURL", default, skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<String>,
    /// Duo pre-authentication result, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preauth: Option<serde_json::Value>,
}

/// WebAuthn challenge (reported, not performed).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebAuthnChallenge {
    /// Whether WebAuthn is offered.
    #[serde(default)]
    pub enabled: bool,
    /// Registered key handles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_handles: Option<Vec<String>>,
    /// The challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}

/// "A second factor must be set up before signing in".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MustEnableChallenge {
    /// Whether enabling is required.
    #[serde(default)]
    pub enabled: bool,
    /// The factor types that may be enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_types: Option<Vec<String>>,
    /// A WebAuthn challenge for enrolling a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_authn_challenge: Option<serde_json::Value>,
}

/// Emailed-code challenge.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeChallenge {
    /// Whether an emailed code is offered.
    #[serde(default)]
    pub enabled: bool,
    /// Number of digits of a code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digits: Option<u32>,
    /// How codes are delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
}

/// The `mfa` object of a verify/complete answer: one entry per offered factor.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaChallenge {
    /// Remember-this-device token accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsecret: Option<MfaEnabled>,
    /// Remember-this-device through another device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsecret_proxy: Option<MfaEnabled>,
    /// TOTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<TotpChallenge>,
    /// Duo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duo: Option<DuoChallenge>,
    /// WebAuthn / security keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_authn: Option<WebAuthnChallenge>,
    /// A factor must be enabled first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub must_enable: Option<MustEnableChallenge>,
    /// Emailed code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeChallenge>,
}

impl MfaChallenge {
    /// Names of the enabled factors, in a fixed order: `dsecret`, `dsecretProxy`, `totp`,
    /// `duo`, `webAuthn`, `code`, `mustEnable`. These are what typed "MFA required" errors list.
    pub fn offered_methods(&self) -> Vec<String> {
        let on = |x: Option<bool>| x.unwrap_or(false);
        [
            ("dsecret", on(self.dsecret.as_ref().map(|f| f.enabled))),
            (
                "dsecretProxy",
                on(self.dsecret_proxy.as_ref().map(|f| f.enabled)),
            ),
            ("totp", on(self.totp.as_ref().map(|f| f.enabled))),
            ("duo", on(self.duo.as_ref().map(|f| f.enabled))),
            ("webAuthn", on(self.web_authn.as_ref().map(|f| f.enabled))),
            ("code", on(self.code.as_ref().map(|f| f.enabled))),
            (
                "mustEnable",
                on(self.must_enable.as_ref().map(|f| f.enabled)),
            ),
        ]
        .into_iter()
        .filter(|(_, enabled)| *enabled)
        .map(|(name, _)| name.to_owned())
        .collect()
    }

    /// True when the server asks for nothing (no factor enabled).
    pub fn is_empty(&self) -> bool {
        self.offered_methods().is_empty()
    }

    /// True when a TOTP code is accepted.
    pub fn accepts_totp(&self) -> bool {
        self.totp.as_ref().is_some_and(|t| t.enabled)
    }

    /// True when a remembered-device token (`dsecret`) is accepted.
    pub fn accepts_dsecret(&self) -> bool {
        self.dsecret.as_ref().is_some_and(|t| t.enabled)
    }
}

/// `{code}` answer to a TOTP, emailed-code or Duo v4 challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaCode {
    /// The code.
    pub code: String,
}

/// `{dshmac}` answer with a remembered-device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaDsecret {
    /// HMAC of the session id under the remembered token (docs/protocol.md 3.6).
    pub dshmac: String,
}

/// `{deviceUuid, dshmac}` answer through another device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaDsecretProxy {
    /// The device that holds the token.
    pub device_uuid: String,
    /// HMAC of the session id under that device's token.
    pub dshmac: String,
}

/// `{sigResponse}` answer to Duo v2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaDuo {
    /// Duo's signed response.
    pub sig_response: String,
}

/// WebAuthn assertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaWebAuthn {
    /// Key handle used.
    pub key_handle: String,
    /// Signature, base64url.
    pub signature: String,
    /// Authenticator data, base64url.
    pub auth_data: String,
    /// Client data, base64url.
    pub client_data: String,
}

/// `POST /api/v1/auth/mfa` body (sent encrypted): exactly one answer is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaSubmitRequest {
    /// The session id.
    #[serde(rename = "sessionID")]
    pub session_id: String,
    /// `clientName/clientVersion`.
    pub client: String,
    /// TOTP code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<MfaCode>,
    /// Emailed code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<MfaCode>,
    /// Remembered-device token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsecret: Option<MfaDsecret>,
    /// Remembered-device token of another device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsecret_proxy: Option<MfaDsecretProxy>,
    /// Duo v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duo: Option<MfaDuo>,
    /// Duo v4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duov4: Option<MfaCode>,
    /// WebAuthn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_authn: Option<MfaWebAuthn>,
}

impl MfaSubmitRequest {
    /// A body with no answer yet; set one of the answer fields.
    pub fn new(session_id: impl Into<String>, client: impl Into<String>) -> Self {
        Self {
            session_id: session_id.into(),
            client: client.into(),
            totp: None,
            code: None,
            dsecret: None,
            dsecret_proxy: None,
            duo: None,
            duov4: None,
            web_authn: None,
        }
    }
}

/// `POST /api/v1/auth/mfa` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaSubmitResponse {
    /// A remember-this-device token for later sign-ins, when the server grants one. Held as
    /// a secret: zeroized on drop, redacted in `Debug`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsecret: Option<crate::auth::DeviceSecret>,
}
