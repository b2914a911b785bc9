//! The transport's one adaptive limit on requests in flight, against an emulator that answers
//! 429 (with `X-Rate-Limit-Retry-In`) to requests beyond its own limit: the sync is complete
//! and equal to one made without a limit, only the first burst is refused, and the limit the
//! client settles on is what the server accepts.

use std::time::Duration;

use opadmin::Admin;
use opadmin_emulator::{
    AccountBuilder, Emulator, EmulatorConfig, Faults, RateLimit, RunningEmulator,
};

async fn start(rate_limit: Option<RateLimit>, latency: Option<Duration>) -> RunningEmulator {
    let config = EmulatorConfig {
        faults: Faults {
            rate_limit,
            latency,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    };
    Emulator::start(
        config,
        AccountBuilder::new("Limited")
            .seed(11)
            .iterations(100_000)
            .synthetic(300, 40, 120),
    )
    .await
    .expect("emulator starts")
}

async fn owner(emu: &RunningEmulator, concurrency: Option<usize>) -> Admin {
    let owner = emu.owner().clone();
    let mut builder = Admin::builder().address(emu.address()).credentials(
        &owner.email,
        &owner.password,
        &owner.secret_key,
    );
    if let Some(n) = concurrency {
        builder = builder.concurrency(n);
    }
    builder.build().await.expect("the owner signs in")
}

/// A comparable digest of a snapshot: people, groups with members, vaults with accessors.
fn digest(snapshot: &opadmin::Snapshot) -> String {
    let mut users: Vec<String> = snapshot
        .users
        .iter()
        .map(|u| format!("{} {} {:?}", u.id, u.email, u.state))
        .collect();
    users.sort();
    let mut groups: Vec<String> = snapshot
        .groups
        .iter()
        .map(|g| {
            let mut members: Vec<String> = g
                .members
                .iter()
                .map(|m| format!("{}:{:?}", m.user, m.role))
                .collect();
            members.sort();
            format!("{} {} [{}]", g.id, g.name, members.join(","))
        })
        .collect();
    groups.sort();
    let mut vaults: Vec<String> = snapshot
        .vaults
        .iter()
        .map(|v| {
            let mut accessors: Vec<String> = v.accessors.iter().map(|a| format!("{a:?}")).collect();
            accessors.sort();
            format!("{} {} [{}]", v.id, v.name, accessors.join(","))
        })
        .collect();
    vaults.sort();
    format!("{users:?}\n{groups:?}\n{vaults:?}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_sync_is_complete_and_settles_below_the_server_limit() {
    // The reference: the same account, no limit.
    let free = start(None, None).await;
    let reference = owner(&free, None).await.sync().await.expect("sync");
    assert!(reference.skipped.is_empty());
    assert_eq!(free.rate_limited(), 0);

    // At most 4 in flight (answers held 20 ms, so that requests overlap), told to retry in 1 s.
    let limited = start(
        Some(RateLimit::in_flight(4).retry_in(1)),
        Some(Duration::from_millis(20)),
    )
    .await;
    let admin = owner(&limited, None).await;
    let first = admin
        .sync()
        .await
        .expect("a rate-limited sync still completes");
    assert_eq!(
        digest(&first),
        digest(&reference),
        "the same account, read in full"
    );
    assert!(first.skipped.is_empty(), "{:?}", first.skipped);
    let refused_first = limited.rate_limited();
    let served_first = limited.requests_served();
    assert!(refused_first > 0, "the emulator's limit was reached");
    assert!(
        admin.concurrency_limit() <= 4,
        "the client settled at or below what the server accepts: {}",
        admin.concurrency_limit()
    );

    // A second sync within the memory of the refusal: nothing is refused any more.
    let second = admin.sync().await.expect("second sync");
    assert_eq!(digest(&second), digest(&reference));
    let refused_second = limited.rate_limited() - refused_first;
    let served_second = limited.requests_served() - served_first;
    assert_eq!(
        refused_second, 0,
        "{refused_second} of {served_second} requests refused on the second sync"
    );
    // Refusals come while the client learns the server's limit, at the start: a small share.
    assert!(
        refused_first * 10 <= served_first,
        "{refused_first} of {served_first} requests refused"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrency_one_sends_one_request_at_a_time() {
    let limited = start(
        Some(RateLimit::in_flight(1)),
        Some(Duration::from_millis(5)),
    )
    .await;
    let admin = owner(&limited, Some(1)).await;
    let snapshot = admin.sync().await.expect("sync");
    assert_eq!(snapshot.vaults.len(), 120);
    assert_eq!(limited.rate_limited(), 0, "never two in flight");
    assert_eq!(admin.concurrency_limit(), 1);
}
