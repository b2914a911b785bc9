//! One state-changing operation of the facade, as data.

use serde::{Deserialize, Serialize};

use crate::model::UserRef;
use crate::{GroupId, GroupRole, VaultId, VaultPermissions};

/// One state-changing operation of [`Admin`](crate::Admin), as data: what
/// [`Admin::plan`](crate::Admin::plan) predicts and [`Admin::apply`](crate::Admin::apply) carries
/// out, each with the direct method of the same name.
///
/// In JSON and TOML a change is a table tagged with `op` (`{"op": "grant_vault_access", "vault":
/// "…", "user": "alice@example.com", "permissions": ["view_items"]}`); `user` is an email or a
/// uuid, `role` is `member` or `manager`, `permissions` a list of Business or Teams names (or the
/// acl integer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// [`Admin::invite`](crate::Admin::invite), without vaults.
    Invite {
        /// The invitee's email.
        email: String,
        /// The invitee's name (not sent by b5: the invitee enters it when accepting).
        #[serde(default)]
        name: String,
        /// Invite as a guest instead of a member.
        #[serde(default)]
        guest: bool,
    },
    /// [`Admin::confirm`](crate::Admin::confirm).
    Confirm {
        /// The person.
        #[serde(with = "user_ref")]
        user: UserRef,
    },
    /// [`Admin::suspend`](crate::Admin::suspend).
    Suspend {
        /// The person.
        #[serde(with = "user_ref")]
        user: UserRef,
    },
    /// [`Admin::reactivate`](crate::Admin::reactivate).
    Reactivate {
        /// The person.
        #[serde(with = "user_ref")]
        user: UserRef,
    },
    /// [`Admin::remove`](crate::Admin::remove).
    Remove {
        /// The person.
        #[serde(with = "user_ref")]
        user: UserRef,
    },
    /// [`Admin::grant_vault_access`](crate::Admin::grant_vault_access).
    GrantVaultAccess {
        /// The vault.
        vault: VaultId,
        /// The person.
        #[serde(with = "user_ref")]
        user: UserRef,
        /// The permissions asked for.
        #[serde(with = "permissions")]
        permissions: VaultPermissions,
    },
    /// [`Admin::revoke_vault_access`](crate::Admin::revoke_vault_access).
    RevokeVaultAccess {
        /// The vault.
        vault: VaultId,
        /// The person.
        #[serde(with = "user_ref")]
        user: UserRef,
    },
    /// [`Admin::grant_group_vault_access`](crate::Admin::grant_group_vault_access).
    GrantGroupVaultAccess {
        /// The vault.
        vault: VaultId,
        /// The group.
        group: GroupId,
        /// The permissions asked for.
        #[serde(with = "permissions")]
        permissions: VaultPermissions,
    },
    /// [`Admin::revoke_group_vault_access`](crate::Admin::revoke_group_vault_access).
    RevokeGroupVaultAccess {
        /// The vault.
        vault: VaultId,
        /// The group.
        group: GroupId,
    },
    /// [`Admin::set_vault_permissions`](crate::Admin::set_vault_permissions).
    SetVaultPermissions {
        /// The vault.
        vault: VaultId,
        /// The person.
        #[serde(with = "user_ref")]
        user: UserRef,
        /// The permissions to set (closed under their dependencies).
        #[serde(with = "permissions")]
        permissions: VaultPermissions,
    },
    /// [`Admin::add_vault_permissions`](crate::Admin::add_vault_permissions).
    AddVaultPermissions {
        /// The vault.
        vault: VaultId,
        /// The person.
        #[serde(with = "user_ref")]
        user: UserRef,
        /// The permissions to add.
        #[serde(with = "permissions")]
        permissions: VaultPermissions,
    },
    /// [`Admin::remove_vault_permissions`](crate::Admin::remove_vault_permissions).
    RemoveVaultPermissions {
        /// The vault.
        vault: VaultId,
        /// The person.
        #[serde(with = "user_ref")]
        user: UserRef,
        /// The permissions to remove.
        #[serde(with = "permissions")]
        permissions: VaultPermissions,
    },
    /// [`Admin::add_group_vault_permissions`](crate::Admin::add_group_vault_permissions).
    AddGroupVaultPermissions {
        /// The vault.
        vault: VaultId,
        /// The group.
        group: GroupId,
        /// The permissions to add.
        #[serde(with = "permissions")]
        permissions: VaultPermissions,
    },
    /// [`Admin::remove_group_vault_permissions`](crate::Admin::remove_group_vault_permissions).
    RemoveGroupVaultPermissions {
        /// The vault.
        vault: VaultId,
        /// The group.
        group: GroupId,
        /// The permissions to remove.
        #[serde(with = "permissions")]
        permissions: VaultPermissions,
    },
    /// [`Admin::add_to_group`](crate::Admin::add_to_group).
    AddToGroup {
        /// The group.
        group: GroupId,
        /// The person.
        #[serde(with = "user_ref")]
        user: UserRef,
        /// Their role.
        #[serde(with = "role", default = "member")]
        role: GroupRole,
    },
    /// [`Admin::remove_from_group`](crate::Admin::remove_from_group).
    RemoveFromGroup {
        /// The group.
        group: GroupId,
        /// The person.
        #[serde(with = "user_ref")]
        user: UserRef,
    },
    /// [`Admin::set_group_role`](crate::Admin::set_group_role).
    SetGroupRole {
        /// The group.
        group: GroupId,
        /// The person.
        #[serde(with = "user_ref")]
        user: UserRef,
        /// The role to set.
        #[serde(with = "role")]
        role: GroupRole,
    },
    /// [`Admin::resend_invitation`](crate::Admin::resend_invitation).
    ResendInvitation {
        /// The invitation's uuid, or the invitee's email.
        invitation: String,
    },
    /// [`Admin::revoke_invitation`](crate::Admin::revoke_invitation).
    RevokeInvitation {
        /// The invitation's uuid, or the invitee's email.
        invitation: String,
    },
}

