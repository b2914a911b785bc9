//! The commands, and what they share: looking up groups and vaults by name, and running an
//! action over one or many targets.

#[cfg(feature = "emulator")]
pub mod demo;
pub mod groups;
pub mod plan;
pub mod sync;
pub mod users;
pub mod vaults;

use std::future::Future;

use opadmin::{Admin, Group, Snapshot, Vault, VaultId};

use crate::cli::{Command, UsersCommand};
use crate::connect::Session;
use crate::exit::CliError;
use crate::output::Output;
use crate::progress;
use crate::records::OutcomeRecord;

/// What the global change flags asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChangeFlags {
    /// `--yes`: no confirmation question.
    pub yes: bool,
    /// `--dry-run`: print the plan, send nothing.
    pub dry_run: bool,
}

/// Runs a command that needs a signed-in session.
pub async fn run(
    command: Command,
    session: &Session,
    flags: ChangeFlags,
    out: &mut Output,
) -> Result<(), CliError> {
    let admin = &session.admin;
    if flags.dry_run && plan::changes_state(&command) {
        return match &command {
            Command::Apply { file, .. } => plan::plan(admin, file, out).await,
            other => plan::dry_run(admin, other, out).await,
        };
    }
    match command {
        Command::Plan { file } => plan::plan(admin, &file, out).await,
        Command::Apply { file, replan } => plan::apply(admin, &file, replan, flags.yes, out).await,
        Command::Demo => Err(CliError::Other("the demo runs on its own emulator".into())),
        Command::Sync { part, state } => sync::run(admin, part, state.as_deref(), out).await,
        Command::Users(c) => users::run(admin, c, out).await,
        Command::Groups(c) => groups::run(admin, c, out).await,
        Command::Vaults(c) => vaults::run(admin, c, out).await,
    }
}

/// Checks the arguments and reads target files before anything is sent: a bad permission
/// name, state or target list is a usage error without signing in.
pub fn prepare(command: &mut Command, password_stdin: bool) -> Result<(), CliError> {
    use crate::cli::{GroupsCommand as G, VaultsCommand as V};
    if let Command::Plan { file } | Command::Apply { file, .. } = command {
        plan::desired(file)?;
        return Ok(());
    }
    if let Command::Users(UsersCommand::List { state: Some(state) }) = command {
        state
            .parse::<opadmin::UserState>()
            .map_err(|e| CliError::Usage(e.to_string()))?;
        return Ok(());
    }
    if let Command::Vaults(
        V::Grant { permissions, .. }
        | V::AddPermissions { permissions, .. }
        | V::RemovePermissions { permissions, .. },
    ) = command
    {
        vaults::parse_permissions(permissions)?;
    }
    // Commands that act on groups as well as people may name no people.
    let allow_empty = matches!(
        command,
        Command::Vaults(
            V::Grant { groups, .. }
            | V::Revoke { groups, .. }
            | V::AddPermissions { groups, .. }
            | V::RemovePermissions { groups, .. }
        ) if !groups.is_empty()
    );
    let targets = match command {
        Command::Users(
            UsersCommand::Suspend(t)
            | UsersCommand::Reactivate(t)
            | UsersCommand::Remove(t)
            | UsersCommand::Invite { targets: t, .. },
        )
        | Command::Groups(G::Add { targets: t, .. } | G::Remove { targets: t, .. })
        | Command::Vaults(
            V::Grant { targets: t, .. }
            | V::Revoke { targets: t, .. }
            | V::AddPermissions { targets: t, .. }
            | V::RemovePermissions { targets: t, .. },
        ) => t,
        _ => return Ok(()),
    };
    if password_stdin
        && targets
            .file
            .as_deref()
            .is_some_and(|p| p.as_os_str() == "-")
    {
        return Err(CliError::Usage(
            "--password-stdin and --file - both read stdin; put the targets in a file".into(),
        ));
    }
    crate::targets::load(targets)?;
    crate::targets::collect(targets, allow_empty)?;
    Ok(())
}

/// The snapshot, with a spinner.
pub async fn synced(admin: &Admin) -> Result<Snapshot, CliError> {
    let pb = progress::spinner("Syncing people, groups and vaults");
    let snapshot = admin.sync().await;
    pb.finish_and_clear();
    Ok(snapshot?)
}

