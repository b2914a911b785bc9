//! `Directory` for the b5 backend: every call is the [`Admin`] method of the same name.

use async_trait::async_trait;
use opadmin_directory::{
    Accessor, Capabilities, Directory, GrantOutcome, Group, Invitation, MembershipOutcome, Result,
    RevokeOutcome, User, UserRef, VaultSummary,
};

use crate::admin::Admin;
use crate::{GroupId, GroupRole, UserType, VaultId, VaultPermissions};

#[async_trait]
impl Directory for Admin {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            last_sign_in: true,
            vault_access: true,
            guests: true,
            confirmation: true,
            groups: true,
        }
    }
    async fn users(&self) -> Result<Vec<User>> {
        Admin::users(self).await
    }
    async fn find_user(&self, email: &str) -> Result<Option<User>> {
        Admin::find_user(self, email).await
    }
    async fn invite(&self, email: &str, name: &str, user_type: UserType) -> Result<Invitation> {
        Admin::invite(self, email, name, user_type, &[]).await
    }
    async fn confirm(&self, user: UserRef) -> Result<()> {
        Admin::confirm(self, user).await
    }
    async fn suspend(&self, user: UserRef) -> Result<User> {
        Admin::suspend(self, user).await
    }
    async fn reactivate(&self, user: UserRef) -> Result<User> {
        Admin::reactivate(self, user).await
    }
    async fn remove(&self, user: UserRef) -> Result<User> {
        Admin::remove(self, user).await
    }
    async fn groups(&self) -> Result<Vec<Group>> {
        Admin::groups(self).await
    }
    async fn add_to_group(
        &self,
        group: &GroupId,
        user: UserRef,
        role: GroupRole,
    ) -> Result<MembershipOutcome> {
        Admin::add_to_group(self, group, user, role).await
    }
    async fn remove_from_group(&self, group: &GroupId, user: UserRef) -> Result<MembershipOutcome> {
        Admin::remove_from_group(self, group, user).await
    }
    async fn grant_vault_access(
        &self,
        vault: &VaultId,
        user: UserRef,
        permissions: VaultPermissions,
    ) -> Result<GrantOutcome> {
        Admin::grant_vault_access(self, vault, user, permissions).await
    }
    async fn revoke_vault_access(&self, vault: &VaultId, user: UserRef) -> Result<RevokeOutcome> {
        Admin::revoke_vault_access(self, vault, user).await
    }
    async fn vaults(&self) -> Result<Vec<VaultSummary>> {
        Admin::vaults(self).await
    }
    async fn vault_accessors(&self, vault: &VaultId) -> Result<Vec<Accessor>> {
        Admin::vault_accessors(self, vault).await
    }
    async fn grant_group_vault_access(
        &self,
        vault: &VaultId,
        group: &GroupId,
        permissions: VaultPermissions,
    ) -> Result<GrantOutcome> {
        Admin::grant_group_vault_access(self, vault, group, permissions).await
    }
    async fn revoke_group_vault_access(
        &self,
        vault: &VaultId,
        group: &GroupId,
    ) -> Result<RevokeOutcome> {
        Admin::revoke_group_vault_access(self, vault, group).await
    }
    async fn set_vault_permissions(
        &self,
        vault: &VaultId,
        user: UserRef,
        permissions: VaultPermissions,
    ) -> Result<VaultPermissions> {
        Admin::set_vault_permissions(self, vault, user, permissions).await
    }
}
