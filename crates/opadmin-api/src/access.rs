//! The group-aware vault access rules, as pure functions.
//!
//! These are the rules of the integration write-up (docs/requirements.md) and
//! docs/decisions.md, decision 8:
//!
//! * **Effective access** of a user is the most permissive combination (bitwise union) of the
//!   user's direct grant and the grants of every group the user belongs to.
//! * **Granting** a user access: if the user already has direct access, nothing is done
//!   ([`GrantPlan::AlreadyDirect`]); else if any group the user belongs to has access to the
//!   vault, the user is not added directly ([`GrantPlan::CoveredByGroups`]); else the user is
//!   granted the requested permissions closed under their dependencies ([`GrantPlan::Grant`]).
//! * **Revoking** a user's access removes only the direct grant ([`RevokePlan::RevokeDirect`]);
//!   access through groups stays and is reported, since the way to remove it is to remove the
//!   user from those groups. Without a direct grant there is nothing to revoke
//!   ([`RevokePlan::NothingDirect`]).
//! * **Adding or removing single permissions** changes an existing direct grant only
//!   ([`plan_add_permissions`], [`plan_remove_permissions`]): added permissions come with what
//!   they need, removed ones take what needs them along, and removing everything revokes the
//!   grant. Without a direct grant nothing is changed ([`PermissionPlan::NoDirectAccess`]).
//!   Teams accounts work in whole bundles ([`PermissionScheme`]).
//! * Groups follow the same rules, without the group step.
//! * Changing a vault's access needs the Manage permission (bit 2) on it, held directly or
//!   through a group ([`can_manage_vault`], [`require_manage`]).
//!
//! Inputs are a vault's accessors (its access records: [`VaultAccess`] from the server, or
//! [`Accessor`] built by hand), the ids of the groups the user is an active member of, and the
//! requested permissions. Nothing here does I/O.

use std::fmt;

use crate::error::ApiError;
use crate::models::{AccessorType, GroupMembership, VaultAccess};
use crate::types::{GroupId, GroupState, Plan, UserId, VaultPermissions};

/// Who an access record is for, borrowed from the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessorRef<'a> {
    /// A user, by uuid.
    User(&'a str),
    /// A group, by uuid.
    Group(&'a str),
    /// An accessor kind these rules do not know; ignored.
    Other,
}

/// Anything that is one vault access record: who it is for and which permissions it gives.
pub trait AccessRecord {
    /// Who the record is for.
    fn accessor(&self) -> AccessorRef<'_>;
    /// The permissions it gives.
    fn permissions(&self) -> VaultPermissions;
}

impl AccessRecord for VaultAccess {
    fn accessor(&self) -> AccessorRef<'_> {
        match self.accessor_type {
            AccessorType::User => AccessorRef::User(&self.accessor_uuid),
            AccessorType::Group => AccessorRef::Group(&self.accessor_uuid),
            _ => AccessorRef::Other,
        }
    }

    fn permissions(&self) -> VaultPermissions {
        self.acl
    }
}

/// Who holds a grant on a vault: a person directly, or a group. What the facade reports for a
/// vault's accessors, and a hand-built access record for the rules here (tests, or callers that
/// keep their own copy of accessors).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

impl Accessor {
    /// A person's direct grant.
    pub fn user(id: UserId, permissions: VaultPermissions) -> Self {
        Accessor::User { id, permissions }
    }

    /// A group's grant.
    pub fn group(id: GroupId, permissions: VaultPermissions) -> Self {
        Accessor::Group { id, permissions }
    }
}

impl AccessRecord for Accessor {
    fn accessor(&self) -> AccessorRef<'_> {
        match self {
            Accessor::User { id, .. } => AccessorRef::User(id.as_str()),
            Accessor::Group { id, .. } => AccessorRef::Group(id.as_str()),
        }
    }

    fn permissions(&self) -> VaultPermissions {
        match self {
            Accessor::User { permissions, .. } | Accessor::Group { permissions, .. } => {
                *permissions
            }
        }
    }
}

impl<T: AccessRecord + ?Sized> AccessRecord for &T {
    fn accessor(&self) -> AccessorRef<'_> {
        (**self).accessor()
    }

    fn permissions(&self) -> VaultPermissions {
        (**self).permissions()
    }
}

/// A group's grant on a vault.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupGrant {
    /// The group.
    pub group: GroupId,
    /// What the group's record gives.
    pub permissions: VaultPermissions,
}

/// A user's access to one vault, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EffectiveAccess {
    /// The user's direct grant, if there is one.
    pub direct: Option<VaultPermissions>,
    /// The grants of the user's groups that have access, in the order of the vault's records.
    pub via_groups: Vec<GroupGrant>,
}

impl EffectiveAccess {
    /// The effective permissions: the union of the direct grant and every group grant.
    pub fn permissions(&self) -> VaultPermissions {
        self.via_groups
            .iter()
            .map(|g| g.permissions)
            .fold(self.direct.unwrap_or_default(), VaultPermissions::union)
    }

    /// True when the user has any access record on the vault, direct or through a group.
    pub fn has_access(&self) -> bool {
        self.direct.is_some() || !self.via_groups.is_empty()
    }

    /// True when the user may change who has access (Manage bit, directly or via a group).
    pub fn can_manage(&self) -> bool {
        self.permissions().contains(VaultPermissions::MANAGE)
    }

    /// The groups through which the user has access.
    pub fn groups(&self) -> impl Iterator<Item = &GroupId> {
        self.via_groups.iter().map(|g| &g.group)
    }

    /// The groups whose grant includes every permission of `permissions`.
    pub fn groups_granting(&self, permissions: VaultPermissions) -> Vec<&GroupId> {
        self.via_groups
            .iter()
            .filter(|g| g.permissions.contains(permissions))
            .map(|g| &g.group)
            .collect()
    }
}

/// What to do to grant access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantPlan {
    /// The accessor already has a direct grant: no change is made, even if `missing` is not
    /// empty (change permissions explicitly for that).
    AlreadyDirect {
        /// The current direct grant.
        current: VaultPermissions,
        /// Requested permissions (with dependencies) that the direct grant lacks.
        missing: VaultPermissions,
    },
    /// The user is not granted directly because these groups of theirs already have access.
    CoveredByGroups {
        /// The user's groups that have access, with what they give.
        groups: Vec<GroupGrant>,
    },
    /// Grant these permissions (the request closed under dependencies).
    Grant {
        /// The acl to send.
        permissions: VaultPermissions,
    },
}

impl GrantPlan {
    /// The acl to send, when something is to be granted.
    pub fn permissions_to_grant(&self) -> Option<VaultPermissions> {
        match self {
            GrantPlan::Grant { permissions } => Some(*permissions),
            _ => None,
        }
    }

