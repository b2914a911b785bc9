//! Incremental sync: after each kind of change, the next sync of the same `Admin` shows it,
//! names what changed, and equals a full sync made by a fresh `Admin`; an unchanged account is
//! synced again without reading any vault; a snapshot stored as JSON continues in a new process.
#![cfg(feature = "scim")]

use opadmin::{Admin, GroupRole, Snapshot, VaultPermissions};
use opadmin_emulator::{Emulator, EmulatorConfig, RunningEmulator, demo_account};

async fn start() -> RunningEmulator {
    Emulator::start(
        EmulatorConfig::default(),
        demo_account().iterations(100_000),
    )
    .await
    .expect("emulator starts")
}

async fn owner(emu: &RunningEmulator) -> Admin {
    let owner = emu.owner().clone();
    Admin::builder()
        .address(emu.address())
        .credentials(&owner.email, &owner.password, &owner.secret_key)
        .build()
        .await
        .expect("the owner signs in")
}

/// The snapshot without its change report, to compare with a full sync.
fn content(snapshot: &Snapshot) -> Snapshot {
    let mut s = snapshot.clone();
    s.changes = None;
    s
}

/// A full sync: every vault read, nothing carried over (continuing from a snapshot with no
/// people, groups or vaults). `fresh` is an `Admin` signed in before the test's first sync, so
/// that its sign-in does not show as a change of the owner's last sign-in.
async fn full(fresh: &Admin, account: &opadmin::AccountInfo) -> Snapshot {
    fresh
        .sync_since(&Snapshot::new(account.clone()))
        .await
        .expect("full sync")
}

/// Which top-level parts of two snapshots differ (a short message instead of two dumps).
fn differences(a: &Snapshot, b: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    if a.users != b.users {
        out.push("users".to_owned());
    }
    if a.groups != b.groups {
        out.push("groups".to_owned());
    }
    for (x, y) in a.vaults.iter().zip(&b.vaults) {
        if x != y {
            out.push(format!("vault {}", x.name));
        }
    }
    if a.vaults.len() != b.vaults.len() {
        out.push("number of vaults".to_owned());
    }
    if a.invitations != b.invitations || a.skipped != b.skipped || a.account != b.account {
        out.push("account, invitations or skipped".to_owned());
    }
    out
}

/// Syncs incrementally and checks the result against a full sync of the same account.
async fn next(admin: &Admin, fresh: &Admin, what: &str) -> Snapshot {
    let incremental = admin.sync().await.expect("incremental sync");
    let reference = full(fresh, &incremental.account).await;
    let differ = differences(&content(&incremental), &content(&reference));
    assert!(
        differ.is_empty(),
        "after {what}, the incremental sync differs from a full one in {differ:?}"
    );
    assert!(
        incremental.changes.is_some(),
        "after {what}: no change report"
    );
    incremental
}

fn vault_id(emu: &RunningEmulator, name: &str) -> opadmin::VaultId {
    opadmin::VaultId::new(emu.vault_uuid(name).expect("vault"))
}

fn group_id(emu: &RunningEmulator, name: &str) -> opadmin::GroupId {
    opadmin::GroupId::new(emu.group_uuid(name).expect("group"))
}

