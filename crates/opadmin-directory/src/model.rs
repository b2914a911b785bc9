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

/// Who holds a grant on a vault (one type for the facade and the access rules).
pub use opadmin_api::access::Accessor;

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
    /// The version of its (encrypted) attributes, name and description, as the server
    /// reported it; 0 when unknown. An incremental sync reads the vault again when it moves.
    #[serde(default)]
    pub attr_version: u64,
    /// The version of its list of grants, as the server reported it; 0 when unknown. An
    /// incremental sync reads the vault's grants again when it moves.
    #[serde(default)]
    pub accessors_version: u64,
}

/// A vault as `Admin::vaults` lists it: without its accessors.
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
    /// What could not be read, each with its reason: a vault that disappeared between the
    /// listing and its read, a vault key or keyset that does not open, a group that may not
    /// be read. Empty when the snapshot is complete. (Absent in snapshots stored before it
    /// existed: read back as empty.)
    #[serde(default)]
    pub skipped: Vec<SkippedItem>,
    /// Invitations sent and not yet accepted or revoked: the people invited but not yet in
    /// [`users`](Self::users). (Absent in snapshots stored before it existed: read back as
    /// empty.)
    #[serde(default)]
    pub invitations: Vec<PendingInvitation>,
    /// What differs from the snapshot this one was synced after (the same `Admin`'s previous
    /// sync, or the snapshot given to `Admin::sync_since`); `None` for a first sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
}

/// What an incremental sync found different from the snapshot before it: people, groups and
/// vaults added, changed (any field: state, name, members and roles, grants, who has access
/// and why) or removed, by id; and how many vaults were read again or taken unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Changes {
    /// People.
    pub users: ItemChanges<UserId>,
    /// Groups.
    pub groups: ItemChanges<GroupId>,
    /// Vaults.
    pub vaults: ItemChanges<VaultId>,
    /// Vaults whose attributes or grants were read again because their versions moved (or
    /// were unknown).
    pub vaults_read: usize,
    /// Vaults taken from the previous snapshot because neither version moved.
    pub vaults_reused: usize,
}

impl Changes {
    /// Whether nothing was added, changed or removed.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty() && self.vaults.is_empty()
    }
}

/// Items added, changed and removed, by id (each list sorted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ItemChanges<Id> {
    /// New since the previous snapshot.
    pub added: Vec<Id>,
    /// In both, different.
    pub changed: Vec<Id>,
    /// Gone since the previous snapshot.
    pub removed: Vec<Id>,
}

impl<Id> Default for ItemChanges<Id> {
    fn default() -> Self {
        Self {
            added: Vec::new(),
            changed: Vec::new(),
            removed: Vec::new(),
        }
    }
}

impl<Id> ItemChanges<Id> {
    /// Whether nothing was added, changed or removed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }

    /// Every id named, added, changed or removed.
    pub fn all(&self) -> impl Iterator<Item = &Id> {
        self.added
            .iter()
            .chain(self.changed.iter())
            .chain(self.removed.iter())
    }
}

/// Something `sync` saw but could not read; the rest of the snapshot is complete without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SkippedItem {
    /// A vault, a group or a keyset.
    pub kind: SkippedKind,
    /// Its uuid.
    pub id: String,
    /// Its name, when it was known before the failure (a group's; a vault's name is encrypted
    /// with its key, so a vault whose key does not open has none).
    pub name: Option<String>,
    /// Why it was skipped.
    pub reason: SkipReason,
    /// The failure, in words (never a secret).
    pub message: String,
}

/// What kind of thing was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(rename_all = "snake_case")]
pub enum SkippedKind {
    /// A vault: it is missing from [`Snapshot::vaults`].
    Vault,
    /// A group: it is missing from [`Snapshot::groups`], and access through it from
    /// [`Vault::user_access`].
    Group,
    /// One of the signed-in user's keysets other than the primary one (for example an older
    /// keyset): what is wrapped only to it cannot be opened.
    Keyset,
    /// The list of pending invitations (the administrator may not read it):
    /// [`Snapshot::invitations`] is empty for that reason, not because nobody is invited.
    Invitations,
}

