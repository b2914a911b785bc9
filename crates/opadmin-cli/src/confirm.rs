//! Confirmation questions before destructive changes.
//!
//! Deleting a vault, and a change that takes something away from several people or groups at
//! once (or from everyone in a `--file`), is asked about first: on a terminal the question is printed on stderr and a
//! `y` or `yes` on stdin goes on; anything else ends the command with [`CliError::Declined`]
//! before anything is sent. Without a terminal there is nobody to ask, so such a command is
//! refused as a usage error unless `--yes` was given (a cron job says `--yes` once, on purpose).

use std::io::{BufRead, IsTerminal, Read, Write};

use crate::cli::{Command, GroupsCommand, Targets, UsersCommand, VaultsCommand};
use crate::exit::CliError;
use crate::targets;

/// The longest answer read from the terminal, in bytes.
const MAX_ANSWER: u64 = 256;

/// The question to ask before this command, when it is a destructive bulk change. Targets must
/// already be loaded (see [`crate::commands::prepare`]).
pub fn question(command: &Command) -> Option<String> {
    let people = |t: &Targets| -> (usize, bool) {
        targets::collect(t, true).map_or((0, false), |(users, bulk)| (users.len(), bulk))
    };
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    match command {
        Command::Users(UsersCommand::Suspend(t)) => {
            let (n, bulk) = people(t);
            bulk.then(|| format!("Suspend {}?", plural(n, "person", "people")))
        }
        Command::Users(UsersCommand::Remove(t)) => {
            let (n, bulk) = people(t);
            bulk.then(|| {
                format!(
                    "Remove {} from the account, with their vault access and group memberships?",
                    plural(n, "person", "people")
                )
            })
        }
        Command::Users(UsersCommand::RevokeInvitation { invitations }) => (invitations.len() > 1)
            .then(|| {
                format!(
                    "Revoke {}?",
                    plural(invitations.len(), "invitation", "invitations")
                )
            }),
        Command::Groups(GroupsCommand::Remove { group, targets }) => {
            let (n, bulk) = people(targets);
            bulk.then(|| {
                format!(
                    "Remove {} from the group {group}?",
                    plural(n, "person", "people")
                )
            })
        }
        Command::Vaults(
            VaultsCommand::Revoke {
                vault,
                targets,
                groups,
            }
            | VaultsCommand::RemovePermissions {
                vault,
                targets,
                groups,
                ..
            },
        ) => {
            let (n, bulk) = people(targets);
            let what = if matches!(command, Command::Vaults(VaultsCommand::Revoke { .. })) {
                "Revoke the direct access of"
            } else {
                "Remove permissions from the direct grants of"
            };
            let mut whom = Vec::new();
            if n > 0 {
                whom.push(plural(n, "person", "people"));
            }
            if !groups.is_empty() {
                whom.push(plural(groups.len(), "group", "groups"));
            }
            (bulk || n + groups.len() > 1)
                .then(|| format!("{what} {} on the vault {vault}?", whom.join(" and ")))
        }
        Command::Vaults(VaultsCommand::Delete { vault }) => Some(format!(
            "Delete the vault {vault} and everything in it? This cannot be undone."
        )),
        _ => None,
    }
}

/// Asks `question` unless `yes`; see the module documentation.
pub fn ask(question: &str, yes: bool) -> Result<(), CliError> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::Usage(format!(
            "{question} There is no terminal to ask on: pass --yes to go ahead"
        )));
    }
    let mut stderr = std::io::stderr();
    write!(stderr, "{question} [y/N] ")
        .and_then(|()| stderr.flush())
        .map_err(|e| CliError::Other(format!("could not ask for confirmation: {e}")))?;
    let mut answer = String::new();
    stdin
        .lock()
        .take(MAX_ANSWER)
        .read_line(&mut answer)
        .map_err(|e| CliError::Other(format!("could not read the answer: {e}")))?;
    if is_yes(&answer) {
        Ok(())
    } else {
        Err(CliError::Declined)
    }
}

/// `y` or `yes`, in any case, with surrounding blanks.
fn is_yes(answer: &str) -> bool {
    let answer = answer.trim();
    answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn command(args: &[&str]) -> Command {
        let mut all = vec!["opadmin", "--emulator"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap().command
    }

    #[test]
    fn only_destructive_bulk_changes_ask() {
        for (args, asks) in [
            (&["users", "remove", "a@x.example", "b@x.example"][..], true),
            (&["users", "remove", "a@x.example"][..], false),
            (
                &["users", "suspend", "a@x.example", "b@x.example"][..],
                true,
            ),
            (
                &["users", "reactivate", "a@x.example", "b@x.example"][..],
                false,
            ),
            (
                &["users", "revoke-invitation", "a@x.example", "b@x.example"][..],
                true,
            ),
            (
                &["groups", "remove", "G", "a@x.example", "b@x.example"][..],
                true,
            ),
            (
                &["groups", "add", "G", "a@x.example", "b@x.example"][..],
                false,
            ),
            (
                &["vaults", "revoke", "V", "--group", "G", "a@x.example"][..],
                true,
            ),
            (&["vaults", "revoke", "V", "a@x.example"][..], false),
            (
                &[
                    "vaults",
                    "remove-permissions",
                    "V",
                    "a@x.example",
                    "b@x.example",
                    "--permissions",
                    "view_items",
                ][..],
                true,
            ),
            (
                &["vaults", "grant", "V", "a@x.example", "b@x.example"][..],
                false,
            ),
        ] {
            let q = question(&command(args));
            assert_eq!(q.is_some(), asks, "{args:?}: {q:?}");
        }
        let q = question(&command(&["users", "remove", "a@x.example", "b@x.example"])).unwrap();
        assert!(q.starts_with("Remove 2 people"), "{q}");
    }

    #[test]
    fn answers() {
        for yes in ["y", "Y\n", " yes \r\n", "YES"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yess", "y es", "ja"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }

    #[test]
    fn yes_skips_the_question() {
        assert!(ask("Remove 2 people?", true).is_ok());
    }
}
