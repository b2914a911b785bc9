//! `vaults list|access|grant|revoke|add-permissions|remove-permissions|create|rename|delete`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use opadmin::{
    Admin, GrantOutcome, GroupGrant, GroupId, PermissionChange, RevokeOutcome, VaultId,
    VaultOutcome, VaultPermissions, VaultUpdate,
};

use crate::cli::{Targets, VaultsCommand};
use crate::exit::CliError;
use crate::output::Output;
use crate::records::{OutcomeRecord, SnapshotRecords, VaultRecord, vault_records};
use crate::targets;

use super::{
    act, and_list, find_by, group_in, looks_like_uuid, synced, vault_for_change, vault_in,
};

/// Whom an access change is for.
#[derive(Debug, Clone)]
pub enum Who {
    /// A person, by email or uuid.
    User(String),
    /// A group: uuid and name.
    Group(GroupId, String),
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Who::User(u) => f.write_str(u),
            Who::Group(_, name) => write!(f, "group {name}"),
        }
    }
}

/// What an access change needs: the vault, its name, and group names by uuid (for messages).
pub struct Context {
    vault: VaultId,
    vault_name: String,
    group_names: HashMap<String, String>,
}

impl Context {
    /// The context of changes to one vault.
    pub fn new(vault: VaultId, vault_name: impl Into<String>, groups: &[opadmin::Group]) -> Self {
        Self {
            vault,
            vault_name: vault_name.into(),
            group_names: groups
                .iter()
                .map(|g| (g.id.to_string(), g.name.clone()))
                .collect(),
        }
    }

    fn names(&self, grants: &[GroupGrant]) -> Vec<String> {
        grants
            .iter()
            .map(|g| {
                self.group_names
                    .get(g.group.as_str())
                    .cloned()
                    .unwrap_or_else(|| g.group.to_string())
            })
            .collect()
    }
}

/// Runs a `vaults` command.
pub async fn run(admin: &Admin, command: VaultsCommand, out: &mut Output) -> Result<(), CliError> {
    match command {
        VaultsCommand::List => {
            let snapshot = synced(admin).await?;
            let mut records: Vec<VaultRecord> = SnapshotRecords::from_snapshot(&snapshot).vaults;
            records.sort_by(|a, b| a.name.cmp(&b.name));
            out.records(&records)
        }
        VaultsCommand::Create { name, description } => {
            let pb = crate::progress::spinner(format!("Creating vault {name}"));
            let outcome = admin.create_vault(&name, &description).await;
            pb.finish_and_clear();
            out.records(&[lifecycle_record("vault_create", &outcome?)])
        }
        VaultsCommand::Rename {
            vault,
            name,
            description,
        } => {
            let (id, _) = vault_by_name(admin, &vault).await?;
            let mut update = VaultUpdate::name(name);
            if let Some(description) = description {
                update = update.with_description(description);
            }
            let outcome = admin.update_vault(&id, update).await?;
            out.records(&[lifecycle_record("vault_rename", &outcome)])
        }
        VaultsCommand::Delete { vault } => {
            // Confirmed before signing in (crate::confirm).
            let (id, _) = vault_by_name(admin, &vault).await?;
            let outcome = admin.delete_vault(&id).await?;
            out.records(&[lifecycle_record("vault_delete", &outcome)])
        }
        VaultsCommand::Access { vault, groups } => {
            let snapshot = synced(admin).await?;
            let vault = vault_in(&snapshot, &vault)?;
            let users = snapshot.users.iter().map(|u| (u.id.as_str(), u)).collect();
            let group_names = snapshot
                .groups
                .iter()
                .map(|g| (g.id.as_str(), g.name.as_str()))
                .collect();
            let (access, grants) = vault_records(vault, &users, &group_names);
            if groups {
                out.records(&grants)
            } else {
                out.records(&access)
            }
        }
        VaultsCommand::Grant {
            vault,
            targets,
            groups,
            permissions,
        } => {
            let permissions = parse_permissions(&permissions)?;
            let (who, bulk, ctx) = prepare(admin, &vault, &targets, &groups).await?;
            act(
                admin,
                out,
                "grant",
                &format!("Granting access to {}", ctx.vault_name),
                who,
                bulk,
                |admin, who: Who| {
                    let ctx = ctx.clone();
                    async move { grant(&admin, &ctx, who, permissions).await }
                },
            )
            .await
        }
        VaultsCommand::AddPermissions {
            vault,
            targets,
            groups,
            permissions,
        } => edit(admin, out, true, &vault, &targets, &groups, &permissions).await,
        VaultsCommand::RemovePermissions {
            vault,
            targets,
            groups,
            permissions,
        } => edit(admin, out, false, &vault, &targets, &groups, &permissions).await,
        VaultsCommand::Revoke {
            vault,
            targets,
            groups,
        } => {
            let (who, bulk, ctx) = prepare(admin, &vault, &targets, &groups).await?;
            act(
                admin,
                out,
                "revoke",
                &format!("Revoking access to {}", ctx.vault_name),
                who,
                bulk,
                |admin, who: Who| {
                    let ctx = ctx.clone();
                    async move { revoke(&admin, &ctx, who).await }
                },
            )
            .await
        }
    }
}

