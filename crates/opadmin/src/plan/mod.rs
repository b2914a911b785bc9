//! Plans: see what would change before it changes, declare who should have what, and apply.
//!
//! * [`Admin::plan`](crate::Admin::plan) takes [`Change`]s (one per state-changing facade
//!   method) and answers a [`Plan`]: the steps that would change something, each with the
//!   outcome its direct method would report ([`Outcome`]) and the HTTP writes it would send;
//!   the changes that would change nothing ([`Plan::unchanged`], with the outcome the direct
//!   method would report, e.g. `AlreadyDirect`); and what cannot be reached, with why
//!   ([`Gap`]). Nothing is sent: planning only reads.
//! * [`Admin::reconcile`](crate::Admin::reconcile) takes a [`DesiredState`] (group memberships
//!   with roles, vault access for people and groups) and answers the plan that reaches it.
//! * [`Admin::apply`](crate::Admin::apply) carries a plan out with the direct methods (so every
//!   step converges after a failure that may have come after the server applied it), after
//!   checking that what the plan was computed from has not changed ([`OnDrift`]), and reports
//!   every step ([`ApplyReport`]).
//!
//! Steps are decided by the same rule functions the direct methods use, over the state the plan
//! read. Each step is predicted against the state the earlier steps of the same plan leave: a
//! plan that adds a person to a group and then grants them a vault the group has access to
//! predicts `CoveredByGroups` for the grant, and so makes it no step. `requests` list the writes
//! a step sends, not the reads before them.

mod apply;
mod change;
mod desired;
mod reconcile;
mod world;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use change::Change;
pub use desired::{
    DesiredGroup, DesiredGroupGrant, DesiredMember, DesiredPerson, DesiredState, DesiredVault,
    MAX_DESIRED_STATE_BYTES,
};

use crate::error::Error;
use crate::model::{
    GrantOutcome, GroupGrant, Invitation, MembershipOutcome, PendingInvitation, PermissionChange,
    RevokeOutcome, User,
};
use crate::{GroupId, GroupRole, UserId, VaultId, VaultPermissions};

/// A set of steps computed from the account's state, ready to show and to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plan {
    /// What would change, in the order it would be applied (group memberships before vault
    /// access; within a vault, groups' grants before people's).
    pub steps: Vec<PlannedStep>,
    /// What the plan cannot reach, each with why.
    pub gaps: Vec<Gap>,
    /// Changes that would change nothing, with the outcome their direct method would report.
    #[serde(default)]
    pub unchanged: Vec<Unchanged>,
    /// What the steps were computed from: checked again before applying.
    #[serde(default)]
    pub basis: Vec<Fingerprint>,
    /// What the plan was computed from, so that it can be computed again.
    pub source: PlanSource,
}

impl Plan {
    /// True when nothing would change (there may still be gaps).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlannedStep {
    /// The change, as given or as reconciling made it (people by uuid).
    pub change: Change,
    /// The outcome its direct method would report.
    pub predicted: Outcome,
    /// The HTTP writes it would send, e.g. `PATCH /api/v2/vault/{uuid}/vaultaccess`.
    pub requests: Vec<String>,
    /// Names for people: the person's email, the vault's and the group's names, when known.
    #[serde(default)]
    pub labels: Labels,
}

/// Human names of what a step is about (empty where unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Labels {
    /// The person's email.
    pub user: Option<String>,
    /// The vault's name.
    pub vault: Option<String>,
    /// The group's name.
    pub group: Option<String>,
}

