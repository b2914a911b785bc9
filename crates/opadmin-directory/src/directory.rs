//! The `Directory` trait: what a connector programs against, so that it can switch backends (the
//! b5 `opadmin::Admin`, the SCIM bridge's `opadmin_scim::ScimDirectory`) or substitute its own test
//! double.
//!
//! ```
//! use opadmin_directory::{Directory, Result, User, UserRef};
//!
//! /// A connector step that works with any backend: suspend everyone who left.
//! async fn offboard(dir: &dyn Directory, leavers: &[&str]) -> Result<Vec<User>> {
//!     let mut done = Vec::new();
//!     for email in leavers {
//!         done.push(dir.suspend(UserRef::from(*email)).await?);
//!     }
//!     Ok(done)
//! }
//! ```

use async_trait::async_trait;
use opadmin_api::types::{GroupId, GroupRole, UserType, VaultId, VaultPermissions};

use crate::error::Result;
use crate::model::{
    Accessor, GrantOutcome, Group, Invitation, MembershipOutcome, RevokeOutcome, User, UserRef,
    VaultSummary,
};

/// What a backend can do, so a connector can tell in advance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Capabilities {
    /// Users carry their last sign-in.
    pub last_sign_in: bool,
    /// Vault access can be read and changed.
    pub vault_access: bool,
    /// Guests are distinguished and can be invited.
    pub guests: bool,
    /// Invited people must be confirmed by an administrator.
    pub confirmation: bool,
    /// Groups and memberships can be read and changed.
    pub groups: bool,
}

/// The administration operations every backend offers (or refuses with
/// [`Error::NotSupported`](crate::Error::NotSupported) before sending anything).
#[async_trait]
pub trait Directory: Send + Sync {
    /// What this backend supports.
    fn capabilities(&self) -> Capabilities;
    /// Every person visible to the backend's credentials.
    async fn users(&self) -> Result<Vec<User>>;
    /// A person by email, if present.
    async fn find_user(&self, email: &str) -> Result<Option<User>>;
    /// Invites a person.
    async fn invite(&self, email: &str, name: &str, user_type: UserType) -> Result<Invitation>;
    /// Confirms a person who accepted an invitation.
    async fn confirm(&self, user: UserRef) -> Result<()>;
    /// Suspends a person; returns the person as they now are (state suspended).
    async fn suspend(&self, user: UserRef) -> Result<User>;
    /// Reactivates a suspended person; returns the person as they now are.
    async fn reactivate(&self, user: UserRef) -> Result<User>;
    /// Removes a person; returns the person as last seen, with the state the backend left them
    /// in (deleted, or suspended where removal suspends, as on 1Password's SCIM bridge).
    async fn remove(&self, user: UserRef) -> Result<User>;
    /// Every visible group with members.
    async fn groups(&self) -> Result<Vec<Group>>;
    /// Adds a person to a group.
    async fn add_to_group(
        &self,
        group: &GroupId,
        user: UserRef,
        role: GroupRole,
    ) -> Result<MembershipOutcome>;
    /// Removes a person from a group.
    async fn remove_from_group(&self, group: &GroupId, user: UserRef) -> Result<MembershipOutcome>;
    /// Grants vault access with the group-aware rules.
    async fn grant_vault_access(
        &self,
        vault: &VaultId,
        user: UserRef,
        permissions: VaultPermissions,
    ) -> Result<GrantOutcome>;
    /// Revokes direct vault access with the group-aware rules.
    async fn revoke_vault_access(&self, vault: &VaultId, user: UserRef) -> Result<RevokeOutcome>;
    /// Every vault visible to the backend's credentials, with its name and the credentials' own
    /// permissions.
    async fn vaults(&self) -> Result<Vec<VaultSummary>>;
    /// Who has access to a vault (people and groups, with their permissions).
    async fn vault_accessors(&self, vault: &VaultId) -> Result<Vec<Accessor>>;
    /// Grants a group access to a vault.
    async fn grant_group_vault_access(
        &self,
        vault: &VaultId,
        group: &GroupId,
        permissions: VaultPermissions,
    ) -> Result<GrantOutcome>;
    /// Revokes a group's access to a vault.
    async fn revoke_group_vault_access(
        &self,
        vault: &VaultId,
        group: &GroupId,
    ) -> Result<RevokeOutcome>;
    /// Sets a person's direct permissions on a vault; returns what was set.
    async fn set_vault_permissions(
        &self,
        vault: &VaultId,
        user: UserRef,
        permissions: VaultPermissions,
    ) -> Result<VaultPermissions>;
}
