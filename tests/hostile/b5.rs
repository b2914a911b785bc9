//! Attacks on the b5 protocol: a proxy in front of a real emulator misbehaves in one way per
//! test, and the SDK must answer with the typed error and apply nothing.

use std::time::{Duration, Instant};

use axum::http::Method;
use opadmin::{Error, GrantOutcome, RevokeOutcome, UserId, VaultId, VaultPermissions};
use opadmin_api::transport::{RetryPolicy, TransportConfig};
use opadmin_emulator::RunningEmulator;
use serde_json::{Value, json};

use crate::support::{Action, HitCounter, Proxy, Rule, emulator, owner_builder, signed_in};

const AUTH_START: &str = "/api/v3/auth/start";
const SRP_V2: &str = "/api/v2/auth";
const KEYSETS: &str = "/api/v2/account/keysets";
const VAULTS: &str = "/api/v1/vaults";

fn vault(emu: &RunningEmulator, name: &str) -> VaultId {
    VaultId::new(emu.vault_uuid(name).expect("vault exists"))
}

fn user(emu: &RunningEmulator, email: &str) -> UserId {
    UserId::new(emu.user_uuid(email).expect("person exists"))
}

/// The peak resident set of this process, in bytes (`VmHWM`), where Linux reports it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

// ---- 1. plaintext answers on a keyed session ----------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn plain_keysets_during_sign_in_is_tampered() {
    let emu = emulator().await;
    let proxy = Proxy::start(&emu).await;
    proxy.rule(Rule::new(
        Method::GET,
        KEYSETS,
        Action::plain(json!({ "keysets": [] })),
    ));
    let before = emu.changes_applied();
    let result = owner_builder(&emu, &proxy).build().await;
    assert!(
        matches!(result, Err(Error::Tampered(_))),
        "a plain keysets answer after the session key exists must be Tampered, got {:?}",
        result.err()
    );
    assert_eq!(proxy.count(Method::GET, KEYSETS), 1, "never retried");
    assert_eq!(emu.changes_applied(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_keysets_during_sign_in_again_is_tampered() {
    let emu = emulator().await;
    let proxy = Proxy::start(&emu).await;
    // The first sign-in reads the real keysets; the sign-in again after an expiry gets plain
    // JSON instead.
    proxy.rule(
        Rule::new(
            Method::GET,
            KEYSETS,
            Action::plain(json!({ "keysets": [] })),
        )
        .after(1),
    );
    let admin = owner_builder(&emu, &proxy)
        .build()
        .await
        .expect("the first sign-in reads the real keysets");
    assert_eq!(proxy.count(Method::GET, KEYSETS), 1);
    let before = emu.changes_applied();
    emu.expire_sessions();
    let result = admin.vaults().await;
    assert!(
        matches!(result, Err(Error::Tampered(_))),
        "sign-in again with plain keysets: {result:?}"
    );
    assert_eq!(proxy.count(Method::GET, KEYSETS), 2);
    // A failed check of the server is final: no further sign-in is attempted.
    let starts = proxy.count(Method::POST, AUTH_START);
    let result = admin.vaults().await;
    assert!(
        matches!(result, Err(Error::Tampered(_))),
        "a later call: {result:?}"
    );
    assert_eq!(proxy.count(Method::POST, AUTH_START), starts);
    assert_eq!(proxy.count(Method::GET, KEYSETS), 2);
    assert_eq!(emu.changes_applied(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_vault_list_is_tampered() {
    let (emu, proxy, admin) = signed_in().await;
    let before = emu.changes_applied();
    // The emulator's real answer is an envelope; a plain list, or the plain `{"success":1}` that
    // only a few write endpoints may send, must both be refused here.
    for body in [json!([]), json!({ "success": 1 })] {
        proxy.clear_rules();
        proxy.rule(Rule::new(Method::GET, VAULTS, Action::plain(body.clone())));
        let seen = proxy.count(Method::GET, VAULTS);
        let result = admin.vaults().await;
        assert!(
            matches!(result, Err(Error::Tampered(_))),
            "vaults() with plain {body}: {result:?}"
        );
        assert_eq!(
            proxy.count(Method::GET, VAULTS),
            seen + 1,
            "a tampered answer is never retried"
        );
        let result = admin.sync().await;
        assert!(
            matches!(result, Err(Error::Tampered(_))),
            "sync() with plain {body}: {:?}",
            result.err()
        );
    }
    // The same calls work once the proxy stops interfering: the failures above were the attack.
    proxy.clear_rules();
    assert!(
        !admin
            .vaults()
            .await
            .expect("vaults through a clean proxy")
            .is_empty()
    );
    assert_eq!(emu.changes_applied(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_vault_read_during_grant_applies_nothing() {
    let (emu, proxy, admin) = signed_in().await;
    let shared = vault(&emu, "Shared Logins");
    let bob = user(&emu, "bob@acme.example");
    proxy.rule(Rule::new(
        Method::GET,
        &format!("/api/v3/vault/{shared}"),
        Action::plain(json!({
            "uuid": shared.as_str(),
            "type": "U",
            "access": [],
            "combinedAccess": { "acl": 0xFFFF_FFFFu32, "vaultKeySN": 1 }
        })),
    ));
    let before = emu.changes_applied();
    let result = admin
        .grant_vault_access(&shared, bob.clone(), VaultPermissions::RWE)
        .await;
    assert!(
        matches!(result, Err(Error::Tampered(_))),
        "grant with a plain vault read: {result:?}"
    );
    assert_eq!(emu.changes_applied(), before, "nothing applied");
    assert_eq!(emu.vault_access(shared.as_str(), bob.as_str()), None);
    assert_eq!(
        proxy.count_prefix(Method::PATCH, "/api/v2/vault/"),
        0,
        "no grant was sent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_listed_write_answering_other_plain_json_is_tampered() {
    let (emu, proxy, admin) = signed_in().await;
    let shared = vault(&emu, "Shared Logins");
    let bob = user(&emu, "bob@acme.example");
    let alice = user(&emu, "alice@acme.example");
    let before = emu.changes_applied();

    // The grant's PATCH may answer plain `{"success":1}`, and nothing else.
    for body in [json!({ "success": 1, "x": 2 }), json!({ "success": true })] {
        proxy.clear_rules();
        proxy.rule(Rule::new(
            Method::PATCH,
            "/api/v2/vault/",
            Action::plain(body.clone()),
        ));
        let result = admin
            .grant_vault_access(&shared, bob.clone(), VaultPermissions::RWE)
            .await;
        assert!(
            matches!(result, Err(Error::Tampered(_))),
            "grant answered plain {body}: {result:?}"
        );
    }
    assert_eq!(proxy.count_prefix(Method::PATCH, "/api/v2/vault/"), 2);
    assert_eq!(emu.vault_access(shared.as_str(), bob.as_str()), None);

    // The same for a revoke's DELETE.
    let alice_path = format!("/api/v1/vault/{shared}/person/{alice}");
    for body in [json!({ "success": true }), json!({ "success": 1, "x": 2 })] {
        proxy.clear_rules();
        proxy.rule(Rule::new(
            Method::DELETE,
            &alice_path,
            Action::plain(body.clone()),
        ));
        let result = admin.revoke_vault_access(&shared, alice.clone()).await;
        assert!(
            matches!(result, Err(Error::Tampered(_))),
            "revoke answered plain {body}: {result:?}"
        );
    }
    assert_eq!(proxy.count(Method::DELETE, &alice_path), 2);
    assert!(emu.vault_access(shared.as_str(), alice.as_str()).is_some());
    assert_eq!(emu.changes_applied(), before, "nothing applied");
}

// ---- 2. unsafe key-derivation parameters -------------------------------------------------

/// Forwards `auth/start` and sets `userAuth.iterations` in the emulator's answer.
fn iterations_rule(iterations: u32) -> Rule {
    Rule::new(
        Method::POST,
        AUTH_START,
        Action::Rewrite(std::sync::Arc::new(move |answer: &mut Value| {
            // The first start of a new device answers "device-not-registered" without
            // `userAuth`; the start after registering carries it.
            if let Some(user_auth) = answer.get_mut("userAuth") {
                user_auth["iterations"] = json!(iterations);
            }
        })),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn unsafe_iteration_counts_are_refused_before_any_derivation() {
    let emu = emulator().await;
    let before = emu.changes_applied();
    for (iterations, floor, min) in [
        (1, None, 100_000),
        (u32::MAX, None, 100_000),
        (10_000_001, None, 100_000),
        (9_999, Some(10_000), 10_000),
    ] {
        let proxy = Proxy::start(&emu).await;
        proxy.rule(iterations_rule(iterations));
        let mut builder = owner_builder(&emu, &proxy);
        if let Some(floor) = floor {
            builder = builder.min_kdf_iterations(floor);
        }
        let started = Instant::now();
        let result = tokio::time::timeout(Duration::from_secs(20), builder.build())
            .await
            .unwrap_or_else(|_| panic!("{iterations} iterations: sign-in did not end in 20 s"));
        let elapsed = started.elapsed();
        match result {
            Err(Error::UnsafeKdfParameters {
                iterations: got,
                min: got_min,
                max,
            }) => {
                assert_eq!((got, got_min, max), (iterations, min, 10_000_000));
            }
            other => panic!("{iterations} iterations: expected UnsafeKdfParameters, got {other:?}"),
        }
        assert!(
            elapsed < Duration::from_secs(20),
            "{iterations} iterations took {elapsed:?}"
        );
        assert!(proxy.count(Method::POST, AUTH_START) >= 1);
        assert_eq!(
            proxy.count_prefix(Method::POST, SRP_V2) + proxy.count(Method::POST, "/api/v1/auth"),
            0,
            "no SRP exchange after refusing the parameters"
        );
    }
    // The same proxy rule with an acceptable count signs in: the rewrite itself is harmless.
    let proxy = Proxy::start(&emu).await;
    proxy.rule(iterations_rule(100_000));
    owner_builder(&emu, &proxy)
        .build()
        .await
        .expect("the emulator's own count passes through the rewrite");
    assert_eq!(emu.changes_applied(), before);
}

// ---- 3. endless body ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn endless_body_stops_at_the_cap() {
    const CAP: usize = 1 << 20;
    let emu = emulator().await;
    let proxy = Proxy::start(&emu).await;
    let admin = owner_builder(&emu, &proxy)
        .max_answer_bytes(CAP)
        .timeout(Duration::from_secs(15))
        .build()
        .await
        .expect("signs in");
    proxy.rule(Rule::new(Method::GET, VAULTS, Action::Endless));
    let before = emu.changes_applied();
    let rss_before = peak_rss_bytes();
    let result = tokio::time::timeout(Duration::from_secs(30), admin.vaults())
        .await
        .expect("an endless body must not hang the call");
    let rss_after = peak_rss_bytes();
    assert!(
        matches!(result, Err(Error::AnswerTooLarge { limit: CAP })),
        "endless body: {result:?}"
    );
    assert_eq!(proxy.count(Method::GET, VAULTS), 1, "not retried");
    assert_eq!(emu.changes_applied(), before);
    // The peak resident set is process-wide and other tests run beside this one, so the bound
    // is loose; an uncapped read of a loopback stream would grow by gigabytes.
    if let (Some(a), Some(b)) = (rss_before, rss_after) {
        let grown = b.saturating_sub(a);
        assert!(
            grown < 48 * CAP as u64,
            "peak memory grew by {grown} bytes reading a body capped at {CAP}"
        );
    }
}

// ---- 4. slow drip ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn slow_drip_ends_at_the_timeout() {
    let emu = emulator().await;
    let proxy = Proxy::start(&emu).await;
    let retry = RetryPolicy::default()
        .with_max_attempts(2)
        .with_backoff(Duration::from_millis(100), Duration::from_millis(100));
    let admin = owner_builder(&emu, &proxy)
        .transport(TransportConfig::default().with_retry(retry))
        .timeout(Duration::from_secs(2))
        .build()
        .await
        .expect("signs in");
    proxy.rule(Rule::new(
        Method::GET,
        VAULTS,
        Action::Drip {
            interval: Duration::from_millis(300),
        },
    ));
    let before = emu.changes_applied();
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(30), admin.vaults())
        .await
        .expect("a dripping body must not hang the call");
    let elapsed = started.elapsed();
    assert!(matches!(result, Err(Error::Timeout)), "drip: {result:?}");
    let attempts = proxy.count(Method::GET, VAULTS);
    assert!(
        (1..=2).contains(&attempts),
        "{attempts} attempts with a policy of 2"
    );
    // Each attempt ends at 2 s; the body alone would drip for ever.
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(10),
        "ended after {elapsed:?}"
    );
    assert_eq!(emu.changes_applied(), before);
}

// ---- 5. redirects --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_not_followed() {
    let target = HitCounter::start().await;
    let (emu, proxy, admin) = signed_in().await;
    let before = emu.changes_applied();

    proxy.rule(Rule::new(
        Method::GET,
        VAULTS,
        Action::Redirect {
            status: 302,
            location: format!("{}{VAULTS}", target.address()),
        },
    ));
    let result = admin.vaults().await;
    assert!(
        matches!(&result, Err(Error::Protocol(m)) if m.contains("redirect")),
        "302 on the vault list: {result:?}"
    );
    assert_eq!(proxy.count(Method::GET, VAULTS), 1, "not retried");

    // A 307 keeps method and body: followed during sign-in it would hand the email, Secret
    // Key id and SRP values to another server.
    let proxy2 = Proxy::start(&emu).await;
    proxy2.rule(Rule::new(
        Method::POST,
        AUTH_START,
        Action::Redirect {
            status: 307,
            location: format!("{}{AUTH_START}", target.address()),
        },
    ));
    let result = owner_builder(&emu, &proxy2).build().await;
    assert!(
        matches!(&result, Err(Error::Protocol(m)) if m.contains("redirect")),
        "307 on auth/start: {:?}",
        result.err()
    );

    assert_eq!(target.hits(), 0, "the redirect target received nothing");
    assert_eq!(emu.changes_applied(), before);
}

// ---- 6. failed sign-in again under concurrency ---------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn failed_sign_in_again_is_shared_and_final() {
    let (emu, proxy, admin) = signed_in().await;
    // A new device's sign-in starts twice (before and after registering the device).
    let starts = proxy.count(Method::POST, AUTH_START);
    let srp = proxy.count(Method::POST, SRP_V2);
    assert_eq!(srp, 1, "one SRP exchange so far");
    let before = emu.changes_applied();

    // The session ends on the server, and the server now refuses every sign-in.
    emu.expire_sessions();
    proxy.rule(Rule::new(Method::POST, AUTH_START, Action::Unauthorized));

    let calls: Vec<_> = (0..8)
        .map(|_| {
            let admin = admin.clone();
            tokio::spawn(async move { admin.vaults().await })
        })
        .collect();
    for call in calls {
        let result = tokio::time::timeout(Duration::from_secs(20), call)
            .await
            .expect("no call hangs")
            .expect("no call panics");
        assert!(
            matches!(result, Err(Error::BadCredentials)),
            "every waiting call gets the sign-in's failure: {result:?}"
        );
    }
    assert_eq!(
        proxy.count(Method::POST, AUTH_START),
        starts + 1,
        "8 concurrent expiries cause exactly one sign-in again"
    );

    // The failure is final: a later call gets it without another attempt.
    let result = admin.users().await;
    assert!(
        matches!(result, Err(Error::BadCredentials)),
        "a later call: {result:?}"
    );
    assert_eq!(proxy.count(Method::POST, AUTH_START), starts + 1);
    assert_eq!(
        proxy.count(Method::POST, SRP_V2),
        srp,
        "no SRP exchange after the refused start"
    );
    assert_eq!(emu.changes_applied(), before);
}

// ---- 7. positive control -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn clean_proxy_is_invisible() {
    let (emu, proxy, admin) = signed_in().await;
    let starts = proxy.count(Method::POST, AUTH_START);
    assert!(starts >= 1, "the sign-in went through the proxy");
    let snapshot = admin.sync().await.expect("sync through the proxy");
    assert_eq!(snapshot.users.len(), 8);
    assert_eq!(snapshot.vaults.len(), 4);

    let shared = vault(&emu, "Shared Logins");
    let bob = user(&emu, "bob@acme.example");
    let before = emu.changes_applied();
    let granted = admin
        .grant_vault_access(&shared, bob.clone(), VaultPermissions::RWE)
        .await
        .expect("grant through the proxy");
    assert!(
        matches!(granted, GrantOutcome::Granted { .. }),
        "{granted:?}"
    );
    assert!(emu.vault_access(shared.as_str(), bob.as_str()).is_some());
    assert_eq!(emu.changes_applied(), before + 1);

    let revoked = admin
        .revoke_vault_access(&shared, bob.clone())
        .await
        .expect("revoke through the proxy");
    assert!(
        matches!(revoked, RevokeOutcome::Revoked { .. }),
        "{revoked:?}"
    );
    assert_eq!(emu.vault_access(shared.as_str(), bob.as_str()), None);
    assert_eq!(emu.changes_applied(), before + 2);

    // Everything went through the proxy, and the plain `{"success":1}` answers of the grant and
    // revoke passed it unchanged.
    assert_eq!(
        proxy.count(Method::POST, AUTH_START),
        starts,
        "no sign-in again"
    );
    assert_eq!(proxy.count_prefix(Method::PATCH, "/api/v2/vault/"), 1);
    assert_eq!(proxy.count_prefix(Method::DELETE, "/api/v1/vault/"), 1);
    assert!(proxy.count(Method::GET, VAULTS) >= 1);
}
