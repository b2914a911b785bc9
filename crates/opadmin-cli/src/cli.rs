//! The command line's grammar (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::EXIT_CODES_HELP;
use crate::output::Format;

/// Credentials, formats and field names, shown by `opadmin --help` (with the exit codes).
pub const LONG_HELP: &str = "\
Credentials (for a real account):
  --address / OPADMIN_ADDRESS        sign-in address, e.g. my.1password.com or acme.1password.eu
  --email / OPADMIN_EMAIL            the administrator's email
  OPADMIN_PASSWORD                   the account password (or --password-stdin, or a prompt
                                     without echo when stdin is a terminal; --password works
                                     but warns: flags are visible to other users)
  --secret-key / OPADMIN_SECRET_KEY  the Secret Key, A3-... (or the second line of
                                     --password-stdin, or a prompt)
  OPADMIN_TOTP_SECRET                base32 TOTP secret when the account asks for a second factor
                                     (in a terminal, a one-time code is prompted for instead)

Device (so that cron runs sign in as one device and are not asked for a second factor each time):
  The device uuid used for each sign-in address and email is kept in
  $XDG_CONFIG_HOME/opadmin/devices.json (else ~/.config/opadmin/devices.json; on Windows
  %APPDATA%\\opadmin\\devices.json), written with mode 0600.
  --device-file PATH / OPADMIN_DEVICE_FILE     keep it in this file instead
  --no-device-file / OPADMIN_NO_DEVICE_FILE=1  keep none (every run is a new device)
  --remember-device / OPADMIN_REMEMBER_DEVICE=1
                                     also keep the remember-this-device token given after a
                                     second factor and offer it next time (a secret: the file
                                     is readable by its owner only; never printed)
  A device file that cannot be read (corrupt, not JSON, over 1 MiB) is an error (exit code 2):
  delete it or pass --no-device-file. The embedded emulator never uses it.

Embedded emulator (when built with the `emulator` feature, the default):
  --emulator                         use a fresh embedded emulator with the demo account
                                     \"Acme Corp\" instead (changes last for one command)
  --emulator-as EMAIL                ... signed in as admin@acme.example (default, owner) or
                                     it-admin@acme.example (administrator)

People are named by email or uuid; groups and vaults by name or uuid.

Output (--format table|json|csv; data only on stdout, progress and messages on stderr):
  table  aligned columns for people (a subset of the fields)
  json   an array of objects (users get: one object; sync: an object of arrays)
  csv    a header line, then one line per record; list fields joined with ';'
  Times are RFC 3339 (UTC); permissions are Business names (view_items, edit_items, ...).

Fields:
  users list|get       id, email, name, state, type, created_at, last_auth_at
  groups list          id, name, type, member_count
  groups members       group_id, group_name, id, email, name, type, state, role
  vaults list          id, name, type, description, user_count, group_count
  vaults access        vault_id, vault_name, id, email, name, permissions,
                       direct_permissions, via_groups
  vaults access --groups
                       vault_id, vault_name, group_id, group_name, permissions
  sync                 {account: {id, name, type, plan}, users, groups, members, vaults,
                       access, grants, skipped} with the records above (--part picks one
                       section); skipped: kind, id, name, reason, message (what could not be
                       read: then everything else is printed and the exit code is 8)
  every change         action, target, id, ok, outcome, permissions, groups, error, message
                       (one record per target; outcome is invited, confirmed, suspended,
                       reactivated, removed, granted, already_direct, covered_by_groups,
                       revoked, no_direct_access, added, already_member, not_member,
                       role_set, created, renamed, unchanged, deleted or failed; error is an
                       exit-code name such as not_found; vaults create|rename|delete: target
                       is the vault's name, id its uuid, permissions your own on it)

Bulk (--file PATH, or - for stdin): one email (or uuid) per line, or a CSV with an `email`
column. Every target is attempted; exit code 8 if any failed.
";

/// `opadmin`: administer a 1Password account (people, groups, vault access) from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "opadmin",
    version,
    about = "Administer a 1Password account: people, groups and vault access",
    long_about = None,
    after_help = EXIT_CODES_HELP,
)]
pub struct Cli {
    /// Connection and credentials.
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Output format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = Format::Table,
        help_heading = "Output"
    )]
    pub format: Format,

    /// Answer yes to confirmation questions: destructive bulk changes (several people or
    /// groups, or a --file) ask first on a terminal, and without a terminal they are refused
    /// unless this is given.
    #[arg(long, short = 'y', global = true, help_heading = "Changes")]
    pub yes: bool,

    /// Send nothing: print what a state-changing command would change (the same plan that
    /// `opadmin plan` prints), computed from the account as it is now.
    #[arg(long, global = true, help_heading = "Changes")]
    pub dry_run: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How to reach the account. `Debug` shows whether each secret was given, never its value.