fn member() -> GroupRole {
    GroupRole::Member
}

impl Change {
    /// The operation's name, as `op` is written (`grant_vault_access`, ...).
    pub fn op(&self) -> &'static str {
        match self {
            Change::Invite { .. } => "invite",
            Change::Confirm { .. } => "confirm",
            Change::Suspend { .. } => "suspend",
            Change::Reactivate { .. } => "reactivate",
            Change::Remove { .. } => "remove",
            Change::GrantVaultAccess { .. } => "grant_vault_access",
            Change::RevokeVaultAccess { .. } => "revoke_vault_access",
            Change::GrantGroupVaultAccess { .. } => "grant_group_vault_access",
            Change::RevokeGroupVaultAccess { .. } => "revoke_group_vault_access",
            Change::SetVaultPermissions { .. } => "set_vault_permissions",
            Change::AddVaultPermissions { .. } => "add_vault_permissions",
            Change::RemoveVaultPermissions { .. } => "remove_vault_permissions",
            Change::AddGroupVaultPermissions { .. } => "add_group_vault_permissions",
            Change::RemoveGroupVaultPermissions { .. } => "remove_group_vault_permissions",
            Change::AddToGroup { .. } => "add_to_group",
            Change::RemoveFromGroup { .. } => "remove_from_group",
            Change::SetGroupRole { .. } => "set_group_role",
            Change::ResendInvitation { .. } => "resend_invitation",
            Change::RevokeInvitation { .. } => "revoke_invitation",
        }
    }

    /// The person the change is about, if any.
    pub fn user(&self) -> Option<&UserRef> {
        match self {
            Change::Confirm { user }
            | Change::Suspend { user }
            | Change::Reactivate { user }
            | Change::Remove { user }
            | Change::GrantVaultAccess { user, .. }
            | Change::RevokeVaultAccess { user, .. }
            | Change::SetVaultPermissions { user, .. }
            | Change::AddVaultPermissions { user, .. }
            | Change::RemoveVaultPermissions { user, .. }
            | Change::AddToGroup { user, .. }
            | Change::RemoveFromGroup { user, .. }
            | Change::SetGroupRole { user, .. } => Some(user),
            _ => None,
        }
    }

    /// The vault the change is about, if any.
    pub fn vault(&self) -> Option<&VaultId> {
        match self {
            Change::GrantVaultAccess { vault, .. }
            | Change::RevokeVaultAccess { vault, .. }
            | Change::GrantGroupVaultAccess { vault, .. }
            | Change::RevokeGroupVaultAccess { vault, .. }
            | Change::SetVaultPermissions { vault, .. }
            | Change::AddVaultPermissions { vault, .. }
            | Change::RemoveVaultPermissions { vault, .. }
            | Change::AddGroupVaultPermissions { vault, .. }
            | Change::RemoveGroupVaultPermissions { vault, .. } => Some(vault),
            _ => None,
        }
    }

    /// The group the change is about, if any.
    pub fn group(&self) -> Option<&GroupId> {
        match self {
            Change::GrantGroupVaultAccess { group, .. }
            | Change::RevokeGroupVaultAccess { group, .. }
            | Change::AddGroupVaultPermissions { group, .. }
            | Change::RemoveGroupVaultPermissions { group, .. }
            | Change::AddToGroup { group, .. }
            | Change::RemoveFromGroup { group, .. }
            | Change::SetGroupRole { group, .. } => Some(group),
            _ => None,
        }
    }
}

