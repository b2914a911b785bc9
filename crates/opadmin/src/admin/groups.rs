//! Groups: reading them, membership and roles.

use futures::{StreamExt, TryStreamExt};
use opadmin_api::account::AccountAttr;
use opadmin_api::models::{self, GroupMembershipPatch, MemberAddition};
use opadmin_api::types::{GroupId, GroupRole, GroupState, UserId};

use super::converge::Converged;
use super::{Admin, named_not_found};
use crate::error::{Error, Result};
use crate::model::{Group, GroupMember, MembershipOutcome, UserRef};

/// A group's active members, with their roles.
pub(crate) fn active_members(g: &models::Group) -> Vec<GroupMember> {
    g.memberships
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|m| m.state == GroupState::Active)
        .map(|m| GroupMember::new(m.member_uuid.clone(), m.role))
        .collect()
}

/// A group with its active members.
pub(super) fn group_from(g: models::Group) -> Group {
    let members = active_members(&g);
    Group::new(g.uuid, g.name, g.group_type, members)
}

// The membership rules, shared by the direct methods below and by plans (`crate::plan`): each
// takes a group's active members as read (or as a plan predicts them).

/// A person's role in a group, if they are an active member.
pub(crate) fn active_role(members: &[GroupMember], user: &UserId) -> Option<GroupRole> {
    members.iter().find(|m| &m.user == user).map(|m| m.role)
}

/// Adding a member: an active member is left as they are (`AlreadyMember`, whatever their
/// role); anyone else is added with `role`.
pub(crate) fn add_rule(
    members: &[GroupMember],
    user: &UserId,
    role: GroupRole,
) -> MembershipOutcome {
    match active_role(members, user) {
        Some(current) => MembershipOutcome::AlreadyMember { role: current },
        None => MembershipOutcome::Added { role },
    }
}

/// Removing a member: someone who is not an active member is `NotMember`.
pub(crate) fn remove_rule(members: &[GroupMember], user: &UserId) -> MembershipOutcome {
    match active_role(members, user) {
        Some(_) => MembershipOutcome::Removed,
        None => MembershipOutcome::NotMember,
    }
}

/// Changing a member's role: only an active member has one (`InvalidState` otherwise, naming
/// the person and the group). Answers the current role.
pub(crate) fn role_rule(
    members: &[GroupMember],
    user: &UserId,
    group_name: &str,
) -> Result<GroupRole> {
    active_role(members, user)
        .ok_or_else(|| Error::InvalidState(format!("{user} is not a member of {group_name}")))
}

impl Admin {
    /// One group the signed-in identity can see, with members and roles.
    pub async fn group(&self, group: &GroupId) -> Result<Group> {
        let g = self.visible_group(group).await?;
        self.inner.keys.learn_group(&g);
        Ok(group_from(g))
    }

    /// Every group the administrator can see, with members and roles.
    pub async fn groups(&self) -> Result<Vec<Group>> {
        let account = self.client().account_with(&[AccountAttr::Groups]).await?;
        let wire = account.groups.unwrap_or_default();
        for g in &wire {
            self.inner.keys.learn_group(g);
        }
        self.groups_in(&wire).await
    }

    pub(super) async fn groups_in(&self, wire_groups: &[models::Group]) -> Result<Vec<Group>> {
        let client = self.client().clone();
        let ids: Vec<GroupId> = wire_groups.iter().map(|g| g.uuid.clone()).collect();
        futures::stream::iter(ids.into_iter().map(move |id| {
            let client = client.clone();
            async move { client.group(&id).await }
        }))
        .buffered(self.inner.concurrency)
        .map_ok(group_from)
        .try_collect()
        .await
        .map_err(Error::from)
    }

    /// A group the administrator can see.
    pub(crate) async fn visible_group(&self, group: &GroupId) -> Result<models::Group> {
        named_not_found(self.client().group(group).await, || {
            format!("group {group}")
        })
    }

    /// A person's role in a group as the server has it now, if they are an active member.
    async fn role_in(&self, group: &GroupId, user: &UserId) -> Result<Option<GroupRole>> {
        let g = self.visible_group(group).await?;
        Ok(active_role(&active_members(&g), user))
    }

    /// Adds a person to a group with a role. The group's keyset is wrapped to the new member's
    /// public key (the administrator must hold it: as a member, or through Recovery).
    pub async fn add_to_group(
        &self,
        group: &GroupId,
        user: impl Into<UserRef>,
        role: GroupRole,
    ) -> Result<MembershipOutcome> {
        self.deny_service_account("adding a person to a group")?;
        let user_id = self.id_of(user).await?;
        let g = self.visible_group(group).await?;
        let decided = add_rule(&active_members(&g), &user_id, role);
        if !matches!(decided, MembershipOutcome::Added { .. }) {
            return Ok(decided);
        }
        let keyset = self.inner.keys.group_keyset(&g)?;
        let public = self.user_public_key(&user_id).await?;
        let patch = GroupMembershipPatch {
            add: vec![MemberAddition {
                member_uuid: user_id.clone(),
                role,
                keyset: keyset.encrypt_for_member(&public, 1)?,
            }],
            remove: Vec::new(),
        };
        let sent = self
            .converge(
                "group.membership",
                || async { Ok(self.client().update_group_membership(group, &patch).await?) },
                || async { Ok(self.role_in(group, &user_id).await? == Some(role)) },
            )
            .await?;
        Ok(match sent {
            Converged::Sent(()) => MembershipOutcome::Added { role },
            Converged::DespiteFailure => MembershipOutcome::AddedDespiteFailure { role },
        })
    }

    /// Removes a person from a group.
    pub async fn remove_from_group(
        &self,
        group: &GroupId,
        user: impl Into<UserRef>,
    ) -> Result<MembershipOutcome> {
        self.deny_service_account("removing a person from a group")?;
        let user_id = self.id_of(user).await?;
        let g = self.visible_group(group).await?;
        let decided = remove_rule(&active_members(&g), &user_id);
        if decided == MembershipOutcome::NotMember {
            return Ok(decided);
        }
        let sent = self
            .converge(
                "group.remove-member",
                || async { Ok(self.client().remove_group_member(group, &user_id).await?) },
                || async { Ok(self.role_in(group, &user_id).await?.is_none()) },
            )
            .await?;
        Ok(match sent {
            Converged::Sent(()) => MembershipOutcome::Removed,
            Converged::DespiteFailure => MembershipOutcome::RemovedDespiteFailure,
        })
    }

    /// Makes a member a manager or a plain member of a group.
    pub async fn set_group_role(
        &self,
        group: &GroupId,
        user: impl Into<UserRef>,
        role: GroupRole,
    ) -> Result<()> {
        self.deny_service_account("changing a person's group role")?;
        let user_id = self.id_of(user).await?;
        let g = self.visible_group(group).await?;
        role_rule(&active_members(&g), &user_id, &g.name)?;
        self.converge(
            "group.set-role",
            || async { Ok(self.client().set_group_role(group, &user_id, role).await?) },
            || async { Ok(self.role_in(group, &user_id).await? == Some(role)) },
        )
        .await?;
        Ok(())
    }
}