/// Why something was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// It was listed, then the server no longer had it (deleted in between).
    Gone,
    /// The signed-in user may not read it (or has no key for it).
    NotPermitted,
    /// Its key does not open, or its data does not decrypt with its key.
    KeyDoesNotOpen,
    /// A fault inside this SDK while handling it (a worker that panicked).
    Internal,
}

impl SkippedKind {
    /// Its name as written in JSON: `vault`, `group` or `keyset`.
    pub fn as_str(self) -> &'static str {
        match self {
            SkippedKind::Vault => "vault",
            SkippedKind::Group => "group",
            SkippedKind::Keyset => "keyset",
            SkippedKind::Invitations => "invitations",
        }
    }
}

impl SkipReason {
    /// Its name as written in JSON: `gone`, `not_permitted`, `key_does_not_open`, `internal`.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Gone => "gone",
            SkipReason::NotPermitted => "not_permitted",
            SkipReason::KeyDoesNotOpen => "key_does_not_open",
            SkipReason::Internal => "internal",
        }
    }
}

impl SkippedItem {
    /// An item left out of a snapshot, with the failure that made it so (its text is kept).
    pub fn new(
        kind: SkippedKind,
        id: impl Into<String>,
        name: Option<String>,
        reason: SkipReason,
        error: &crate::Error,
    ) -> Self {
        Self {
            kind,
            id: id.into(),
            name,
            reason,
            message: error.to_string(),
        }
    }
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

    /// Whether everything the administrator can see was read ([`skipped`](Self::skipped) is
    /// empty).
    pub fn is_complete(&self) -> bool {
        self.skipped.is_empty()
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

/// What adding or removing single vault permissions did (`add_vault_permissions`,
/// `remove_vault_permissions` and their group versions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PermissionChange {
    /// The direct grant was changed.
    Changed {
        /// The grant before.
        before: VaultPermissions,
        /// The grant now (closed under dependencies).
        after: VaultPermissions,
    },
    /// The direct grant already was what was asked: nothing was sent.
    Unchanged {
        /// The grant.
        current: VaultPermissions,
    },
    /// There is no direct grant to change: nothing was changed (grant access first). For a
    /// person, any access comes through these groups.
    NoDirectAccess {
        /// Groups that give access (empty for a group, or a person without any access).
        via_groups: Vec<GroupGrant>,
    },
    /// Removing the permissions left nothing, so the whole direct grant was revoked. For a
    /// person, access through these groups remains.
    Revoked {
        /// The grant before.
        before: VaultPermissions,
        /// Groups that still give access.
        still_via_groups: Vec<GroupGrant>,
    },
    /// Like [`Changed`](Self::Changed), although sending the change failed in a way that may
    /// have come after the server applied it: reading the vault afterwards showed the new
    /// grant, so it was not sent again.
    ChangedDespiteFailure {
        /// The grant before.
        before: VaultPermissions,
        /// The grant now.
        after: VaultPermissions,
    },
    /// Like [`Revoked`](Self::Revoked), although sending the revocation failed in a way that
    /// may have come after the server applied it: reading the vault afterwards showed no
    /// direct grant, so it was not sent again.
    RevokedDespiteFailure {
        /// The grant before.
        before: VaultPermissions,
        /// Groups that still give access.
        still_via_groups: Vec<GroupGrant>,
    },
}

impl PermissionChange {
    /// True when the vault's access changed.
    pub fn is_change(&self) -> bool {
        !matches!(
            self,
            PermissionChange::Unchanged { .. } | PermissionChange::NoDirectAccess { .. }
        )
    }