/// The vault a lifecycle command names, from the vaults the signed-in identity sees (no full
/// sync, so a service account can use it too): a uuid as given, else an exact name, else a name
/// that matches ignoring case when only one does. Returns its uuid and name.
async fn vault_by_name(admin: &Admin, wanted: &str) -> Result<(VaultId, String), CliError> {
    let wanted = wanted.trim();
    let vaults = admin.vaults().await?;
    if let Some(v) = find_by(&vaults, wanted, |v| v.id.as_str(), |v| v.name.as_str()) {
        return Ok((v.id.clone(), v.name.clone()));
    }
    if looks_like_uuid(wanted) {
        // The facade reports a vault it cannot see as the Manage Vault error.
        return Ok((VaultId::new(wanted), wanted.to_owned()));
    }
    Err(CliError::VaultNotVisible(wanted.to_owned()))
}

/// The outcome record of `vaults create|rename|delete`.
fn lifecycle_record(action: &'static str, outcome: &VaultOutcome) -> OutcomeRecord {
    let v = outcome.vault();
    let id = Some(v.id.to_string());
    let despite = if outcome.applied_despite_failure() {
        " (the server's answer was lost; reading the vault showed the change in place)"
    } else {
        ""
    };
    let (kind, message) = match outcome {
        VaultOutcome::Created { .. } | VaultOutcome::CreatedDespiteFailure { .. } => {
            ("created", format!("vault {} was created{despite}", v.name))
        }
        VaultOutcome::Updated { before, after }
        | VaultOutcome::UpdatedDespiteFailure { before, after } => {
            let what = if before.name == after.name {
                format!("vault {}'s description was changed{despite}", after.name)
            } else {
                format!(
                    "vault {} was renamed to {}{despite}",
                    before.name, after.name
                )
            };
            ("renamed", what)
        }
        VaultOutcome::Unchanged { .. } => (
            "unchanged",
            format!(
                "vault {} already has that name and description; nothing changed",
                v.name
            ),
        ),
        VaultOutcome::Deleted { .. } | VaultOutcome::DeletedDespiteFailure { .. } => {
            ("deleted", format!("vault {} was deleted{despite}", v.name))
        }
        // An outcome added by a newer opadmin: reported as it is.
        other => ("other", format!("{other:?}")),
    };
    OutcomeRecord::ok(action, v.name.clone(), id, kind, message).with_permissions(v.permissions)
}

/// `vaults add-permissions` (`add`) or `vaults remove-permissions`.
async fn edit(
    admin: &Admin,
    out: &mut Output,
    add: bool,
    vault: &str,
    targets: &Targets,
    groups: &[String],
    permissions: &str,
) -> Result<(), CliError> {
    let permissions = parse_permissions(permissions)?;
    let (who, bulk, ctx) = prepare(admin, vault, targets, groups).await?;
    let (action, verb) = if add {
        ("add_permissions", "Adding")
    } else {
        ("remove_permissions", "Removing")
    };
    act(
        admin,
        out,
        action,
        &format!("{verb} permissions on {}", ctx.vault_name),
        who,
        bulk,
        |admin, who: Who| {
            let ctx = ctx.clone();
            async move { change_permissions(&admin, &ctx, who, add, permissions).await }
        },
    )
    .await
}