    /// True when the plan changes the vault.
    pub fn is_change(&self) -> bool {
        matches!(self, GrantPlan::Grant { .. })
    }
}

impl fmt::Display for GrantPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantPlan::AlreadyDirect { current, .. } => {
                write!(f, "already has direct access ({current}); nothing changed")
            }
            GrantPlan::CoveredByGroups { groups } => {
                write!(
                    f,
                    "has access through group(s) {}; not added directly",
                    group_list(groups)
                )
            }
            GrantPlan::Grant { permissions } => write!(f, "grant {permissions}"),
        }
    }
}

/// What to do to revoke access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokePlan {
    /// Remove the direct grant. Access through groups stays; remove the user from those groups
    /// to take it away too.
    RevokeDirect {
        /// The direct grant being removed.
        current: VaultPermissions,
        /// The user's groups that keep giving access after the revoke.
        still_via_groups: Vec<GroupGrant>,
    },
    /// There is no direct grant to remove; any access comes through these groups and stays.
    NothingDirect {
        /// The user's groups that give access (empty when there is no access at all).
        via_groups: Vec<GroupGrant>,
    },
}

impl RevokePlan {
    /// True when the plan changes the vault.
    pub fn is_change(&self) -> bool {
        matches!(self, RevokePlan::RevokeDirect { .. })
    }

    /// The groups that still give access after the plan is carried out.
    pub fn remaining_groups(&self) -> &[GroupGrant] {
        match self {
            RevokePlan::RevokeDirect {
                still_via_groups: g,
                ..
            }
            | RevokePlan::NothingDirect { via_groups: g } => g,
        }
    }
}

impl fmt::Display for RevokePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevokePlan::RevokeDirect {
                current,
                still_via_groups,
            } => {
                write!(f, "revoke direct access ({current})")?;
                if !still_via_groups.is_empty() {
                    write!(
                        f,
                        "; access through group(s) {} stays: remove the user from those groups to revoke it",
                        group_list(still_via_groups)
                    )?;
                }
                Ok(())
            }
            RevokePlan::NothingDirect { via_groups } if via_groups.is_empty() => {
                f.write_str("has no access; nothing changed")
            }
            RevokePlan::NothingDirect { via_groups } => write!(
                f,
                "has no direct access; access through group(s) {} stays: remove the user from those groups to revoke it",
                group_list(via_groups)
            ),
        }
    }
}

fn group_list(groups: &[GroupGrant]) -> String {
    groups
        .iter()
        .map(|g| g.group.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A user's effective access to a vault, and which of the user's groups give it.
///
/// `user_groups` are the groups the user is an active member of (see [`active_group_ids`]).
/// Several direct records for the same user (not expected) are combined; so are several records
/// for the same group.
pub fn effective_access<R: AccessRecord>(
    accessors: &[R],
    user: &UserId,
    user_groups: &[GroupId],
) -> EffectiveAccess {
    let mut out = EffectiveAccess::default();
    for record in accessors {
        let acl = record.permissions();
        match record.accessor() {
            AccessorRef::User(id) if id == user.as_str() => {
                out.direct = Some(out.direct.unwrap_or_default().union(acl));
            }
            AccessorRef::Group(id) if user_groups.iter().any(|g| g.as_str() == id) => {
                match out.via_groups.iter_mut().find(|g| g.group.as_str() == id) {
                    Some(existing) => existing.permissions |= acl,
                    None => out.via_groups.push(GroupGrant {
                        group: GroupId::new(id),
                        permissions: acl,
                    }),
                }
            }
            _ => {}
        }
    }
    out
}

/// A group's own grant on a vault, if it has one.
pub fn group_access<R: AccessRecord>(accessors: &[R], group: &GroupId) -> Option<VaultPermissions> {
    accessors
        .iter()
        .filter(|r| matches!(r.accessor(), AccessorRef::Group(id) if id == group.as_str()))
        .map(AccessRecord::permissions)
        .reduce(VaultPermissions::union)
}

fn checked_request(requested: VaultPermissions) -> Result<VaultPermissions, ApiError> {
    let closed = requested.with_dependencies();
    if closed.is_grantable() {
        Ok(closed)
    } else {
        Err(ApiError::InvalidInput(format!(
            "no vault permission to grant (acl {}); name at least one, for example view_items or allow_viewing",
            requested.bits()
        )))
    }
}

/// Plans granting `requested` on a vault to a user (see the module docs for the rules).
///
/// Fails with [`ApiError::InvalidInput`] when `requested` names nothing the server accepts as
/// an acl (no read, write, export, manage or recover permission).
pub fn plan_grant<R: AccessRecord>(
    accessors: &[R],
    user: &UserId,
    user_groups: &[GroupId],
    requested: VaultPermissions,
) -> Result<GrantPlan, ApiError> {
    let permissions = checked_request(requested)?;
    let access = effective_access(accessors, user, user_groups);
    Ok(match access.direct {
        Some(current) => GrantPlan::AlreadyDirect {
            current,
            missing: permissions.difference(current),
        },
        None if !access.via_groups.is_empty() => GrantPlan::CoveredByGroups {
            groups: access.via_groups,
        },
        None => GrantPlan::Grant { permissions },
    })
}

/// Plans revoking a user's access to a vault: only the direct grant is removed.
pub fn plan_revoke<R: AccessRecord>(
    accessors: &[R],
    user: &UserId,
    user_groups: &[GroupId],
) -> RevokePlan {
    let access = effective_access(accessors, user, user_groups);
    match access.direct {
        Some(current) => RevokePlan::RevokeDirect {
            current,
            still_via_groups: access.via_groups,
        },
        None => RevokePlan::NothingDirect {
            via_groups: access.via_groups,
        },
    }
}

/// Plans granting `requested` on a vault to a group: [`GrantPlan::AlreadyDirect`] when the
/// group has access, else [`GrantPlan::Grant`] (never `CoveredByGroups`).
pub fn plan_group_grant<R: AccessRecord>(
    accessors: &[R],
    group: &GroupId,
    requested: VaultPermissions,
) -> Result<GrantPlan, ApiError> {
    let permissions = checked_request(requested)?;
    Ok(match group_access(accessors, group) {
        Some(current) => GrantPlan::AlreadyDirect {
            current,
            missing: permissions.difference(current),
        },
        None => GrantPlan::Grant { permissions },
    })
}

/// Plans revoking a group's access to a vault: [`RevokePlan::RevokeDirect`] (with no remaining
/// groups) when the group has access, else [`RevokePlan::NothingDirect`] with an empty list.
pub fn plan_group_revoke<R: AccessRecord>(accessors: &[R], group: &GroupId) -> RevokePlan {
    match group_access(accessors, group) {
        Some(current) => RevokePlan::RevokeDirect {
            current,
            still_via_groups: Vec::new(),
        },
        None => RevokePlan::NothingDirect {
            via_groups: Vec::new(),
        },
    }
}

/// Which permission vocabulary an account uses: it decides how single permissions are added
/// and removed.
///
/// Business accounts have twelve permissions, each of which can be added or removed on its own
/// (with its dependencies). Teams and Families accounts have three bundles: `allow_viewing`
/// (view items, view and copy passwords, view item history), `allow_editing` (create, edit,
/// archive, delete, import, export, copy and share, print) and `allow_managing` (manage vault);
/// there a permission is added or removed with its whole bundle, so the grant stays a union of
/// bundles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PermissionScheme {
    /// The twelve Business permissions.
    #[default]
    Business,
    /// The three Teams (and Families) bundles.
    Teams,
}

impl PermissionScheme {
    /// The scheme of an account on `plan`: Teams for Teams and Families, Business otherwise
    /// (an unknown tier is treated as Business, whose finer rules never widen a request).
    pub fn for_plan(plan: &Plan) -> Self {
        match plan {
            Plan::Teams | Plan::Family => PermissionScheme::Teams,
            _ => PermissionScheme::Business,
        }
    }

    /// `permissions` widened to whole bundles under the Teams scheme (bits outside every
    /// bundle, such as Recover, kept as they are); unchanged under Business.
    pub fn widen(self, permissions: VaultPermissions) -> VaultPermissions {
        match self {
            PermissionScheme::Business => permissions,
            PermissionScheme::Teams => TEAMS_BUNDLES
                .iter()
                .filter(|b| permissions.intersects(**b))
                .fold(permissions, |acc, b| acc.union(*b)),
        }
    }
}

const TEAMS_BUNDLES: [VaultPermissions; 3] = [
    VaultPermissions::TEAMS_VIEWING,
    VaultPermissions::TEAMS_EDITING,
    VaultPermissions::TEAMS_MANAGING,
];

/// What to do to add or remove single permissions on a direct grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermissionPlan {
    /// Set the direct grant to `after` (one set-permissions write).
    Change {
        /// The direct grant now.
        before: VaultPermissions,
        /// The direct grant to set.
        after: VaultPermissions,
    },
    /// The direct grant already is what was asked: nothing to send.
    Unchanged {
        /// The direct grant.
        current: VaultPermissions,
    },
    /// Removing the permissions leaves nothing the server accepts as an acl, so the change is
    /// the revocation of the whole direct grant. For a person, access through their groups
    /// stays.
    RevokeGrant {
        /// The direct grant being removed.
        before: VaultPermissions,
        /// The person's groups that keep giving access (always empty for a group).
        still_via_groups: Vec<GroupGrant>,
    },
    /// There is no direct grant to change: grant access first. For a person, any access comes
    /// through these groups (empty when there is no access at all, and always for a group).
    NoDirectAccess {
        /// The person's groups that give access.
        via_groups: Vec<GroupGrant>,
    },
}