    /// The direct grant after the call (`None` when there is none).
    pub fn after(&self) -> Option<VaultPermissions> {
        match self {
            PermissionChange::Changed { after, .. }
            | PermissionChange::ChangedDespiteFailure { after, .. } => Some(*after),
            PermissionChange::Unchanged { current } => Some(*current),
            PermissionChange::NoDirectAccess { .. }
            | PermissionChange::Revoked { .. }
            | PermissionChange::RevokedDespiteFailure { .. } => None,
        }
    }
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

/// An invitation sent and not yet accepted or revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingInvitation {
    /// Invitation uuid.
    pub id: String,
    /// The invitee (lower case).
    pub email: String,
    /// Member or guest.
    pub user_type: UserType,
    /// When it was last sent, if the server says.
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
}

impl PendingInvitation {
    /// A pending invitation with no known sending time.
    pub fn new(id: impl Into<String>, email: impl Into<String>, user_type: UserType) -> Self {
        Self {
            id: id.into(),
            email: email.into(),
            user_type,
            sent_at: None,
        }
    }
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

// Constructors. The models are `#[non_exhaustive]` (fields may be added without a breaking
// release), so code outside this crate (the b5 facade, the SCIM backend, a connector's test
// double) builds them through these; fields not taken here start empty and are public to set.

impl User {
    /// A person with no known creation or sign-in time.
    pub fn new(
        id: UserId,
        email: impl Into<String>,
        name: impl Into<String>,
        state: UserState,
        user_type: UserType,
    ) -> Self {
        Self {
            id,
            email: email.into(),
            name: name.into(),
            state,
            user_type,
            created_at: None,
            last_sign_in: None,
        }
    }
}

impl GroupMember {
    /// A member with a role.
    pub fn new(user: UserId, role: GroupRole) -> Self {
        Self { user, role }
    }
}

impl Group {
    /// A group with its members.
    pub fn new(
        id: GroupId,
        name: impl Into<String>,
        group_type: GroupType,
        members: Vec<GroupMember>,
    ) -> Self {
        Self {
            id,
            name: name.into(),
            group_type,
            members,
        }
    }
}

impl UserAccess {
    /// A person's effective access: `permissions` is the union of `direct` and the groups'.
    pub fn new(
        user: UserId,
        permissions: VaultPermissions,
        direct: Option<VaultPermissions>,
        via_groups: Vec<GroupId>,
    ) -> Self {
        Self {
            user,
            permissions,
            direct,
            via_groups,
        }
    }
}

impl Vault {
    /// A vault with no accessors yet (set `accessors` and `user_access`).
    pub fn new(
        id: VaultId,
        name: impl Into<String>,
        description: impl Into<String>,
        vault_type: VaultType,
    ) -> Self {
        Self {
            id,
            name: name.into(),
            description: description.into(),
            vault_type,
            accessors: Vec::new(),
            user_access: Vec::new(),
            attr_version: 0,
            accessors_version: 0,
        }
    }
}

/// What a vault lifecycle change did (`Admin::create_vault`, `Admin::update_vault`,
/// `Admin::delete_vault`). The `…DespiteFailure` variants: the change's answer was lost after
/// the server may have applied it (a 5xx, a broken connection, a timeout), and reading the
/// vault showed it applied; it was not sent again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum VaultOutcome {
    /// A new vault, as the signed-in identity now sees it.
    Created {
        /// The new vault.
        vault: VaultSummary,
    },
    /// A new vault, found in place after a failure that may have come after it was created.
    CreatedDespiteFailure {
        /// The new vault.
        vault: VaultSummary,
    },
    /// New name and/or description.
    Updated {
        /// The vault before.
        before: VaultSummary,
        /// The vault after.
        after: VaultSummary,
    },
    /// New name and/or description, found in place after a failure.
    UpdatedDespiteFailure {
        /// The vault before.
        before: VaultSummary,
        /// The vault after.
        after: VaultSummary,
    },
    /// Nothing to change: the vault already has that name and description.
    Unchanged {
        /// The vault.
        vault: VaultSummary,
    },
    /// The vault is gone.
    Deleted {
        /// The vault as it was.
        vault: VaultSummary,
    },
    /// The vault is gone; found so after a failure that may have come after the deletion.
    DeletedDespiteFailure {
        /// The vault as it was.
        vault: VaultSummary,
    },
}

impl VaultOutcome {
    /// The vault as it is now (for a deletion: as it was).
    pub fn vault(&self) -> &VaultSummary {
        match self {
            Self::Created { vault }
            | Self::CreatedDespiteFailure { vault }
            | Self::Unchanged { vault }
            | Self::Deleted { vault }
            | Self::DeletedDespiteFailure { vault } => vault,
            Self::Updated { after, .. } | Self::UpdatedDespiteFailure { after, .. } => after,
        }
    }

