//! `Admin::plan`, `Admin::reconcile` and `Admin::apply`.

use std::borrow::Cow;

use super::world::{World, current_digest};
use super::{
    ApplyReport, Change, DesiredState, OnDrift, Outcome, Plan, PlanSource, StepResult,
    reconcile::reconcile,
};
use crate::error::{Error, Result};
use crate::{Admin, UserType};

fn finish(world: World<'_>, source: PlanSource) -> Plan {
    Plan {
        steps: world.steps,
        gaps: world.gaps,
        unchanged: world.unchanged,
        basis: world.basis,
        source,
    }
}

impl Admin {
    /// Plans `changes` without sending anything: reads what each needs (once), decides it with
    /// the rules its direct method uses, and predicts its effect for the changes after it (in
    /// the order given). A change about someone or something the administrator cannot see is a
    /// [`Gap`](crate::plan::Gap), as is one its direct method would refuse; a change that would
    /// change nothing is in [`Plan::unchanged`] with the outcome its direct method would report.
    /// Fails on invalid input (an empty permission set, an address without `@`), on what a
    /// service account may not do, and on errors reading the account.
    pub async fn plan(&self, changes: impl IntoIterator<Item = Change>) -> Result<Plan> {
        let changes: Vec<Change> = changes.into_iter().collect();
        let mut world = World::new(self);
        for change in &changes {
            world.plan_change(change.clone()).await?;
        }
        Ok(finish(world, PlanSource::Changes { changes }))
    }

    /// Plans the smallest set of changes that brings the account to `desired` under the
    /// group-aware rules, without sending anything (see the crate README, "Desired state", for
    /// the rules). Applying the plan and reconciling again gives an empty plan.
    pub async fn reconcile(&self, desired: &DesiredState) -> Result<Plan> {
        let mut world = World::new(self);
        reconcile(self, &mut world, desired).await?;
        Ok(finish(
            world,
            PlanSource::Desired {
                desired: desired.clone(),
            },
        ))
    }

    /// Applies a plan with the direct methods, step by step, in order.
    ///
    /// First, what the plan was computed from is read again: if any of it changed,
    /// [`OnDrift::Refuse`] fails with [`Error::PlanStale`] naming what changed, and nothing is
    /// sent; [`OnDrift::Replan`] computes the plan again from its source and applies that.
    /// Each step then runs its direct method (which reads the state again, decides by the same
    /// rules and converges after a failure that may have come after the server applied it).
    /// After a step fails, the later steps are not attempted (they were predicted on its
    /// effect). Fails as a whole only when the state cannot be read again, or re-planning
    /// fails.
    pub async fn apply(&self, plan: &Plan, on_drift: OnDrift) -> Result<ApplyReport> {
        let changed = self.drift(plan).await?;
        let (plan, replanned) = if changed.is_empty() {
            (Cow::Borrowed(plan), false)
        } else {
            match on_drift {
                OnDrift::Refuse => return Err(Error::PlanStale { changed }),
                OnDrift::Replan => {
                    tracing::info!(
                        changed = changed.len(),
                        "the account changed since the plan was made: planning again"
                    );
                    (Cow::Owned(self.replan(&plan.source).await?), true)
                }
            }
        };
        let mut steps = Vec::with_capacity(plan.steps.len());
        let mut stop: Option<String> = None;
        for step in &plan.steps {
            let change = step.change.clone();
            if let Some(reason) = &stop {
                steps.push(StepResult::NotAttempted {
                    change,
                    reason: reason.clone(),
                });
                continue;
            }
            match self.carry_out(&change).await {
                Ok(outcome) => steps.push(StepResult::Applied { change, outcome }),
                Err(error) => {
                    stop = Some(format!(
                        "an earlier step ({}) failed: {error}",
                        step.summary()
                    ));
                    steps.push(StepResult::Failed { change, error });
                }
            }
        }
        Ok(ApplyReport { steps, replanned })
    }

