//! `plan FILE`, `apply FILE`, and `--dry-run` on every state-changing command: all three print a
//! plan computed by the library (`Admin::plan`, `Admin::reconcile`) from the account as it is,
//! with the same rules the changes are applied by; only `apply` (and a command without
//! `--dry-run`) sends anything.

use std::path::Path;

use opadmin::plan::{ApplyReport, Change, DesiredState, OnDrift, Plan, StepResult};
use opadmin::{Admin, GroupRole, UserRef, VaultPermissions};

use crate::cli::{Command, GroupsCommand, Targets, UsersCommand, VaultsCommand};
use crate::exit::CliError;
use crate::output::{Format, Output, Record, Value};
use crate::targets;

use super::{group_in, vault_for_change};

/// One line of a plan: a change, something that cannot be reached, or a change that would
/// change nothing.
#[derive(Debug, Clone)]
pub struct PlanRecord {
    /// `change`, `gap` or `unchanged`.
    pub kind: &'static str,
    /// The change's operation (`grant_vault_access`, ...), or the gap's kind.
    pub op: String,
    /// In plain words.
    pub summary: String,
    /// The HTTP writes a change would send.
    pub requests: Vec<String>,
}

impl Record for PlanRecord {
    const FIELDS: &'static [&'static str] = &["kind", "op", "summary", "requests"];
    const TABLE: &'static [&'static str] = &["kind", "summary"];
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Text(self.kind.to_owned()),
            Value::Text(self.op.clone()),
            Value::Text(self.summary.clone()),
            Value::List(self.requests.clone()),
        ]
    }
}

/// One applied (or failed, or skipped) step.
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// 1-based position in the plan.
    pub step: usize,
    /// The change's operation.
    pub op: String,
    /// `applied`, `failed` or `not_attempted`.
    pub status: &'static str,
    /// What happened, or why not.
    pub message: String,
}

impl Record for StepRecord {
    const FIELDS: &'static [&'static str] = &["step", "op", "status", "message"];
    const TABLE: &'static [&'static str] = &["step", "op", "status", "message"];
    fn values(&self) -> Vec<Value> {
        vec![
            Value::Int(self.step as u64),
            Value::Text(self.op.clone()),
            Value::Text(self.status.to_owned()),
            Value::Text(self.message.clone()),
        ]
    }
}

/// The records of a plan: its changes, then what it cannot reach, then what is already so.
pub fn plan_records(plan: &Plan) -> Vec<PlanRecord> {
    let mut records: Vec<PlanRecord> = plan
        .steps
        .iter()
        .map(|s| PlanRecord {
            kind: "change",
            op: s.change.op().to_owned(),
            summary: s.summary(),
            requests: s.requests.clone(),
        })
        .collect();
    records.extend(plan.gaps.iter().map(|g| PlanRecord {
        kind: "gap",
        op: gap_kind(g),
        summary: g.to_string(),
        requests: Vec::new(),
    }));
    records.extend(plan.unchanged.iter().map(|u| PlanRecord {
        kind: "unchanged",
        op: u.change.op().to_owned(),
        summary: format!("{} changes nothing", u.change.op()),
        requests: Vec::new(),
    }));
    records
}

