//! Vaults and vault access records (docs/protocol.md 4.2 and the "Observed" section).

use opadmin_crypto::envelope::Envelope;
use serde::{Deserialize, Serialize};

use crate::types::{GroupId, UserId, VaultId, VaultPermissions, VaultType};

/// Who a vault access record is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AccessorType {
    /// `user`: a person.
    User,
    /// `group`: a group.
    Group,
    /// `broker`: an access record for a broker rather than a person or group (1Password's own
    /// client knows exactly `user`, `group` and `broker`). opadmin reads it and leaves it alone.
    Broker,
    /// Anything else (kept unreadable rather than failing the whole answer).
    #[serde(other)]
    Unknown,
}

/// A vault access record (`VaultAccess`): one accessor's permissions and its copy of the vault
/// key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultAccess {
    /// The vault (empty inside a vault object's own `access` list in some answers).
    #[serde(default)]
    pub vault_uuid: VaultId,
    /// `user` or `group`.
    pub accessor_type: AccessorType,
    /// The user or group uuid.
    pub accessor_uuid: String,
    /// The permissions.
    pub acl: VaultPermissions,
    /// Lease timeout in seconds; 0 means none.
    #[serde(default)]
    pub lease_timeout: u64,
    /// Serial number of the vault key.
    #[serde(rename = "vaultKeySN", default)]
    pub vault_key_sn: u64,
    /// The keyset whose public key wrapped `encVaultKey` (the user's or group's keyset uuid).
    #[serde(default)]
    pub encrypted_by: String,
    /// The vault key JWK wrapped to the accessor (`RSA-OAEP`, `kid` = `encryptedBy`).
    pub enc_vault_key: Envelope,
}

impl VaultAccess {
    /// The user this record is for, when it is a user's.
    pub fn user_id(&self) -> Option<UserId> {
        (self.accessor_type == AccessorType::User).then(|| UserId::new(self.accessor_uuid.clone()))
    }

    /// The group this record is for, when it is a group's.
    pub fn group_id(&self) -> Option<GroupId> {
        (self.accessor_type == AccessorType::Group)
            .then(|| GroupId::new(self.accessor_uuid.clone()))
    }
}

/// `PATCH /api/v2/vault/{uuid}/vaultaccess` body: `{"vaultaccess": [...]}` (lower-case key).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VaultAccessBody {
    /// The records to add or change.
    #[serde(rename = "vaultaccess")]
    pub vault_access: Vec<VaultAccess>,
}

/// A vault object, as `GET /api/v1/vaults`, `GET /api/v3/vault/{uuid}` and the account object
/// send it.
///
/// The official client requires `uuid, type, createdAt, updatedAt, attrVersion, contentVersion,
/// encAttrs, activeItemCount, accessorsVersion, clientAccess, combinedAccess, accessorsPreviews`
/// in `/api/v1/vaults`: the counters and `accessorsPreviews` are therefore always serialised
/// (`accessorsPreviews` as `null` when unset), and a server must fill `createdAt`, `updatedAt`
/// and `combinedAccess`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vault {
    /// Vault uuid.
    pub uuid: VaultId,
    /// Vault type.
    #[serde(rename = "type")]
    pub vault_type: VaultType,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Version of the encrypted attributes.
    #[serde(default)]
    pub attr_version: u64,
    /// Version of the vault's contents.
    #[serde(default)]
    pub content_version: u64,
    /// The attributes ([`VaultAttributes`]), AES-GCM under the vault key.
    pub enc_attrs: Envelope,
    /// Number of active items.
    #[serde(default)]
    pub active_item_count: u64,
    /// Version of the accessor list.
    #[serde(default)]
    pub accessors_version: u64,
    /// Client-access bit mask (4294967295 = every client).
    #[serde(default)]
    pub client_access: u64,
    /// The signed-in user's effective access record (`attrs=combined-access`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combined_access: Option<VaultAccess>,
    /// Previews of the accessors (shape not pinned; kept as sent, `null` allowed).
    #[serde(default)]
    pub accessors_previews: Option<serde_json::Value>,
    /// Every accessor's record (`attrs=accessors`), or the signed-in user's in the account object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Vec<VaultAccess>>,
    /// Users with access (account object).
    #[serde(rename = "userUUIDs", default, skip_serializing_if = "Option::is_none")]
    pub user_uuids: Option<Vec<UserId>>,
    /// Groups with access (account object).
    #[serde(
        rename = "groupUUIDs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub group_uuids: Option<Vec<GroupId>>,
    /// Number of accessors (account object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessor_count: Option<u64>,
    /// Earlier vault keys (`attrs=archived-keys`), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_keys: Option<serde_json::Value>,
}

