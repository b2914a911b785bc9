//! A snapshot can be stored and read back: `sync`'s result round-trips through JSON exactly.

mod support;

use opadmin::Snapshot;

#[tokio::test(flavor = "multi_thread")]
async fn a_synced_snapshot_round_trips_through_json() {
    let (_emu, admin) = support::demo_owner().await;
    let snapshot = admin.sync().await.expect("sync");
    assert!(!snapshot.users.is_empty() && !snapshot.vaults.is_empty());
    assert!(
        snapshot.vaults.iter().any(|v| !v.user_access.is_empty()),
        "the demo account has access to round-trip"
    );

    let stored = serde_json::to_string(&snapshot).expect("serialize");
    let read: Snapshot = serde_json::from_str(&stored).expect("deserialize");
    assert_eq!(read, snapshot);
    // And the stored form is stable: writing what was read gives the same text.
    assert_eq!(serde_json::to_string(&read).unwrap(), stored);
}
