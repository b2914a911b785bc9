//! Vault access: grant, revoke and change permissions, for people and for groups.

use opadmin_api::ApiError;
use opadmin_api::access::{
    self, AccessRecord, GrantPlan, PermissionPlan, PermissionScheme, RevokePlan,
};
use opadmin_api::account::AccountAttr;
use opadmin_api::models::{self, AccessorType};
use opadmin_api::types::{GroupId, UserId, VaultId, VaultPermissions};

use super::Admin;
use super::converge::Converged;
use crate::error::{Error, Result};
use crate::model::{GrantOutcome, PermissionChange, RevokeOutcome, UserRef};

/// Whether single permissions are added or removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edit {
    /// Add them (with their dependencies).
    Add,
    /// Remove them (with their dependents).
    Remove,
}

/// Who a vault grant is for: a person or a group.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Grantee<'a> {
    /// A person: the group-aware rules consult their groups.
    Person(&'a UserId),
    /// A group: only its own grant counts.
    Group(&'a GroupId),
}

impl<'a> Grantee<'a> {
    /// The accessor type of the grant record.
    pub(crate) fn kind(self) -> AccessorType {
        match self {
            Grantee::Person(_) => AccessorType::User,
            Grantee::Group(_) => AccessorType::Group,
        }
    }

    /// The accessor's uuid.
    pub(crate) fn uuid(self) -> &'a str {
        match self {
            Grantee::Person(user) => user.as_str(),
            Grantee::Group(group) => group.as_str(),
        }
    }
}

// The rules every vault-access change is decided by, shared by the direct methods below and
// by plans (`crate::plan`): each takes a vault's access records as read (or as a plan predicts
// them), the person's active groups (ignored for a group), and answers what to do.

/// The group-aware grant rule: for a person, their groups count; for a group, only its grant.
pub(crate) fn grant_rule<R: AccessRecord>(
    records: &[R],
    to: Grantee<'_>,
    groups: &[GroupId],
    permissions: VaultPermissions,
) -> Result<GrantPlan> {
    Ok(match to {
        Grantee::Person(user) => access::plan_grant(records, user, groups, permissions)?,
        Grantee::Group(group) => access::plan_group_grant(records, group, permissions)?,
    })
}

/// The revoke rule: only the direct grant goes; for a person, the groups that keep giving
/// access are named.
pub(crate) fn revoke_rule<R: AccessRecord>(
    records: &[R],
    from: Grantee<'_>,
    groups: &[GroupId],
) -> RevokePlan {
    match from {
        Grantee::Person(user) => access::plan_revoke(records, user, groups),
        Grantee::Group(group) => access::plan_group_revoke(records, group),
    }
}

/// The single-permission rule: add with dependencies or remove with dependents, on the direct
/// grant only, in the account's scheme.
pub(crate) fn edit_rule<R: AccessRecord>(
    records: &[R],
    who: Grantee<'_>,
    groups: &[GroupId],
    edit: Edit,
    permissions: VaultPermissions,
    scheme: PermissionScheme,
) -> Result<PermissionPlan> {
    Ok(match (who, edit) {
        (Grantee::Person(user), Edit::Add) => {
            access::plan_add_permissions(records, user, groups, permissions, scheme)?
        }
        (Grantee::Person(user), Edit::Remove) => {
            access::plan_remove_permissions(records, user, groups, permissions, scheme)?
        }
        (Grantee::Group(group), Edit::Add) => {
            access::plan_group_add_permissions(records, group, permissions, scheme)?
        }
        (Grantee::Group(group), Edit::Remove) => {
            access::plan_group_remove_permissions(records, group, permissions, scheme)?
        }
    })
}

/// The set-permissions rule: the person must have a direct grant (`shown` names them in the
/// error), and the permissions, closed under their dependencies, must be grantable. Answers the
/// direct grant now and the one to set.
pub(crate) fn set_rule<R: AccessRecord>(
    records: &[R],
    user: &UserId,
    shown: &str,
    permissions: VaultPermissions,
) -> Result<(VaultPermissions, VaultPermissions)> {
    let Some(current) = access::effective_access(records, user, &[]).direct else {
        return Err(Error::InvalidState(format!(
            "{shown} has no direct access to this vault; grant access instead"
        )));
    };
    let permissions = permissions.with_dependencies();
    if !permissions.is_grantable() {
        return Err(Error::InvalidInput(
            "the permissions must include at least one of view, edit, export, manage or recover"
                .into(),
        ));
    }
    Ok((current, permissions))
}