#[derive(Args)]
#[command(next_help_heading = "Connection and credentials")]
pub struct ConnectionArgs {
    /// Sign-in address (my.1password.com, acme.1password.eu, ...).
    #[arg(long, global = true, env = "OPADMIN_ADDRESS", value_name = "ADDRESS")]
    pub address: Option<String>,

    /// The administrator's email.
    #[arg(long, global = true, env = "OPADMIN_EMAIL", value_name = "EMAIL")]
    pub email: Option<String>,

    /// The administrator's Secret Key (prefer OPADMIN_SECRET_KEY or the prompt: flags are
    /// visible to other users).
    #[arg(
        long,
        global = true,
        env = "OPADMIN_SECRET_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub secret_key: Option<String>,

    /// The account password (discouraged: flags are visible to other users; use
    /// OPADMIN_PASSWORD, --password-stdin or the prompt).
    #[arg(
        long,
        global = true,
        env = "OPADMIN_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub password: Option<String>,

    /// Read the account password from the first line of stdin (and the Secret Key from the
    /// second, when not given otherwise).
    #[arg(long, global = true)]
    pub password_stdin: bool,

    /// Base32 TOTP secret for accounts that ask for a second factor.
    #[arg(
        long,
        global = true,
        env = "OPADMIN_TOTP_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub totp_secret: Option<String>,

    /// Keep the device uuid (and, with --remember-device, the remember-this-device token) in
    /// this file instead of the default $XDG_CONFIG_HOME/opadmin/devices.json (else
    /// ~/.config/opadmin/devices.json).
    #[arg(
        long,
        global = true,
        env = "OPADMIN_DEVICE_FILE",
        value_name = "PATH",
        help_heading = "Device"
    )]
    pub device_file: Option<PathBuf>,

    /// Keep no device file: every run registers a new device with the account.
    #[arg(
        long,
        global = true,
        env = "OPADMIN_NO_DEVICE_FILE",
        value_parser = clap::builder::BoolishValueParser::new(),
        action = clap::ArgAction::SetTrue,
        help_heading = "Device"
    )]
    pub no_device_file: bool,

    /// Also keep the remember-this-device token the server gives after a second factor, and
    /// offer it on the next run instead of asking for a code (the file is readable by its
    /// owner only).
    #[arg(
        long,
        global = true,
        env = "OPADMIN_REMEMBER_DEVICE",
        value_parser = clap::builder::BoolishValueParser::new(),
        action = clap::ArgAction::SetTrue,
        help_heading = "Device"
    )]
    pub remember_device: bool,

    /// Use a fresh embedded emulator with the demo account "Acme Corp" (no credentials needed;
    /// changes last for this one command).
    #[arg(long, global = true, hide = cfg!(not(feature = "emulator")))]
    pub emulator: bool,

    /// With the emulator, sign in as this demo person (admin@acme.example, the owner, by
    /// default; or it-admin@acme.example, an administrator). Implies --emulator.
    #[arg(
        long,
        global = true,
        value_name = "EMAIL",
        hide = cfg!(not(feature = "emulator"))
    )]
    pub emulator_as: Option<String>,

    /// The most requests in flight at once (sync and bulk actions adapt below it: cut on
    /// 429 or overload, raised while answers are healthy).
    #[arg(long, global = true, default_value_t = opadmin::DEFAULT_CONCURRENCY, value_name = "N")]
    pub concurrency: usize,
}

/// How a secret shows in `Debug`: whether it was given, not what it is.
pub(crate) fn redacted(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "<redacted>")
}

impl std::fmt::Debug for ConnectionArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionArgs")
            .field("address", &self.address)
            .field("email", &self.email)
            .field("secret_key", &redacted(&self.secret_key))
            .field("password", &redacted(&self.password))
            .field("password_stdin", &self.password_stdin)
            .field("totp_secret", &redacted(&self.totp_secret))
            .field("device_file", &self.device_file)
            .field("no_device_file", &self.no_device_file)
            .field("remember_device", &self.remember_device)
            .field("emulator", &self.emulator)
            .field("emulator_as", &self.emulator_as)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Walk through sync, invite, confirm, grant, revoke, suspend and remove on an embedded
    /// emulator with the demo account, printing each step.
    #[command(hide = cfg!(not(feature = "emulator")))]
    Demo,
    /// The whole snapshot: account, people, groups and members, vaults and who has access.
    Sync {
        /// Print one section only (needed for a single CSV table).
        #[arg(long, value_enum, default_value_t = Part::All)]
        part: Part,
        /// Continue from the snapshot stored in FILE, then store the new one there (written
        /// atomically, mode 0600): only vaults whose versions moved are read again, and
        /// `--part changes` lists what changed since. A missing FILE makes a full sync; one
        /// that is not a snapshot opadmin wrote, or is of another account, is an error.
        #[arg(long, value_name = "FILE")]
        state: Option<std::path::PathBuf>,
    },
    /// People: list, get, invite, confirm, suspend, reactivate, remove.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Groups: list, members, add, remove, role.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Vaults: list, access, grant, revoke, create, rename, delete.
    #[command(subcommand)]
    Vaults(VaultsCommand),
    /// Print what it takes to reach the desired state in FILE (TOML or JSON: group members
    /// with roles, vault access for people and groups): the changes, and what cannot be
    /// reached with why. Sends nothing.
    Plan {
        /// The desired state (`.toml` or `.json`).
        file: PathBuf,
    },
    /// Reach the desired state in FILE: prints the plan, asks on a terminal (or needs --yes),
    /// then applies it step by step. Refuses, sending nothing, if the account changed since
    /// the plan was computed, unless --replan.
    Apply {
        /// The desired state (`.toml` or `.json`).
        file: PathBuf,
        /// If the account changed between planning and applying, plan again and apply that.
        #[arg(long)]
        replan: bool,
    },
}

