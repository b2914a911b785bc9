//! The fault matrix: every state-changing operation of the facade, under every fault that can
//! strike its write (applied then a 5xx, applied then a broken connection, applied then no
//! answer before the client's timeout, a 5xx before anything is applied, a storm of 429s, the
//! session ending mid-sequence). For each cell: the server ends in the requested state, the
//! emulator's change counter rose by exactly one (the change was applied once, never twice),
//! the fault really struck, and what the SDK reported matches the server's state.
//!
//! One test per fault, looping over the operations; a failing cell names its fault and
//! operation, and each test prints how many of its cells passed.

mod support;

use std::io::Write as _;
use std::time::Duration;

use opadmin::{
    Admin, GrantOutcome, GroupId, GroupRole, MembershipOutcome, RetryPolicy, RevokeOutcome,
    TransportConfig, UserState, UserType, VaultId, VaultPermissions,
};
use opadmin_emulator::{
    Acl, EmulatorConfig, FaultKind, FaultRule, FaultTarget, FaultTiming, MemberRole, PersonState,
    RunningEmulator,
};

/// The client's time limit per attempt: short, so that the "no answer" fault is quick.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(1500);

/// One fault of the matrix.
#[derive(Debug, Clone, Copy)]
struct Fault {
    name: &'static str,
    kind: FaultKind,
    /// Consecutive state-changing requests it strikes.
    strikes: u64,
}

impl Fault {
    /// Whether the struck request's change is applied (the SDK must then report the change as
    /// done despite the failure, without sending it again).
    fn applies(self) -> bool {
        self.kind.applies()
    }
}

/// An emulator with the demo account and its owner signed in with short timeouts.
async fn start() -> (RunningEmulator, Admin) {
    start_with(opadmin_emulator::demo_account()).await
}

/// An emulator with this account and its owner signed in with short timeouts.
async fn start_with(account: opadmin_emulator::AccountBuilder) -> (RunningEmulator, Admin) {
    let emu =
        opadmin_emulator::Emulator::start(EmulatorConfig::default(), account.iterations(100_000))
            .await
            .expect("emulator starts");
    let owner = emu.owner().clone();
    let transport = TransportConfig::default()
        .with_timeout(CLIENT_TIMEOUT)
        .with_retry(
            RetryPolicy::default()
                .with_max_attempts(4)
                .with_backoff(Duration::from_millis(20), Duration::from_millis(100)),
        );
    let admin = Admin::builder()
        .address(emu.address())
        .credentials(&owner.email, &owner.password, &owner.secret_key)
        .transport(transport)
        .build()
        .await
        .expect("the owner signs in");
    (emu, admin)
}

fn vault(emu: &RunningEmulator, name: &str) -> VaultId {
    VaultId::new(emu.vault_uuid(name).expect("demo vault"))
}

fn group(emu: &RunningEmulator, name: &str) -> GroupId {
    GroupId::new(emu.group_uuid(name).expect("demo group"))
}

fn uuid(emu: &RunningEmulator, email: &str) -> String {
    emu.user_uuid(email).expect("demo person")
}

/// The operations of the matrix, in the order they run on one emulator (each has its own
/// target, so an earlier cell leaves later ones' starting state alone).
const OPERATIONS: [&str; 13] = [
    "invite",
    "confirm",
    "suspend",
    "reactivate",
    "remove",
    "grant person",
    "revoke person",
    "grant group",
    "revoke group",
    "set permissions",
    "add to group",
    "remove from group",
    "set role",
];

/// Puts the operation's target in its starting state (before the fault is armed).
async fn prepare(op: &str, emu: &RunningEmulator, admin: &Admin) -> Result<(), String> {
    match op {
        // Carol gets a direct grant on Marketing, whose permissions the cell then changes.
        "set permissions" => admin
            .grant_vault_access(
                &vault(emu, "Marketing"),
                "carol@acme.example",
                VaultPermissions::RWE,
            )
            .await
            .map(drop)
            .map_err(|e| format!("preparing: {e}")),
        _ => Ok(()),
    }
}