    /// What changed since the plan read it, in words (empty when nothing did).
    async fn drift(&self, plan: &Plan) -> Result<Vec<String>> {
        let mut changed = Vec::new();
        for f in &plan.basis {
            if current_digest(self, &f.of).await? != f.digest {
                changed.push(f.of.to_string());
            }
        }
        Ok(changed)
    }

    /// The plan computed again from its source.
    async fn replan(&self, source: &PlanSource) -> Result<Plan> {
        match source {
            PlanSource::Changes { changes } => self.plan(changes.iter().cloned()).await,
            PlanSource::Desired { desired } => self.reconcile(desired).await,
        }
    }

    /// Runs a change's direct method.
    async fn carry_out(&self, change: &Change) -> Result<Outcome> {
        Ok(match change {
            Change::Invite { email, name, guest } => {
                let user_type = if *guest {
                    UserType::Guest
                } else {
                    UserType::Member
                };
                Outcome::Invitation(self.invite(email, name, user_type, &[]).await?)
            }
            Change::Confirm { user } => {
                let id = self.id_of(user.clone()).await?;
                self.confirm(id.clone()).await?;
                Outcome::Confirmed { user: id }
            }
            Change::Suspend { user } => Outcome::Person(self.suspend(user.clone()).await?),
            Change::Reactivate { user } => Outcome::Person(self.reactivate(user.clone()).await?),
            Change::Remove { user } => Outcome::Person(self.remove(user.clone()).await?),
            Change::GrantVaultAccess {
                vault,
                user,
                permissions,
            } => Outcome::Grant(
                self.grant_vault_access(vault, user.clone(), *permissions)
                    .await?,
            ),
            Change::RevokeVaultAccess { vault, user } => {
                Outcome::Revoke(self.revoke_vault_access(vault, user.clone()).await?)
            }
            Change::GrantGroupVaultAccess {
                vault,
                group,
                permissions,
            } => Outcome::Grant(
                self.grant_group_vault_access(vault, group, *permissions)
                    .await?,
            ),
            Change::RevokeGroupVaultAccess { vault, group } => {
                Outcome::Revoke(self.revoke_group_vault_access(vault, group).await?)
            }
            Change::SetVaultPermissions {
                vault,
                user,
                permissions,
            } => Outcome::PermissionsSet {
                permissions: self
                    .set_vault_permissions(vault, user.clone(), *permissions)
                    .await?,
            },
            Change::AddVaultPermissions {
                vault,
                user,
                permissions,
            } => Outcome::Permissions(
                self.add_vault_permissions(vault, user.clone(), *permissions)
                    .await?,
            ),
            Change::RemoveVaultPermissions {
                vault,
                user,
                permissions,
            } => Outcome::Permissions(
                self.remove_vault_permissions(vault, user.clone(), *permissions)
                    .await?,
            ),
            Change::AddGroupVaultPermissions {
                vault,
                group,
                permissions,
            } => Outcome::Permissions(
                self.add_group_vault_permissions(vault, group, *permissions)
                    .await?,
            ),
            Change::RemoveGroupVaultPermissions {
                vault,
                group,
                permissions,
            } => Outcome::Permissions(
                self.remove_group_vault_permissions(vault, group, *permissions)
                    .await?,
            ),
            Change::AddToGroup { group, user, role } => {
                Outcome::Membership(self.add_to_group(group, user.clone(), *role).await?)
            }
            Change::RemoveFromGroup { group, user } => {
                Outcome::Membership(self.remove_from_group(group, user.clone()).await?)
            }
            Change::SetGroupRole { group, user, role } => {
                self.set_group_role(group, user.clone(), *role).await?;
                Outcome::RoleSet { role: *role }
            }
            Change::ResendInvitation { invitation } => {
                Outcome::InvitationResent(self.resend_invitation(invitation).await?)
            }
            Change::RevokeInvitation { invitation } => {
                Outcome::InvitationRevoked(self.revoke_invitation(invitation).await?)
            }
        })
    }
}