/// The plaintext of a vault's `encAttrs`. The official client requires all six fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultAttributes {
    /// Vault name.
    pub name: String,
    /// Description (absent or `null` reads as empty: 1Password's SDK writes `null` for fields it
    /// has no value for).
    #[serde(default, deserialize_with = "crate::models::common::null_as_empty")]
    pub desc: String,
    /// Avatar image name (may be empty; absent or `null` reads as empty).
    #[serde(default, deserialize_with = "crate::models::common::null_as_empty")]
    pub avatar: String,
    /// Colour (may be empty; absent or `null` reads as empty).
    #[serde(default, deserialize_with = "crate::models::common::null_as_empty")]
    pub color: String,
    /// The vault type letter.
    #[serde(rename = "type")]
    pub vault_type: VaultType,
    /// Version of the attributes schema.
    #[serde(default)]
    pub version: u64,
}

/// `POST /api/v2/vault` body: a new vault with its first access records, with exactly the keys
/// 1Password's SDK 0.5.0 sends (`uuid`, `type`, `encAttrs`, `access`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateVaultRequest {
    /// The new vault's uuid (chosen by the client: 26 lower-case base32 characters).
    pub uuid: VaultId,
    /// Vault type (`U` for shared vaults, the only type a client creates).
    #[serde(rename = "type")]
    pub vault_type: VaultType,
    /// The attributes ([`VaultAttributes`]), encrypted under the new vault key.
    pub enc_attrs: Envelope,
    /// Initial access: the creator (with Manage) and the groups the preflight names.
    pub access: Vec<VaultAccess>,
}

/// `PUT /api/v3/vault/{uuid}/attrs` body: a vault's new attributes (name, description), with
/// the keys 1Password's SDK 0.5.0 sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateVaultAttrsRequest {
    /// The vault.
    pub uuid: VaultId,
    /// Its type (unchanged).
    #[serde(rename = "type")]
    pub vault_type: VaultType,
    /// The new attributes, encrypted under the vault key.
    pub enc_attrs: Envelope,
    /// The vault's current `attrVersion`: the server refuses the change (409) when the vault
    /// changed since it was read.
    pub attr_version: u64,
}

/// One entry of `PATCH /api/v2/acl/groups`: a group's new permissions on a vault it already
/// has access to (the key is `permission`, singular, as 1Password's SDK sends it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupVaultAcl {
    /// The group.
    pub group_uuid: GroupId,
    /// The vault.
    pub vault_uuid: VaultId,
    /// The new permissions.
    pub permission: VaultPermissions,
}

/// `GET /api/v1/vault/preflight/delete/{uuid}` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteVaultPreflight {
    /// Archived items that go with the vault.
    #[serde(default)]
    pub archived_item_count: u64,
}

/// `GET /api/v1/vault/preflight/create?type=U` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateVaultPreflight {
    /// Groups that must get access to every new vault (each with Manage).
    pub mandatory_group_uuids: Vec<GroupId>,
    /// Administrator groups that get access (with Manage) unless the creator opts out.
    pub admin_group_uuids: Vec<GroupId>,
    /// Whether the administrator groups get access by default.
    pub enable_admin_groups_by_default: bool,
    /// Icon set, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_set: Option<serde_json::Value>,
}

#[cfg(test)]
mod attribute_tests {
    use super::*;

    /// 1Password's SDK 0.5.0 writes `null` for the attributes it has no value for.
    #[test]
    fn null_attributes_read_as_empty() {
        let attrs: VaultAttributes = serde_json::from_str(
            r#"{"name":"N","desc":null,"avatar":null,"color":null,"type":"U","version":1}"#,
        )
        .expect("parses");
        assert_eq!((attrs.desc.as_str(), attrs.avatar.as_str()), ("", ""));
        let attrs: VaultAttributes =
            serde_json::from_str(r#"{"name":"N","type":"U"}"#).expect("missing keys too");
        assert_eq!(attrs.color, "");
        assert!(serde_json::from_str::<VaultAttributes>(r#"{"name":null,"type":"U"}"#).is_err());
    }
}
