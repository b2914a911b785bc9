//! `opadmin demo`: every step of an administrator's day on an embedded emulator serving the
//! demo Business account, each step and its outcome in plain words.

use opadmin::{Admin, GroupRole, Snapshot, UserState, UserType, VaultPermissions};
use opadmin_emulator::RunningEmulator;

use crate::connect;
use crate::exit::{CliError, sentence};
use crate::output::{Output, Value};

use super::vaults::{self, Context, Who};
use super::{synced, vault_in};

const NEWCOMER: &str = "frank@acme.example";

struct Narrator<'a> {
    out: &'a mut Output,
    step: usize,
}

impl Narrator<'_> {
    fn step(&mut self, text: &str) -> Result<(), CliError> {
        self.step += 1;
        self.out.line("")?;
        self.out.line(&format!("{}. {}", self.step, text))
    }

    fn outcome(&mut self, text: &str) -> Result<(), CliError> {
        self.out.line(&format!("   -> {}", sentence(text)))
    }
}

/// Runs the demo. It starts its own emulator; connection flags are ignored.
pub async fn run(concurrency: usize, out: &mut Output) -> Result<(), CliError> {
    let mut n = Narrator { out, step: 0 };
    n.out.line(
        "opadmin demo: administering the demo 1Password Business account \"Acme Corp\", served by an embedded emulator.",
    )?;
    n.step("Start the emulator and sign in as the owner, admin@acme.example.")?;
    let emulator = connect::start_emulator().await?;
    let owner_email = emulator.owner().email.clone();
    let admin = connect::sign_in_to_emulator(&emulator, &owner_email, concurrency).await?;
    n.outcome(&format!("Signed in as {owner_email}"))?;

    n.step("Sync: every person with state and last sign-in, every group, every vault.")?;
    let snapshot = synced(&admin).await?;
    n.outcome(&summary(&snapshot))?;
    people(&mut n, &snapshot)?;

    onboarding(&mut n, &admin, &emulator).await?;
    access(&mut n, &admin, &emulator, &snapshot).await?;

    n.step("Suspend Bob, who is leaving next month.")?;
    let bob = admin.suspend("bob@acme.example").await?;
    n.outcome(&format!(
        "{} is {}: they can no longer sign in, and nothing was deleted",
        bob.email,
        state_of(&admin, "bob@acme.example").await?
    ))?;

    n.step("Remove Erin, who was suspended and has left.")?;
    let erin = admin.remove("erin@acme.example").await?;
    n.outcome(&format!(
        "{} was removed from the account, with their vault access and group memberships",
        erin.email
    ))?;

    n.step("Sync again.")?;
    let after = synced(&admin).await?;
    n.outcome(&summary(&after))?;
    people(&mut n, &after)?;
    n.out.line("")?;
    n.out.line(
        "Done. Against a real account, set OPADMIN_ADDRESS, OPADMIN_EMAIL, OPADMIN_PASSWORD and OPADMIN_SECRET_KEY and run `opadmin users list`, or try any command with --emulator.",
    )?;
    emulator.shutdown().await;
    Ok(())
}

async fn onboarding(
    n: &mut Narrator<'_>,
    admin: &Admin,
    emulator: &RunningEmulator,
) -> Result<(), CliError> {
    n.step(&format!("Invite {NEWCOMER} as a member."))?;
    let invitation = admin.invite(NEWCOMER, "", UserType::Member, &[]).await?;
    n.outcome(&format!(
        "An invitation was sent to {}; they appear once they accept it",
        invitation.email
    ))?;

    n.step("The emulator plays Frank: he opens the email and accepts the invitation.")?;
    emulator
        .accept_invitation(NEWCOMER, "Frank Fischer")
        .map_err(|e| CliError::Other(e.to_string()))?;
    n.outcome(&format!(
        "{NEWCOMER} has joined and is {}, awaiting an administrator's confirmation",
        state_of(admin, NEWCOMER).await?
    ))?;

    n.step("Confirm Frank.")?;
    admin.confirm(NEWCOMER).await?;
    n.outcome(&format!(
        "{NEWCOMER} is confirmed and is now {}",
        state_of(admin, NEWCOMER).await?
    ))?;
    Ok(())
}