/// `UserRef` as text: an email (with `@`) or a uuid.
pub(crate) mod user_ref {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::model::UserRef;

    /// Writes the email or the uuid.
    pub fn serialize<S: Serializer>(user: &UserRef, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(user)
    }

    /// Reads text with an `@` as an email, anything else as a uuid.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UserRef, D::Error> {
        let text = String::deserialize(d)?;
        if text.trim().is_empty() {
            return Err(serde::de::Error::custom(
                "a person must be named (email or uuid)",
            ));
        }
        Ok(UserRef::from(text.as_str()))
    }
}

/// A group role as `member` or `manager` (the wire letters `R` and `A` are read too).
pub(crate) mod role {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::GroupRole;

    /// Writes `member` or `manager`.
    pub fn serialize<S: Serializer>(role: &GroupRole, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&role.name().to_ascii_lowercase())
    }

    /// Reads `member`, `manager` (any case) or a known wire letter.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<GroupRole, D::Error> {
        let text = String::deserialize(d)?;
        match text.parse::<GroupRole>() {
            Ok(role) if role.is_known() => Ok(role),
            _ => Err(serde::de::Error::custom(format_args!(
                "unknown group role {text:?}; use member or manager"
            ))),
        }
    }
}

/// Vault permissions as a list of names (Business names on output; Business or Teams names,
/// or the acl integer, on input).
pub(crate) mod permissions {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::VaultPermissions;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Bits(u32),
        Names(Vec<String>),
        List(String),
    }

    /// Writes the Business names, or the integer when some bits have no name.
    pub fn serialize<S: Serializer>(p: &VaultPermissions, s: S) -> Result<S::Ok, S::Error> {
        if p.unknown_bits() == 0 {
            p.names().serialize(s)
        } else {
            s.serialize_u32(p.bits())
        }
    }

    /// Reads a list of names, a comma-separated string of names, or the acl integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<VaultPermissions, D::Error> {
        match Written::deserialize(d)? {
            Written::Bits(bits) => Ok(VaultPermissions::from_bits(bits)),
            Written::Names(names) => {
                VaultPermissions::from_names(&names).map_err(serde::de::Error::custom)
            }
            Written::List(list) => list.parse().map_err(serde::de::Error::custom),
        }
    }
}
