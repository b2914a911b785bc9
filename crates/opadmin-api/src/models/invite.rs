//! Invitations (docs/protocol.md 4.3). Sending invitations needs a Business account.

use serde::{Deserialize, Serialize};

use crate::types::{InvitationState, UserType, VaultId, VaultPermissions};

/// A vault to give an invitee once confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteVault {
    /// The vault.
    pub uuid: VaultId,
    /// The permissions to give.
    pub acl: VaultPermissions,
}

/// One invitee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invite {
    /// The invitee's email.
    pub email: String,
    /// Language of the invitation email, e.g. `en`.
    pub language: String,
    /// Vaults to give once confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vaults: Option<Vec<InviteVault>>,
}

/// `POST /api/v1/invite` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteRequest {
    /// The invitees.
    pub invites: Vec<Invite>,
    /// Member (`R`) or guest (`G`).
    #[serde(rename = "type")]
    pub invite_type: UserType,
}

/// An invitation, as `POST /api/v1/invite` (a JSON array of them) and `GET /api/v1/invites`
/// answer. `Debug` leaves out the token (a bearer secret) and what is only echoed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationDetails {
    /// Invitation uuid.
    pub uuid: String,
    /// The invitation token (a bearer secret for the invitee's link; never log it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Account uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_uuid: Option<String>,
    /// Account name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Account type letter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    /// Account host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_host: Option<String>,
    /// The invitee's email.
    #[serde(default)]
    pub email: String,
    /// Language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Who sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_full_name: Option<String>,
    /// Pending, accepted or revoked.
    pub state: InvitationState,
    /// Member or guest.
    #[serde(rename = "type")]
    pub invite_type: UserType,
    /// When it was sent (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    /// Expiry, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<serde_json::Value>,
    /// When it was accepted (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<String>,
    /// When it was revoked (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Migration source, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrating_from: Option<serde_json::Value>,
    /// Whether the account uses the newer keyset format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_uses_new_keysets: Option<bool>,
    /// Password rules, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_rules: Option<serde_json::Value>,
    /// Icon set, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_set: Option<serde_json::Value>,
}

impl std::fmt::Debug for InvitationDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvitationDetails")
            .field("uuid", &self.uuid)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("email", &self.email)
            .field("state", &self.state)
            .field("invite_type", &self.invite_type)
            .field("sent_at", &self.sent_at)
            .finish_non_exhaustive()
    }
}