impl PlannedStep {
    /// A one-line description, e.g. `grant alice@example.com view_items,view_and_copy_passwords
    /// on vault Production (direct)`.
    pub fn summary(&self) -> String {
        let l = &self.labels;
        let user = |u: &crate::UserRef| l.user.clone().unwrap_or_else(|| u.to_string());
        let vault = |v: &VaultId| l.vault.clone().unwrap_or_else(|| v.to_string());
        let group = |g: &GroupId| l.group.clone().unwrap_or_else(|| g.to_string());
        match &self.change {
            Change::Invite { email, .. } => format!("invite {email}"),
            Change::Confirm { user: u } => format!("confirm {}", user(u)),
            Change::Suspend { user: u } => format!("suspend {}", user(u)),
            Change::Reactivate { user: u } => format!("reactivate {}", user(u)),
            Change::Remove { user: u } => format!("remove {} from the account", user(u)),
            Change::GrantVaultAccess {
                vault: v, user: u, ..
            } => {
                let granted = match &self.predicted {
                    Outcome::Grant(GrantOutcome::Granted { permissions }) => *permissions,
                    _ => VaultPermissions::NONE,
                };
                format!("grant {} {granted} on vault {} (direct)", user(u), vault(v))
            }
            Change::RevokeVaultAccess { vault: v, user: u } => {
                let mut s = format!("revoke {}'s direct access to vault {}", user(u), vault(v));
                if let Outcome::Revoke(RevokeOutcome::Revoked { still_via_groups }) =
                    &self.predicted
                    && !still_via_groups.is_empty()
                {
                    s.push_str(&format!(
                        " (access through {} stays)",
                        group_ids(still_via_groups)
                    ));
                }
                s
            }
            Change::GrantGroupVaultAccess {
                vault: v, group: g, ..
            } => {
                let granted = match &self.predicted {
                    Outcome::Grant(GrantOutcome::Granted { permissions }) => *permissions,
                    _ => VaultPermissions::NONE,
                };
                format!("grant group {} {granted} on vault {}", group(g), vault(v))
            }
            Change::RevokeGroupVaultAccess { vault: v, group: g } => {
                format!("revoke group {}'s access to vault {}", group(g), vault(v))
            }
            Change::SetVaultPermissions {
                vault: v,
                user: u,
                permissions,
            } => format!(
                "set {}'s direct access to vault {} to {}",
                user(u),
                vault(v),
                permissions.with_dependencies()
            ),
            Change::AddVaultPermissions {
                vault: v, user: u, ..
            }
            | Change::RemoveVaultPermissions {
                vault: v, user: u, ..
            } => {
                format!(
                    "{} {}'s direct access to vault {}",
                    self.edit(),
                    user(u),
                    vault(v)
                )
            }
            Change::AddGroupVaultPermissions {
                vault: v, group: g, ..
            }
            | Change::RemoveGroupVaultPermissions {
                vault: v, group: g, ..
            } => format!(
                "{} group {}'s access to vault {}",
                self.edit(),
                group(g),
                vault(v)
            ),
            Change::AddToGroup {
                group: g,
                user: u,
                role,
            } => format!(
                "add {} to group {} as {}",
                user(u),
                group(g),
                role.name().to_ascii_lowercase()
            ),
            Change::RemoveFromGroup { group: g, user: u } => {
                format!("remove {} from group {}", user(u), group(g))
            }
            Change::SetGroupRole {
                group: g,
                user: u,
                role,
            } => format!(
                "make {} a {} of group {}",
                user(u),
                role.name().to_ascii_lowercase(),
                group(g)
            ),
            Change::ResendInvitation { invitation } => {
                format!("resend the invitation {invitation}")
            }
            Change::RevokeInvitation { invitation } => {
                format!("revoke the invitation {invitation}")
            }
        }
    }

    /// "change … from X to Y" or "revoke" for a single-permission step.
    fn edit(&self) -> String {
        match &self.predicted {
            Outcome::Permissions(PermissionChange::Changed { before, after }) => {
                format!("change ({before}) to ({after}) in")
            }
            Outcome::Permissions(PermissionChange::Revoked { before, .. }) => {
                format!("revoke ({before}), nothing left, in")
            }
            _ => "change".to_owned(),
        }
    }
}

impl fmt::Display for PlannedStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