fn user_id(emu: &RunningEmulator, email: &str) -> opadmin::UserId {
    opadmin::UserId::new(emu.user_uuid(email).expect("person"))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_change_shows_in_the_next_incremental_sync() {
    let emu = start().await;
    let admin = owner(&emu).await;
    let fresh = owner(&emu).await;
    let before = emu.requests_served();
    let first = admin.sync().await.expect("first sync");
    let requests_first = emu.requests_served() - before;
    assert!(first.changes.is_none());
    let vaults = first.vaults.len();

    // Nothing changed: no vault is read again, and nothing is reported.
    let before = emu.requests_served();
    let same = admin.sync().await.expect("second sync");
    let requests_unchanged = emu.requests_served() - before;
    let reference = full(&fresh, &same.account).await;
    assert!(differences(&content(&same), &content(&reference)).is_empty());
    let changes = same.changes.expect("report");
    assert!(changes.is_empty(), "{changes:?}");
    assert_eq!((changes.vaults_read, changes.vaults_reused), (0, vaults));
    assert_eq!(
        requests_first - requests_unchanged,
        vaults as u64,
        "exactly the vault reads are saved"
    );

    // Membership: Bob joins Engineering. The group changes, and so does the Engineering vault
    // (Bob now has access through the group), without the vault itself being read again.
    admin
        .add_to_group(
            &group_id(&emu, "Engineering"),
            "bob@acme.example",
            GroupRole::Member,
        )
        .await
        .expect("add");
    let s = next(&admin, &fresh, "a membership change").await;
    let c = s.changes.expect("report");
    assert_eq!(c.groups.changed, [group_id(&emu, "Engineering")]);
    assert!(
        c.vaults.changed.contains(&vault_id(&emu, "Engineering")),
        "{c:?}"
    );
    assert_eq!(c.vaults_read, 0, "grants did not change: {c:?}");

    // Role.
    admin
        .set_group_role(
            &group_id(&emu, "Engineering"),
            "bob@acme.example",
            GroupRole::Manager,
        )
        .await
        .expect("role");
    let c = next(&admin, &fresh, "a role change")
        .await
        .changes
        .expect("report");
    assert_eq!(c.groups.changed, [group_id(&emu, "Engineering")]);

    // A person's vault access: the vault's grants version moves and it alone is read again.
    admin
        .grant_vault_access(
            &vault_id(&emu, "Finance"),
            "carol@acme.example",
            VaultPermissions::READ_ITEM,
        )
        .await
        .expect("grant");
    let c = next(&admin, &fresh, "a person's grant")
        .await
        .changes
        .expect("report");
    assert_eq!(c.vaults.changed, [vault_id(&emu, "Finance")]);
    assert_eq!(c.vaults_read, 1);

    // A group's vault access.
    admin
        .grant_group_vault_access(
            &vault_id(&emu, "Shared Logins"),
            &group_id(&emu, "Marketing"),
            VaultPermissions::READ_ITEM,
        )
        .await
        .expect("group grant");
    let c = next(&admin, &fresh, "a group's grant")
        .await
        .changes
        .expect("report");
    assert_eq!(c.vaults.changed, [vault_id(&emu, "Shared Logins")]);
    assert_eq!(c.vaults_read, 1);

    // A revoke.
    admin
        .revoke_vault_access(&vault_id(&emu, "Finance"), "carol@acme.example")
        .await
        .expect("revoke");
    let c = next(&admin, &fresh, "a revoke")
        .await
        .changes
        .expect("report");
    assert_eq!(c.vaults.changed, [vault_id(&emu, "Finance")]);

    // A person's state.
    admin.suspend("bob@acme.example").await.expect("suspend");
    let c = next(&admin, &fresh, "a suspension")
        .await
        .changes
        .expect("report");
    assert_eq!(c.users.changed, [user_id(&emu, "bob@acme.example")]);

    // A group renamed and a group removed (through the SCIM bridge, as an identity provider
    // would), then removing a person.
    let scim = opadmin::ScimDirectory::new(&emu.scim_url(), emu.scim_token()).expect("scim");
    let created = scim.create_group("Temporary").await.expect("create group");
    let c = next(&admin, &fresh, "a new group")
        .await
        .changes
        .expect("report");
    assert_eq!(c.groups.added, std::slice::from_ref(&created.id));
    rename_group(&emu, &created.id, "Temporary (renamed)").await;
    let s = next(&admin, &fresh, "a group renamed").await;
    assert_eq!(
        s.changes.as_ref().expect("report").groups.changed,
        std::slice::from_ref(&created.id)
    );
    assert!(s.group_by_name("Temporary (renamed)").is_some());
    scim.delete_group(&created.id).await.expect("delete group");
    let c = next(&admin, &fresh, "a group removed")
        .await
        .changes
        .expect("report");
    assert_eq!(c.groups.removed, std::slice::from_ref(&created.id));

    // A vault renamed (its attributes' version moves: it alone is read again), then removed.
    let marketing = vault_id(&emu, "Marketing");
    admin
        .update_vault(
            &marketing,
            opadmin::VaultUpdate::name("Marketing (renamed)"),
        )
        .await
        .expect("rename");
    let s = next(&admin, &fresh, "a vault renamed").await;
    let c = s.changes.as_ref().expect("report");
    assert_eq!(c.vaults.changed, std::slice::from_ref(&marketing));
    assert_eq!(c.vaults_read, 1);
    assert!(s.vault_by_name("Marketing (renamed)").is_some());
    admin.delete_vault(&marketing).await.expect("delete");
    let c = next(&admin, &fresh, "a vault removed")
        .await
        .changes
        .expect("report");
    assert_eq!(c.vaults.removed, [marketing]);
    assert_eq!(c.vaults_read, 0);

    let gina = user_id(&emu, "gina@acme.example");
    admin.remove("gina@acme.example").await.expect("remove");
    let c = next(&admin, &fresh, "a person removed")
        .await
        .changes
        .expect("report");
    assert_eq!(c.users.removed, [gina]);

    // And quiet again.
    let c = next(&admin, &fresh, "nothing")
        .await
        .changes
        .expect("report");
    assert!(c.is_empty(), "{c:?}");
    assert_eq!(c.vaults_read, 0);
}

/// Renames a group through the SCIM bridge (PATCH displayName).
async fn rename_group(emu: &RunningEmulator, group: &opadmin::GroupId, name: &str) {
    let url = format!("{}/Groups/{}", emu.scim_url(), group);
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": name}]
    });
    let status = reqwest::Client::new()
        .patch(url)
        .bearer_auth(emu.scim_token())
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .expect("SCIM PATCH")
        .status();
    assert!(status.is_success(), "rename: HTTP {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_snapshot_continues_in_a_new_process() {
    let emu = start().await;
    let writer = owner(&emu).await;
    let admin = owner(&emu).await;
    let fresh = owner(&emu).await;
    let stored = serde_json::to_string(&writer.sync().await.expect("sync")).expect("serialises");

    writer
        .grant_vault_access(
            &vault_id(&emu, "Finance"),
            "alice@acme.example",
            VaultPermissions::READ_ITEM,
        )
        .await
        .expect("grant");

    // Another Admin (as in another process) with only the stored JSON.
    let previous: Snapshot = serde_json::from_str(&stored).expect("reads back");
    let s = admin.sync_since(&previous).await.expect("sync since");
    let reference = full(&fresh, &s.account).await;
    assert!(differences(&content(&s), &content(&reference)).is_empty());
    let c = s.changes.expect("report");
    assert_eq!(c.vaults.changed, [vault_id(&emu, "Finance")]);
    assert_eq!(c.vaults_read, 1, "only the changed vault is read: {c:?}");
    assert_eq!(c.vaults_reused, previous.vaults.len() - 1);

    // A snapshot stored before versions were recorded: every vault is read again, still right.
    let mut old: serde_json::Value = serde_json::from_str(&stored).expect("json");
    for v in old["vaults"].as_array_mut().expect("vaults") {
        let v = v.as_object_mut().expect("object");
        assert!(
            v.remove("attr_version").is_some(),
            "the snapshot records versions"
        );
        v.remove("accessors_version");
    }
    let old: Snapshot = serde_json::from_value(old).expect("an older snapshot still reads");
    let s = admin.sync_since(&old).await.expect("sync since");
    assert!(differences(&content(&s), &content(&reference)).is_empty());
    let c = s.changes.expect("report");
    assert_eq!(c.vaults_reused, 0);
    assert_eq!(c.vaults_read, old.vaults.len());

    // Another account's snapshot is refused before anything is sent.
    let mut foreign: Snapshot = serde_json::from_str(&stored).expect("reads back");
    foreign.account.id = "ZZZZZZZZZZZZZZZZZZZZZZZZZZ".into();
    let served = emu.requests_served();
    let refused = admin
        .sync_since(&foreign)
        .await
        .expect_err("another account");
    assert!(
        matches!(&refused, opadmin::Error::InvalidInput(m) if m.contains("ZZZZZZZZZZZZZZZZZZZZZZZZZZ")),
        "{refused:?}"
    );
    assert_eq!(emu.requests_served(), served, "nothing sent");
}