/// Parses `--permissions`: a comma-separated list that must name at least one permission.
pub fn parse_permissions(list: &str) -> Result<VaultPermissions, CliError> {
    let permissions =
        VaultPermissions::parse_list(list).map_err(|e| CliError::Usage(e.to_string()))?;
    if permissions.is_empty() {
        return Err(CliError::Usage(
            "no permissions given: pass --permissions, e.g. view_items,edit_items".into(),
        ));
    }
    Ok(permissions)
}

/// Resolves the vault, the groups named with `--group` and the people.
async fn prepare(
    admin: &Admin,
    vault: &str,
    targets: &Targets,
    groups: &[String],
) -> Result<(Vec<Who>, bool, Arc<Context>), CliError> {
    let (users, mut bulk) = targets::collect(targets, !groups.is_empty())?;
    let mut who: Vec<Who> = users.into_iter().map(Who::User).collect();
    let all_groups = admin.groups().await?;
    for g in groups {
        let group = group_in(&all_groups, g)?;
        who.push(Who::Group(group.id.clone(), group.name.clone()));
    }
    bulk |= who.len() > 1;
    let (vault, vault_name) = vault_for_change(admin, vault).await?;
    Ok((
        who,
        bulk,
        Arc::new(Context::new(vault, vault_name, &all_groups)),
    ))
}

/// Grants one person or group access, and says what happened.
pub async fn grant(
    admin: &Admin,
    ctx: &Context,
    who: Who,
    permissions: VaultPermissions,
) -> opadmin::Result<OutcomeRecord> {
    let vault = &ctx.vault_name;
    let (target, id, outcome) = match &who {
        Who::User(u) => (
            u.clone(),
            None,
            admin
                .grant_vault_access(&ctx.vault, u.as_str(), permissions)
                .await?,
        ),
        Who::Group(id, _) => (
            who.to_string(),
            Some(id.to_string()),
            admin
                .grant_group_vault_access(&ctx.vault, id, permissions)
                .await?,
        ),
    };
    let record = match outcome {
        GrantOutcome::Granted { permissions } => OutcomeRecord::ok(
            "grant",
            target.clone(),
            id,
            "granted",
            format!("{target} now has direct access to {vault}"),
        )
        .with_permissions(permissions),
        GrantOutcome::AlreadyDirect { current } => OutcomeRecord::ok(
            "grant",
            target.clone(),
            id,
            "already_direct",
            format!("{target} already has direct access to {vault}; nothing changed"),
        )
        .with_permissions(current),
        GrantOutcome::CoveredByGroups { groups } => {
            let names = ctx.names(&groups);
            OutcomeRecord::ok(
                "grant",
                target.clone(),
                id,
                "covered_by_groups",
                format!(
                    "{target} already has access to {vault} through {}, so was not added directly",
                    and_list(&names)
                ),
            )
            .with_groups(names)
        }
        // An outcome added by a newer opadmin: reported as it is.
        other => OutcomeRecord::ok("grant", target.clone(), id, "other", format!("{other:?}")),
    };
    Ok(record)
}

