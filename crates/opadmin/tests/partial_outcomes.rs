//! After a partial failure the SDK's report is true and complete: every target of a
//! confirmation or a bulk action has its outcome, and `sync` returns every readable item and
//! names what it skipped, with why (against the emulator, with its test hooks breaking one
//! thing at a time).

use opadmin::{Admin, Error, SkipReason, SkippedKind, Snapshot, UserState};
use opadmin_emulator::{
    AccountBuilder, Emulator, EmulatorConfig, FaultKind, FaultRule, FaultTarget, FaultTiming,
    GroupSpec, PersonSpec, PersonState, RunningEmulator, VaultSpec, acl, demo_account,
};

async fn start(account: AccountBuilder) -> RunningEmulator {
    Emulator::start(EmulatorConfig::default(), account.iterations(100_000))
        .await
        .expect("emulator starts")
}

async fn owner(emu: &RunningEmulator) -> Admin {
    let c = emu.owner().clone();
    Admin::builder()
        .address(emu.address())
        .credentials(&c.email, &c.password, &c.secret_key)
        .build()
        .await
        .expect("the owner signs in")
}

fn vault_ids(s: &Snapshot) -> Vec<String> {
    let mut ids: Vec<String> = s.vaults.iter().map(|v| v.id.to_string()).collect();
    ids.sort();
    ids
}