fn group_ids(groups: &[GroupGrant]) -> String {
    groups
        .iter()
        .map(|g| g.group.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A change that would change nothing, with the outcome its direct method would report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Unchanged {
    /// The change.
    pub change: Change,
    /// What its direct method would report (`AlreadyDirect`, `NotMember`, ...).
    pub outcome: Outcome,
}

/// The outcome of one change: what its direct method reports (or, in a plan, would report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Of a grant (person or group).
    Grant(GrantOutcome),
    /// Of a revocation (person or group).
    Revoke(RevokeOutcome),
    /// Of adding or removing single permissions.
    Permissions(PermissionChange),
    /// Of setting a person's permissions: the grant set.
    PermissionsSet {
        /// The direct grant (closed under dependencies).
        permissions: VaultPermissions,
    },
    /// Of adding to or removing from a group.
    Membership(MembershipOutcome),
    /// Of setting a member's role.
    RoleSet {
        /// The role.
        #[serde(with = "change::role")]
        role: GroupRole,
    },
    /// Of suspending, reactivating or removing a person: the person as they then are.
    Person(User),
    /// Of confirming a person.
    Confirmed {
        /// The person.
        user: UserId,
    },
    /// Of inviting a person (in a prediction, the invitation's id is empty).
    Invitation(Invitation),
    /// Of resending an invitation: the invitation.
    InvitationResent(PendingInvitation),
    /// Of revoking an invitation: the invitation.
    InvitationRevoked(PendingInvitation),
}

/// Something a plan cannot reach, and why. Never guessed: what the administrator cannot see is
/// reported, not assumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(tag = "gap", rename_all = "snake_case")]
pub enum Gap {
    /// A person who has access through groups is not granted directly (the group-aware grant
    /// rule), and those groups do not give everything asked (or a direct grant was asked).
    CoveredByGroups {
        /// The vault.
        vault: VaultId,
        /// The person.
        user: UserId,
        /// The permissions asked for (closed under their dependencies).
        asked: VaultPermissions,
        /// The person's groups that have access, with what they give.
        groups: Vec<GroupGrant>,
    },
    /// A person whose direct access goes (or who has none) keeps access through these groups:
    /// remove them from the groups to take it away.
    StillViaGroups {
        /// The vault.
        vault: VaultId,
        /// The person.
        user: UserId,
        /// The groups that keep giving access.
        groups: Vec<GroupGrant>,
    },
    /// A person the administrator cannot see (or who does not exist).
    UnknownUser {
        /// The person as named.
        user: String,
    },
    /// A group the administrator cannot see (or that does not exist).
    UnknownGroup {
        /// The group as named.
        group: String,
    },
    /// A vault the administrator cannot see (or that does not exist).
    UnknownVault {
        /// The vault as named.
        vault: String,
    },
    /// No pending invitation with this uuid or email.
    UnknownInvitation {
        /// The invitation as named.
        invitation: String,
    },
    /// A change to a vault whose access the administrator may not change (no Manage Vault).
    NoManagePermission {
        /// The vault.
        vault: VaultId,
        /// The change that needs it.
        change: Change,
    },
    /// The direct method would refuse the change (for example, confirming someone who is not
    /// awaiting confirmation, or a role for someone who is not a member).
    Refused {
        /// The change.
        change: Change,
        /// The refusal, as the direct method words it.
        reason: String,
    },
    /// Left alone on purpose by reconciling (the administrator's own access and memberships,
    /// the built-in groups' vault access).
    LeftAlone {
        /// What.
        what: String,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Gap {
    /// One line, e.g. `alice@… keeps access to vault … through groups …`, with uuids (a plan's
    /// steps carry the names).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups = group_ids;
        match self {
            Gap::CoveredByGroups {
                vault,
                user,
                asked,
                groups: gs,
            } => write!(
                f,
                "{user} is not granted {asked} on vault {vault} directly: groups {} give access",
                groups(gs)
            ),
            Gap::StillViaGroups {
                vault,
                user,
                groups: gs,
            } => write!(
                f,
                "{user} keeps access to vault {vault} through groups {}: remove them from those groups to take it away",
                groups(gs)
            ),
            Gap::UnknownUser { user } => write!(f, "no person {user} is visible"),
            Gap::UnknownGroup { group } => write!(f, "no group {group} is visible"),
            Gap::UnknownVault { vault } => write!(f, "no vault {vault} is visible"),
            Gap::UnknownInvitation { invitation } => {
                write!(f, "no pending invitation {invitation}")
            }
            Gap::NoManagePermission { vault, change } => write!(
                f,
                "{} on vault {vault} needs the Manage Vault permission, which the administrator lacks",
                change.op()
            ),
            Gap::Refused { change, reason } => write!(f, "{} refused: {reason}", change.op()),
            Gap::LeftAlone { what, reason } => write!(f, "{what} left alone: {reason}"),
        }
    }
}

/// What a plan read, reduced to a digest, so that applying can tell whether it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fingerprint {
    /// What was read.
    pub of: Observed,
    /// A digest of what was read (FNV-1a 64, hexadecimal; `0` for something not visible).
    pub digest: String,
}

/// Something a plan read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observed {
    /// A vault's access records.
    Vault {
        /// The vault.
        id: VaultId,
    },
    /// A group's active members and their roles.
    Group {
        /// The group.
        id: GroupId,
    },
    /// A person's state and active groups.
    Person {
        /// The person.
        id: UserId,
    },
    /// The pending invitations.
    Invitations,
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Vault { id } => write!(f, "access to vault {id}"),
            Observed::Group { id } => write!(f, "members of group {id}"),
            Observed::Person { id } => write!(f, "state or groups of person {id}"),
            Observed::Invitations => f.write_str("pending invitations"),
        }
    }
}

/// What a plan was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum PlanSource {
    /// [`Admin::plan`](crate::Admin::plan) of these changes.
    Changes {
        /// The changes, as given.
        changes: Vec<Change>,
    },
    /// [`Admin::reconcile`](crate::Admin::reconcile) of this description.
    Desired {
        /// The description.
        desired: DesiredState,
    },
}

/// What [`Admin::apply`](crate::Admin::apply) does when the account changed since the plan was
/// computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(rename_all = "snake_case")]
pub enum OnDrift {
    /// Send nothing and fail with [`Error::PlanStale`], naming what changed.
    Refuse,
    /// Compute the plan again from its source and apply that.
    Replan,
}

/// What applying a plan did, step by step.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ApplyReport {
    /// One result per step, in order.
    pub steps: Vec<StepResult>,
    /// The plan was computed again because the account had changed ([`OnDrift::Replan`]); the
    /// steps are those of the new plan.
    pub replanned: bool,
}

impl ApplyReport {
    /// True when every step was applied.
    pub fn is_success(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s, StepResult::Applied { .. }))
    }
}

/// The result of one step.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepResult {
    /// Applied: the direct method's outcome.
    Applied {
        /// The change.
        change: Change,
        /// What the direct method reported.
        outcome: Outcome,
    },
    /// The direct method failed.
    Failed {
        /// The change.
        change: Change,
        /// Why (written as its message).
        #[serde(serialize_with = "as_message")]
        error: Error,
    },
    /// Not attempted: an earlier step failed, and later steps were predicted on its effect.
    NotAttempted {
        /// The change.
        change: Change,
        /// Why.
        reason: String,
    },
}

fn as_message<S: serde::Serializer>(e: &Error, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(e)
}