/// Revokes one person's or group's direct access, and says what happened.
pub async fn revoke(admin: &Admin, ctx: &Context, who: Who) -> opadmin::Result<OutcomeRecord> {
    let vault = &ctx.vault_name;
    let (target, id, outcome) = match &who {
        Who::User(u) => (
            u.clone(),
            None,
            admin.revoke_vault_access(&ctx.vault, u.as_str()).await?,
        ),
        Who::Group(id, _) => (
            who.to_string(),
            Some(id.to_string()),
            admin.revoke_group_vault_access(&ctx.vault, id).await?,
        ),
    };
    let record = match outcome {
        RevokeOutcome::Revoked { still_via_groups } => {
            let names = ctx.names(&still_via_groups);
            let message = if names.is_empty() {
                format!("{target}'s direct access to {vault} was revoked; no access remains")
            } else {
                format!(
                    "{target}'s direct access to {vault} was revoked; access through {} remains (remove them from those groups to revoke it)",
                    and_list(&names)
                )
            };
            OutcomeRecord::ok("revoke", target, id, "revoked", message).with_groups(names)
        }
        RevokeOutcome::NoDirectAccess { via_groups } => {
            let names = ctx.names(&via_groups);
            let message = if names.is_empty() {
                format!(
                    "{target} has no direct access to {vault} and none through groups; nothing changed"
                )
            } else {
                format!(
                    "{target} has no direct access to {vault}, so nothing changed; access through {} remains (remove them from those groups to revoke it)",
                    and_list(&names)
                )
            };
            OutcomeRecord::ok("revoke", target, id, "no_direct_access", message).with_groups(names)
        }
        // An outcome added by a newer opadmin: reported as it is.
        other => OutcomeRecord::ok("revoke", target, id, "other", format!("{other:?}")),
    };
    Ok(record)
}

/// Adds (`add`) or removes permissions on one person's or group's direct grant, and says what
/// happened.
pub async fn change_permissions(
    admin: &Admin,
    ctx: &Context,
    who: Who,
    add: bool,
    permissions: VaultPermissions,
) -> opadmin::Result<OutcomeRecord> {
    let vault = &ctx.vault_name;
    let action = if add {
        "add_permissions"
    } else {
        "remove_permissions"
    };
    let (target, id, outcome) = match &who {
        Who::User(u) => {
            let outcome = if add {
                admin
                    .add_vault_permissions(&ctx.vault, u.as_str(), permissions)
                    .await?
            } else {
                admin
                    .remove_vault_permissions(&ctx.vault, u.as_str(), permissions)
                    .await?
            };
            (u.clone(), None, outcome)
        }
        Who::Group(id, _) => {
            let outcome = if add {
                admin
                    .add_group_vault_permissions(&ctx.vault, id, permissions)
                    .await?
            } else {
                admin
                    .remove_group_vault_permissions(&ctx.vault, id, permissions)
                    .await?
            };
            (who.to_string(), Some(id.to_string()), outcome)
        }
    };
    let record = match outcome {
        PermissionChange::Changed { after, .. }
        | PermissionChange::ChangedDespiteFailure { after, .. } => OutcomeRecord::ok(
            action,
            target.clone(),
            id,
            "changed",
            format!("{target}'s direct access to {vault} is now {after}"),
        )
        .with_permissions(after),
        PermissionChange::Unchanged { current } => OutcomeRecord::ok(
            action,
            target.clone(),
            id,
            "unchanged",
            format!("{target}'s direct access to {vault} already is {current}; nothing changed"),
        )
        .with_permissions(current),
        PermissionChange::NoDirectAccess { via_groups } => {
            let names = ctx.names(&via_groups);
            let message = if names.is_empty() {
                format!(
                    "{target} has no direct access to {vault}; nothing changed (grant access first)"
                )
            } else {
                format!(
                    "{target} has no direct access to {vault}, so nothing changed; access through {} is not changed by this command",
                    and_list(&names)
                )
            };
            OutcomeRecord::ok(action, target, id, "no_direct_access", message).with_groups(names)
        }
        PermissionChange::Revoked {
            still_via_groups, ..
        }
        | PermissionChange::RevokedDespiteFailure {
            still_via_groups, ..
        } => {
            let names = ctx.names(&still_via_groups);
            let message = if names.is_empty() {
                format!(
                    "no permission was left, so {target}'s direct access to {vault} was revoked"
                )
            } else {
                format!(
                    "no permission was left, so {target}'s direct access to {vault} was revoked; access through {} remains",
                    and_list(&names)
                )
            };
            OutcomeRecord::ok(action, target, id, "revoked", message).with_groups(names)
        }
        // An outcome added by a newer opadmin: reported as it is.
        other => OutcomeRecord::ok(action, target.clone(), id, "other", format!("{other:?}")),
    };
    Ok(record)
}