/// A section of `sync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Part {
    /// Everything.
    All,
    /// The account.
    Account,
    /// People.
    Users,
    /// Groups.
    Groups,
    /// Group memberships.
    Members,
    /// Vaults.
    Vaults,
    /// People's access to vaults.
    Access,
    /// Groups' grants on vaults.
    Grants,
    /// What changed since the snapshot stored with --state.
    Changes,
}

/// Targets named on the command line and/or in a file.
#[derive(Debug, Default, Args)]
pub struct Targets {
    /// People by email or uuid.
    #[arg(value_name = "USER")]
    pub users: Vec<String>,

    /// Read people from a file (- for stdin): one email per line, or a CSV with an `email`
    /// column.
    #[arg(long, short = 'f', value_name = "PATH")]
    pub file: Option<PathBuf>,

    /// Set once the file's entries have been read into `users` (before signing in).
    #[arg(skip)]
    pub from_file: bool,

    /// Names from the file's `name` column (when it is a CSV with one), by lower-cased email.
    #[arg(skip)]
    pub names: std::collections::HashMap<String, String>,
}

/// `users ...`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Every person with state and last sign-in.
    List {
        /// Only people in this state (ACTIVE, SUSPENDED, PENDING, ...).
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
    },
    /// One person, by email or uuid.
    Get {
        /// Email or uuid.
        user: String,
    },
    /// Invite people (1Password Business); confirm them once they accept. With --file, a CSV
    /// may also have a `name` column.
    Invite {
        /// The invitees' emails, and/or a file of them.
        #[command(flatten)]
        targets: Targets,
        /// Invite as guests instead of members.
        #[arg(long)]
        guest: bool,
        /// The invitee's name, for one invitee named on the command line (the invitee enters
        /// it when accepting; kept for other backends).
        #[arg(long, conflicts_with = "file")]
        name: Option<String>,
    },
    /// Confirm people who accepted their invitation.
    Confirm {
        /// People by email or uuid.
        #[arg(value_name = "USER", required_unless_present = "all")]
        users: Vec<String>,
        /// Confirm everyone awaiting confirmation.
        #[arg(long, conflicts_with = "users")]
        all: bool,
    },
    /// Suspend people (they can no longer sign in; nothing is deleted).
    Suspend(#[command(flatten)] Targets),
    /// Reactivate suspended people.
    Reactivate(#[command(flatten)] Targets),
    /// Remove people from the account.
    Remove(#[command(flatten)] Targets),
    /// Invitations sent and not yet accepted or revoked.
    Invitations,
    /// Send pending invitations again, by the invitee's email or the invitation's uuid.
    Resend {
        /// Invitees' emails or invitation uuids.
        #[arg(value_name = "INVITATION", required = true)]
        invitations: Vec<String>,
    },
    /// Revoke pending invitations (their links stop working), by email or invitation uuid.
    RevokeInvitation {
        /// Invitees' emails or invitation uuids.
        #[arg(value_name = "INVITATION", required = true)]
        invitations: Vec<String>,
    },
}

/// A group role on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// A member.
    Member,
    /// A manager.
    Manager,
}

impl From<RoleArg> for opadmin::GroupRole {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Member => opadmin::GroupRole::Member,
            RoleArg::Manager => opadmin::GroupRole::Manager,
        }
    }
}

