//! Vault access: grant, revoke and change permissions, for people and for groups.

use opadmin_api::ApiError;
use opadmin_api::access::{self, GrantPlan, RevokePlan};
use opadmin_api::models::{self, AccessorType};
use opadmin_api::types::{GroupId, UserId, VaultId, VaultPermissions};

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{GrantOutcome, RevokeOutcome, UserRef};

impl Admin {
    /// The groups a person is an active member of.
    async fn groups_of(&self, user: &UserId) -> Result<Vec<GroupId>> {
        let person = self.client().user_with_attrs(user, &["groups"]).await?;
        Ok(access::active_group_ids(
            person.memberships.as_deref().unwrap_or_default(),
            user,
        ))
    }

    /// A vault with its accessors; a vault the administrator cannot see is the seed's
    /// "does not have access to this vault" error.
    async fn vault_with_access(&self, vault: &VaultId) -> Result<models::Vault> {
        self.client().vault(vault).await.map_err(|e| match e {
            ApiError::NotFound { .. } | ApiError::PermissionDenied { .. } => {
                Error::NoManageVaultPermission
            }
            other => other.into(),
        })
    }

    fn require_manage(v: &models::Vault) -> Result<()> {
        match &v.combined_access {
            Some(a) if a.acl.contains(VaultPermissions::MANAGE) => Ok(()),
            _ => Err(Error::NoManageVaultPermission),
        }
    }

    /// Grants a person access to a vault, following the seed's rules: a person who already has
    /// direct access is left alone (`AlreadyDirect`); a person who has access through a group is
    /// not added directly (`CoveredByGroups`); otherwise the permissions, closed under their
    /// dependencies, are granted. Needs Manage Vault on that vault.
    pub async fn grant_vault_access(
        &self,
        vault: &VaultId,
        user: impl Into<UserRef>,
        permissions: VaultPermissions,
    ) -> Result<GrantOutcome> {
        self.deny_service_account("granting a person access to a vault")?;
        let user_id = self.id_of(user).await?;
        let v = self.vault_with_access(vault).await?;
        let groups = self.groups_of(&user_id).await?;
        let records = v.access.as_deref().unwrap_or_default();
        match access::plan_grant(records, &user_id, &groups, permissions)? {
            GrantPlan::AlreadyDirect { current, .. } => Ok(GrantOutcome::AlreadyDirect { current }),
            GrantPlan::CoveredByGroups { groups } => Ok(GrantOutcome::CoveredByGroups { groups }),
            GrantPlan::Grant { permissions } => {
                Self::require_manage(&v)?;
                let public = self.user_public_key(&user_id).await?;
                let record = self.record(
                    &v,
                    AccessorType::User,
                    user_id.as_str(),
                    &public,
                    permissions,
                )?;
                self.client().grant_vault_access(vault, &[record]).await?;
                Ok(GrantOutcome::Granted { permissions })
            }
        }
    }

    /// Revokes a person's direct access. Access through groups is not revoked (the seed's
    /// rule); it is reported so the caller can remove the person from those groups.
    pub async fn revoke_vault_access(
        &self,
        vault: &VaultId,
        user: impl Into<UserRef>,
    ) -> Result<RevokeOutcome> {
        self.deny_service_account("revoking a person's access to a vault")?;
        let user_id = self.id_of(user).await?;
        let v = self.vault_with_access(vault).await?;
        let groups = self.groups_of(&user_id).await?;
        match access::plan_revoke(v.access.as_deref().unwrap_or_default(), &user_id, &groups) {
            RevokePlan::NothingDirect { via_groups } => {
                Ok(RevokeOutcome::NoDirectAccess { via_groups })
            }
            RevokePlan::RevokeDirect {
                still_via_groups, ..
            } => {
                Self::require_manage(&v)?;
                self.client()
                    .revoke_user_vault_access(vault, &user_id)
                    .await?;
                Ok(RevokeOutcome::Revoked { still_via_groups })
            }
        }
    }

    /// Grants a group access to a vault (`AlreadyDirect` when it has a grant already).
    pub async fn grant_group_vault_access(
        &self,
        vault: &VaultId,
        group: &GroupId,
        permissions: VaultPermissions,
    ) -> Result<GrantOutcome> {
        let v = self.vault_with_access(vault).await?;
        match access::plan_group_grant(v.access.as_deref().unwrap_or_default(), group, permissions)?
        {
            GrantPlan::AlreadyDirect { current, .. } => Ok(GrantOutcome::AlreadyDirect { current }),
            GrantPlan::CoveredByGroups { groups } => Ok(GrantOutcome::CoveredByGroups { groups }),
            GrantPlan::Grant { permissions } => {
                Self::require_manage(&v)?;
                let public = self.group_public_key(group).await?;
                let record = self.record(
                    &v,
                    AccessorType::Group,
                    group.as_str(),
                    &public,
                    permissions,
                )?;
                self.client().grant_vault_access(vault, &[record]).await?;
                Ok(GrantOutcome::Granted { permissions })
            }
        }
    }

    /// Revokes a group's access to a vault.
    pub async fn revoke_group_vault_access(
        &self,
        vault: &VaultId,
        group: &GroupId,
    ) -> Result<RevokeOutcome> {
        let v = self.vault_with_access(vault).await?;
        match access::plan_group_revoke(v.access.as_deref().unwrap_or_default(), group) {
            RevokePlan::NothingDirect { via_groups } => {
                Ok(RevokeOutcome::NoDirectAccess { via_groups })
            }
            RevokePlan::RevokeDirect { .. } => {
                Self::require_manage(&v)?;
                self.client()
                    .revoke_group_vault_access(vault, group)
                    .await?;
                Ok(RevokeOutcome::Revoked {
                    still_via_groups: Vec::new(),
                })
            }
        }
    }

    /// Changes a person's direct permissions on a vault (closed under dependencies). The person
    /// must have a direct grant.
    pub async fn set_vault_permissions(
        &self,
        vault: &VaultId,
        user: impl Into<UserRef>,
        permissions: VaultPermissions,
    ) -> Result<VaultPermissions> {
        self.deny_service_account("changing a person's vault permissions")?;
        let user = self.resolve_user(user).await?;
        let v = self.vault_with_access(vault).await?;
        let has_direct =
            v.access.as_deref().unwrap_or_default().iter().any(|r| {
                r.accessor_type == AccessorType::User && r.accessor_uuid == user.id.as_str()
            });
        if !has_direct {
            return Err(Error::InvalidState(format!(
                "{} has no direct access to this vault; grant access instead",
                user.email
            )));
        }
        Self::require_manage(&v)?;
        let permissions = permissions.with_dependencies();
        if !permissions.is_grantable() {
            return Err(Error::InvalidInput("the permissions must include at least one of view, edit, export, manage or recover".into()));
        }
        self.client()
            .set_user_vault_permissions(vault, &user.id, permissions)
            .await?;
        Ok(permissions)
    }
}
