//! `groups list|members|add|remove|role`.

use std::collections::HashMap;

use opadmin::{Admin, GroupRole, MembershipOutcome};

use crate::cli::GroupsCommand;
use crate::exit::CliError;
use crate::output::Output;
use crate::progress;
use crate::records::{GroupRecord, OutcomeRecord, group_record, member_records};
use crate::targets;

use super::{act, group_in};

fn role_word(role: GroupRole) -> String {
    role.to_string().to_lowercase()
}

async fn all_groups(admin: &Admin) -> Result<Vec<opadmin::Group>, CliError> {
    let pb = progress::spinner("Listing groups");
    let groups = admin.groups().await;
    pb.finish_and_clear();
    Ok(groups?)
}

/// Runs a `groups` command.
pub async fn run(admin: &Admin, command: GroupsCommand, out: &mut Output) -> Result<(), CliError> {
    match command {
        GroupsCommand::List => {
            let mut groups = all_groups(admin).await?;
            groups.sort_by(|a, b| a.name.cmp(&b.name));
            let records: Vec<GroupRecord> = groups.iter().map(group_record).collect();
            out.records(&records)
        }
        GroupsCommand::Members { group } => {
            let groups = all_groups(admin).await?;
            let group = group_in(&groups, &group)?;
            let users = admin.users().await?;
            let by_id: HashMap<&str, &opadmin::User> =
                users.iter().map(|u| (u.id.as_str(), u)).collect();
            out.records(&member_records(group, &by_id))
        }
        GroupsCommand::Add {
            group,
            targets,
            role,
        } => {
            let (users, bulk) = targets::collect(&targets, false)?;
            let groups = all_groups(admin).await?;
            let group = group_in(&groups, &group)?;
            let (gid, gname) = (group.id.clone(), group.name.clone());
            let role = GroupRole::from(role);
            act(
                admin,
                out,
                "group_add",
                &format!("Adding to {gname}"),
                users,
                bulk,
                |admin, target: String| {
                    let (gid, gname) = (gid.clone(), gname.clone());
                    async move {
                        let record = match admin.add_to_group(&gid, target.as_str(), role).await? {
                            MembershipOutcome::AlreadyMember { role } => OutcomeRecord::ok(
                                "group_add",
                                target.clone(),
                                None,
                                "already_member",
                                format!(
                                    "{target} is already in {gname} as {}; nothing changed",
                                    role_word(role)
                                ),
                            ),
                            _ => OutcomeRecord::ok(
                                "group_add",
                                target.clone(),
                                None,
                                "added",
                                format!("{target} was added to {gname} as {}", role_word(role)),
                            ),
                        };
                        Ok(record)
                    }
                },
            )
            .await
        }
        GroupsCommand::Remove { group, targets } => {
            let (users, bulk) = targets::collect(&targets, false)?;
            let groups = all_groups(admin).await?;
            let group = group_in(&groups, &group)?;
            let (gid, gname) = (group.id.clone(), group.name.clone());
            act(
                admin,
                out,
                "group_remove",
                &format!("Removing from {gname}"),
                users,
                bulk,
                |admin, target: String| {
                    let (gid, gname) = (gid.clone(), gname.clone());
                    async move {
                        let record = match admin.remove_from_group(&gid, target.as_str()).await? {
                            MembershipOutcome::NotMember => OutcomeRecord::ok(
                                "group_remove",
                                target.clone(),
                                None,
                                "not_member",
                                format!("{target} is not a member of {gname}; nothing changed"),
                            ),
                            _ => OutcomeRecord::ok(
                                "group_remove",
                                target.clone(),
                                None,
                                "removed",
                                format!("{target} was removed from {gname}"),
                            ),
                        };
                        Ok(record)
                    }
                },
            )
            .await
        }
        GroupsCommand::Role { group, user, role } => {
            let groups = all_groups(admin).await?;
            let group = group_in(&groups, &group)?;
            let (gid, gname) = (group.id.clone(), group.name.clone());
            let role = GroupRole::from(role);
            act(
                admin,
                out,
                "group_role",
                "Changing the role of",
                vec![user],
                false,
                |admin, target: String| {
                    let (gid, gname) = (gid.clone(), gname.clone());
                    async move {
                        admin.set_group_role(&gid, target.as_str(), role).await?;
                        Ok(OutcomeRecord::ok(
                            "group_role",
                            target.clone(),
                            None,
                            "role_set",
                            format!("{target} is now a {} of {gname}", role_word(role)),
                        ))
                    }
                },
            )
            .await
        }
    }
}