/// Runs one operation and checks that its report matches the server's state.
async fn run(op: &str, fault: Fault, emu: &RunningEmulator, admin: &Admin) -> Result<(), String> {
    let despite = fault.applies();
    let fail = |what: String| Err(what);
    match op {
        "invite" => {
            let email = "newcomer@acme.example";
            let inv = admin
                .invite(email, "New Comer", UserType::Member, &[])
                .await
                .map_err(|e| e.to_string())?;
            if inv.email != email || inv.despite_failure != despite || inv.id.is_empty() {
                return fail(format!("reported {inv:?}"));
            }
            if !emu.pending_invitations().iter().any(|e| e == email) {
                return fail("no pending invitation on the server".into());
            }
            let count = emu
                .pending_invitations()
                .iter()
                .filter(|e| *e == email)
                .count();
            if count != 1 {
                return fail(format!("{count} pending invitations for {email}"));
            }
        }
        "confirm" => {
            admin
                .confirm("dave@acme.example")
                .await
                .map_err(|e| e.to_string())?;
            expect_state(emu, "dave@acme.example", PersonState::Active)?;
        }
        "suspend" | "reactivate" | "remove" => {
            let (email, want, state) = match op {
                "suspend" => (
                    "bob@acme.example",
                    UserState::Suspended,
                    PersonState::Suspended,
                ),
                "reactivate" => ("erin@acme.example", UserState::Active, PersonState::Active),
                _ => (
                    "gina@acme.example",
                    UserState::Deleted,
                    PersonState::Deleted,
                ),
            };
            let user = match op {
                "suspend" => admin.suspend(email).await,
                "reactivate" => admin.reactivate(email).await,
                _ => admin.remove(email).await,
            }
            .map_err(|e| e.to_string())?;
            if user.state != want {
                return fail(format!("reported the state {}", user.state));
            }
            expect_state(emu, email, state)?;
        }
        "grant person" => {
            let v = vault(emu, "Marketing");
            let out = admin
                .grant_vault_access(&v, "alice@acme.example", VaultPermissions::RWE)
                .await
                .map_err(|e| e.to_string())?;
            let permissions = match (&out, despite) {
                (GrantOutcome::Granted { permissions }, false)
                | (GrantOutcome::GrantedDespiteFailure { permissions }, true) => *permissions,
                _ => return fail(format!("reported {out:?}")),
            };
            let alice = uuid(emu, "alice@acme.example");
            expect_acl(emu, &v, &alice, Some(permissions))?;
        }
        "revoke person" => {
            let v = vault(emu, "Shared Logins");
            let out = admin
                .revoke_vault_access(&v, "alice@acme.example")
                .await
                .map_err(|e| e.to_string())?;
            match (&out, despite) {
                (RevokeOutcome::Revoked { .. }, false)
                | (RevokeOutcome::RevokedDespiteFailure { .. }, true) => {}
                _ => return fail(format!("reported {out:?}")),
            }
            expect_acl(emu, &v, &uuid(emu, "alice@acme.example"), None)?;
        }
        "grant group" => {
            let (v, g) = (vault(emu, "Engineering"), group(emu, "Marketing"));
            let out = admin
                .grant_group_vault_access(&v, &g, VaultPermissions::RWE)
                .await
                .map_err(|e| e.to_string())?;
            let permissions = match (&out, despite) {
                (GrantOutcome::Granted { permissions }, false)
                | (GrantOutcome::GrantedDespiteFailure { permissions }, true) => *permissions,
                _ => return fail(format!("reported {out:?}")),
            };
            expect_acl(emu, &v, g.as_str(), Some(permissions))?;
        }
        "revoke group" => {
            let (v, g) = (vault(emu, "Engineering"), group(emu, "Engineering"));
            let out = admin
                .revoke_group_vault_access(&v, &g)
                .await
                .map_err(|e| e.to_string())?;
            match (&out, despite) {
                (RevokeOutcome::Revoked { .. }, false)
                | (RevokeOutcome::RevokedDespiteFailure { .. }, true) => {}
                _ => return fail(format!("reported {out:?}")),
            }
            expect_acl(emu, &v, g.as_str(), None)?;
        }
        "set permissions" => {
            let v = vault(emu, "Marketing");
            let set = admin
                .set_vault_permissions(&v, "carol@acme.example", VaultPermissions::ALL_READ)
                .await
                .map_err(|e| e.to_string())?;
            if set != VaultPermissions::ALL_READ.with_dependencies() {
                return fail(format!("reported {set:?}"));
            }
            expect_acl(emu, &v, &uuid(emu, "carol@acme.example"), Some(set))?;
        }
        "add to group" => {
            let g = group(emu, "Marketing");
            let out = admin
                .add_to_group(&g, "alice@acme.example", GroupRole::Member)
                .await
                .map_err(|e| e.to_string())?;
            match (&out, despite) {
                (MembershipOutcome::Added { role }, false)
                | (MembershipOutcome::AddedDespiteFailure { role }, true)
                    if *role == GroupRole::Member => {}
                _ => return fail(format!("reported {out:?}")),
            }
            expect_member(emu, &g, "alice@acme.example", Some(MemberRole::Member))?;
        }
        "remove from group" => {
            let g = group(emu, "Engineering");
            let out = admin
                .remove_from_group(&g, "carol@acme.example")
                .await
                .map_err(|e| e.to_string())?;
            match (&out, despite) {
                (MembershipOutcome::Removed, false)
                | (MembershipOutcome::RemovedDespiteFailure, true) => {}
                _ => return fail(format!("reported {out:?}")),
            }
            expect_member(emu, &g, "carol@acme.example", None)?;
        }
        "set role" => {
            let g = group(emu, "Engineering");
            admin
                .set_group_role(&g, "alice@acme.example", GroupRole::Manager)
                .await
                .map_err(|e| e.to_string())?;
            expect_member(emu, &g, "alice@acme.example", Some(MemberRole::Manager))?;
        }
        other => return fail(format!("no such operation {other}")),
    }
    Ok(())
}