/// What a grant reports once its plan is carried out (`despite_failure`: the write failed
/// after it may have been applied, and reading showed it in place).
pub(crate) fn grant_outcome(plan: GrantPlan, despite_failure: bool) -> GrantOutcome {
    match plan {
        GrantPlan::AlreadyDirect { current, .. } => GrantOutcome::AlreadyDirect { current },
        GrantPlan::CoveredByGroups { groups } => GrantOutcome::CoveredByGroups { groups },
        GrantPlan::Grant { permissions } if despite_failure => {
            GrantOutcome::GrantedDespiteFailure { permissions }
        }
        GrantPlan::Grant { permissions } => GrantOutcome::Granted { permissions },
    }
}

/// What a revocation reports once its plan is carried out.
pub(crate) fn revoke_outcome(plan: RevokePlan, despite_failure: bool) -> RevokeOutcome {
    match plan {
        RevokePlan::NothingDirect { via_groups } => RevokeOutcome::NoDirectAccess { via_groups },
        RevokePlan::RevokeDirect {
            still_via_groups, ..
        } if despite_failure => RevokeOutcome::RevokedDespiteFailure { still_via_groups },
        RevokePlan::RevokeDirect {
            still_via_groups, ..
        } => RevokeOutcome::Revoked { still_via_groups },
    }
}

/// What a single-permission change reports once its plan is carried out.
pub(crate) fn permission_outcome(plan: PermissionPlan, despite_failure: bool) -> PermissionChange {
    match plan {
        PermissionPlan::Unchanged { current } => PermissionChange::Unchanged { current },
        PermissionPlan::NoDirectAccess { via_groups } => {
            PermissionChange::NoDirectAccess { via_groups }
        }
        PermissionPlan::Change { before, after } if despite_failure => {
            PermissionChange::ChangedDespiteFailure { before, after }
        }
        PermissionPlan::Change { before, after } => PermissionChange::Changed { before, after },
        PermissionPlan::RevokeGrant {
            before,
            still_via_groups,
        } if despite_failure => PermissionChange::RevokedDespiteFailure {
            before,
            still_via_groups,
        },
        PermissionPlan::RevokeGrant {
            before,
            still_via_groups,
        } => PermissionChange::Revoked {
            before,
            still_via_groups,
        },
    }
}

/// Whether the signed-in identity holds Manage on a vault as read (directly or through a
/// group: the server's combined access).
pub(crate) fn can_manage(v: &models::Vault) -> bool {
    matches!(&v.combined_access, Some(a) if a.acl.contains(VaultPermissions::MANAGE))
}

impl Admin {
    /// The groups a person is an active member of.
    pub(crate) async fn groups_of(&self, user: &UserId) -> Result<Vec<GroupId>> {
        let person = self.client().user_with_attrs(user, &["groups"]).await?;
        Ok(access::active_group_ids(
            person.memberships.as_deref().unwrap_or_default(),
            user,
        ))
    }

    /// A vault with its accessors; a vault the administrator cannot see is, as the integration write-up (docs/requirements.md) says,
    /// "does not have access to this vault" error.
    pub(crate) async fn vault_with_access(&self, vault: &VaultId) -> Result<models::Vault> {
        self.client().vault(vault).await.map_err(|e| match e {
            ApiError::NotFound { .. } | ApiError::PermissionDenied { .. } => {
                Error::NoManageVaultPermission
            }
            other => other.into(),
        })
    }