impl PermissionPlan {
    /// True when the plan changes the vault.
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            PermissionPlan::Change { .. } | PermissionPlan::RevokeGrant { .. }
        )
    }

    /// The direct grant after the plan is carried out (`None` without one).
    pub fn after(&self) -> Option<VaultPermissions> {
        match self {
            PermissionPlan::Change { after, .. } => Some(*after),
            PermissionPlan::Unchanged { current } => Some(*current),
            PermissionPlan::RevokeGrant { .. } | PermissionPlan::NoDirectAccess { .. } => None,
        }
    }
}

impl fmt::Display for PermissionPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PermissionPlan::Change { before, after } => {
                write!(f, "change direct access from ({before}) to ({after})")
            }
            PermissionPlan::Unchanged { current } => {
                write!(f, "direct access is already ({current}); nothing changed")
            }
            PermissionPlan::RevokeGrant {
                before,
                still_via_groups,
            } => {
                write!(
                    f,
                    "no permission would be left: revoke direct access ({before})"
                )?;
                if !still_via_groups.is_empty() {
                    write!(
                        f,
                        "; access through group(s) {} stays",
                        group_list(still_via_groups)
                    )?;
                }
                Ok(())
            }
            PermissionPlan::NoDirectAccess { via_groups } if via_groups.is_empty() => {
                f.write_str("has no access; nothing changed: grant access first")
            }
            PermissionPlan::NoDirectAccess { via_groups } => write!(
                f,
                "has no direct access (access through group(s) {}); nothing changed: grant access first",
                group_list(via_groups)
            ),
        }
    }
}

/// Checks a set of permissions to add or remove: it must name at least one permission.
fn checked_change(requested: VaultPermissions, verb: &str) -> Result<(), ApiError> {
    if requested.is_grantable() {
        Ok(())
    } else {
        Err(ApiError::InvalidInput(format!(
            "no vault permission to {verb} (acl {}); name at least one, for example view_items or allow_viewing",
            requested.bits()
        )))
    }
}

/// The direct grant after adding `added` (widened by the scheme, closed under dependencies).
fn grant_with(
    current: VaultPermissions,
    added: VaultPermissions,
    scheme: PermissionScheme,
) -> PermissionPlan {
    let after = current.union(scheme.widen(added).with_dependencies());
    if after == current {
        PermissionPlan::Unchanged { current }
    } else {
        PermissionPlan::Change {
            before: current,
            after,
        }
    }
}

/// The direct grant after removing `removed` (widened by the scheme) and its dependents.
fn grant_without(
    current: VaultPermissions,
    removed: VaultPermissions,
    scheme: PermissionScheme,
    still_via_groups: Vec<GroupGrant>,
) -> PermissionPlan {
    let after = current.without_dependents(scheme.widen(removed));
    if after == current {
        PermissionPlan::Unchanged { current }
    } else if !after.is_grantable() {
        PermissionPlan::RevokeGrant {
            before: current,
            still_via_groups,
        }
    } else {
        PermissionPlan::Change {
            before: current,
            after,
        }
    }
}

/// Plans adding `added` to a person's direct grant: the added permissions (under the Teams
/// scheme, their whole bundles) closed under their dependencies, joined to the grant. Unlike
/// [`plan_grant`], a direct grant is changed; without one nothing is granted
/// ([`PermissionPlan::NoDirectAccess`], naming the groups that give access).
///
/// Fails with [`ApiError::InvalidInput`] when `added` names no permission.
pub fn plan_add_permissions<R: AccessRecord>(
    accessors: &[R],
    user: &UserId,
    user_groups: &[GroupId],
    added: VaultPermissions,
    scheme: PermissionScheme,
) -> Result<PermissionPlan, ApiError> {
    checked_change(added, "add")?;
    let access = effective_access(accessors, user, user_groups);
    Ok(match access.direct {
        Some(current) => grant_with(current, added, scheme),
        None => PermissionPlan::NoDirectAccess {
            via_groups: access.via_groups,
        },
    })
}