fn expect_state(emu: &RunningEmulator, email: &str, want: PersonState) -> Result<(), String> {
    match emu.user_state(email) {
        Some(s) if s == want => Ok(()),
        // A deleted person may no longer be listed at all.
        None if want == PersonState::Deleted => Ok(()),
        other => Err(format!(
            "the server has {email} in state {other:?}, not {want:?}"
        )),
    }
}

fn expect_acl(
    emu: &RunningEmulator,
    v: &VaultId,
    accessor: &str,
    want: Option<VaultPermissions>,
) -> Result<(), String> {
    let have = emu.vault_access(v.as_str(), accessor).map(Acl::bits);
    if have == want.map(VaultPermissions::bits) {
        Ok(())
    } else {
        Err(format!(
            "the server's grant for {accessor} is {have:?}, not {want:?}"
        ))
    }
}

fn expect_member(
    emu: &RunningEmulator,
    g: &GroupId,
    email: &str,
    want: Option<MemberRole>,
) -> Result<(), String> {
    let id = uuid(emu, email);
    let have = emu
        .group_members(g.as_str())
        .into_iter()
        .find(|(u, _)| *u == id)
        .map(|(_, r)| r);
    if have == want {
        Ok(())
    } else {
        Err(format!(
            "the server has {email} in the group as {have:?}, not {want:?}"
        ))
    }
}

