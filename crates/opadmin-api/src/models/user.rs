//! People (users): the Person object, the users list, user reports and the administrator's
//! people bodies (docs/protocol.md 4.3).

use opadmin_crypto::jwk::Jwk;
use opadmin_crypto::keyset::KeysetCiphertext;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::group::{Group, GroupMembership};
use super::vault::VaultAccess;
use crate::types::{UserId, UserState, UserType, parse_timestamp};

/// A person (user), from the account object (`me`, `users`), `GET /api/v2/user/{uuid}`,
/// `GET /api/v3/users` (partial: `uuid, name, email, avatar, state, type`,
/// `combinedPermissions`) or a user report.
///
/// Older accounts name people with `firstName`/`lastName`, newer ones with `name`; use
/// [`display_name`](Self::display_name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// User uuid (upper-case base32).
    pub uuid: UserId,
    /// Email address.
    #[serde(default)]
    pub email: String,
    /// Full name (newer accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// First name (older accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name (older accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// State.
    pub state: UserState,
    /// Type: member, guest or service account.
    #[serde(rename = "type")]
    pub user_type: UserType,
    /// Attribute version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attr_version: Option<u64>,
    /// Keyset version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyset_version: Option<u64>,
    /// Avatar image name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Language, e.g. `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Account permission bits from every group the person is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combined_permissions: Option<u64>,
    /// Newsletter preferences bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newsletter_prefs: Option<u64>,
    /// Preference bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferences: Option<u64>,
    /// External id set by provisioning.
    #[serde(
        rename = "externalGUID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub external_guid: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Last sign-in time (RFC 3339), the Team Report's "last authentication".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_auth_at: Option<String>,
    /// Whether the person has a second factor.
    #[serde(
        rename = "hasMFAEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub has_mfa_enabled: Option<bool>,
    /// An email change waiting for confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed_email: Option<String>,
    /// Secret Key format (own user only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_key_format: Option<String>,
    /// Secret Key id (own user only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_key_uuid: Option<String>,
    /// The active keyset's public key (`attrs=pubkey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pub_key: Option<Jwk>,
    /// Number of items in the person's private vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_items_count: Option<u64>,
    /// Keysets (own user, `attrs=keysets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keysets: Option<Vec<KeysetCiphertext>>,
    /// Group memberships.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memberships: Option<Vec<GroupMembership>>,
    /// Groups (`GET /api/v2/user/{uuid}?attrs=groups`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Group>>,
    /// Direct vault access records (`attrs=vault-access`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_access: Option<Vec<VaultAccess>>,
    /// Devices, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<serde_json::Value>>,
    /// Activity entries, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activities: Option<Vec<serde_json::Value>>,
}

impl Person {
    /// The name to show: `name`, else `firstName lastName`, else empty.
    pub fn display_name(&self) -> String {
        if let Some(name) = self.name.as_deref().filter(|n| !n.trim().is_empty()) {
            return name.trim().to_owned();
        }
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        parts.join(" ")
    }

    /// Last sign-in, parsed (`None` when absent, empty or "never").
    pub fn last_auth_at(&self) -> Option<OffsetDateTime> {
        self.last_auth_at.as_deref().and_then(parse_timestamp)
    }

    /// Creation time, parsed.
    pub fn created_at(&self) -> Option<OffsetDateTime> {
        self.created_at.as_deref().and_then(parse_timestamp)
    }
}

/// `GET /api/v3/users` answer: `{totalCount, users}` (no paging cursor).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserList {
    /// How many users match the filters (may exceed `users.len()` when `limit` cut the list).
    #[serde(default)]
    pub total_count: u64,
    /// The (partial) users.
    #[serde(default)]
    pub users: Vec<Person>,
    /// Service accounts, when the server lists them apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_accounts: Option<Vec<Person>>,
}

/// `GET /api/v1/report/user/{uuid}?sections=overview` answer: `{overview: {user: {...}}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserReport {
    /// The overview section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overview: Option<UserReportOverview>,
}

/// The overview section of a user report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserReportOverview {
    /// The person, including `lastAuthAt`.
    pub user: Person,
}

/// `PUT /api/v2/people/confirm` body: confirm people who accepted an invitation (state `P`),
/// giving them their Team Members membership and/or vault access.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmPeopleRequest {
    /// The people to confirm (at most 25 per request in the web client).
    pub people_uuids: Vec<UserId>,
    /// Memberships with the group keyset wrapped to each person (Team Members, role member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_memberships: Option<Vec<GroupMembership>>,
    /// Vault access records (the Everyone vault on older accounts, vaults chosen at invite time).
    #[serde(
        rename = "vaultaccess",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub vault_access: Option<Vec<VaultAccess>>,
}

/// `POST /api/v1/person/name` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenamePersonRequest {
    /// The person.
    pub uuid: UserId,
    /// The new name.
    pub name: String,
}

/// `DELETE /api/v2/people` body: delete a person with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletePersonRequest {
    /// The person.
    pub uuid: UserId,
    /// Why (free text).
    pub reason: String,
}
