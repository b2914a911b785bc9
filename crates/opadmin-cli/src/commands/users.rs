//! `users list|get|invite|confirm|suspend|reactivate|remove`.

use opadmin::{Admin, UserState, UserType};

use crate::cli::{Targets, UsersCommand};
use crate::exit::CliError;
use crate::output::Output;
use crate::progress;
use crate::records::{InvitationRecord, OutcomeRecord, UserRecord};
use crate::targets;

use super::act;

/// Runs a `users` command.
pub async fn run(admin: &Admin, command: UsersCommand, out: &mut Output) -> Result<(), CliError> {
    match command {
        UsersCommand::List { state } => {
            let state = state
                .map(|s| s.parse::<UserState>())
                .transpose()
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let pb = progress::spinner("Listing people");
            let users = admin.users().await;
            pb.finish_and_clear();
            let mut users = users?;
            users.retain(|u| state.is_none_or(|s| u.state == s));
            users.sort_by(|a, b| a.email.cmp(&b.email));
            let records: Vec<UserRecord> = users.into_iter().map(UserRecord).collect();
            out.records(&records)
        }
        UsersCommand::Get { user } => {
            let user = admin.resolve_user(user.as_str()).await?;
            out.record(&UserRecord(user))
        }
        UsersCommand::Invite {
            targets,
            guest,
            name,
        } => {
            let user_type = if guest {
                UserType::Guest
            } else {
                UserType::Member
            };
            let (emails, bulk) = targets::collect(&targets, false)?;
            if name.is_some() && emails.len() > 1 {
                return Err(CliError::Usage(
                    "--name names one invitee; for several, give a CSV with a `name` column in --file"
                        .into(),
                ));
            }
            let names = std::sync::Arc::new(targets.names);
            act(
                admin,
                out,
                "invite",
                "Inviting",
                emails,
                bulk,
                |admin, email: String| {
                    let name = name
                        .clone()
                        .or_else(|| names.get(&email.to_lowercase()).cloned())
                        .unwrap_or_default();
                    async move {
                        let invitation = admin.invite(&email, &name, user_type, &[]).await?;
                        Ok(OutcomeRecord::ok(
                            "invite",
                            email,
                            Some(invitation.id),
                            "invited",
                            format!(
                                "An invitation was sent to {}; once they accept it, confirm them with `opadmin users confirm {}`",
                                invitation.email, invitation.email
                            ),
                        ))
                    }
                },
            )
            .await
        }
        UsersCommand::Confirm { users, all } => {
            if all {
                let pb = progress::spinner("Confirming everyone awaiting confirmation");
                let confirmed = admin.confirm_all_pending().await;
                pb.finish_and_clear();
                let results = confirmed?;
                if results.is_empty() {
                    eprintln!("Nobody is awaiting confirmation.");
                }
                let total = results.len();
                let records: Vec<OutcomeRecord> = results
                    .into_iter()
                    .map(|r| match r.outcome {
                        Ok(()) => confirmed_record(r.target.email.clone(), &r.target),
                        Err(e) => OutcomeRecord {
                            id: Some(r.target.id.to_string()),
                            ..OutcomeRecord::failed("confirm", r.target.email.clone(), &e)
                        },
                    })
                    .collect();
                let failed = records.iter().filter(|r| r.error.is_some()).count();
                out.records(&records)?;
                if failed > 0 {
                    return Err(CliError::Partial { failed, total });
                }
                return Ok(());
            }
            let bulk = users.len() > 1;
            let (users, _) = targets::collect(
                &Targets {
                    users,
                    ..Targets::default()
                },
                false,
            )?;
            act(
                admin,
                out,
                "confirm",
                "Confirming",
                users,
                bulk,
                |admin, target: String| async move {
                    let user = admin.resolve_user(target.as_str()).await?;
                    admin.confirm(&user.id).await?;
                    Ok(confirmed_record(target, &user))
                },
            )
            .await
        }
        UsersCommand::Suspend(t) => lifecycle(admin, out, Lifecycle::Suspend, &t).await,
        UsersCommand::Reactivate(t) => lifecycle(admin, out, Lifecycle::Reactivate, &t).await,
        UsersCommand::Remove(t) => lifecycle(admin, out, Lifecycle::Remove, &t).await,
        UsersCommand::Invitations => {
            let pb = progress::spinner("Listing pending invitations");
            let listed = admin.invitations().await;
            pb.finish_and_clear();
            let mut list = listed?;
            list.sort_by(|a, b| a.email.cmp(&b.email));
            let records: Vec<InvitationRecord> = list.into_iter().map(InvitationRecord).collect();
            out.records(&records)
        }
        UsersCommand::Resend { invitations } => {
            let bulk = invitations.len() > 1;
            act(
                admin,
                out,
                "resend",
                "Resending the invitation of",
                invitations,
                bulk,
                |admin, target: String| async move {
                    let inv = admin.resend_invitation(&target).await?;
                    Ok(OutcomeRecord::ok(
                        "resend",
                        target,
                        Some(inv.id),
                        "resent",
                        format!("The invitation to {} was sent again", inv.email),
                    ))
                },
            )
            .await
        }
        UsersCommand::RevokeInvitation { invitations } => {
            let bulk = invitations.len() > 1;
            act(
                admin,
                out,
                "revoke-invitation",
                "Revoking the invitation of",
                invitations,
                bulk,
                |admin, target: String| async move {
                    let inv = admin.revoke_invitation(&target).await?;
                    Ok(OutcomeRecord::ok(
                        "revoke-invitation",
                        target,
                        Some(inv.id),
                        "revoked",
                        format!(
                            "The invitation to {} was revoked; its link no longer works",
                            inv.email
                        ),
                    ))
                },
            )
            .await
        }
    }
}

fn confirmed_record(target: String, user: &opadmin::User) -> OutcomeRecord {
    OutcomeRecord::ok(
        "confirm",
        target,
        Some(user.id.to_string()),
        "confirmed",
        format!("{} is confirmed and can now use 1Password", user.email),
    )
}

/// Suspend, reactivate or remove.
#[derive(Debug, Clone, Copy)]
enum Lifecycle {
    Suspend,
    Reactivate,
    Remove,
}

async fn lifecycle(
    admin: &Admin,
    out: &mut Output,
    which: Lifecycle,
    targets: &Targets,
) -> Result<(), CliError> {
    let (users, bulk) = targets::collect(targets, false)?;
    let (action, label) = match which {
        Lifecycle::Suspend => ("suspend", "Suspending"),
        Lifecycle::Reactivate => ("reactivate", "Reactivating"),
        Lifecycle::Remove => ("remove", "Removing"),
    };
    act(
        admin,
        out,
        action,
        label,
        users,
        bulk,
        move |admin, target: String| async move {
            let (user, outcome, message) = match which {
                Lifecycle::Suspend => {
                    let u = admin.suspend(target.as_str()).await?;
                    let m = format!(
                        "{} is suspended: they can no longer sign in, and nothing was deleted",
                        u.email
                    );
                    (u, "suspended", m)
                }
                Lifecycle::Reactivate => {
                    let u = admin.reactivate(target.as_str()).await?;
                    let m = format!("{} is reactivated and can sign in again", u.email);
                    (u, "reactivated", m)
                }
                Lifecycle::Remove => {
                    let u = admin.remove(target.as_str()).await?;
                    let m = format!(
                        "{} was removed from the account, with their vault access and group memberships",
                        u.email
                    );
                    (u, "removed", m)
                }
            };
            Ok(OutcomeRecord::ok(
                action,
                target,
                Some(user.id.to_string()),
                outcome,
                message,
            ))
        },
    )
    .await
}
