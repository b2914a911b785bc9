//! A snapshot can be stored and read back: `sync`'s result round-trips through JSON exactly.

mod support;

use opadmin::{SkipReason, SkippedKind, Snapshot};

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

/// The skipped items round-trip with the rest, under stable names; a snapshot stored before
/// they existed (no `skipped` key) reads back as complete.
#[tokio::test(flavor = "multi_thread")]
async fn skipped_items_round_trip_and_older_snapshots_read_as_complete() {
    let (emu, _) = support::demo_owner().await;
    let vault = emu.vault_uuid("Marketing").expect("vault");
    assert!(emu.corrupt_vault_key(&vault, &emu.owner().user_uuid));
    let owner = emu.owner().clone();
    let admin = opadmin::Admin::builder()
        .address(emu.address())
        .credentials(&owner.email, &owner.password, &owner.secret_key)
        .build()
        .await
        .expect("sign-in");
    let snapshot = admin.sync().await.expect("sync degrades");
    assert_eq!(snapshot.skipped.len(), 1);
    assert_eq!(snapshot.skipped[0].kind, SkippedKind::Vault);
    assert_eq!(snapshot.skipped[0].reason, SkipReason::KeyDoesNotOpen);

    let stored = serde_json::to_value(&snapshot).expect("serialize");
    assert_eq!(stored["skipped"][0]["kind"], "vault");
    assert_eq!(stored["skipped"][0]["reason"], "key_does_not_open");
    assert_eq!(stored["skipped"][0]["id"], vault.as_str());
    let read: Snapshot = serde_json::from_value(stored.clone()).expect("deserialize");
    assert_eq!(read, snapshot);

    let mut older = stored;
    older.as_object_mut().unwrap().remove("skipped");
    let read: Snapshot = serde_json::from_value(older).expect("an older snapshot");
    assert!(read.is_complete());
    assert_eq!(read.vaults, snapshot.vaults);
}