/// Runs every operation under `fault` on a fresh emulator; fails naming every failing cell.
async fn matrix_row(fault: Fault) {
    let (emu, admin) = start().await;
    let mut failures = Vec::new();
    for op in OPERATIONS {
        let cell = format!("[{} x {op}]", fault.name);
        if let Err(e) = prepare(op, &emu, &admin).await {
            failures.push(format!("{cell} {e}"));
            continue;
        }
        let changes = emu.changes_applied();
        let struck = emu.faults_struck();
        emu.inject_fault(FaultRule::new(
            FaultTarget::StateChanging,
            FaultTiming::Next(fault.strikes),
            fault.kind,
        ));
        let outcome = run(op, fault, &emu, &admin).await;
        let struck = emu.faults_struck() - struck;
        emu.clear_faults();
        let applied = emu.changes_applied() - changes;
        let mut problems = Vec::new();
        if let Err(e) = outcome {
            problems.push(e);
        }
        if applied != 1 {
            problems.push(format!("the server applied {applied} changes, not 1"));
        }
        if struck != fault.strikes {
            problems.push(format!(
                "the fault struck {struck} times, not {}",
                fault.strikes
            ));
        }
        if !problems.is_empty() {
            failures.push(format!("{cell} {}", problems.join("; ")));
        }
    }
    let passed = OPERATIONS.len() - failures.len();
    let _ = writeln!(
        std::io::stderr(),
        "fault matrix: {}: {passed}/{} cells pass",
        fault.name,
        OPERATIONS.len()
    );
    assert!(
        failures.is_empty(),
        "failing cells:\n{}",
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_then_server_error() {
    matrix_row(Fault {
        name: "applied, then HTTP 500",
        kind: FaultKind::ApplyThenServerError,
        strikes: 1,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_then_connection_broken() {
    matrix_row(Fault {
        name: "applied, then the connection breaks",
        kind: FaultKind::ApplyThenDrop,
        strikes: 1,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_then_no_answer_before_the_timeout() {
    matrix_row(Fault {
        name: "applied, then no answer",
        kind: FaultKind::ApplyThenHang(CLIENT_TIMEOUT * 3),
        strikes: 1,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_before_anything_is_applied() {
    matrix_row(Fault {
        name: "HTTP 503 before applying",
        kind: FaultKind::FailBeforeApply,
        strikes: 1,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_storm() {
    matrix_row(Fault {
        name: "three 429s in a row",
        kind: FaultKind::RateLimitBeforeApply,
        strikes: 3,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_expires_mid_sequence() {
    matrix_row(Fault {
        name: "session ends before the write",
        kind: FaultKind::ExpireSessionBeforeApply,
        strikes: 1,
    })
    .await;
}

/// A bulk of 200 targets (suspensions and removals of 190 people, and 10 people who do not
/// exist) while 5% of all writes are applied and then fail (half with a 500, half with a broken
/// connection): every target has an outcome that matches the server, none is lost, and the
/// emulator's change counter shows each change applied exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_of_200_under_apply_then_fail_faults_reports_every_target_truly() {
    let (emu, admin) = start_with(opadmin_emulator::demo_account().synthetic(190, 0, 0)).await;
    let targets: Vec<(usize, String)> = (0..200)
        .map(|i| {
            let email = if i < 190 {
                format!("user{i}@example.com")
            } else {
                format!("nobody{i}@example.com")
            };
            (i, email)
        })
        .collect();
    for kind in [FaultKind::ApplyThenServerError, FaultKind::ApplyThenDrop] {
        emu.inject_fault(FaultRule::new(
            FaultTarget::StateChanging,
            FaultTiming::Rate(0.025),
            kind,
        ));
    }
    let changes_before = emu.changes_applied();
    let results = admin
        .bulk(
            targets.clone(),
            |admin, (i, email): (usize, String)| async move {
                if i % 2 == 0 {
                    admin.suspend(email.as_str()).await
                } else {
                    admin.remove(email.as_str()).await
                }
            },
        )
        .await;
    let struck = emu.faults_struck();
    emu.clear_faults();

    assert_eq!(results.len(), 200, "every target has an outcome");
    let mut wrong = Vec::new();
    for (r, (i, email)) in results.iter().zip(&targets) {
        assert_eq!(&r.target.1, email, "outcomes come in the targets' order");
        let server = emu.user_uuid(email).and_then(|u| emu.user_state(&u));
        let (want_reported, want_server) = if *i >= 190 {
            (None, None)
        } else if i % 2 == 0 {
            (Some(UserState::Suspended), Some(PersonState::Suspended))
        } else {
            (Some(UserState::Deleted), Some(PersonState::Deleted))
        };
        let reported = match &r.outcome {
            Ok(user) => Some(user.state),
            Err(opadmin::Error::NotFound { .. }) if *i >= 190 => None,
            Err(e) => {
                wrong.push(format!("{email}: reported the error {e}"));
                continue;
            }
        };
        if reported != want_reported {
            wrong.push(format!(
                "{email}: reported {reported:?}, wanted {want_reported:?}"
            ));
        }
        // Removed people may be gone from the account or kept as deleted; both are removed.
        let server_ok = match want_server {
            Some(PersonState::Deleted) => matches!(server, None | Some(PersonState::Deleted)),
            other => server == other,
        };
        if !server_ok {
            wrong.push(format!(
                "{email}: the server has {server:?}, wanted {want_server:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong outcomes: {wrong:#?}",
        wrong.len()
    );
    assert_eq!(
        emu.changes_applied() - changes_before,
        190,
        "each of the 190 changes applied exactly once ({struck} writes failed after applying)"
    );
    assert!(
        struck > 0,
        "the faults struck (5% of about 190 writes; none striking has odds below 1 in 10,000)"
    );
    println!("bulk of 200: {struck} writes applied then failed; 0 lost, 0 applied twice");
}

/// A second invitation to someone already invited, whose sending fails before the server acts:
/// the invitation pending from before is not mistaken for this one (reporting "sent despite the
/// failure" would be false); the repeat meets the server's refusal, which is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_pending_invitation_is_not_taken_for_a_failed_new_one() {
    let (emu, admin) = start().await;
    let email = "twice@acme.example";
    let first = admin
        .invite(email, "Twice", UserType::Member, &[])
        .await
        .expect("the first invitation is sent");
    assert!(!first.despite_failure);
    emu.inject_fault(FaultRule::new(
        FaultTarget::route("POST", "/api/v1/invite"),
        FaultTiming::Next(1),
        FaultKind::FailBeforeApply,
    ));
    let changes = emu.changes_applied();
    let second = admin.invite(email, "Twice", UserType::Member, &[]).await;
    assert_eq!(
        emu.faults_struck(),
        1,
        "the fault struck the second sending"
    );
    match second {
        Ok(inv) => panic!("reported {inv:?} although the server applied nothing"),
        Err(e) => assert!(
            !matches!(e, opadmin::Error::MaybeApplied { .. }),
            "the state settles it: {e}"
        ),
    }
    assert_eq!(emu.changes_applied(), changes, "nothing was applied");
    let pending = emu.pending_invitations();
    assert_eq!(pending.iter().filter(|e| *e == email).count(), 1);
}

/// Revoking an invitation whose answer is lost after the server applied it: reported as
/// revoked, applied once, and not pending on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_invitation_whose_answer_is_lost_is_reported_revoked() {
    let (emu, admin) = start().await;
    let email = "leaving@acme.example";
    let sent = admin
        .invite(email, "", UserType::Member, &[])
        .await
        .expect("invited");
    for kind in [FaultKind::ApplyThenServerError, FaultKind::ApplyThenDrop] {
        let sent = if kind == FaultKind::ApplyThenServerError {
            sent.clone()
        } else {
            admin
                .invite(email, "", UserType::Member, &[])
                .await
                .expect("invited again")
        };
        emu.inject_fault(FaultRule::new(
            FaultTarget::route("DELETE", "/api/v1/invite/"),
            FaultTiming::Next(1),
            kind,
        ));
        let changes = emu.changes_applied();
        let struck = emu.faults_struck();
        let revoked = admin
            .revoke_invitation(&sent.id)
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(revoked.id, sent.id);
        assert_eq!(emu.faults_struck(), struck + 1, "{kind:?} struck");
        assert_eq!(emu.changes_applied(), changes + 1, "{kind:?}: applied once");
        assert!(emu.pending_invitations().is_empty(), "{kind:?}");
        emu.clear_faults();
    }
}