/// [`synced`], continuing from a stored snapshot (`Admin::sync_since`).
pub async fn synced_since(admin: &Admin, previous: &Snapshot) -> Result<Snapshot, CliError> {
    let pb = progress::spinner("Syncing what changed since the stored snapshot");
    let snapshot = admin.sync_since(previous).await;
    pb.finish_and_clear();
    Ok(snapshot?)
}

/// True for text shaped like a 1Password uuid (26 letters and digits).
pub fn looks_like_uuid(s: &str) -> bool {
    s.len() == 26 && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn not_found(what: String) -> CliError {
    CliError::Admin(opadmin::Error::NotFound { what })
}

/// Finds an item by uuid, exact name, or a name that matches ignoring case (when only one does).
fn find_by<'a, T>(
    items: &'a [T],
    wanted: &str,
    id: impl Fn(&T) -> &str,
    name: impl Fn(&T) -> &str,
) -> Option<&'a T> {
    let wanted = wanted.trim();
    if let Some(item) = items.iter().find(|i| id(i) == wanted || name(i) == wanted) {
        return Some(item);
    }
    let mut loose = items
        .iter()
        .filter(|i| name(i).eq_ignore_ascii_case(wanted));
    match (loose.next(), loose.next()) {
        (Some(item), None) => Some(item),
        _ => None,
    }
}

/// A group by name or uuid, among those given.
pub fn group_in<'a>(groups: &'a [Group], wanted: &str) -> Result<&'a Group, CliError> {
    find_by(groups, wanted, |g| g.id.as_str(), |g| g.name.as_str())
        .ok_or_else(|| not_found(format!("group {wanted:?}")))
}

/// A vault by name or uuid, in a snapshot.
pub fn vault_in<'a>(snapshot: &'a Snapshot, wanted: &str) -> Result<&'a Vault, CliError> {
    find_by(
        &snapshot.vaults,
        wanted,
        |v| v.id.as_str(),
        |v| v.name.as_str(),
    )
    .ok_or_else(|| not_found(format!("vault {wanted:?}")))
}

/// The vault an access change is about: a uuid is used as given (the facade reports a vault
/// it cannot manage); a name is looked up, and a name the signed-in user cannot see is the
/// Manage Vault error.
pub async fn vault_for_change(admin: &Admin, wanted: &str) -> Result<(VaultId, String), CliError> {
    let wanted = wanted.trim();
    if looks_like_uuid(wanted) {
        return Ok((VaultId::new(wanted), wanted.to_owned()));
    }
    let snapshot = synced(admin).await?;
    find_by(
        &snapshot.vaults,
        wanted,
        |v| v.id.as_str(),
        |v| v.name.as_str(),
    )
    .map(|v| (v.id.clone(), v.name.clone()))
    .ok_or_else(|| CliError::VaultNotVisible(wanted.to_owned()))
}

/// Runs an action over its targets and prints one outcome record per target.
///
/// One target (not from a file): its error ends the command with its own exit code. Several
/// (or a file): every target is attempted through [`Admin::bulk`] with a progress bar, every
/// outcome is printed, and any failure ends with the partial-failure code.
pub async fn act<T, F, Fut>(
    admin: &Admin,
    out: &mut Output,
    action: &'static str,
    label: &str,
    targets: Vec<T>,
    bulk: bool,
    f: F,
) -> Result<(), CliError>
where
    T: Clone + std::fmt::Display,
    F: Fn(Admin, T) -> Fut,
    Fut: Future<Output = opadmin::Result<OutcomeRecord>>,
{
    if !bulk && targets.len() == 1 {
        let Some(target) = targets.into_iter().next() else {
            return Ok(());
        };
        let pb = progress::spinner(format!("{label} {target}"));
        let record = f(admin.clone(), target).await;
        pb.finish_and_clear();
        return out.records(&[record?]);
    }
    let total = targets.len();
    let pb = progress::bar(total, label);
    let results = admin
        .bulk(targets, |admin, t| {
            let pb = pb.clone();
            let fut = f(admin, t);
            async move {
                let r = fut.await;
                pb.inc(1);
                r
            }
        })
        .await;
    pb.finish_and_clear();
    let records: Vec<OutcomeRecord> = results
        .into_iter()
        .map(|r| match r.outcome {
            Ok(record) => record,
            Err(e) => OutcomeRecord::failed(action, r.target.to_string(), &e),
        })
        .collect();
    let failed = records.iter().filter(|r| r.error.is_some()).count();
    out.records(&records)?;
    if failed > 0 {
        return Err(CliError::Partial { failed, total });
    }
    Ok(())
}

/// Group names for messages: "Engineering and Marketing".
pub fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
