//! Groups and memberships (docs/protocol.md 4.4 and the "Observed" section).

use opadmin_crypto::jwk::Jwk;
use opadmin_crypto::keyset::KeysetCiphertext;
use serde::{Deserialize, Serialize};

use super::vault::VaultAccess;
use crate::types::{GroupId, GroupRole, GroupState, GroupType, UserId};

/// A group, as the account object (`attrs=groups`) and `GET /api/v2/group/{uuid}` send it.
///
/// The official client reads `{uuid, name, desc, type, state, attrVersion, permissions,
/// activeKeysetUuid, createdAt, updatedAt, avatar, vaultAccess}` from `GET /api/v2/group/{uuid}`;
/// `name`, `desc`, `attrVersion` and `permissions` are always serialised, the rest when set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Group uuid (lower-case base32).
    pub uuid: GroupId,
    /// Group type.
    #[serde(rename = "type")]
    pub group_type: GroupType,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description. Read from `desc` or `description` (1Password's own client takes both, with
    /// `description` as its primary name); written as `desc`.
    #[serde(default, alias = "description")]
    pub desc: String,
    /// State (absent in the account object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<GroupState>,
    /// Attribute version.
    #[serde(default)]
    pub attr_version: u64,
    /// Account permission bits of the group's members (`model/permission.js`).
    #[serde(default)]
    pub permissions: u64,
    /// Avatar image name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// The active group keyset's uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_keyset_uuid: Option<String>,
    /// Earlier group keysets, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_keysets: Option<serde_json::Value>,
    /// The signed-in user's membership, with the group keyset wrapped to that user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_membership: Option<GroupMembership>,
    /// Keyset recoverable by the Recovery group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recoverable_keyset: Option<KeysetCiphertext>,
    /// The Recovery group's keyset, encrypted by this group's keyset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_keyset: Option<KeysetCiphertext>,
    /// The group's public key (`attrs=pubkey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pub_key: Option<Jwk>,
    /// Members (`attrs=memberships`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memberships: Option<Vec<GroupMembership>>,
    /// Vaults the group can access (`attrs=vault-access`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_access: Option<Vec<VaultAccess>>,
    /// Activity entries, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activities: Option<Vec<serde_json::Value>>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// A membership of a user in a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMembership {
    /// The group.
    pub group_uuid: GroupId,
    /// The member.
    pub member_uuid: UserId,
    /// Manager or member.
    pub role: GroupRole,
    /// Active, deleted or inactive.
    pub state: GroupState,
    /// Membership version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The group keyset, its symmetric key wrapped to the member's public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyset: Option<KeysetCiphertext>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// One member to add through `PATCH /api/v3/group/{uuid}/membership`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberAddition {
    /// The user to add.
    pub member_uuid: UserId,
    /// Manager or member.
    pub role: GroupRole,
    /// The group keyset wrapped to the new member's public key.
    pub keyset: KeysetCiphertext,
}

/// `PATCH /api/v3/group/{uuid}/membership` body. Both lists are always sent (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMembershipPatch {
    /// Members to add.
    #[serde(default)]
    pub add: Vec<MemberAddition>,
    /// Members to remove.
    #[serde(default)]
    pub remove: Vec<UserId>,
}

/// One group to join through `PATCH /api/v2/user/{uuid}/membership`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupAddition {
    /// The group to join.
    pub group_uuid: GroupId,
    /// Manager or member.
    pub role: GroupRole,
    /// The group keyset wrapped to the user's public key.
    pub keyset: KeysetCiphertext,
}

/// `PATCH /api/v2/user/{uuid}/membership` body. Both lists are always sent (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserMembershipPatch {
    /// Groups to join.
    #[serde(default)]
    pub add: Vec<GroupAddition>,
    /// Groups to leave.
    #[serde(default)]
    pub remove: Vec<GroupId>,
}