    /// The direct grant of `who` on a vault as the server has it now, if any.
    async fn direct_acl(
        &self,
        vault: &VaultId,
        who: Grantee<'_>,
    ) -> Result<Option<VaultPermissions>> {
        let v = self.vault_with_access(vault).await?;
        Ok(v.access
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|r| r.accessor_type == who.kind() && r.accessor_uuid == who.uuid())
            .map(|r| r.acl))
    }

    pub(crate) fn require_manage(v: &models::Vault) -> Result<()> {
        if can_manage(v) {
            Ok(())
        } else {
            Err(Error::NoManageVaultPermission)
        }
    }

    /// The active groups of `who` when it is a person (the rules ignore them for a group).
    async fn groups_for(&self, who: Grantee<'_>) -> Result<Vec<GroupId>> {
        match who {
            Grantee::Person(user) => self.groups_of(user).await,
            Grantee::Group(_) => Ok(Vec::new()),
        }
    }

    /// Grants `to` access to a vault. For a person the group-aware rules apply (their groups
    /// are read after the vault); for a group only its own grant counts.
    async fn grant_access(
        &self,
        vault: &VaultId,
        to: Grantee<'_>,
        permissions: VaultPermissions,
    ) -> Result<GrantOutcome> {
        let v = self.vault_with_access(vault).await?;
        let records = v.access.as_deref().unwrap_or_default();
        let groups = self.groups_for(to).await?;
        let plan = grant_rule(records, to, &groups, permissions)?;
        match &plan {
            GrantPlan::AlreadyDirect { .. } | GrantPlan::CoveredByGroups { .. } => {
                Ok(grant_outcome(plan, false))
            }
            GrantPlan::Grant { permissions } => {
                Self::require_manage(&v)?;
                let public = match to {
                    Grantee::Person(user) => self.user_public_key(user).await?,
                    Grantee::Group(group) => self.group_public_key(group).await?,
                };
                let record = self.record(&v, to.kind(), to.uuid(), &public, *permissions)?;
                let records = std::slice::from_ref(&record);
                // The plan found no direct grant, so one in place after a failure is this one.
                let sent = self
                    .converge(
                        "vault.grant",
                        || async { Ok(self.client().grant_vault_access(vault, records).await?) },
                        || async { Ok(self.direct_acl(vault, to).await?.is_some()) },
                    )
                    .await?;
                Ok(grant_outcome(plan, sent == Converged::DespiteFailure))
            }
        }
    }

    /// Revokes the direct grant of `from` on a vault. For a person, the access their groups
    /// keep giving is reported; a group's grant is its only access.
    async fn revoke_access(&self, vault: &VaultId, from: Grantee<'_>) -> Result<RevokeOutcome> {
        let v = self.vault_with_access(vault).await?;
        let records = v.access.as_deref().unwrap_or_default();
        let groups = self.groups_for(from).await?;
        let plan = revoke_rule(records, from, &groups);
        if !plan.is_change() {
            return Ok(revoke_outcome(plan, false));
        }
        Self::require_manage(&v)?;
        let sent = self.revoke_direct(vault, from).await?;
        Ok(revoke_outcome(plan, sent == Converged::DespiteFailure))
    }

    /// Grants a person access to a vault, following the integration write-up's rules (docs/requirements.md): a person who already has
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
        self.grant_access(vault, Grantee::Person(&user_id), permissions)
            .await
    }

    /// Revokes a person's direct access. Access through groups is not revoked (the integration write-up's, docs/requirements.md,
    /// rule); it is reported so the caller can remove the person from those groups.
    pub async fn revoke_vault_access(
        &self,
        vault: &VaultId,
        user: impl Into<UserRef>,
    ) -> Result<RevokeOutcome> {
        self.deny_service_account("revoking a person's access to a vault")?;
        let user_id = self.id_of(user).await?;
        self.revoke_access(vault, Grantee::Person(&user_id)).await
    }

    /// Grants a group access to a vault (`AlreadyDirect` when it has a grant already).
    pub async fn grant_group_vault_access(
        &self,
        vault: &VaultId,
        group: &GroupId,
        permissions: VaultPermissions,
    ) -> Result<GrantOutcome> {
        self.grant_access(vault, Grantee::Group(group), permissions)
            .await
    }

    /// Revokes a group's access to a vault.
    pub async fn revoke_group_vault_access(
        &self,
        vault: &VaultId,
        group: &GroupId,
    ) -> Result<RevokeOutcome> {
        self.revoke_access(vault, Grantee::Group(group)).await
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
        let records = v.access.as_deref().unwrap_or_default();
        let (_, permissions) = set_rule(records, &user.id, &user.email, permissions)?;
        Self::require_manage(&v)?;
        let who = Grantee::Person(&user.id);
        self.converge(
            "vault.acl",
            || async {
                Ok(self
                    .client()
                    .set_user_vault_permissions(vault, &user.id, permissions)
                    .await?)
            },
            || async { Ok(self.direct_acl(vault, who).await? == Some(permissions)) },
        )
        .await?;
        Ok(permissions)
    }

    /// The permission scheme of the signed-in account (Teams bundles or Business permissions),
    /// from its plan.
    pub(crate) async fn permission_scheme(&self) -> Result<PermissionScheme> {
        let account = self.client().account_with(&[AccountAttr::Tier]).await?;
        Ok(PermissionScheme::for_plan(&account.plan()))
    }

    /// Adds or removes single permissions on the direct grant of `who`: planned by the pure
    /// rules, then sent as one set-permissions write (or, when nothing would be left, as the
    /// revocation of the grant).
    async fn edit_permissions(
        &self,
        vault: &VaultId,
        who: Grantee<'_>,
        edit: Edit,
        permissions: VaultPermissions,
    ) -> Result<PermissionChange> {
        let scheme = self.permission_scheme().await?;
        let v = self.vault_with_access(vault).await?;
        let records = v.access.as_deref().unwrap_or_default();
        let groups = self.groups_for(who).await?;
        let plan = edit_rule(records, who, &groups, edit, permissions, scheme)?;
        let sent = match &plan {
            PermissionPlan::Unchanged { .. } | PermissionPlan::NoDirectAccess { .. } => {
                return Ok(permission_outcome(plan, false));
            }
            PermissionPlan::Change { after, .. } => {
                let after = *after;
                Self::require_manage(&v)?;
                self.converge(
                    "vault.acl",
                    || async {
                        match who {
                            Grantee::Person(user) => {
                                self.client()
                                    .set_user_vault_permissions(vault, user, after)
                                    .await?
                            }
                            Grantee::Group(group) => {
                                self.client()
                                    .set_group_vault_permissions(vault, group, after)
                                    .await?
                            }
                        }
                        Ok(())
                    },
                    || async { Ok(self.direct_acl(vault, who).await? == Some(after)) },
                )
                .await?
            }
            PermissionPlan::RevokeGrant { .. } => {
                Self::require_manage(&v)?;
                self.revoke_direct(vault, who).await?
            }
        };
        Ok(permission_outcome(plan, sent == Converged::DespiteFailure))
    }

    /// Adds permissions to a person's direct grant on a vault: the asked permissions, closed
    /// under their dependencies, are joined to the grant (on a Teams or Families account, as
    /// whole bundles: `edit_items` adds `allow_editing` and `allow_viewing`). Unlike
    /// [`grant_vault_access`](Self::grant_vault_access), which leaves a direct grant alone,
    /// this changes it; a person without a direct grant is not granted anything
    /// ([`PermissionChange::NoDirectAccess`], naming the groups that give access). Needs
    /// Manage Vault on that vault when something is to change.
    pub async fn add_vault_permissions(
        &self,
        vault: &VaultId,
        user: impl Into<UserRef>,
        permissions: VaultPermissions,
    ) -> Result<PermissionChange> {
        self.deny_service_account("changing a person's vault permissions")?;
        let user_id = self.id_of(user).await?;
        self.edit_permissions(vault, Grantee::Person(&user_id), Edit::Add, permissions)
            .await
    }

    /// Removes permissions from a person's direct grant on a vault, together with every
    /// permission that needs one of them (removing `view_and_copy_passwords` removes
    /// `edit_items` too; on a Teams or Families account, whole bundles). When nothing would be
    /// left, the direct grant is revoked ([`PermissionChange::Revoked`]). Access through
    /// groups is never changed; without a direct grant nothing is
    /// ([`PermissionChange::NoDirectAccess`], naming the groups). Needs Manage Vault on that
    /// vault when something is to change.
    pub async fn remove_vault_permissions(
        &self,
        vault: &VaultId,
        user: impl Into<UserRef>,
        permissions: VaultPermissions,
    ) -> Result<PermissionChange> {
        self.deny_service_account("changing a person's vault permissions")?;
        let user_id = self.id_of(user).await?;
        self.edit_permissions(vault, Grantee::Person(&user_id), Edit::Remove, permissions)
            .await
    }

    /// [`add_vault_permissions`](Self::add_vault_permissions) for a group's grant.
    pub async fn add_group_vault_permissions(
        &self,
        vault: &VaultId,
        group: &GroupId,
        permissions: VaultPermissions,
    ) -> Result<PermissionChange> {
        self.edit_permissions(vault, Grantee::Group(group), Edit::Add, permissions)
            .await
    }

    /// [`remove_vault_permissions`](Self::remove_vault_permissions) for a group's grant.
    pub async fn remove_group_vault_permissions(
        &self,
        vault: &VaultId,
        group: &GroupId,
        permissions: VaultPermissions,
    ) -> Result<PermissionChange> {
        self.edit_permissions(vault, Grantee::Group(group), Edit::Remove, permissions)
            .await
    }
}

impl Admin {
    /// Removes a person's or group's direct grant on a vault, settling a failure that may have
    /// come after the server applied it by reading the grant (decision 20).
    async fn revoke_direct(&self, vault: &VaultId, who: Grantee<'_>) -> Result<Converged<()>> {
        self.converge(
            "vault.revoke",
            || async {
                match who {
                    Grantee::Person(user) => {
                        self.client().revoke_user_vault_access(vault, user).await?
                    }
                    Grantee::Group(group) => {
                        self.client()
                            .revoke_group_vault_access(vault, group)
                            .await?
                    }
                }
                Ok(())
            },
            || async { Ok(self.direct_acl(vault, who).await?.is_none()) },
        )
        .await
    }
}
