//! The account object (`GET /api/v1/account?attrs=me,users,groups,vaults,tier,counts,...`) and
//! the keysets answer (docs/protocol.md 4.1, 4.3; docs/decisions.md, decisions 5, 6, 9).

use opadmin_crypto::keyset::KeysetCiphertext;
use serde::{Deserialize, Serialize};

use super::group::Group;
use super::user::Person;
use super::vault::Vault;
use crate::types::{AccountId, AccountState, AccountType, Plan};

/// The account, with whichever `attrs` were asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Account uuid (upper-case base32).
    pub uuid: AccountId,
    /// Account name.
    #[serde(default)]
    pub name: String,
    /// Individual, family or business (Teams is business too; see [`Account::plan`]).
    #[serde(rename = "type")]
    pub account_type: AccountType,
    /// Account state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<AccountState>,
    /// Avatar image name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Sign-in domain (sub-domain part).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Attribute version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attr_version: Option<u64>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Storage used, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_used: Option<u64>,
    /// Base URL of avatars.
    #[serde(
        rename = "baseAvatarURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub base_avatar_url: Option<String>,
    /// Base URL of attachments.
    #[serde(
        rename = "baseAttachmentURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub base_attachment_url: Option<String>,
    /// The signed-in user (`attrs=me`), with keysets, memberships and vault access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub me: Option<Person>,
    /// Every user, with `lastAuthAt` (`attrs=users`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<Person>>,
    /// Groups the signed-in user may see (`attrs=groups`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Group>>,
    /// Vaults the signed-in user may see (`attrs=vaults`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vaults: Option<Vec<Vault>>,
    /// The plan (`attrs=tier`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    /// Counters (`attrs=counts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
    /// Billing (`attrs=billing`), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<serde_json::Value>,
    /// User flags (`attrs=user-flags`), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_flags: Option<serde_json::Value>,
    /// Account flags (`attrs=account-flags`), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_flags: Option<serde_json::Value>,
    /// Team-invite link (`attrs=invite`), as sent; holds a secret, never log it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<serde_json::Value>,
    /// Settings (`attrs=settings`), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<serde_json::Value>,
}

impl Account {
    /// The plan: Business, Teams, Family or Individual (docs/decisions.md, decision 9).
    pub fn plan(&self) -> Plan {
        Plan::from_account(
            self.account_type,
            self.tier.as_ref().map(|t| t.name.as_str()),
        )
    }
}

/// The account's plan tier (`attrs=tier`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    /// Tier name, e.g. `20160727_i_standard`, `business`, `teams`.
    pub name: String,
    /// Whether the tier is public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_public: Option<bool>,
    /// Sort order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<i64>,
    /// Trial length, days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_days: Option<i64>,
    /// Item history kept, days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_days: Option<i64>,
    /// Guests included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guests_included: Option<i64>,
    /// Members included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_included: Option<i64>,
    /// Minimum seats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_quantity: Option<i64>,
    /// Storage per account, MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_per_account: Option<i64>,
    /// Storage per user, MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_per_user: Option<i64>,
    /// Marketing text, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing_text: Option<serde_json::Value>,
    /// Features, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<serde_json::Value>>,
}

/// Counters (`attrs=counts`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Pending invitations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitations: Option<u64>,
}

/// `GET /api/v2/account/keysets` answer. `version` is required by the official client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeysetsResponse {
    /// Version of the user's keysets.
    pub version: u64,
    /// The keysets: the user's own (`encryptedBy: "mp"`) and group keysets.
    pub keysets: Vec<KeysetCiphertext>,
}

impl KeysetsResponse {
    /// The active primary keyset: the highest `sn` among those encrypted by `mp`.
    pub fn primary(&self) -> Option<&KeysetCiphertext> {
        self.keysets
            .iter()
            .filter(|k| k.encrypted_by == "mp")
            .max_by_key(|k| k.sn)
    }
}
