//! The state a plan reads, and how each change is decided over it and then predicted into it.

use std::collections::HashMap;

use opadmin_api::access::{GrantPlan, PermissionPlan, PermissionScheme, RevokePlan};
use opadmin_api::endpoints::{self as ep, Endpoint};
use opadmin_api::models::AccessorType;
use opadmin_api::types::{Plan as Tier, UserState};

use super::{Change, Fingerprint, Gap, Observed, Outcome, PlannedStep, Unchanged};
use crate::admin::access::{
    Edit, Grantee, can_manage, edit_rule, grant_outcome, grant_rule, permission_outcome,
    revoke_outcome, revoke_rule, set_rule,
};
use crate::admin::groups::{active_members, add_rule, remove_rule, role_rule};
use crate::admin::invitations::find_pending;
use crate::admin::people::{Lifecycle, confirm_rule, lifecycle_rule, user_from};
use crate::error::{Error, Result};
use crate::model::{
    Accessor, GroupMember, Invitation, MembershipOutcome, PendingInvitation, User, UserRef,
    VaultSummary,
};
use crate::{Admin, GroupId, GroupRole, UserId, VaultId, VaultPermissions};

/// A vault's access records as a plan sees them.
#[derive(Debug, Clone)]
pub(super) struct VaultModel {
    /// Every grant.
    pub accessors: Vec<Accessor>,
    /// The signed-in identity holds Manage on it.
    pub manage: bool,
}

/// A group as a plan sees it.
#[derive(Debug, Clone)]
pub(super) struct GroupModel {
    /// Its name.
    pub name: String,
    /// Its active members.
    pub members: Vec<GroupMember>,
}

/// A person as a plan sees them.
#[derive(Debug, Clone)]
pub(super) struct PersonModel {
    /// The person.
    pub user: User,
    /// The groups they are an active member of.
    pub groups: Vec<GroupId>,
}