/// Plans removing `removed` from a person's direct grant, together with every permission that
/// depends on a removed one (under the Teams scheme, whole bundles: removing `allow_viewing`
/// removes `allow_editing` too). When nothing would be left, the plan is to revoke the direct
/// grant ([`PermissionPlan::RevokeGrant`]); access through groups is never touched and is
/// reported.
///
/// Fails with [`ApiError::InvalidInput`] when `removed` names no permission.
pub fn plan_remove_permissions<R: AccessRecord>(
    accessors: &[R],
    user: &UserId,
    user_groups: &[GroupId],
    removed: VaultPermissions,
    scheme: PermissionScheme,
) -> Result<PermissionPlan, ApiError> {
    checked_change(removed, "remove")?;
    let access = effective_access(accessors, user, user_groups);
    Ok(match access.direct {
        Some(current) => grant_without(current, removed, scheme, access.via_groups),
        None => PermissionPlan::NoDirectAccess {
            via_groups: access.via_groups,
        },
    })
}

/// [`plan_add_permissions`] for a group's own grant.
pub fn plan_group_add_permissions<R: AccessRecord>(
    accessors: &[R],
    group: &GroupId,
    added: VaultPermissions,
    scheme: PermissionScheme,
) -> Result<PermissionPlan, ApiError> {
    checked_change(added, "add")?;
    Ok(match group_access(accessors, group) {
        Some(current) => grant_with(current, added, scheme),
        None => PermissionPlan::NoDirectAccess {
            via_groups: Vec::new(),
        },
    })
}

/// [`plan_remove_permissions`] for a group's own grant.
pub fn plan_group_remove_permissions<R: AccessRecord>(
    accessors: &[R],
    group: &GroupId,
    removed: VaultPermissions,
    scheme: PermissionScheme,
) -> Result<PermissionPlan, ApiError> {
    checked_change(removed, "remove")?;
    Ok(match group_access(accessors, group) {
        Some(current) => grant_without(current, removed, scheme, Vec::new()),
        None => PermissionPlan::NoDirectAccess {
            via_groups: Vec::new(),
        },
    })
}

/// True when the (signed-in) user holds the Manage permission on the vault, directly or through
/// one of `user_groups`: the condition for changing the vault's access.
pub fn can_manage_vault<R: AccessRecord>(
    accessors: &[R],
    user: &UserId,
    user_groups: &[GroupId],
) -> bool {
    effective_access(accessors, user, user_groups).can_manage()
}

/// Like [`can_manage_vault`], as a check: [`ApiError::NoManageVaultPermission`] when the user
/// may not change the vault's access.
pub fn require_manage<R: AccessRecord>(
    accessors: &[R],
    user: &UserId,
    user_groups: &[GroupId],
) -> Result<(), ApiError> {
    if can_manage_vault(accessors, user, user_groups) {
        Ok(())
    } else {
        Err(ApiError::NoManageVaultPermission)
    }
}

