//! What the facade hands back: a snapshot of the account, and typed outcomes of every action.

use opadmin_api::types::{
    AccountType, GroupId, GroupRole, GroupType, Plan, UserId, UserState, UserType, VaultId,
    VaultPermissions, VaultType,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A person, as `sync` and `users` report them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// Uuid.
    pub id: UserId,
    /// Email (lower case).
    pub email: String,
    /// Display name.
    pub name: String,
    /// State (active, suspended, awaiting confirmation, ...).
    pub state: UserState,
    /// Member, guest or service account.
    pub user_type: UserType,
    /// When the person joined.
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// Last sign-in (the Team Report's "last authentication"); `None` if never.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sign_in: Option<OffsetDateTime>,
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupMember {
    /// The person.
    pub user: UserId,
    /// Manager or member.
    pub role: GroupRole,
}

/// A group the administrator can see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Group {
    /// Uuid.
    pub id: GroupId,
    /// Name.
    pub name: String,
    /// Owners, Administrators, Team Members, user-defined, ...
    pub group_type: GroupType,
    /// Members and their roles.
    pub members: Vec<GroupMember>,
}

/// Who holds a grant on a vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Accessor {
    /// A person, directly.
    User {
        /// The person.
        id: UserId,
        /// The grant.
        permissions: VaultPermissions,
    },
    /// A group.
    Group {
        /// The group.
        id: GroupId,
        /// The grant.
        permissions: VaultPermissions,
    },
}

/// A person's effective access to a vault, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserAccess {
    /// The person.
    pub user: UserId,
    /// Effective permissions: the union of the direct grant and every group's.
    pub permissions: VaultPermissions,
    /// The direct grant, if any.
    pub direct: Option<VaultPermissions>,
    /// The groups through which the person has access.
    pub via_groups: Vec<GroupId>,
}

/// A vault the administrator can see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Vault {
    /// Uuid.
    pub id: VaultId,
    /// Name (decrypted with the vault key).
    pub name: String,
    /// Description.
    pub description: String,
    /// Shared, everyone, personal, ...
    pub vault_type: VaultType,
    /// Every grant on it.
    pub accessors: Vec<Accessor>,
    /// Every person with access, direct or through groups.
    pub user_access: Vec<UserAccess>,
}

/// A vault as [`Admin::vaults`](crate::Admin::vaults) lists it: without its accessors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VaultSummary {
    /// Uuid.
    pub id: VaultId,
    /// Name (decrypted with the vault key).
    pub name: String,
    /// Description.
    pub description: String,
    /// Shared, everyone, personal, ...
    pub vault_type: VaultType,
    /// The signed-in identity's own effective permissions on it.
    pub permissions: VaultPermissions,
}

/// The account itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccountInfo {
    /// Uuid.
    pub id: String,
    /// Name.
    pub name: String,
    /// Account type letter's meaning.
    pub account_type: AccountType,
    /// Business, Teams, ... (written as `BUSINESS`, `TEAM`, ...).
    pub plan: Plan,
}

/// Everything the administrator can see, at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// The account.
    pub account: AccountInfo,
    /// Every person the administrator can see.
    pub users: Vec<User>,
    /// Every group the administrator can see.
    pub groups: Vec<Group>,
    /// Every vault the administrator can see.
    pub vaults: Vec<Vault>,
}

impl Snapshot {
    /// A person by email (case-insensitive).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        let email = email.trim().to_lowercase();
        self.users.iter().find(|u| u.email == email)
    }

    /// A vault by name.
    pub fn vault_by_name(&self, name: &str) -> Option<&Vault> {
        self.vaults.iter().find(|v| v.name == name)
    }

    /// A group by name.
    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }
}

pub use opadmin_api::access::GroupGrant;

/// What `grant_vault_access` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum GrantOutcome {
    /// Access was granted with these permissions (the request closed under dependencies).
    Granted {
        /// What was granted.
        permissions: VaultPermissions,
    },
    /// The person (or group) already had direct access: nothing was changed.
    AlreadyDirect {
        /// The existing grant.
        current: VaultPermissions,
    },
    /// The person has access through groups, so was not added directly (the integration write-up's rule, docs/requirements.md).
    CoveredByGroups {
        /// The groups giving access.
        groups: Vec<GroupGrant>,
    },
    /// The grant is in place, although sending it failed in a way that may have come after
    /// the server applied it (a 5xx, a broken connection, a timeout): reading the vault
    /// afterwards showed it granted, so it was not sent again.
    GrantedDespiteFailure {
        /// What is granted.
        permissions: VaultPermissions,
    },
}

/// What `revoke_vault_access` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RevokeOutcome {
    /// The direct grant was removed; access through these groups remains.
    Revoked {
        /// Groups that still give access (remove the person from them to revoke all access).
        still_via_groups: Vec<GroupGrant>,
    },
    /// There was no direct grant: nothing was changed; access through these groups remains.
    NoDirectAccess {
        /// Groups that give access.
        via_groups: Vec<GroupGrant>,
    },
    /// The direct grant is gone, although sending the revocation failed in a way that may
    /// have come after the server applied it: reading the vault afterwards showed no direct
    /// grant, so it was not sent again. Access through these groups remains.
    RevokedDespiteFailure {
        /// Groups that still give access.
        still_via_groups: Vec<GroupGrant>,
    },
}

/// What a group-membership change did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MembershipOutcome {
    /// Added with this role.
    Added {
        /// The role.
        role: GroupRole,
    },
    /// Already a member: nothing changed.
    AlreadyMember {
        /// The current role.
        role: GroupRole,
    },
    /// Removed.
    Removed,
    /// Not a member: nothing changed.
    NotMember,
    /// Added with this role, although sending the change failed in a way that may have come
    /// after the server applied it: reading the group afterwards showed the membership, so it
    /// was not sent again.
    AddedDespiteFailure {
        /// The role.
        role: GroupRole,
    },
    /// Removed, although sending the change failed in a way that may have come after the
    /// server applied it: reading the group afterwards showed no membership, so it was not
    /// sent again.
    RemovedDespiteFailure,
}

/// An invitation that was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Invitation {
    /// Invitation uuid.
    pub id: String,
    /// The invitee.
    pub email: String,
    /// Sending the invitation failed in a way that may have come after the server accepted it
    /// (a 5xx, a broken connection, a timeout), and the account's pending invitations then
    /// showed one for this email: it was not sent again.
    #[serde(default)]
    pub despite_failure: bool,
}

/// A person to act on: by uuid or by email.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserRef {
    /// By uuid.
    Id(UserId),
    /// By email (case-insensitive).
    Email(String),
}

impl From<&str> for UserRef {
    /// Text with an `@` is an email, anything else a uuid.
    fn from(s: &str) -> Self {
        if s.contains('@') {
            Self::Email(s.trim().to_lowercase())
        } else {
            Self::Id(UserId::new(s.trim()))
        }
    }
}

impl From<String> for UserRef {
    fn from(s: String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<&String> for UserRef {
    fn from(s: &String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<UserId> for UserRef {
    fn from(id: UserId) -> Self {
        Self::Id(id)
    }
}

impl From<&UserId> for UserRef {
    fn from(id: &UserId) -> Self {
        Self::Id(id.clone())
    }
}

impl std::fmt::Display for UserRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Id(id) => write!(f, "{id}"),
            Self::Email(e) => f.write_str(e),
        }
    }
}

/// The outcome of one target of a bulk action.
#[derive(Debug, Clone)]
pub struct BulkResult<T, O> {
    /// The target.
    pub target: T,
    /// What happened to it.
    pub outcome: crate::Result<O>,
}