/// The gap's kind as its JSON tag says it (`covered_by_groups`, ...).
fn gap_kind(gap: &opadmin::plan::Gap) -> String {
    serde_json::to_value(gap)
        .ok()
        .and_then(|v| v.get("gap").and_then(|g| g.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// Prints a plan: the whole plan object as JSON, else one record per line.
fn print_plan(plan: &Plan, out: &mut Output) -> Result<(), CliError> {
    if out.format == Format::Json {
        return out.json(plan);
    }
    if plan.steps.is_empty() {
        eprintln!("Nothing to change.");
    }
    out.records(&plan_records(plan))
}

/// Reads a desired-state file (a usage error when it cannot be read or parsed).
pub fn desired(file: &Path) -> Result<DesiredState, CliError> {
    DesiredState::from_path(file).map_err(|e| CliError::Usage(e.to_string()))
}

/// `opadmin plan FILE`.
pub async fn plan(admin: &Admin, file: &Path, out: &mut Output) -> Result<(), CliError> {
    let desired = desired(file)?;
    let plan = admin.reconcile(&desired).await?;
    print_plan(&plan, out)
}

/// `opadmin apply FILE`: the plan, a confirmation, then the steps.
pub async fn apply(
    admin: &Admin,
    file: &Path,
    replan: bool,
    yes: bool,
    out: &mut Output,
) -> Result<(), CliError> {
    let desired = desired(file)?;
    let plan = admin.reconcile(&desired).await?;
    if plan.steps.is_empty() {
        eprintln!(
            "Nothing to change: the account already is as described (apart from any gaps listed)."
        );
        return if out.format == Format::Json {
            out.json(&serde_json::json!({ "plan": plan, "applied": [] }))
        } else {
            out.records(&plan_records(&plan))
        };
    }
    // The plan goes to stderr here, so that stdout carries only what was done.
    for r in plan_records(&plan) {
        eprintln!("  {:<9} {}", r.kind, r.summary);
    }
    let n = plan.steps.len();
    let question = format!(
        "Apply {n} change{} to the account?",
        if n == 1 { "" } else { "s" }
    );
    crate::confirm::ask(&question, yes)?;
    let on_drift = if replan {
        OnDrift::Replan
    } else {
        OnDrift::Refuse
    };
    let report = admin.apply(&plan, on_drift).await?;
    print_report(&report, out)?;
    let failed = report
        .steps
        .iter()
        .filter(|s| !matches!(s, StepResult::Applied { .. }))
        .count();
    if failed > 0 {
        return Err(CliError::Partial {
            failed,
            total: report.steps.len(),
        });
    }
    Ok(())
}

fn print_report(report: &ApplyReport, out: &mut Output) -> Result<(), CliError> {
    if report.replanned {
        eprintln!("The account changed since the plan was made; it was planned again.");
    }
    if out.format == Format::Json {
        return out.json(report);
    }
    let records: Vec<StepRecord> = report
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            StepResult::Applied { change, outcome } => StepRecord {
                step: i + 1,
                op: change.op().to_owned(),
                status: "applied",
                message: serde_json::to_string(outcome).unwrap_or_default(),
            },
            StepResult::Failed { change, error } => StepRecord {
                step: i + 1,
                op: change.op().to_owned(),
                status: "failed",
                message: error.to_string(),
            },
            StepResult::NotAttempted { change, reason } => StepRecord {
                step: i + 1,
                op: change.op().to_owned(),
                status: "not_attempted",
                message: reason.clone(),
            },
            _ => StepRecord {
                step: i + 1,
                op: String::new(),
                status: "unknown",
                message: String::new(),
            },
        })
        .collect();
    out.records(&records)
}

/// `--dry-run`: what the command would change, as a plan; nothing is sent. Commands that change
/// nothing run as usual (the caller checks [`changes_state`] first).
pub async fn dry_run(admin: &Admin, command: &Command, out: &mut Output) -> Result<(), CliError> {
    let plan = match command {
        Command::Vaults(
            VaultsCommand::Create { .. }
            | VaultsCommand::Rename { .. }
            | VaultsCommand::Delete { .. },
        ) => return vault_lifecycle_dry_run(admin, command, out).await,
        _ => admin.plan(changes_of(admin, command).await?).await?,
    };
    print_plan(&plan, out)
}

/// Whether the command changes the account (and so has a dry run).
pub fn changes_state(command: &Command) -> bool {
    use GroupsCommand as G;
    use UsersCommand as U;
    use VaultsCommand as V;
    matches!(
        command,
        Command::Users(
            U::Invite { .. }
                | U::Confirm { .. }
                | U::Suspend(_)
                | U::Reactivate(_)
                | U::Remove(_)
                | U::Resend { .. }
                | U::RevokeInvitation { .. }
        ) | Command::Groups(G::Add { .. } | G::Remove { .. } | G::Role { .. })
            | Command::Vaults(
                V::Grant { .. }
                    | V::Revoke { .. }
                    | V::AddPermissions { .. }
                    | V::RemovePermissions { .. }
                    | V::Create { .. }
                    | V::Rename { .. }
                    | V::Delete { .. }
            )
            | Command::Apply { .. }
    )
}

fn people(t: &Targets) -> Result<Vec<UserRef>, CliError> {
    Ok(targets::collect(t, true)?
        .0
        .into_iter()
        .map(UserRef::from)
        .collect())
}

/// The changes a state-changing command stands for, with groups and vaults named by the
/// command resolved to their ids.
async fn changes_of(admin: &Admin, command: &Command) -> Result<Vec<Change>, CliError> {
    use GroupsCommand as G;
    use UsersCommand as U;
    use VaultsCommand as V;
    let mut changes = Vec::new();
    match command {
        Command::Users(U::Invite {
            targets,
            guest,
            name,
        }) => {
            for email in targets::collect(targets, false)?.0 {
                let name = name
                    .clone()
                    .or_else(|| targets.names.get(&email.to_lowercase()).cloned())
                    .unwrap_or_default();
                changes.push(Change::Invite {
                    email,
                    name,
                    guest: *guest,
                });
            }
        }
        Command::Users(U::Confirm { users, all }) => {
            let users: Vec<UserRef> = if *all {
                admin
                    .users()
                    .await?
                    .into_iter()
                    .filter(|u| u.state == opadmin::UserState::Pending)
                    .map(|u| UserRef::Id(u.id))
                    .collect()
            } else {
                users.iter().map(UserRef::from).collect()
            };
            changes.extend(users.into_iter().map(|user| Change::Confirm { user }));
        }
        Command::Users(U::Suspend(t)) => {
            changes.extend(people(t)?.into_iter().map(|user| Change::Suspend { user }));
        }
        Command::Users(U::Reactivate(t)) => {
            changes.extend(
                people(t)?
                    .into_iter()
                    .map(|user| Change::Reactivate { user }),
            );
        }
        Command::Users(U::Remove(t)) => {
            changes.extend(people(t)?.into_iter().map(|user| Change::Remove { user }));
        }
        Command::Users(U::Resend { invitations }) => {
            changes.extend(invitations.iter().map(|i| Change::ResendInvitation {
                invitation: i.clone(),
            }));
        }
        Command::Users(U::RevokeInvitation { invitations }) => {
            changes.extend(invitations.iter().map(|i| Change::RevokeInvitation {
                invitation: i.clone(),
            }));
        }
        Command::Groups(G::Add {
            group,
            targets,
            role,
        }) => {
            let group = group_in(&admin.groups().await?, group)?.id.clone();
            let role: GroupRole = (*role).into();
            changes.extend(people(targets)?.into_iter().map(|user| Change::AddToGroup {
                group: group.clone(),
                user,
                role,
            }));
        }
        Command::Groups(G::Remove { group, targets }) => {
            let group = group_in(&admin.groups().await?, group)?.id.clone();
            changes.extend(
                people(targets)?
                    .into_iter()
                    .map(|user| Change::RemoveFromGroup {
                        group: group.clone(),
                        user,
                    }),
            );
        }
        Command::Groups(G::Role { group, user, role }) => {
            let group = group_in(&admin.groups().await?, group)?.id.clone();
            changes.push(Change::SetGroupRole {
                group,
                user: UserRef::from(user.as_str()),
                role: (*role).into(),
            });
        }
        Command::Vaults(
            V::Grant {
                vault,
                targets,
                groups,
                permissions,
            }
            | V::AddPermissions {
                vault,
                targets,
                groups,
                permissions,
            }
            | V::RemovePermissions {
                vault,
                targets,
                groups,
                permissions,
            },
        ) => {
            let permissions: VaultPermissions = super::vaults::parse_permissions(permissions)?;
            let (vault, _) = vault_for_change(admin, vault).await?;
            let all_groups = admin.groups().await?;
            for user in people(targets)? {
                let vault = vault.clone();
                changes.push(match command {
                    Command::Vaults(V::Grant { .. }) => Change::GrantVaultAccess {
                        vault,
                        user,
                        permissions,
                    },
                    Command::Vaults(V::AddPermissions { .. }) => Change::AddVaultPermissions {
                        vault,
                        user,
                        permissions,
                    },
                    _ => Change::RemoveVaultPermissions {
                        vault,
                        user,
                        permissions,
                    },
                });
            }
            for g in groups {
                let group = group_in(&all_groups, g)?.id.clone();
                let vault = vault.clone();
                changes.push(match command {
                    Command::Vaults(V::Grant { .. }) => Change::GrantGroupVaultAccess {
                        vault,
                        group,
                        permissions,
                    },
                    Command::Vaults(V::AddPermissions { .. }) => Change::AddGroupVaultPermissions {
                        vault,
                        group,
                        permissions,
                    },
                    _ => Change::RemoveGroupVaultPermissions {
                        vault,
                        group,
                        permissions,
                    },
                });
            }
        }
        Command::Vaults(V::Revoke {
            vault,
            targets,
            groups,
        }) => {
            let (vault, _) = vault_for_change(admin, vault).await?;
            for user in people(targets)? {
                changes.push(Change::RevokeVaultAccess {
                    vault: vault.clone(),
                    user,
                });
            }
            let all_groups = admin.groups().await?;
            for g in groups {
                changes.push(Change::RevokeGroupVaultAccess {
                    vault: vault.clone(),
                    group: group_in(&all_groups, g)?.id.clone(),
                });
            }
        }
        _ => {
            return Err(CliError::Usage(
                "--dry-run applies to commands that change the account".into(),
            ));
        }
    }
    Ok(changes)
}

/// A dry run of `vaults create|rename|delete` (they are not plan steps): the request that would
/// be sent, after the checks that can be made without sending it.
async fn vault_lifecycle_dry_run(
    admin: &Admin,
    command: &Command,
    out: &mut Output,
) -> Result<(), CliError> {
    let record = match command {
        Command::Vaults(VaultsCommand::Create { name, .. }) => PlanRecord {
            kind: "change",
            op: "create_vault".into(),
            summary: format!(
                "create the vault {name}, with access for you and the groups the account names"
            ),
            requests: vec!["POST /api/v2/vault".into()],
        },
        Command::Vaults(VaultsCommand::Rename { vault, name, .. }) => {
            let (id, current) = vault_for_change(admin, vault).await?;
            PlanRecord {
                kind: "change",
                op: "update_vault".into(),
                summary: format!("rename the vault {current} to {name}"),
                requests: vec![format!("PUT /api/v3/vault/{id}/attrs")],
            }
        }
        Command::Vaults(VaultsCommand::Delete { vault }) => {
            let (id, current) = vault_for_change(admin, vault).await?;
            PlanRecord {
                kind: "change",
                op: "delete_vault".into(),
                summary: format!("delete the vault {current} and everything in it"),
                requests: vec![format!("DELETE /api/v4/vault/{id}")],
            }
        }
        _ => return Err(CliError::Usage("not a vault lifecycle command".into())),
    };
    if out.format == Format::Json {
        return out.json(&serde_json::json!({
            "steps": [{"op": record.op, "summary": record.summary, "requests": record.requests}],
            "gaps": [],
        }));
    }
    out.records(&[record])
}