    /// Whether the server changed something.
    pub fn is_change(&self) -> bool {
        !matches!(self, Self::Unchanged { .. })
    }

    /// Whether the change was found applied after a failure rather than answered.
    pub fn applied_despite_failure(&self) -> bool {
        matches!(
            self,
            Self::CreatedDespiteFailure { .. }
                | Self::UpdatedDespiteFailure { .. }
                | Self::DeletedDespiteFailure { .. }
        )
    }
}

/// A new name and/or description for a vault (`Admin::update_vault`); `None` keeps the current
/// one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VaultUpdate {
    /// The new name.
    pub name: Option<String>,
    /// The new description.
    pub description: Option<String>,
}

impl VaultUpdate {
    /// A change of name.
    pub fn name(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            description: None,
        }
    }

    /// A change of description.
    pub fn description(description: impl Into<String>) -> Self {
        Self {
            name: None,
            description: Some(description.into()),
        }
    }

    /// Also changes the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// One group's permissions on one vault, before and after a change
/// (`Admin::set_group_vault_permissions_bulk`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupPermissionUpdate {
    /// The vault.
    pub vault: VaultId,
    /// The group.
    pub group: GroupId,
    /// Its permissions before.
    pub before: VaultPermissions,
    /// Its permissions after.
    pub after: VaultPermissions,
}

impl GroupPermissionUpdate {
    /// One group's permissions on one vault, before and after.
    pub fn new(
        vault: VaultId,
        group: GroupId,
        before: VaultPermissions,
        after: VaultPermissions,
    ) -> Self {
        Self {
            vault,
            group,
            before,
            after,
        }
    }
}

/// What setting many groups' permissions at once did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupPermissionsOutcome {
    /// The grants that changed.
    pub changed: Vec<GroupPermissionUpdate>,
    /// The grants that already had the asked permissions (nothing was sent for them).
    pub unchanged: Vec<GroupPermissionUpdate>,
    /// The change's answer was lost after the server may have applied it, and reading the
    /// vaults showed every change in place.
    pub applied_despite_failure: bool,
}

impl VaultSummary {
    /// A listed vault with the signed-in identity's own permissions.
    pub fn new(
        id: VaultId,
        name: impl Into<String>,
        description: impl Into<String>,
        vault_type: VaultType,
        permissions: VaultPermissions,
    ) -> Self {
        Self {
            id,
            name: name.into(),
            description: description.into(),
            vault_type,
            permissions,
        }
    }
}

impl AccountInfo {
    /// The account.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        account_type: AccountType,
        plan: Plan,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            account_type,
            plan,
        }
    }
}

impl Snapshot {
    /// A snapshot of an account with no people, groups or vaults yet.
    pub fn new(account: AccountInfo) -> Self {
        Self {
            account,
            users: Vec::new(),
            groups: Vec::new(),
            vaults: Vec::new(),
            skipped: Vec::new(),
            invitations: Vec::new(),
            changes: None,
        }
    }
}

impl Invitation {
    /// An invitation that was sent.
    pub fn new(id: impl Into<String>, email: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            email: email.into(),
            despite_failure: false,
        }
    }
}

#[cfg(test)]
mod permission_change_tests {
    use super::*;

    #[test]
    fn permission_change_after_and_is_change() {
        let unchanged = PermissionChange::Unchanged {
            current: VaultPermissions::RWE,
        };
        assert!(!unchanged.is_change());
        assert_eq!(unchanged.after(), Some(VaultPermissions::RWE));
        let none = PermissionChange::NoDirectAccess { via_groups: vec![] };
        assert!(!none.is_change());
        assert_eq!(none.after(), None);
        let despite = PermissionChange::ChangedDespiteFailure {
            before: VaultPermissions::RWE,
            after: VaultPermissions::READ_ITEM,
        };
        assert!(despite.is_change());
        assert_eq!(despite.after(), Some(VaultPermissions::READ_ITEM));
        let revoked = PermissionChange::RevokedDespiteFailure {
            before: VaultPermissions::RWE,
            still_via_groups: vec![],
        };
        assert!(revoked.is_change());
        assert_eq!(revoked.after(), None);
    }
}