/// The demo account plus two vaults the owner holds directly: one to break, one to delete.
fn account() -> AccountBuilder {
    const OWNER: &str = "admin@acme.example";
    demo_account()
        .vault(VaultSpec::new("Broken").user(OWNER, acl::RWE | acl::MANAGE))
        .vault(VaultSpec::new("Doomed").user(OWNER, acl::RWE | acl::MANAGE))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vault_key_that_does_not_open_skips_that_vault_only() {
    let emu = start(account()).await;
    let complete = owner(&emu).await.sync().await.expect("sync before");
    assert!(complete.is_complete(), "{:?}", complete.skipped);

    let broken = emu.vault_uuid("Broken").expect("vault");
    let me = emu.owner().user_uuid.clone();
    assert!(emu.corrupt_vault_key(&broken, &me));
    // A new session: the first one holds the key, opened before it was damaged.
    let degraded = owner(&emu).await.sync().await.expect("sync degrades");

    let mut expected = vault_ids(&complete);
    expected.retain(|id| id != &broken);
    assert_eq!(vault_ids(&degraded), expected);
    assert!(degraded.vault_by_name("Broken").is_none());
    assert!(!degraded.is_complete());
    assert_eq!(degraded.skipped.len(), 1, "{:?}", degraded.skipped);
    let skipped = &degraded.skipped[0];
    assert_eq!(skipped.kind, SkippedKind::Vault);
    assert_eq!(skipped.id, broken);
    assert_eq!(skipped.reason, SkipReason::KeyDoesNotOpen);
    assert_eq!(
        skipped.name, None,
        "the name is encrypted with the key that failed"
    );
    assert!(!skipped.message.is_empty());
    // Everything else is as complete as before.
    // (People compared without last sign-in: signing in again moved the owner's.)
    let people = |s: &Snapshot| {
        s.users
            .iter()
            .map(|u| (u.id.clone(), u.email.clone(), u.state))
            .collect::<Vec<_>>()
    };
    assert_eq!(people(&degraded), people(&complete));
    assert_eq!(degraded.groups, complete.groups);
    for v in &degraded.vaults {
        assert_eq!(Some(v), complete.vaults.iter().find(|c| c.id == v.id));
    }
    // The degraded snapshot round-trips, skipped items included.
    let text = serde_json::to_string(&degraded).unwrap();
    assert_eq!(serde_json::from_str::<Snapshot>(&text).unwrap(), degraded);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vault_deleted_between_listing_and_reading_is_named_as_gone() {
    let emu = start(account()).await;
    let admin = owner(&emu).await;
    let before = admin.sync().await.expect("sync before");
    let doomed = emu.vault_uuid("Doomed").expect("vault");
    assert!(emu.delete_vault_after_listing(&doomed));

    // A full sync (a new Admin: nothing carried over, so every vault is read). An incremental
    // sync of the same Admin would take Doomed, unchanged in the listing, as it was, without
    // reading it; the next sync then reports it removed (tests/incremental_sync.rs).
    let after = owner(&emu).await.sync().await.expect("sync degrades");
    assert!(emu.vault_uuid("Doomed").is_none(), "the hook deleted it");
    let mut expected = vault_ids(&before);
    expected.retain(|id| id != &doomed);
    assert_eq!(vault_ids(&after), expected);
    assert_eq!(after.skipped.len(), 1, "{:?}", after.skipped);
    let skipped = &after.skipped[0];
    assert_eq!(skipped.kind, SkippedKind::Vault);
    assert_eq!(skipped.id, doomed);
    assert_eq!(skipped.reason, SkipReason::Gone);
    assert_eq!(
        skipped.name.as_deref(),
        Some("Doomed"),
        "its key was open, so the listing's name is known"
    );

    // The next sync no longer lists it at all: complete again.
    let again = admin.sync().await.expect("sync after");
    assert!(again.is_complete(), "{:?}", again.skipped);
    assert_eq!(vault_ids(&again), expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn confirming_many_reports_earlier_batches_confirmed_and_a_refused_batch_failed() {
    const PENDING: usize = 40; // three batches of at most 15
    assert!(PENDING > 2 * opadmin_api_batch());
    let mut account = demo_account();
    for i in 0..PENDING {
        account = account.person(
            PersonSpec::new(format!("joiner{i:02}@acme.example"), format!("Joiner {i}"))
                .state(PersonState::Pending),
        );
    }
    let emu = start(account).await;
    let admin = owner(&emu).await;
    let pending: Vec<_> = admin
        .users()
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.state == UserState::Pending)
        .collect();
    let total = pending.len();
    assert!(total > PENDING, "the demo account's Dave awaits too");
    // Someone in the last batch: the server will refuse that batch, whose keyset is wrapped
    // to the wrong public key.
    let batch = opadmin_api_batch();
    let last_batch_start = (total - 1) / batch * batch;
    let victim = &pending[last_batch_start];
    assert!(emu.serve_foreign_public_key(victim.id.as_str(), &emu.owner().email));

    let results = admin
        .confirm_all_pending()
        .await
        .expect("people are listed");
    assert_eq!(
        results.iter().map(|r| &r.target.id).collect::<Vec<_>>(),
        pending.iter().map(|u| &u.id).collect::<Vec<_>>(),
        "every pending person has an outcome, in order"
    );
    for (i, r) in results.iter().enumerate() {
        let state = emu.user_state(r.target.id.as_str());
        if i < last_batch_start {
            assert!(r.outcome.is_ok(), "{}: {:?}", r.target.email, r.outcome);
            assert_eq!(state, Some(PersonState::Active), "{}", r.target.email);
        } else {
            let e = r.outcome.as_ref().expect_err("the refused batch failed");
            assert!(
                !matches!(e, Error::NotAttempted { .. }),
                "it was sent and refused: {e}"
            );
            assert_eq!(state, Some(PersonState::Pending), "{}", r.target.email);
        }
    }

    // Confirming again finds only the refused batch's people, and reports them again.
    let again = admin.confirm_all_pending().await.unwrap();
    assert_eq!(again.len(), total - last_batch_start);
    assert!(again.iter().all(|r| r.outcome.is_err()));
}

/// A failure that concerns the whole run (the server rate-limits every confirmation after the
/// first batch, beyond what retries wait out) part-way through: the first batch is reported
/// confirmed, the struck batch failed with the rate limit, and the rest not attempted; the
/// emulator agrees person by person.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_stopped_part_way_reports_done_failed_and_not_attempted_truly() {
    const PENDING: usize = 40;
    let batch = opadmin_api_batch();
    assert!(PENDING > 2 * batch);
    let mut account = demo_account();
    for i in 0..PENDING {
        account = account.person(
            PersonSpec::new(format!("joiner{i:02}@acme.example"), format!("Joiner {i}"))
                .state(PersonState::Pending),
        );
    }
    let emu = start(account).await;
    let admin = owner(&emu).await;
    emu.inject_fault(FaultRule::new(
        FaultTarget::route("PUT", "/api/v2/people/confirm"),
        FaultTiming::AfterFirst(1),
        FaultKind::RateLimitBeforeApply,
    ));
    let results = admin
        .confirm_all_pending()
        .await
        .expect("people are listed");
    assert!(results.len() > PENDING);
    let (mut done, mut failed, mut not_attempted) = (0, 0, 0);
    for (i, r) in results.iter().enumerate() {
        let state = emu.user_state(r.target.id.as_str());
        match (i / batch, &r.outcome) {
            (0, Ok(())) => {
                done += 1;
                assert_eq!(state, Some(PersonState::Active), "{}", r.target.email);
            }
            (1, Err(Error::RateLimited { .. })) => {
                failed += 1;
                assert_eq!(state, Some(PersonState::Pending), "{}", r.target.email);
            }
            (b, Err(Error::NotAttempted { .. })) if b >= 2 => {
                not_attempted += 1;
                assert_eq!(state, Some(PersonState::Pending), "{}", r.target.email);
            }
            (b, other) => panic!("{} (batch {b}): {other:?}", r.target.email),
        }
    }
    assert_eq!((done, failed), (batch, batch));
    assert_eq!(not_attempted, results.len() - 2 * batch);
}

fn opadmin_api_batch() -> usize {
    opadmin_api::client::BATCH_SIZE
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bulk_of_200_gives_every_target_an_outcome() {
    let emu = start(demo_account()).await;
    let admin = owner(&emu).await;
    let known = [
        "alice@acme.example",
        "bob@acme.example",
        "dave@acme.example",
    ];
    let targets: Vec<String> = (0..200)
        .map(|i| match i % 4 {
            0 => format!("nobody{i}@acme.example"),
            _ => known[i % known.len()].to_owned(),
        })
        .collect();
    let results = admin
        .bulk(targets.clone(), |admin, email: String| async move {
            if email == "nobody100@acme.example" {
                panic!("a faulty action");
            }
            admin.resolve_user(email.as_str()).await.map(|u| u.email)
        })
        .await;
    assert_eq!(results.len(), 200);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.target, targets[i], "in order");
        match (i % 4, &r.outcome) {
            (0, Err(Error::Internal(_))) if i == 100 => {}
            (0, Err(Error::NotFound { .. })) if i != 100 => {}
            (0, other) => panic!("{}: {other:?}", r.target),
            (_, Ok(email)) => assert_eq!(email, &r.target),
            (_, Err(e)) => panic!("{}: {e}", r.target),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_keyset_that_does_not_open_is_skipped_and_sign_in_goes_on() {
    let emu = start(account().group(GroupSpec::new("Cursed").member("admin@acme.example"))).await;
    let complete = owner(&emu).await.sync().await.expect("sync before");
    assert!(complete.is_complete());
    let cursed = emu.group_uuid("Cursed").expect("group");
    assert!(emu.corrupt_member_keyset(&cursed, "admin@acme.example"));

    let admin = owner(&emu).await;
    let skipped = admin.skipped_keysets();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].kind, SkippedKind::Keyset);
    assert_eq!(skipped[0].reason, SkipReason::KeyDoesNotOpen);
    let snapshot = admin.sync().await.expect("sync degrades");
    assert_eq!(snapshot.skipped, skipped, "sync names it too");
    // Nothing was wrapped only to that keyset, so everything else is complete.
    assert_eq!(vault_ids(&snapshot), vault_ids(&complete));
    assert_eq!(snapshot.groups, complete.groups);

    // The primary keyset is what sign-in needs: damaged, sign-in fails as a whole.
    let it_admin = emu.credentials("it-admin@acme.example").unwrap().clone();
    assert!(emu.corrupt_primary_keyset(&it_admin.email));
    let refused = Admin::builder()
        .address(emu.address())
        .credentials(&it_admin.email, &it_admin.password, &it_admin.secret_key)
        .build()
        .await
        .expect_err("no primary keyset, no sign-in");
    assert!(matches!(refused, Error::Tampered(_)), "{refused}");
}