/// A vault's access records as the server has them now (`None`: not visible).
pub(super) async fn read_vault(admin: &Admin, id: &VaultId) -> Result<Option<VaultModel>> {
    match admin.vault_with_access(id).await {
        Ok(v) => Ok(Some(VaultModel {
            accessors: v
                .access
                .as_deref()
                .unwrap_or_default()
                .iter()
                .filter_map(|r| match r.accessor_type {
                    AccessorType::User => {
                        Some(Accessor::user(UserId::new(&r.accessor_uuid), r.acl))
                    }
                    AccessorType::Group => {
                        Some(Accessor::group(GroupId::new(&r.accessor_uuid), r.acl))
                    }
                    _ => None,
                })
                .collect(),
            manage: can_manage(&v),
        })),
        Err(Error::NoManageVaultPermission) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A group as the server has it now (`None`: not visible).
pub(super) async fn read_group(admin: &Admin, id: &GroupId) -> Result<Option<GroupModel>> {
    match admin.visible_group(id).await {
        Ok(g) => Ok(Some(GroupModel {
            members: active_members(&g),
            name: g.name,
        })),
        Err(Error::NotFound { .. } | Error::PermissionDenied { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A person with their active groups as the server has them now (`None`: not visible).
pub(super) async fn read_person(admin: &Admin, id: &UserId) -> Result<Option<PersonModel>> {
    admin.deny_service_account("planning a change about a person")?;
    match admin.client().user_with_attrs(id, &["groups"]).await {
        Ok(p) => Ok(Some(PersonModel {
            groups: opadmin_api::access::active_group_ids(
                p.memberships.as_deref().unwrap_or_default(),
                id,
            ),
            user: user_from(&p),
        })),
        Err(opadmin_api::ApiError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// FNV-1a 64 over `parts`, each followed by a separator.
fn fnv(parts: impl IntoIterator<Item = String>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0x1f]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn vault_digest(v: Option<&VaultModel>) -> u64 {
    v.map_or(0, |v| {
        let mut parts: Vec<String> = v
            .accessors
            .iter()
            .map(|a| match a {
                Accessor::User { id, permissions } => format!("u:{id}:{}", permissions.bits()),
                Accessor::Group { id, permissions } => format!("g:{id}:{}", permissions.bits()),
                _ => String::new(),
            })
            .collect();
        parts.sort();
        parts.push(format!("manage:{}", v.manage));
        fnv(parts)
    })
}

fn group_digest(g: Option<&GroupModel>) -> u64 {
    g.map_or(0, |g| {
        let mut parts: Vec<String> = g
            .members
            .iter()
            .map(|m| format!("{}:{}", m.user, m.role.letter()))
            .collect();
        parts.sort();
        fnv(parts)
    })
}

fn person_digest(p: Option<&PersonModel>) -> u64 {
    p.map_or(0, |p| {
        let mut parts: Vec<String> = p.groups.iter().map(|g| g.to_string()).collect();
        parts.sort();
        parts.push(format!("state:{}", p.user.state.letter()));
        fnv(parts)
    })
}

fn invitations_digest(list: &[PendingInvitation]) -> u64 {
    let mut parts: Vec<String> = list
        .iter()
        .map(|i| format!("{}:{}", i.id, i.email))
        .collect();
    parts.sort();
    fnv(parts)
}

fn hex(digest: u64) -> String {
    format!("{digest:016x}")
}

/// The digest of what `of` is on the server now: what applying compares with the plan's.
pub(super) async fn current_digest(admin: &Admin, of: &Observed) -> Result<String> {
    Ok(hex(match of {
        Observed::Vault { id } => vault_digest(read_vault(admin, id).await?.as_ref()),
        Observed::Group { id } => group_digest(read_group(admin, id).await?.as_ref()),
        Observed::Person { id } => person_digest(read_person(admin, id).await?.as_ref()),
        Observed::Invitations => invitations_digest(&admin.invitations().await?),
    }))
}

/// A write as a step lists it: `METHOD /path`.
fn write(e: Endpoint, args: &[&str]) -> String {
    format!("{} {}", e.method, e.path_with(args))
}

/// The state a plan reads (each object once, when first needed), the steps decided so far, and
/// the state those steps leave.
pub(super) struct World<'a> {
    admin: &'a Admin,
    tier: Option<Tier>,
    scheme: Option<PermissionScheme>,
    vault_list: Option<Vec<VaultSummary>>,
    /// Every person the administrator can see, when a reconciliation read them all.
    pub(super) users: Option<Vec<User>>,
    vaults: HashMap<VaultId, Option<VaultModel>>,
    groups: HashMap<GroupId, Option<GroupModel>>,
    people: HashMap<UserId, Option<PersonModel>>,
    emails: HashMap<String, Option<UserId>>,
    invitations: Option<Vec<PendingInvitation>>,
    /// What was read.
    pub(super) basis: Vec<Fingerprint>,
    /// The steps so far.
    pub(super) steps: Vec<PlannedStep>,
    /// The gaps so far.
    pub(super) gaps: Vec<Gap>,
    /// The changes that change nothing so far.
    pub(super) unchanged: Vec<Unchanged>,
}

impl<'a> World<'a> {
    /// An empty world: nothing read yet.
    pub(super) fn new(admin: &'a Admin) -> Self {
        Self {
            admin,
            tier: None,
            scheme: None,
            vault_list: None,
            users: None,
            vaults: HashMap::new(),
            groups: HashMap::new(),
            people: HashMap::new(),
            emails: HashMap::new(),
            invitations: None,
            basis: Vec::new(),
            steps: Vec::new(),
            gaps: Vec::new(),
            unchanged: Vec::new(),
        }
    }

    /// The signed-in administrator.
    pub(super) fn me(&self) -> &UserId {
        self.admin.user_id()
    }

    fn observe(&mut self, of: Observed, digest: u64) {
        self.basis.push(Fingerprint {
            of,
            digest: hex(digest),
        });
    }

    /// Reads a vault once; answers whether it is visible.
    pub(super) async fn load_vault(&mut self, id: &VaultId) -> Result<bool> {
        if !self.vaults.contains_key(id) {
            let v = read_vault(self.admin, id).await?;
            self.observe(Observed::Vault { id: id.clone() }, vault_digest(v.as_ref()));
            self.vaults.insert(id.clone(), v);
        }
        Ok(self.vaults[id].is_some())
    }

    /// Reads a group once; answers whether it is visible.
    pub(super) async fn load_group(&mut self, id: &GroupId) -> Result<bool> {
        if !self.groups.contains_key(id) {
            let g = read_group(self.admin, id).await?;
            self.observe(Observed::Group { id: id.clone() }, group_digest(g.as_ref()));
            self.groups.insert(id.clone(), g);
        }
        Ok(self.groups[id].is_some())
    }

    /// Reads a person once; answers whether they are visible.
    async fn load_person(&mut self, id: &UserId) -> Result<bool> {
        if !self.people.contains_key(id) {
            let p = read_person(self.admin, id).await?;
            self.observe(
                Observed::Person { id: id.clone() },
                person_digest(p.as_ref()),
            );
            self.people.insert(id.clone(), p);
        }
        Ok(self.people[id].is_some())
    }

    async fn load_invitations(&mut self) -> Result<()> {
        if self.invitations.is_none() {
            let list = self.admin.invitations().await?;
            self.observe(Observed::Invitations, invitations_digest(&list));
            self.invitations = Some(list);
        }
        Ok(())
    }

    /// A visible vault as the plan predicts it (after [`load_vault`](Self::load_vault)).
    pub(super) fn vault(&self, id: &VaultId) -> Option<&VaultModel> {
        self.vaults.get(id).and_then(Option::as_ref)
    }

    /// A visible group as the plan predicts it (after [`load_group`](Self::load_group)).
    pub(super) fn group(&self, id: &GroupId) -> Option<&GroupModel> {
        self.groups.get(id).and_then(Option::as_ref)
    }

    /// A visible person as the plan predicts them (after [`resolve`](Self::resolve)).
    pub(super) fn person(&self, id: &UserId) -> Option<&PersonModel> {
        self.people.get(id).and_then(Option::as_ref)
    }

    /// The person named, read once; `None` when the administrator cannot see them.
    pub(super) async fn resolve(&mut self, user: &UserRef) -> Result<Option<UserId>> {
        let id = match user {
            UserRef::Id(id) => id.clone(),
            UserRef::Email(email) => {
                let email = email.trim().to_lowercase();
                let found = match (self.emails.get(&email), &self.users) {
                    (Some(known), _) => known.clone(),
                    (None, Some(users)) => users
                        .iter()
                        .find(|u| u.email == email)
                        .map(|u| u.id.clone()),
                    (None, None) => {
                        match self.admin.resolve_user(UserRef::Email(email.clone())).await {
                            Ok(u) => Some(u.id),
                            Err(Error::NotFound { .. }) => None,
                            Err(e) => return Err(e),
                        }
                    }
                };
                self.emails.insert(email, found.clone());
                match found {
                    Some(id) => id,
                    None => return Ok(None),
                }
            }
        };
        Ok(self.load_person(&id).await?.then_some(id))
    }

    /// The account's tier, read once.
    async fn tier(&mut self) -> Result<Tier> {
        if self.tier.is_none() {
            let account = self
                .admin
                .client()
                .account_with(&[opadmin_api::account::AccountAttr::Tier])
                .await?;
            self.tier = Some(account.plan());
        }
        Ok(self.tier.clone().unwrap_or(Tier::Unknown(String::new())))
    }

    /// The account's permission scheme, read once.
    pub(super) async fn scheme(&mut self) -> Result<PermissionScheme> {
        if self.scheme.is_none() {
            self.scheme = Some(PermissionScheme::for_plan(&self.tier().await?));
        }
        Ok(self.scheme.unwrap_or_default())
    }

    /// Every vault the signed-in identity can see, with names, read once.
    pub(super) async fn vault_list(&mut self) -> Result<&[VaultSummary]> {
        if self.vault_list.is_none() {
            self.vault_list = Some(self.admin.vaults().await?);
        }
        Ok(self.vault_list.as_deref().unwrap_or_default())
    }

    /// A vault's name for people, when it can be had (a failure only leaves it out).
    async fn vault_label(&mut self, id: &VaultId) -> Option<String> {
        match self.vault_list().await {
            Ok(list) => list.iter().find(|v| &v.id == id).map(|v| v.name.clone()),
            Err(_) => None,
        }
    }

    /// Records a step, with names for people.
    async fn step(&mut self, change: Change, predicted: Outcome, requests: Vec<String>) {
        let mut labels = super::Labels::default();
        if let Some(user) = change.user() {
            labels.user = match user {
                UserRef::Email(e) => Some(e.clone()),
                UserRef::Id(id) => self.person(id).map(|p| p.user.email.clone()),
            };
        }
        if let Some(vault) = change.vault() {
            labels.vault = self.vault_label(vault).await;
        }
        if let Some(group) = change.group() {
            labels.group = self.group(group).map(|g| g.name.clone());
        }
        self.steps.push(PlannedStep {
            change,
            predicted,
            requests,
            labels,
        });
    }

    fn same(&mut self, change: Change, outcome: Outcome) {
        self.unchanged.push(Unchanged { change, outcome });
    }

    /// Records a gap (once), with any list of groups in the order of their ids.
    pub(super) fn gap(&mut self, mut gap: Gap) {
        if let Gap::CoveredByGroups { groups, .. } | Gap::StillViaGroups { groups, .. } = &mut gap {
            groups.sort_by(|a, b| a.group.cmp(&b.group));
        }
        if !self.gaps.contains(&gap) {
            self.gaps.push(gap);
        }
    }

    fn vault_mut(&mut self, id: &VaultId) -> Option<&mut VaultModel> {
        self.vaults.get_mut(id).and_then(Option::as_mut)
    }

    /// The person's groups as the plan predicts them.
    pub(super) fn groups_of(&self, user: &UserId) -> Vec<GroupId> {
        self.person(user)
            .map(|p| p.groups.clone())
            .unwrap_or_default()
    }

    /// Sets (or, with `None`, removes) the direct grant of `who` in the predicted state.
    fn set_grant(&mut self, vault: &VaultId, who: Grantee<'_>, acl: Option<VaultPermissions>) {
        if let Some(v) = self.vault_mut(vault) {
            let record = acl.map(|acl| match who {
                Grantee::Person(u) => Accessor::user(u.clone(), acl),
                Grantee::Group(g) => Accessor::group(g.clone(), acl),
            });
            // A changed grant keeps its place among the records; a new one comes last.
            match (v.accessors.iter().position(|a| is(a, who)), record) {
                (Some(at), Some(record)) => {
                    // `at` is the first record of `who`: dropping later ones leaves it in place.
                    let mut index = 0;
                    v.accessors.retain(|a| {
                        let keep = index == at || !is(a, who);
                        index += 1;
                        keep
                    });
                    v.accessors[at] = record;
                }
                (Some(_), None) => v.accessors.retain(|a| !is(a, who)),
                (None, Some(record)) => v.accessors.push(record),
                (None, None) => {}
            }
        }
    }

    /// Sets (or, with `None`, ends) a membership in the predicted state.
    fn set_member(&mut self, group: &GroupId, user: &UserId, role: Option<GroupRole>) {
        if let Some(g) = self.groups.get_mut(group).and_then(Option::as_mut) {
            g.members.retain(|m| &m.user != user);
            if let Some(role) = role {
                g.members.push(GroupMember::new(user.clone(), role));
            }
        }
        if let Some(p) = self.people.get_mut(user).and_then(Option::as_mut) {
            p.groups.retain(|g| g != group);
            if role.is_some() {
                p.groups.push(group.clone());
            }
        }
    }

    /// Decides one change over the predicted state, records it as a step, an unchanged change
    /// or a gap, and predicts its effect. Fails only on what the caller must fix (invalid
    /// input) and on errors reading the state.
    pub(super) async fn plan_change(&mut self, change: Change) -> Result<()> {
        match &change {
            Change::Invite { email, .. } => self.plan_invite(email.clone(), change).await,
            Change::Confirm { user } => {
                let Some(id) = self.known_user(user).await? else {
                    return Ok(());
                };
                let person = self.person(&id).map(|p| p.user.clone());
                let Some(person) = person else { return Ok(()) };
                match confirm_rule(&person) {
                    Ok(()) => {
                        self.set_state(&id, UserState::Active);
                        let predicted = Outcome::Confirmed { user: id };
                        self.step(change, predicted, vec![write(ep::PEOPLE_CONFIRM, &[])])
                            .await;
                    }
                    Err(_) if person.state == UserState::Active => {
                        self.same(change, Outcome::Confirmed { user: id });
                    }
                    Err(e) => self.refused(change, &e),
                }
                Ok(())
            }
            Change::Suspend { user } => {
                self.plan_lifecycle(user.clone(), Lifecycle::Suspend, change)
                    .await
            }
            Change::Reactivate { user } => {
                self.plan_lifecycle(user.clone(), Lifecycle::Reactivate, change)
                    .await
            }
            Change::Remove { user } => {
                self.plan_lifecycle(user.clone(), Lifecycle::Remove, change)
                    .await
            }
            Change::GrantVaultAccess {
                vault,
                user,
                permissions,
            } => {
                let (vault, permissions) = (vault.clone(), *permissions);
                let Some(id) = self.known_user(user).await? else {
                    return Ok(());
                };
                self.plan_grant(&vault, Grantee::Person(&id), permissions, change)
                    .await
            }
            Change::GrantGroupVaultAccess {
                vault,
                group,
                permissions,
            } => {
                let (vault, group, permissions) = (vault.clone(), group.clone(), *permissions);
                if !self.known_group(&group).await? {
                    return Ok(());
                }
                self.plan_grant(&vault, Grantee::Group(&group), permissions, change)
                    .await
            }
            Change::RevokeVaultAccess { vault, user } => {
                let vault = vault.clone();
                let Some(id) = self.known_user(user).await? else {
                    return Ok(());
                };
                self.plan_revoke(&vault, Grantee::Person(&id), change).await
            }
            Change::RevokeGroupVaultAccess { vault, group } => {
                let (vault, group) = (vault.clone(), group.clone());
                if !self.known_group(&group).await? {
                    return Ok(());
                }
                self.plan_revoke(&vault, Grantee::Group(&group), change)
                    .await
            }
            Change::SetVaultPermissions {
                vault,
                user,
                permissions,
            } => {
                let (vault, permissions) = (vault.clone(), *permissions);
                let Some(id) = self.known_user(user).await? else {
                    return Ok(());
                };
                self.plan_set(&vault, &id, permissions, change).await
            }
            Change::AddVaultPermissions {
                vault,
                user,
                permissions,
            }
            | Change::RemoveVaultPermissions {
                vault,
                user,
                permissions,
            } => {
                let edit = if matches!(change, Change::AddVaultPermissions { .. }) {
                    Edit::Add
                } else {
                    Edit::Remove
                };
                let (vault, permissions) = (vault.clone(), *permissions);
                let Some(id) = self.known_user(user).await? else {
                    return Ok(());
                };
                self.plan_edit(&vault, Grantee::Person(&id), edit, permissions, change)
                    .await
            }
            Change::AddGroupVaultPermissions {
                vault,
                group,
                permissions,
            }
            | Change::RemoveGroupVaultPermissions {
                vault,
                group,
                permissions,
            } => {
                let edit = if matches!(change, Change::AddGroupVaultPermissions { .. }) {
                    Edit::Add
                } else {
                    Edit::Remove
                };
                let (vault, group, permissions) = (vault.clone(), group.clone(), *permissions);
                if !self.known_group(&group).await? {
                    return Ok(());
                }
                self.plan_edit(&vault, Grantee::Group(&group), edit, permissions, change)
                    .await
            }
            Change::AddToGroup { group, user, role } => {
                let (group, role) = (group.clone(), *role);
                let Some(id) = self.known_user(user).await? else {
                    return Ok(());
                };
                if !self.known_group(&group).await? {
                    return Ok(());
                }
                let members = self
                    .group(&group)
                    .map(|g| g.members.clone())
                    .unwrap_or_default();
                let decided = add_rule(&members, &id, role);
                if matches!(decided, MembershipOutcome::Added { .. }) {
                    self.set_member(&group, &id, Some(role));
                    let request = write(ep::GROUP_MEMBERSHIP, &[group.as_str()]);
                    self.step(change, Outcome::Membership(decided), vec![request])
                        .await;
                } else {
                    self.same(change, Outcome::Membership(decided));
                }
                Ok(())
            }
            Change::RemoveFromGroup { group, user } => {
                let group = group.clone();
                let Some(id) = self.known_user(user).await? else {
                    return Ok(());
                };
                if !self.known_group(&group).await? {
                    return Ok(());
                }
                let members = self
                    .group(&group)
                    .map(|g| g.members.clone())
                    .unwrap_or_default();
                let decided = remove_rule(&members, &id);
                if decided == MembershipOutcome::Removed {
                    self.set_member(&group, &id, None);
                    let request = write(ep::GROUP_REMOVE_MEMBER, &[group.as_str(), id.as_str()]);
                    self.step(change, Outcome::Membership(decided), vec![request])
                        .await;
                } else {
                    self.same(change, Outcome::Membership(decided));
                }
                Ok(())
            }
            Change::SetGroupRole { group, user, role } => {
                let (group, role) = (group.clone(), *role);
                let Some(id) = self.known_user(user).await? else {
                    return Ok(());
                };
                if !self.known_group(&group).await? {
                    return Ok(());
                }
                let (members, name) = self
                    .group(&group)
                    .map(|g| (g.members.clone(), g.name.clone()))
                    .unwrap_or_default();
                match role_rule(&members, &id, &name) {
                    Ok(current) if current == role => {
                        self.same(change, Outcome::RoleSet { role });
                    }
                    Ok(_) => {
                        self.set_member(&group, &id, Some(role));
                        let letter = role.letter().to_string();
                        let request =
                            write(ep::GROUP_SET_ROLE, &[group.as_str(), id.as_str(), &letter]);
                        self.step(change, Outcome::RoleSet { role }, vec![request])
                            .await;
                    }
                    Err(e) => self.refused(change, &e),
                }
                Ok(())
            }
            Change::ResendInvitation { invitation } | Change::RevokeInvitation { invitation } => {
                self.admin
                    .deny_service_account("planning a change to an invitation")?;
                self.load_invitations().await?;
                let list = self.invitations.clone().unwrap_or_default();
                let Some(found) = find_pending(&list, invitation).cloned() else {
                    self.gap(Gap::UnknownInvitation {
                        invitation: invitation.trim().to_owned(),
                    });
                    return Ok(());
                };
                if matches!(change, Change::ResendInvitation { .. }) {
                    let request = write(ep::INVITE_RESEND, &[&found.id]);
                    self.step(change, Outcome::InvitationResent(found), vec![request])
                        .await;
                } else {
                    if let Some(list) = self.invitations.as_mut() {
                        list.retain(|i| i.id != found.id);
                    }
                    let request = write(ep::INVITE_REVOKE, &[&found.id]);
                    self.step(change, Outcome::InvitationRevoked(found), vec![request])
                        .await;
                }
                Ok(())
            }
        }
    }

    /// The person named, or a gap.
    async fn known_user(&mut self, user: &UserRef) -> Result<Option<UserId>> {
        let found = self.resolve(user).await?;
        if found.is_none() {
            self.gap(Gap::UnknownUser {
                user: user.to_string(),
            });
        }
        Ok(found)
    }

    /// Whether the group is visible; a gap when it is not.
    async fn known_group(&mut self, group: &GroupId) -> Result<bool> {
        let visible = self.load_group(group).await?;
        if !visible {
            self.gap(Gap::UnknownGroup {
                group: group.to_string(),
            });
        }
        Ok(visible)
    }

    /// Whether the vault is visible; a gap when it is not.
    async fn known_vault(&mut self, vault: &VaultId) -> Result<bool> {
        let visible = self.load_vault(vault).await?;
        if !visible {
            self.gap(Gap::UnknownVault {
                vault: vault.to_string(),
            });
        }
        Ok(visible)
    }

    /// Whether the administrator may change the vault's access; a gap when not.
    fn may_manage(&mut self, vault: &VaultId, change: &Change) -> bool {
        let manage = self.vault(vault).is_some_and(|v| v.manage);
        if !manage {
            self.gap(Gap::NoManagePermission {
                vault: vault.clone(),
                change: change.clone(),
            });
        }
        manage
    }

    fn refused(&mut self, change: Change, e: &Error) {
        self.gap(Gap::Refused {
            change,
            reason: e.to_string(),
        });
    }

    fn set_state(&mut self, id: &UserId, state: UserState) {
        if let Some(p) = self.people.get_mut(id).and_then(Option::as_mut) {
            p.user.state = state;
        }
    }

    async fn plan_invite(&mut self, email: String, change: Change) -> Result<()> {
        self.admin.deny_service_account("inviting a person")?;
        let email = email.trim().to_lowercase();
        if !email.contains('@') {
            return Err(Error::InvalidInput(format!(
                "{email:?} is not an email address"
            )));
        }
        if !self.tier().await?.allows_invitations() {
            self.refused(change, &Error::BusinessPlanRequired);
            return Ok(());
        }
        let predicted = Outcome::Invitation(Invitation::new("", email));
        self.step(change, predicted, vec![write(ep::INVITE, &[])])
            .await;
        Ok(())
    }

    async fn plan_lifecycle(
        &mut self,
        user: UserRef,
        action: Lifecycle,
        change: Change,
    ) -> Result<()> {
        let Some(id) = self.known_user(&user).await? else {
            return Ok(());
        };
        if let Err(e) = lifecycle_rule(self.me(), &id, action) {
            self.refused(change, &e);
            return Ok(());
        }
        let Some(mut person) = self.person(&id).map(|p| p.user.clone()) else {
            return Ok(());
        };
        let target = action.resulting_state();
        if person.state == target {
            self.same(change, Outcome::Person(person));
            return Ok(());
        }
        person.state = target;
        self.set_state(&id, target);
        let endpoint = match action {
            Lifecycle::Suspend => ep::PEOPLE_SUSPEND,
            Lifecycle::Reactivate => ep::PEOPLE_REACTIVATE,
            Lifecycle::Remove => ep::PEOPLE_DELETE,
        };
        let request = write(endpoint, &[id.as_str()]);
        self.step(change, Outcome::Person(person), vec![request])
            .await;
        Ok(())
    }

    async fn plan_grant(
        &mut self,
        vault: &VaultId,
        to: Grantee<'_>,
        permissions: VaultPermissions,
        change: Change,
    ) -> Result<()> {
        if !self.known_vault(vault).await? {
            return Ok(());
        }
        let groups = self.groups_for(to);
        let records = self
            .vault(vault)
            .map(|v| v.accessors.clone())
            .unwrap_or_default();
        let plan = grant_rule(&records, to, &groups, permissions)?;
        match &plan {
            GrantPlan::Grant { permissions: acl } => {
                if !self.may_manage(vault, &change) {
                    return Ok(());
                }
                self.set_grant(vault, to, Some(*acl));
                let request = write(ep::VAULT_ACCESS_GRANT, &[vault.as_str()]);
                self.step(
                    change,
                    Outcome::Grant(grant_outcome(plan, false)),
                    vec![request],
                )
                .await;
            }
            GrantPlan::CoveredByGroups { groups: via } => {
                let asked = permissions.with_dependencies();
                let given = via
                    .iter()
                    .fold(VaultPermissions::NONE, |acc, g| acc.union(g.permissions));
                if let (Grantee::Person(user), false) = (to, given.contains(asked)) {
                    self.gap(Gap::CoveredByGroups {
                        vault: vault.clone(),
                        user: user.clone(),
                        asked,
                        groups: via.clone(),
                    });
                }
                self.same(change, Outcome::Grant(grant_outcome(plan, false)));
            }
            GrantPlan::AlreadyDirect { .. } => {
                self.same(change, Outcome::Grant(grant_outcome(plan, false)));
            }
        }
        Ok(())
    }

    async fn plan_revoke(
        &mut self,
        vault: &VaultId,
        from: Grantee<'_>,
        change: Change,
    ) -> Result<()> {
        if !self.known_vault(vault).await? {
            return Ok(());
        }
        let groups = self.groups_for(from);
        let records = self
            .vault(vault)
            .map(|v| v.accessors.clone())
            .unwrap_or_default();
        let plan = revoke_rule(&records, from, &groups);
        if let Grantee::Person(user) = from
            && !plan.remaining_groups().is_empty()
        {
            self.gap(Gap::StillViaGroups {
                vault: vault.clone(),
                user: user.clone(),
                groups: plan.remaining_groups().to_vec(),
            });
        }
        match &plan {
            RevokePlan::RevokeDirect { .. } => {
                if !self.may_manage(vault, &change) {
                    return Ok(());
                }
                self.set_grant(vault, from, None);
                let request = revoke_request(vault, from);
                self.step(
                    change,
                    Outcome::Revoke(revoke_outcome(plan, false)),
                    vec![request],
                )
                .await;
            }
            RevokePlan::NothingDirect { .. } => {
                self.same(change, Outcome::Revoke(revoke_outcome(plan, false)));
            }
        }
        Ok(())
    }

    async fn plan_edit(
        &mut self,
        vault: &VaultId,
        who: Grantee<'_>,
        edit: Edit,
        permissions: VaultPermissions,
        change: Change,
    ) -> Result<()> {
        let scheme = self.scheme().await?;
        if !self.known_vault(vault).await? {
            return Ok(());
        }
        let groups = self.groups_for(who);
        let records = self
            .vault(vault)
            .map(|v| v.accessors.clone())
            .unwrap_or_default();
        let plan = edit_rule(&records, who, &groups, edit, permissions, scheme)?;
        let request = match &plan {
            PermissionPlan::Change { after, .. } => Some(acl_request(vault, who, *after)),
            PermissionPlan::RevokeGrant { .. } => Some(revoke_request(vault, who)),
            PermissionPlan::Unchanged { .. } | PermissionPlan::NoDirectAccess { .. } => None,
        };
        if let (
            Grantee::Person(user),
            PermissionPlan::RevokeGrant {
                still_via_groups, ..
            },
        ) = (who, &plan)
            && !still_via_groups.is_empty()
        {
            self.gap(Gap::StillViaGroups {
                vault: vault.clone(),
                user: user.clone(),
                groups: still_via_groups.clone(),
            });
        }
        match request {
            Some(request) => {
                if !self.may_manage(vault, &change) {
                    return Ok(());
                }
                self.set_grant(vault, who, plan.after());
                self.step(
                    change,
                    Outcome::Permissions(permission_outcome(plan, false)),
                    vec![request],
                )
                .await;
            }
            None => self.same(
                change,
                Outcome::Permissions(permission_outcome(plan, false)),
            ),
        }
        Ok(())
    }

    async fn plan_set(
        &mut self,
        vault: &VaultId,
        user: &UserId,
        permissions: VaultPermissions,
        change: Change,
    ) -> Result<()> {
        if !self.known_vault(vault).await? {
            return Ok(());
        }
        let records = self
            .vault(vault)
            .map(|v| v.accessors.clone())
            .unwrap_or_default();
        let shown = self
            .person(user)
            .map_or_else(|| user.to_string(), |p| p.user.email.clone());
        match set_rule(&records, user, &shown, permissions) {
            Ok((current, target)) if current == target => {
                self.same(
                    change,
                    Outcome::PermissionsSet {
                        permissions: target,
                    },
                );
            }
            Ok((_, target)) => {
                if !self.may_manage(vault, &change) {
                    return Ok(());
                }
                let who = Grantee::Person(user);
                self.set_grant(vault, who, Some(target));
                let request = acl_request(vault, who, target);
                self.step(
                    change,
                    Outcome::PermissionsSet {
                        permissions: target,
                    },
                    vec![request],
                )
                .await;
            }
            Err(e @ Error::InvalidState(_)) => self.refused(change, &e),
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// The groups the rules consult for `who`: a person's predicted groups; none for a group.
    fn groups_for(&self, who: Grantee<'_>) -> Vec<GroupId> {
        match who {
            Grantee::Person(user) => self.groups_of(user),
            Grantee::Group(_) => Vec::new(),
        }
    }
}

/// Whether an access record is the direct grant of `who`.
fn is(a: &Accessor, who: Grantee<'_>) -> bool {
    match (a, who) {
        (Accessor::User { id, .. }, Grantee::Person(u)) => id == u,
        (Accessor::Group { id, .. }, Grantee::Group(g)) => id == g,
        _ => false,
    }
}

fn revoke_request(vault: &VaultId, who: Grantee<'_>) -> String {
    match who {
        Grantee::Person(u) => write(ep::VAULT_REVOKE_USER, &[vault.as_str(), u.as_str()]),
        Grantee::Group(g) => write(ep::VAULT_REVOKE_GROUP, &[vault.as_str(), g.as_str()]),
    }
}

fn acl_request(vault: &VaultId, who: Grantee<'_>, acl: VaultPermissions) -> String {
    let bits = acl.bits().to_string();
    match who {
        Grantee::Person(u) => write(ep::VAULT_ACL_USER, &[vault.as_str(), u.as_str(), &bits]),
        Grantee::Group(g) => write(ep::VAULT_ACL_GROUP, &[vault.as_str(), g.as_str(), &bits]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_ignore_order_and_see_every_difference() {
        let a = Accessor::user(UserId::new("u1"), VaultPermissions::RWE);
        let b = Accessor::group(GroupId::new("g1"), VaultPermissions::MANAGE);
        let v1 = VaultModel {
            accessors: vec![a.clone(), b.clone()],
            manage: true,
        };
        let v2 = VaultModel {
            accessors: vec![b, a],
            manage: true,
        };
        assert_eq!(vault_digest(Some(&v1)), vault_digest(Some(&v2)));
        let mut v3 = v1.clone();
        v3.accessors[0] = Accessor::user(UserId::new("u1"), VaultPermissions::READ_ITEM);
        assert_ne!(vault_digest(Some(&v1)), vault_digest(Some(&v3)));
        assert_ne!(vault_digest(Some(&v1)), vault_digest(None));
        let g = |role| GroupModel {
            name: "Eng".into(),
            members: vec![GroupMember::new(UserId::new("u1"), role)],
        };
        assert_ne!(
            group_digest(Some(&g(GroupRole::Member))),
            group_digest(Some(&g(GroupRole::Manager)))
        );
        // Separators keep "ab"+"c" apart from "a"+"bc".
        assert_ne!(
            fnv(["ab".into(), "c".into()]),
            fnv(["a".into(), "bc".into()])
        );
    }

    #[test]
    fn writes_are_listed_with_their_ids() {
        let vault = VaultId::new("v1");
        let user = UserId::new("u1");
        assert_eq!(
            acl_request(&vault, Grantee::Person(&user), VaultPermissions::READ_ITEM),
            "PATCH /api/v1/acl/person/v1/u1/32"
        );
        assert_eq!(
            revoke_request(&vault, Grantee::Group(&GroupId::new("g1"))),
            "DELETE /api/v1/vault/v1/group/g1"
        );
        assert_eq!(
            write(ep::VAULT_ACCESS_GRANT, &["v1"]),
            "PATCH /api/v2/vault/v1/vaultaccess"
        );
    }
}