/// `groups ...`.
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Every group with its type and number of members.
    List,
    /// A group's members and their roles.
    Members {
        /// Group name or uuid.
        group: String,
    },
    /// Add people to a group.
    Add {
        /// Group name or uuid.
        group: String,
        /// People to add.
        #[command(flatten)]
        targets: Targets,
        /// Their role.
        #[arg(long, value_enum, default_value_t = RoleArg::Member)]
        role: RoleArg,
    },
    /// Remove people from a group.
    Remove {
        /// Group name or uuid.
        group: String,
        /// People to remove.
        #[command(flatten)]
        targets: Targets,
    },
    /// Make a member a manager, or a manager a plain member.
    Role {
        /// Group name or uuid.
        group: String,
        /// Email or uuid.
        user: String,
        /// The new role.
        #[arg(value_enum)]
        role: RoleArg,
    },
}

/// `vaults ...`.
#[derive(Debug, Subcommand)]
pub enum VaultsCommand {
    /// Every vault the signed-in user can see.
    List,
    /// Create a shared vault. You get view, edit, export and manage on it; the groups the
    /// account requires on every vault (Owners, and Administrators unless the account says
    /// otherwise) get manage, and Recovery gets recover. Needs the Create Vault permission.
    Create {
        /// The new vault's name.
        name: String,
        /// Its description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Rename a vault (and optionally change its description). Needs manage on it.
    Rename {
        /// Vault name or uuid.
        vault: String,
        /// The new name.
        name: String,
        /// A new description too.
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a vault and everything in it. Needs manage on it. Asks for confirmation on a
    /// terminal; pass --yes when stdin is not a terminal (scripts).
    Delete {
        /// Vault name or uuid.
        vault: String,
    },
    /// Who has access to a vault, with which permissions, directly or through which groups.
    Access {
        /// Vault name or uuid.
        vault: String,
        /// List the groups' grants instead of the people.
        #[arg(long)]
        groups: bool,
    },
    /// Grant people (or groups) access to a vault. A person who already has direct access, or
    /// has access through a group, is left alone and told so.
    Grant {
        /// Vault name or uuid.
        vault: String,
        /// People to grant.
        #[command(flatten)]
        targets: Targets,
        /// Groups to grant, by name or uuid (repeatable).
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// Comma-separated permissions (Business names such as view_items,edit_items, or the
        /// Teams bundles allow_viewing, allow_editing, allow_managing); dependencies are added.
        #[arg(long, default_value = "allow_viewing,allow_editing")]
        permissions: String,
    },
    /// Add permissions to people's (or groups') direct grants on a vault; their dependencies are
    /// added too (on Teams accounts, whole bundles). A person without a direct grant is left
    /// alone and told which groups give access.
    AddPermissions {
        /// Vault name or uuid.
        vault: String,
        /// People whose grants change.
        #[command(flatten)]
        targets: Targets,
        /// Groups whose grants change, by name or uuid (repeatable).
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// Comma-separated permissions to add (Business names or Teams bundles).
        #[arg(long)]
        permissions: String,
    },
    /// Remove permissions from people's (or groups') direct grants on a vault, with every
    /// permission that needs them (on Teams accounts, whole bundles); removing everything
    /// revokes the grant. Access through groups is never changed.
    RemovePermissions {
        /// Vault name or uuid.
        vault: String,
        /// People whose grants change.
        #[command(flatten)]
        targets: Targets,
        /// Groups whose grants change, by name or uuid (repeatable).
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// Comma-separated permissions to remove (Business names or Teams bundles).
        #[arg(long)]
        permissions: String,
    },
    /// Revoke people's (or groups') direct access to a vault; access through groups remains
    /// and is reported.
    Revoke {
        /// Vault name or uuid.
        vault: String,
        /// People to revoke.
        #[command(flatten)]
        targets: Targets,
        /// Groups to revoke, by name or uuid (repeatable).
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    const PASSWORD: &str = "correct-horse-battery-staple";
    const SECRET_KEY: &str = "A3-K7PQ2M-XW94HT-8FJ3N-ZR6VB-C5LY2-QH7TD";
    const TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DP";

    /// The parsed command line, secrets included, prints none of them.
    #[test]
    fn debug_of_the_command_line_shows_no_secret() {
        let cli = Cli::try_parse_from([
            "opadmin",
            "--address",
            "acme.1password.com",
            "--email",
            "ops@acme.example",
            "--password",
            PASSWORD,
            "--secret-key",
            SECRET_KEY,
            "--totp-secret",
            TOTP,
            "users",
            "list",
        ])
        .unwrap();
        assert_eq!(cli.connection.password.as_deref(), Some(PASSWORD));
        for shown in [format!("{cli:?}"), format!("{cli:#?}")] {
            for secret in [
                PASSWORD, "horse", SECRET_KEY, "XW94HT", "K7PQ2M", TOTP, "JBSWY3",
            ] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
            assert!(shown.contains("acme.1password.com"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
        let none = Cli::try_parse_from(["opadmin", "--emulator", "users", "list"]).unwrap();
        assert!(!format!("{none:?}").contains("<redacted>"));
    }
}