/// The groups a user is an active member of, from membership records (for example a group's
/// `memberships`, or a person's): records of other users and non-active memberships are
/// skipped; each group appears once.
pub fn active_group_ids<'a, I>(memberships: I, user: &UserId) -> Vec<GroupId>
where
    I: IntoIterator<Item = &'a GroupMembership>,
{
    let mut out: Vec<GroupId> = Vec::new();
    for m in memberships {
        if &m.member_uuid == user && m.state == GroupState::Active && !out.contains(&m.group_uuid) {
            out.push(m.group_uuid.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::GroupRole;
    use VaultPermissions as P;

    fn user(id: &str) -> UserId {
        UserId::new(id)
    }
    fn group(id: &str) -> GroupId {
        GroupId::new(id)
    }
    fn u(id: &str, p: P) -> Accessor {
        Accessor::user(user(id), p)
    }
    fn g(id: &str, p: P) -> Accessor {
        Accessor::group(group(id), p)
    }
    fn grant(id: &str, p: P) -> GroupGrant {
        GroupGrant {
            group: group(id),
            permissions: p,
        }
    }

    const ALICE: &str = "ALICE";
    const BOB: &str = "BOB";

    #[test]
    fn effective_access_is_the_union_and_names_groups() {
        let vault = [
            u(ALICE, P::READ_ITEM),
            g("eng", P::UPDATE_ITEM | P::REVEAL_PASSWORD | P::READ_ITEM),
            g("ops", P::MANAGE),
            g("sales", P::ALL),
            u(BOB, P::RWE),
        ];
        let groups = [group("eng"), group("ops")];
        let access = effective_access(&vault, &user(ALICE), &groups);
        assert_eq!(access.direct, Some(P::READ_ITEM));
        assert_eq!(
            access.via_groups,
            vec![
                grant("eng", P::UPDATE_ITEM | P::REVEAL_PASSWORD | P::READ_ITEM),
                grant("ops", P::MANAGE)
            ]
        );
        assert_eq!(
            access.permissions(),
            P::READ_ITEM | P::UPDATE_ITEM | P::REVEAL_PASSWORD | P::MANAGE
        );
        assert!(access.has_access());
        assert!(access.can_manage());
        assert_eq!(
            access.groups().collect::<Vec<_>>(),
            vec![&group("eng"), &group("ops")]
        );
        assert_eq!(access.groups_granting(P::MANAGE), vec![&group("ops")]);
        assert_eq!(access.groups_granting(P::READ_ITEM), vec![&group("eng")]);
    }

    #[test]
    fn effective_access_with_no_access() {
        let vault = [u(BOB, P::RWE), g("sales", P::RWE)];
        let access = effective_access(&vault, &user(ALICE), &[group("eng")]);
        assert_eq!(access, EffectiveAccess::default());
        assert!(!access.has_access());
        assert_eq!(access.permissions(), P::NONE);
        assert!(!access.can_manage());
        let empty: [Accessor; 0] = [];
        assert!(!effective_access(&empty, &user(ALICE), &[]).has_access());
    }

    #[test]
    fn duplicate_records_are_combined() {
        let vault = [
            u(ALICE, P::READ_ITEM),
            u(ALICE, P::MANAGE),
            g("eng", P::READ_ITEM),
            g("eng", P::PRINT),
        ];
        let groups = [group("eng"), group("eng")];
        let access = effective_access(&vault, &user(ALICE), &groups);
        assert_eq!(access.direct, Some(P::READ_ITEM | P::MANAGE));
        assert_eq!(
            access.via_groups,
            vec![grant("eng", P::READ_ITEM | P::PRINT)]
        );
    }

    #[test]
    fn ids_are_matched_exactly() {
        // Another user's record and a group with the user's id do not count.
        let vault = [u("alice", P::RWE), g(ALICE, P::RWE)];
        assert!(!effective_access(&vault, &user(ALICE), &[]).has_access());
    }

    #[test]
    fn grant_to_user_without_access_grants_with_dependencies() {
        let vault = [u(BOB, P::RWE | P::MANAGE), g("sales", P::RWE)];
        let plan = plan_grant(&vault, &user(ALICE), &[group("eng")], P::EXPORT).unwrap();
        assert_eq!(
            plan,
            GrantPlan::Grant {
                permissions: P::EXPORT | P::VIEW_HISTORY | P::REVEAL_PASSWORD | P::READ_ITEM
            }
        );
        assert!(plan.is_change());
        assert_eq!(plan.permissions_to_grant(), Some(plan_grant_perm(&plan)));
        // Empty group list, empty vault.
        let empty: [Accessor; 0] = [];
        assert_eq!(
            plan_grant(&empty, &user(ALICE), &[], P::MANAGE).unwrap(),
            GrantPlan::Grant {
                permissions: P::MANAGE
            }
        );
        assert_eq!(
            plan_grant(&empty, &user(ALICE), &[], P::TEAMS_EDITING).unwrap(),
            GrantPlan::Grant {
                permissions: P::RWE
            }
        );
    }

    fn plan_grant_perm(plan: &GrantPlan) -> P {
        match plan {
            GrantPlan::Grant { permissions } => *permissions,
            _ => P::NONE,
        }
    }

    #[test]
    fn grant_to_user_with_direct_access_changes_nothing() {
        let vault = [u(ALICE, P::READ_ITEM), g("eng", P::RWE)];
        let plan = plan_grant(&vault, &user(ALICE), &[group("eng")], P::UPDATE_ITEM).unwrap();
        assert_eq!(
            plan,
            GrantPlan::AlreadyDirect {
                current: P::READ_ITEM,
                missing: P::UPDATE_ITEM | P::REVEAL_PASSWORD
            }
        );
        assert!(!plan.is_change());
        assert_eq!(plan.permissions_to_grant(), None);
        // Direct access with everything asked: nothing missing.
        let plan = plan_grant(&vault, &user(ALICE), &[], P::READ_ITEM).unwrap();
        assert_eq!(
            plan,
            GrantPlan::AlreadyDirect {
                current: P::READ_ITEM,
                missing: P::NONE
            }
        );
        assert!(plan.to_string().contains("already has direct access"));
    }

    #[test]
    fn grant_to_user_covered_by_groups_is_not_added() {
        let vault = [
            g("eng", P::READ_ITEM),
            g("ops", P::MANAGE),
            g("sales", P::RWE),
        ];
        // In several groups, two of which have access (even with fewer permissions than asked).
        let plan = plan_grant(
            &vault,
            &user(ALICE),
            &[group("ops"), group("hr"), group("eng")],
            P::RWE,
        )
        .unwrap();
        assert_eq!(
            plan,
            GrantPlan::CoveredByGroups {
                groups: vec![grant("eng", P::READ_ITEM), grant("ops", P::MANAGE)]
            }
        );
        assert!(!plan.is_change());
        assert!(plan.to_string().contains("eng, ops"));
        // In groups, none of which has access: granted.
        let plan = plan_grant(&vault, &user(ALICE), &[group("hr")], P::READ_ITEM).unwrap();
        assert_eq!(
            plan,
            GrantPlan::Grant {
                permissions: P::READ_ITEM
            }
        );
    }

    #[test]
    fn owners_group_with_manage_only_covers_the_user() {
        // The Owners group holds Manage (acl 2) on shared vaults; the integration write-up's rule counts it (docs/requirements.md).
        let vault = [g("owners", P::MANAGE)];
        let plan = plan_grant(&vault, &user(ALICE), &[group("owners")], P::READ_ITEM).unwrap();
        assert!(matches!(plan, GrantPlan::CoveredByGroups { .. }));
    }

    #[test]
    fn guests_follow_the_same_rules() {
        // A guest is in no group: granted directly; with a direct grant, nothing changes.
        let guest = user("GUEST");
        let vault = [g("eng", P::RWE)];
        assert_eq!(
            plan_grant(&vault, &guest, &[], P::READ_ITEM).unwrap(),
            GrantPlan::Grant {
                permissions: P::READ_ITEM
            }
        );
        let vault = [u("GUEST", P::READ_ITEM), g("eng", P::RWE)];
        assert!(matches!(
            plan_grant(&vault, &guest, &[], P::READ_ITEM).unwrap(),
            GrantPlan::AlreadyDirect { .. }
        ));
        assert_eq!(
            plan_revoke(&vault, &guest, &[]),
            RevokePlan::RevokeDirect {
                current: P::READ_ITEM,
                still_via_groups: vec![]
            }
        );
    }

    #[test]
    fn grant_of_nothing_is_invalid_input() {
        let empty: [Accessor; 0] = [];
        let err = plan_grant(&empty, &user(ALICE), &[], P::NONE).unwrap_err();
        assert!(matches!(err, ApiError::InvalidInput(_)));
        assert!(matches!(
            plan_grant(&empty, &user(ALICE), &[], P::from_bits(1 << 29)),
            Err(ApiError::InvalidInput(_))
        ));
        assert!(matches!(
            plan_group_grant(&empty, &group("eng"), P::NONE),
            Err(ApiError::InvalidInput(_))
        ));
        // Checked before looking at the vault: the same answer with direct access.
        let vault = [u(ALICE, P::RWE)];
        assert!(plan_grant(&vault, &user(ALICE), &[], P::NONE).is_err());
    }

    #[test]
    fn revoke_direct_only() {
        let vault = [
            u(ALICE, P::RWE),
            g("eng", P::READ_ITEM),
            g("ops", P::MANAGE),
        ];
        let plan = plan_revoke(&vault, &user(ALICE), &[group("eng")]);
        assert_eq!(
            plan,
            RevokePlan::RevokeDirect {
                current: P::RWE,
                still_via_groups: vec![grant("eng", P::READ_ITEM)]
            }
        );
        assert!(plan.is_change());
        assert_eq!(plan.remaining_groups(), &[grant("eng", P::READ_ITEM)]);
        assert!(
            plan.to_string()
                .contains("remove the user from those groups")
        );
        // Direct only: nothing remains.
        let plan = plan_revoke(&vault, &user(ALICE), &[]);
        assert_eq!(
            plan,
            RevokePlan::RevokeDirect {
                current: P::RWE,
                still_via_groups: vec![]
            }
        );
        assert_eq!(
            plan.to_string(),
            format!("revoke direct access ({})", P::RWE)
        );
    }

    #[test]
    fn revoke_without_direct_access() {
        let vault = [g("eng", P::READ_ITEM), u(BOB, P::RWE)];
        let plan = plan_revoke(&vault, &user(ALICE), &[group("eng"), group("ops")]);
        assert_eq!(
            plan,
            RevokePlan::NothingDirect {
                via_groups: vec![grant("eng", P::READ_ITEM)]
            }
        );
        assert!(!plan.is_change());
        let plan = plan_revoke(&vault, &user(ALICE), &[]);
        assert_eq!(plan, RevokePlan::NothingDirect { via_groups: vec![] });
        assert_eq!(plan.to_string(), "has no access; nothing changed");
    }

    #[test]
    fn group_grant_and_revoke() {
        let vault = [g("eng", P::READ_ITEM), u(ALICE, P::RWE)];
        assert_eq!(
            plan_group_grant(&vault, &group("eng"), P::UPDATE_ITEM).unwrap(),
            GrantPlan::AlreadyDirect {
                current: P::READ_ITEM,
                missing: P::UPDATE_ITEM | P::REVEAL_PASSWORD
            }
        );
        assert_eq!(
            plan_group_grant(&vault, &group("ops"), P::DELETE_ITEM).unwrap(),
            GrantPlan::Grant {
                permissions: P::DELETE_ITEM | P::UPDATE_ITEM | P::REVEAL_PASSWORD | P::READ_ITEM
            }
        );
        // A user record with the group's id is not the group's.
        assert!(
            plan_group_grant(&[u("eng", P::RWE)], &group("eng"), P::READ_ITEM)
                .unwrap()
                .is_change()
        );
        assert_eq!(
            plan_group_revoke(&vault, &group("eng")),
            RevokePlan::RevokeDirect {
                current: P::READ_ITEM,
                still_via_groups: vec![]
            }
        );
        assert_eq!(
            plan_group_revoke(&vault, &group("ops")),
            RevokePlan::NothingDirect { via_groups: vec![] }
        );
        assert_eq!(group_access(&vault, &group("eng")), Some(P::READ_ITEM));
        assert_eq!(group_access(&vault, &group("ops")), None);
    }

    #[test]
    fn manage_permission() {
        let vault = [
            u(ALICE, P::RWE),
            g("admins", P::MANAGE),
            u(BOB, P::RWE | P::MANAGE),
        ];
        // Through a group.
        assert!(can_manage_vault(&vault, &user(ALICE), &[group("admins")]));
        // Not without the group: RWE alone does not include Manage.
        assert!(!can_manage_vault(&vault, &user(ALICE), &[]));
        assert!(matches!(
            require_manage(&vault, &user(ALICE), &[]),
            Err(ApiError::NoManageVaultPermission)
        ));
        // Directly.
        assert!(can_manage_vault(&vault, &user(BOB), &[]));
        assert!(require_manage(&vault, &user(BOB), &[]).is_ok());
        // No access at all.
        assert!(!can_manage_vault(&vault, &user("CAROL"), &[group("eng")]));
        // ALL includes Manage.
        assert!(can_manage_vault(&[u(ALICE, P::ALL)], &user(ALICE), &[]));
    }

    const BIZ: PermissionScheme = PermissionScheme::Business;
    const TEAMS: PermissionScheme = PermissionScheme::Teams;

    #[test]
    fn scheme_of_each_plan() {
        assert_eq!(PermissionScheme::for_plan(&Plan::Business), BIZ);
        assert_eq!(PermissionScheme::for_plan(&Plan::Teams), TEAMS);
        assert_eq!(PermissionScheme::for_plan(&Plan::Family), TEAMS);
        assert_eq!(PermissionScheme::for_plan(&Plan::Unknown("x".into())), BIZ);
        assert_eq!(BIZ.widen(P::UPDATE_ITEM), P::UPDATE_ITEM);
        assert_eq!(TEAMS.widen(P::UPDATE_ITEM), P::TEAMS_EDITING);
        assert_eq!(
            TEAMS.widen(P::READ_ITEM | P::MANAGE | P::RECOVER),
            P::TEAMS_VIEWING | P::MANAGE | P::RECOVER
        );
        assert_eq!(TEAMS.widen(P::NONE), P::NONE);
    }

    #[test]
    fn add_permissions_to_a_direct_grant() {
        let vault = [u(ALICE, P::READ_ITEM), g("eng", P::RWE)];
        let plan =
            plan_add_permissions(&vault, &user(ALICE), &[group("eng")], P::EXPORT, BIZ).unwrap();
        assert_eq!(
            plan,
            PermissionPlan::Change {
                before: P::READ_ITEM,
                after: P::READ_ITEM | P::EXPORT | P::VIEW_HISTORY | P::REVEAL_PASSWORD
            }
        );
        assert!(plan.is_change());
        assert_eq!(
            plan.after(),
            Some(P::READ_ITEM | P::EXPORT | P::VIEW_HISTORY | P::REVEAL_PASSWORD)
        );
        assert!(plan.to_string().starts_with("change direct access"));
        // Several at once, one of them held already.
        let plan = plan_add_permissions(
            &vault,
            &user(ALICE),
            &[],
            P::READ_ITEM | P::MANAGE | P::CREATE_ITEM,
            BIZ,
        )
        .unwrap();
        assert_eq!(
            plan.after(),
            Some(P::READ_ITEM | P::MANAGE | P::CREATE_ITEM)
        );
        // Everything asked (with dependencies) is held: unchanged.
        let vault = [u(ALICE, P::RWE)];
        let plan = plan_add_permissions(&vault, &user(ALICE), &[], P::PRINT | P::DELETE_ITEM, BIZ)
            .unwrap();
        assert_eq!(plan, PermissionPlan::Unchanged { current: P::RWE });
        assert!(!plan.is_change());
        assert!(plan.to_string().contains("nothing changed"));
    }

    #[test]
    fn remove_permissions_takes_dependents_along() {
        let full = P::RWE | P::MANAGE;
        let vault = [u(ALICE, full), g("eng", P::READ_ITEM)];
        let plan = plan_remove_permissions(
            &vault,
            &user(ALICE),
            &[group("eng")],
            P::REVEAL_PASSWORD,
            BIZ,
        )
        .unwrap();
        assert_eq!(
            plan,
            PermissionPlan::Change {
                before: full,
                after: P::READ_ITEM | P::CREATE_ITEM | P::IMPORT | P::MANAGE
            }
        );
        // A permission with no dependents goes alone.
        let plan = plan_remove_permissions(&vault, &user(ALICE), &[], P::PRINT, BIZ).unwrap();
        assert_eq!(plan.after(), Some(full - P::PRINT));
        // A permission not held: unchanged.
        let vault = [u(ALICE, P::READ_ITEM)];
        assert_eq!(
            plan_remove_permissions(&vault, &user(ALICE), &[], P::DELETE_ITEM, BIZ).unwrap(),
            PermissionPlan::Unchanged {
                current: P::READ_ITEM
            }
        );
    }

    #[test]
    fn removing_everything_revokes_the_grant() {
        let vault = [
            u(ALICE, P::RWE),
            g("eng", P::READ_ITEM),
            g("ops", P::MANAGE),
        ];
        let plan =
            plan_remove_permissions(&vault, &user(ALICE), &[group("eng")], P::READ_ITEM, BIZ)
                .unwrap();
        assert_eq!(
            plan,
            PermissionPlan::RevokeGrant {
                before: P::RWE,
                still_via_groups: vec![grant("eng", P::READ_ITEM)]
            }
        );
        assert!(plan.is_change());
        assert_eq!(plan.after(), None);
        assert!(plan.to_string().contains("revoke direct access"));
        assert!(plan.to_string().contains("eng"));
        // Naming every permission held does the same.
        let vault = [u(ALICE, P::MANAGE | P::READ_ITEM)];
        assert_eq!(
            plan_remove_permissions(&vault, &user(ALICE), &[], P::MANAGE | P::READ_ITEM, BIZ)
                .unwrap(),
            PermissionPlan::RevokeGrant {
                before: P::MANAGE | P::READ_ITEM,
                still_via_groups: vec![]
            }
        );
    }

    #[test]
    fn no_direct_grant_changes_nothing_and_names_groups() {
        let vault = [g("eng", P::READ_ITEM), g("ops", P::MANAGE), u(BOB, P::RWE)];
        let groups = [group("eng"), group("hr")];
        for plan in [
            plan_add_permissions(&vault, &user(ALICE), &groups, P::UPDATE_ITEM, BIZ).unwrap(),
            plan_remove_permissions(&vault, &user(ALICE), &groups, P::READ_ITEM, BIZ).unwrap(),
        ] {
            assert_eq!(
                plan,
                PermissionPlan::NoDirectAccess {
                    via_groups: vec![grant("eng", P::READ_ITEM)]
                }
            );
            assert!(!plan.is_change());
            assert!(plan.to_string().contains("eng"));
        }
        let plan = plan_add_permissions(&vault, &user(ALICE), &[], P::READ_ITEM, BIZ).unwrap();
        assert_eq!(plan, PermissionPlan::NoDirectAccess { via_groups: vec![] });
        assert!(plan.to_string().starts_with("has no access"));
    }

    #[test]
    fn group_permission_changes() {
        let vault = [g("eng", P::READ_ITEM), u("eng", P::RWE)];
        assert_eq!(
            plan_group_add_permissions(&vault, &group("eng"), P::DELETE_ITEM, BIZ).unwrap(),
            PermissionPlan::Change {
                before: P::READ_ITEM,
                after: P::DELETE_ITEM | P::UPDATE_ITEM | P::REVEAL_PASSWORD | P::READ_ITEM
            }
        );
        assert_eq!(
            plan_group_remove_permissions(&vault, &group("eng"), P::READ_ITEM, BIZ).unwrap(),
            PermissionPlan::RevokeGrant {
                before: P::READ_ITEM,
                still_via_groups: vec![]
            }
        );
        // A user record with the group's id is not the group's grant.
        assert_eq!(
            plan_group_add_permissions(&vault, &group("ops"), P::READ_ITEM, BIZ).unwrap(),
            PermissionPlan::NoDirectAccess { via_groups: vec![] }
        );
        assert_eq!(
            plan_group_remove_permissions(&[u("ops", P::RWE)], &group("ops"), P::READ_ITEM, BIZ)
                .unwrap(),
            PermissionPlan::NoDirectAccess { via_groups: vec![] }
        );
        let vault = [g("eng", P::RWE | P::MANAGE)];
        assert_eq!(
            plan_group_remove_permissions(&vault, &group("eng"), P::MANAGE, BIZ)
                .unwrap()
                .after(),
            Some(P::RWE)
        );
    }

    #[test]
    fn teams_work_in_whole_bundles() {
        // Adding one Business bit of allow_editing adds the bundle, and allow_viewing with it.
        let vault = [u(ALICE, P::TEAMS_VIEWING), g("eng", P::TEAMS_VIEWING)];
        assert_eq!(
            plan_add_permissions(&vault, &user(ALICE), &[], P::UPDATE_ITEM, TEAMS).unwrap(),
            PermissionPlan::Change {
                before: P::TEAMS_VIEWING,
                after: P::RWE
            }
        );
        assert_eq!(
            plan_group_add_permissions(&vault, &group("eng"), P::TEAMS_MANAGING, TEAMS).unwrap(),
            PermissionPlan::Change {
                before: P::TEAMS_VIEWING,
                after: P::TEAMS_VIEWING | P::MANAGE
            }
        );
        // Removing one bit of allow_editing removes the bundle; Business removes only it.
        let vault = [u(ALICE, P::RWE | P::MANAGE)];
        let teams = plan_remove_permissions(&vault, &user(ALICE), &[], P::PRINT, TEAMS).unwrap();
        assert_eq!(teams.after(), Some(P::TEAMS_VIEWING | P::MANAGE));
        assert_eq!(
            teams.after().and_then(VaultPermissions::teams_names),
            Some(vec!["allow_viewing", "allow_managing"])
        );
        let business = plan_remove_permissions(&vault, &user(ALICE), &[], P::PRINT, BIZ).unwrap();
        assert_eq!(business.after(), Some((P::RWE | P::MANAGE) - P::PRINT));
        // Removing allow_viewing removes allow_editing too.
        assert_eq!(
            plan_remove_permissions(&vault, &user(ALICE), &[], P::TEAMS_VIEWING, TEAMS)
                .unwrap()
                .after(),
            Some(P::MANAGE)
        );
        assert_eq!(
            plan_group_remove_permissions(&[g("eng", P::RWE)], &group("eng"), P::READ_ITEM, TEAMS)
                .unwrap(),
            PermissionPlan::RevokeGrant {
                before: P::RWE,
                still_via_groups: vec![]
            }
        );
    }

    #[test]
    fn changing_nothing_is_invalid_input() {
        let vault = [u(ALICE, P::RWE), g("eng", P::RWE)];
        for requested in [P::NONE, P::from_bits(1 << 29)] {
            assert!(matches!(
                plan_add_permissions(&vault, &user(ALICE), &[], requested, BIZ),
                Err(ApiError::InvalidInput(_))
            ));
            assert!(matches!(
                plan_remove_permissions(&vault, &user(ALICE), &[], requested, TEAMS),
                Err(ApiError::InvalidInput(_))
            ));
            assert!(matches!(
                plan_group_add_permissions(&vault, &group("eng"), requested, BIZ),
                Err(ApiError::InvalidInput(_))
            ));
            assert!(matches!(
                plan_group_remove_permissions(&vault, &group("eng"), requested, BIZ),
                Err(ApiError::InvalidInput(_))
            ));
        }
    }

    mod single_permission_laws {
        use super::*;
        use proptest::prelude::*;

        const KNOWN: [P; 13] = [
            P::READ_ITEM,
            P::CREATE_ITEM,
            P::UPDATE_ITEM,
            P::ARCHIVE_ITEM,
            P::DELETE_ITEM,
            P::REVEAL_PASSWORD,
            P::VIEW_HISTORY,
            P::IMPORT,
            P::EXPORT,
            P::SEND_ITEM,
            P::PRINT,
            P::MANAGE,
            P::RECOVER,
        ];

        fn perms() -> impl Strategy<Value = P> {
            proptest::collection::vec(proptest::sample::select(KNOWN.to_vec()), 0..6)
                .prop_map(|v| v.into_iter().collect())
        }

        fn scheme() -> impl Strategy<Value = PermissionScheme> {
            prop_oneof![Just(BIZ), Just(TEAMS)]
        }

        proptest! {
            #[test]
            fn removal_leaves_nothing_dangling(
                held in perms(), removed in perms(), scheme in scheme(), as_group in any::<bool>()
            ) {
                let current = scheme.widen(held).with_dependencies();
                prop_assume!(current.is_grantable() && removed.is_grantable());
                let plan = if as_group {
                    plan_group_remove_permissions(&[g("eng", current)], &group("eng"), removed, scheme)
                } else {
                    plan_remove_permissions(&[u(ALICE, current)], &user(ALICE), &[], removed, scheme)
                }.unwrap();
                match plan {
                    PermissionPlan::Change { before, after } => {
                        prop_assert_eq!(before, current);
                        prop_assert!(current.contains(after) && after != current);
                        prop_assert!(!after.intersects(removed));
                        // Nothing left needs anything that was removed.
                        prop_assert_eq!(after.with_dependencies(), after);
                        let gone = current - after;
                        for &p in &KNOWN {
                            if after.contains(p) {
                                prop_assert!(!P::dependencies_of(p).intersects(gone));
                            }
                        }
                        if scheme == TEAMS {
                            prop_assert!(after.teams_names().is_some() || after.contains(P::RECOVER));
                        }
                    }
                    PermissionPlan::Unchanged { current: c } => {
                        prop_assert_eq!(c, current);
                        prop_assert!(!current.intersects(removed));
                    }
                    PermissionPlan::RevokeGrant { before, still_via_groups } => {
                        prop_assert_eq!(before, current);
                        prop_assert!(still_via_groups.is_empty());
                        prop_assert!(!current.without_dependents(scheme.widen(removed)).is_grantable());
                    }
                    PermissionPlan::NoDirectAccess { .. } => prop_assert!(false, "has a direct grant"),
                }
            }

            #[test]
            fn addition_is_closed_and_keeps_what_was_held(
                held in perms(), added in perms(), scheme in scheme(), as_group in any::<bool>()
            ) {
                let current = scheme.widen(held).with_dependencies();
                prop_assume!(current.is_grantable() && added.is_grantable());
                let plan = if as_group {
                    plan_group_add_permissions(&[g("eng", current)], &group("eng"), added, scheme)
                } else {
                    plan_add_permissions(&[u(ALICE, current)], &user(ALICE), &[], added, scheme)
                }.unwrap();
                let after = plan.after().expect("a direct grant stays");
                prop_assert!(after.contains(current) && after.contains(added));
                prop_assert_eq!(after.with_dependencies(), after);
                prop_assert_eq!(plan.is_change(), after != current);
                if scheme == TEAMS {
                    prop_assert_eq!(scheme.widen(after), after);
                }
            }
        }
    }

    fn membership(group: &str, member: &str, state: GroupState) -> GroupMembership {
        GroupMembership {
            group_uuid: GroupId::new(group),
            member_uuid: UserId::new(member),
            role: GroupRole::Member,
            state,
            version: None,
            keyset: None,
            created_at: None,
            updated_at: None,
        }
    }

    #[test]
    fn active_group_ids_skips_others_and_inactive() {
        let ms = [
            membership("eng", ALICE, GroupState::Active),
            membership("ops", ALICE, GroupState::Deleted),
            membership("hr", ALICE, GroupState::Inactive),
            membership("sales", BOB, GroupState::Active),
            membership("eng", ALICE, GroupState::Active),
        ];
        assert_eq!(active_group_ids(&ms, &user(ALICE)), vec![group("eng")]);
        assert_eq!(active_group_ids(&ms, &user("CAROL")), Vec::<GroupId>::new());
    }

    #[test]
    fn works_on_server_records() {
        use opadmin_crypto::envelope::Envelope;
        let env = Envelope {
            kid: "k".into(),
            enc: "RSA-OAEP".into(),
            cty: "b5+jwk+json".into(),
            iv: None,
            data: "AA".into(),
            alg: None,
            p2s: None,
            p2c: None,
        };
        let rec = |t: AccessorType, id: &str, acl: P| VaultAccess {
            vault_uuid: "v".into(),
            accessor_type: t,
            accessor_uuid: id.into(),
            acl,
            lease_timeout: 0,
            vault_key_sn: 1,
            encrypted_by: "k".into(),
            enc_vault_key: env.clone(),
        };
        let vault = vec![
            rec(AccessorType::User, ALICE, P::RWE),
            rec(AccessorType::Group, "eng", P::MANAGE),
            rec(AccessorType::Unknown, ALICE, P::ALL),
        ];
        let access = effective_access(&vault, &user(ALICE), &[group("eng")]);
        assert_eq!(access.direct, Some(P::RWE));
        assert_eq!(access.permissions(), P::RWE | P::MANAGE);
        // Slices of references work too.
        let refs: Vec<&VaultAccess> = vault.iter().collect();
        assert!(can_manage_vault(&refs, &user(ALICE), &[group("eng")]));
    }
}