async fn access(
    n: &mut Narrator<'_>,
    admin: &Admin,
    emulator: &RunningEmulator,
    snapshot: &Snapshot,
) -> Result<(), CliError> {
    let groups = admin.groups().await?;
    let context = |name: &str| -> Result<Context, CliError> {
        let v = vault_in(snapshot, name)?;
        Ok(Context::new(v.id.clone(), v.name.clone(), &groups))
    };
    let engineering = context("Engineering")?;
    let shared = context("Shared Logins")?;
    let marketing = context("Marketing")?;
    let rwe = VaultPermissions::RWE;
    let user = |email: &str| Who::User(email.to_owned());

    n.step("Grant Frank the Engineering vault (view and edit).")?;
    let r = vaults::grant(admin, &engineering, user(NEWCOMER), rwe).await?;
    n.outcome(&format!("{}: {}", r.outcome.replace('_', " "), r.message))?;

    n.step("Grant Alice the Shared Logins vault, which she already has directly.")?;
    let r = vaults::grant(admin, &shared, user("alice@acme.example"), rwe).await?;
    n.outcome(&format!("{}: {}", r.outcome.replace('_', " "), r.message))?;

    n.step("Grant Alice the Engineering vault, which her Engineering group gives her.")?;
    let r = vaults::grant(admin, &engineering, user("alice@acme.example"), rwe).await?;
    n.outcome(&format!("{}: {}", r.outcome.replace('_', " "), r.message))?;

    n.step("Add Frank to the Engineering group.")?;
    let group = super::group_in(&groups, "Engineering")?;
    admin
        .add_to_group(&group.id, NEWCOMER, GroupRole::Member)
        .await?;
    n.outcome(&format!("{NEWCOMER} is now a member of Engineering"))?;

    n.step("Revoke Frank's direct access to the Engineering vault.")?;
    let r = vaults::revoke(admin, &engineering, user(NEWCOMER)).await?;
    n.outcome(&format!("{}: {}", r.outcome.replace('_', " "), r.message))?;

    n.step("Revoke Bob's access to the Marketing vault, which comes from his Marketing group.")?;
    let r = vaults::revoke(admin, &marketing, user("bob@acme.example")).await?;
    n.outcome(&format!("{}: {}", r.outcome.replace('_', " "), r.message))?;

    n.step(
        "Sign in as the IT administrator and grant Bob the Finance vault, whose creator excluded administrators.",
    )?;
    let finance = vault_in(snapshot, "Finance")?.id.clone();
    let it_admin =
        connect::sign_in_to_emulator(emulator, "it-admin@acme.example", admin_concurrency())
            .await?;
    match it_admin
        .grant_vault_access(&finance, "bob@acme.example", rwe)
        .await
    {
        Err(e @ opadmin::Error::NoManageVaultPermission) => {
            n.outcome(&format!("refused, as it should be: {e}"))?
        }
        Err(e) => return Err(e.into()),
        Ok(o) => {
            return Err(CliError::Other(format!(
                "the IT administrator was unexpectedly allowed to change Finance: {o:?}"
            )));
        }
    }
    Ok(())
}

fn admin_concurrency() -> usize {
    opadmin::DEFAULT_CONCURRENCY
}

async fn state_of(admin: &Admin, email: &str) -> Result<UserState, CliError> {
    Ok(admin.resolve_user(email).await?.state)
}

fn people(n: &mut Narrator<'_>, s: &Snapshot) -> Result<(), CliError> {
    let mut users: Vec<_> = s.users.iter().collect();
    users.sort_by(|a, b| a.email.cmp(&b.email));
    for u in users {
        let last = u
            .last_sign_in
            .map_or_else(|| "never".to_owned(), |t| Value::Time(t).table());
        n.out.line(&format!(
            "      {:<24} {:<10} last sign-in {}",
            u.email,
            u.state.to_string(),
            last
        ))?;
    }
    Ok(())
}

fn summary(s: &Snapshot) -> String {
    let count = |state: UserState| s.users.iter().filter(|u| u.state == state).count();
    format!(
        "{} ({}): {} people ({} active, {} awaiting confirmation, {} suspended), {} groups, {} vaults",
        s.account.name,
        s.account.plan,
        s.users.len(),
        count(UserState::Active),
        count(UserState::Pending),
        count(UserState::Suspended),
        s.groups.len(),
        s.vaults.len()
    )
}
