//! Adding and removing single vault permissions, against the emulator: the server's access
//! records after each change, the outcomes reported, and what is never sent.

use std::time::Duration;

use opadmin::{
    Admin, Error, GrantOutcome, GroupId, PermissionChange, RetryPolicy, TransportConfig, VaultId,
    VaultPermissions as P,
};
use opadmin_emulator::{
    AccountBuilder, Acl, Emulator, EmulatorConfig, FaultKind, FaultRule, FaultTarget, FaultTiming,
    Plan, RunningEmulator, VaultSpec, acl, demo_account,
};

async fn start(account: AccountBuilder) -> RunningEmulator {
    Emulator::start(EmulatorConfig::default(), account.iterations(100_000))
        .await
        .expect("emulator starts")
}

/// Signs in `email` with short retries, so that fault cells are quick.
async fn admin_for(emu: &RunningEmulator, email: &str) -> Admin {
    let c = emu.credentials(email).expect("credentials");
    let transport = TransportConfig::default()
        .with_timeout(Duration::from_millis(1500))
        .with_retry(
            RetryPolicy::default()
                .with_max_attempts(4)
                .with_backoff(Duration::from_millis(20), Duration::from_millis(100)),
        );
    let mut b = Admin::builder()
        .address(emu.address())
        .credentials(&c.email, &c.password, &c.secret_key)
        .transport(transport);
    if let Some(t) = &c.totp_secret {
        b = b.totp_secret(t);
    }
    b.build().await.expect("signs in")
}

/// The demo account plus Ops, where Alice has `view_items` directly and RWE through
/// Engineering, and Payroll, which the IT admin can read but not manage.
fn account() -> AccountBuilder {
    demo_account()
        .vault(
            VaultSpec::new("Ops")
                .group("Engineering", acl::RWE)
                .user("alice@acme.example", Acl::from_bits(P::READ_ITEM.bits())),
        )
        .vault(
            VaultSpec::new("Payroll")
                .exclude_administrators()
                .user("it-admin@acme.example", acl::RWE),
        )
}

fn vault(emu: &RunningEmulator, name: &str) -> VaultId {
    VaultId::new(emu.vault_uuid(name).expect("vault"))
}

fn group(emu: &RunningEmulator, name: &str) -> GroupId {
    GroupId::new(emu.group_uuid(name).expect("group"))
}

/// The acl the server holds for `accessor` (a person's or a group's uuid) on a vault.
fn server_acl(emu: &RunningEmulator, vault: &VaultId, accessor: &str) -> Option<P> {
    emu.vault_access(vault.as_str(), accessor)
        .map(|a| P::from_bits(a.bits()))
}

fn person(emu: &RunningEmulator, email: &str) -> String {
    emu.user_uuid(email).expect("person")
}

/// Asserts no permission the server holds lacks something it needs.
fn assert_closed(p: P) {
    assert_eq!(p.with_dependencies(), p, "dangling permissions in {p}");
}

#[tokio::test(flavor = "multi_thread")]
async fn adding_permissions_to_a_direct_grant_gives_the_closed_union() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await;
    let ops = vault(&emu, "Ops");
    let alice = person(&emu, "alice@acme.example");

    // The grant rule is unchanged: a direct grant is left alone even when it lacks permissions.
    let out = admin
        .grant_vault_access(&ops, "alice@acme.example", P::UPDATE_ITEM)
        .await
        .unwrap();
    assert_eq!(
        out,
        GrantOutcome::AlreadyDirect {
            current: P::READ_ITEM
        }
    );
    assert_eq!(server_acl(&emu, &ops, &alice), Some(P::READ_ITEM));

    let out = admin
        .add_vault_permissions(&ops, "alice@acme.example", P::UPDATE_ITEM | P::PRINT)
        .await
        .unwrap();
    let expected = P::READ_ITEM | P::UPDATE_ITEM | P::REVEAL_PASSWORD | P::PRINT | P::VIEW_HISTORY;
    assert_eq!(
        out,
        PermissionChange::Changed {
            before: P::READ_ITEM,
            after: expected
        }
    );
    assert_eq!(server_acl(&emu, &ops, &alice), Some(expected));
    assert_closed(expected);
    // The group's grant is not touched.
    assert_eq!(
        server_acl(&emu, &ops, group(&emu, "Engineering").as_str()),
        Some(P::RWE)
    );

    // Asking again changes nothing and sends nothing.
    let before = emu.changes_applied();
    let out = admin
        .add_vault_permissions(&ops, alice.as_str(), P::PRINT)
        .await
        .unwrap();
    assert_eq!(out, PermissionChange::Unchanged { current: expected });
    assert!(!out.is_change());
    assert_eq!(emu.changes_applied(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_permission_takes_its_dependents_and_the_last_one_revokes() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await;
    let logins = vault(&emu, "Shared Logins");
    let alice = person(&emu, "alice@acme.example");
    assert_eq!(server_acl(&emu, &logins, &alice), Some(P::RWE));

    let out = admin
        .remove_vault_permissions(&logins, "alice@acme.example", P::REVEAL_PASSWORD)
        .await
        .unwrap();
    let rest = P::READ_ITEM | P::CREATE_ITEM | P::IMPORT;
    assert_eq!(
        out,
        PermissionChange::Changed {
            before: P::RWE,
            after: rest
        }
    );
    let held = server_acl(&emu, &logins, &alice).unwrap();
    assert_eq!(held, rest);
    assert_closed(held);

    // A permission not held: nothing sent.
    let before = emu.changes_applied();
    let out = admin
        .remove_vault_permissions(&logins, "alice@acme.example", P::DELETE_ITEM)
        .await
        .unwrap();
    assert_eq!(out, PermissionChange::Unchanged { current: rest });
    assert_eq!(emu.changes_applied(), before);

    // Removing view_items leaves nothing: the grant is revoked.
    let out = admin
        .remove_vault_permissions(&logins, "alice@acme.example", P::READ_ITEM)
        .await
        .unwrap();
    assert_eq!(
        out,
        PermissionChange::Revoked {
            before: rest,
            still_via_groups: vec![]
        }
    );
    assert_eq!(out.after(), None);
    assert_eq!(server_acl(&emu, &logins, &alice), None);

    // Now there is no direct grant at all.
    let out = admin
        .add_vault_permissions(&logins, "alice@acme.example", P::READ_ITEM)
        .await
        .unwrap();
    assert_eq!(out, PermissionChange::NoDirectAccess { via_groups: vec![] });
    assert_eq!(server_acl(&emu, &logins, &alice), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_without_a_direct_grant_is_told_which_groups_give_access() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await;
    let engineering_vault = vault(&emu, "Engineering");
    let engineering = group(&emu, "Engineering");
    let alice = person(&emu, "alice@acme.example");
    let before = emu.changes_applied();
    for out in [
        admin
            .add_vault_permissions(&engineering_vault, "alice@acme.example", P::MANAGE)
            .await
            .unwrap(),
        admin
            .remove_vault_permissions(&engineering_vault, "alice@acme.example", P::PRINT)
            .await
            .unwrap(),
    ] {
        let PermissionChange::NoDirectAccess { via_groups } = out else {
            panic!("{out:?}")
        };
        assert_eq!(via_groups.len(), 1);
        assert_eq!(via_groups[0].group, engineering);
        assert_eq!(via_groups[0].permissions, P::RWE);
    }
    assert_eq!(emu.changes_applied(), before);
    assert_eq!(server_acl(&emu, &engineering_vault, &alice), None);
    assert_eq!(
        server_acl(&emu, &engineering_vault, engineering.as_str()),
        Some(P::RWE)
    );

    // With a direct grant too, removing all of it revokes only the direct grant and names
    // the group that still gives access.
    let ops = vault(&emu, "Ops");
    let out = admin
        .remove_vault_permissions(&ops, "alice@acme.example", P::READ_ITEM)
        .await
        .unwrap();
    let PermissionChange::Revoked {
        before,
        still_via_groups,
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(before, P::READ_ITEM);
    assert_eq!(still_via_groups.len(), 1);
    assert_eq!(still_via_groups[0].group, engineering);
    assert_eq!(server_acl(&emu, &ops, &alice), None);
    assert_eq!(server_acl(&emu, &ops, engineering.as_str()), Some(P::RWE));
}

#[tokio::test(flavor = "multi_thread")]
async fn group_grants_change_the_same_way() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await;
    let marketing_vault = vault(&emu, "Marketing");
    let marketing = group(&emu, "Marketing");

    let out = admin
        .remove_group_vault_permissions(&marketing_vault, &marketing, P::VIEW_HISTORY)
        .await
        .unwrap();
    let rest = P::RWE - P::VIEW_HISTORY - P::EXPORT - P::SEND_ITEM - P::PRINT;
    assert_eq!(
        out,
        PermissionChange::Changed {
            before: P::RWE,
            after: rest
        }
    );
    let held = server_acl(&emu, &marketing_vault, marketing.as_str()).unwrap();
    assert_eq!(held, rest);
    assert_closed(held);

    let out = admin
        .add_group_vault_permissions(&marketing_vault, &marketing, P::EXPORT | P::MANAGE)
        .await
        .unwrap();
    assert_eq!(
        out.after(),
        Some(rest | P::EXPORT | P::VIEW_HISTORY | P::MANAGE)
    );
    assert_eq!(
        server_acl(&emu, &marketing_vault, marketing.as_str()),
        out.after()
    );

    // A group without a grant on the vault.
    let engineering = group(&emu, "Engineering");
    let before = emu.changes_applied();
    let out = admin
        .add_group_vault_permissions(&marketing_vault, &engineering, P::READ_ITEM)
        .await
        .unwrap();
    assert_eq!(out, PermissionChange::NoDirectAccess { via_groups: vec![] });
    assert_eq!(emu.changes_applied(), before);

    // Removing everything revokes the group's grant.
    let out = admin
        .remove_group_vault_permissions(&marketing_vault, &marketing, P::READ_ITEM | P::MANAGE)
        .await
        .unwrap();
    assert!(matches!(out, PermissionChange::Revoked { .. }), "{out:?}");
    assert_eq!(server_acl(&emu, &marketing_vault, marketing.as_str()), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_manage_vault_nothing_is_sent() {
    let emu = start(account()).await;
    let it = admin_for(&emu, "it-admin@acme.example").await;
    let payroll = vault(&emu, "Payroll");
    let it_admin = person(&emu, "it-admin@acme.example");
    let before = emu.changes_applied();
    let e = it
        .remove_vault_permissions(&payroll, "it-admin@acme.example", P::PRINT)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NoManageVaultPermission), "{e}");
    let e = it
        .add_vault_permissions(&payroll, "it-admin@acme.example", P::MANAGE)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NoManageVaultPermission), "{e}");
    // A vault the administrator cannot see.
    let e = it
        .add_group_vault_permissions(
            &vault(&emu, "Finance"),
            &group(&emu, "Engineering"),
            P::READ_ITEM,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NoManageVaultPermission), "{e}");
    assert_eq!(emu.changes_applied(), before);
    assert_eq!(server_acl(&emu, &payroll, &it_admin), Some(P::RWE));

    // Naming no permission is invalid input, before anything is read or sent.
    let admin = admin_for(&emu, "admin@acme.example").await;
    let e = admin
        .remove_vault_permissions(&payroll, "it-admin@acme.example", P::NONE)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
    assert_eq!(emu.changes_applied(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn teams_accounts_change_whole_bundles() {
    let emu = start(account().plan(Plan::Teams)).await;
    let admin = admin_for(&emu, "admin@acme.example").await;
    let logins = vault(&emu, "Shared Logins");
    let alice = person(&emu, "alice@acme.example");

    // print_items is part of allow_editing: the bundle goes, allow_viewing stays.
    let out = admin
        .remove_vault_permissions(&logins, "alice@acme.example", P::PRINT)
        .await
        .unwrap();
    assert_eq!(
        out,
        PermissionChange::Changed {
            before: P::RWE,
            after: P::TEAMS_VIEWING
        }
    );
    let held = server_acl(&emu, &logins, &alice).unwrap();
    assert_eq!(held.teams_names(), Some(vec!["allow_viewing"]));

    // edit_items brings the whole allow_editing bundle back; allow_managing stands alone.
    let out = admin
        .add_vault_permissions(&logins, "alice@acme.example", P::UPDATE_ITEM | P::MANAGE)
        .await
        .unwrap();
    assert_eq!(out.after(), Some(P::RWE | P::MANAGE));
    let held = server_acl(&emu, &logins, &alice).unwrap();
    assert_eq!(
        held.teams_names(),
        Some(vec!["allow_viewing", "allow_editing", "allow_managing"])
    );

    // Removing allow_viewing takes allow_editing along.
    let out = admin
        .remove_vault_permissions(&logins, "alice@acme.example", P::READ_ITEM)
        .await
        .unwrap();
    assert_eq!(out.after(), Some(P::MANAGE));
    assert_eq!(server_acl(&emu, &logins, &alice), Some(P::MANAGE));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_applied_despite_a_failure_is_reported_once() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await;
    let logins = vault(&emu, "Shared Logins");
    let alice = person(&emu, "alice@acme.example");

    // The server applies the change, then answers 500: the vault is read, the change found in
    // place, and it is not sent again.
    emu.inject_fault(FaultRule::new(
        FaultTarget::StateChanging,
        FaultTiming::Next(1),
        FaultKind::ApplyThenServerError,
    ));
    let before = emu.changes_applied();
    let out = admin
        .remove_vault_permissions(&logins, "alice@acme.example", P::PRINT)
        .await
        .unwrap();
    emu.clear_faults();
    assert_eq!(
        out,
        PermissionChange::ChangedDespiteFailure {
            before: P::RWE,
            after: P::RWE - P::PRINT
        }
    );
    assert_eq!(emu.changes_applied(), before + 1);
    assert_eq!(server_acl(&emu, &logins, &alice), Some(P::RWE - P::PRINT));

    // Refused before it is applied: the vault shows it was not, so it is sent again.
    emu.inject_fault(FaultRule::new(
        FaultTarget::StateChanging,
        FaultTiming::Next(1),
        FaultKind::FailBeforeApply,
    ));
    let out = admin
        .remove_vault_permissions(&logins, "alice@acme.example", P::READ_ITEM)
        .await
        .unwrap();
    emu.clear_faults();
    assert!(matches!(out, PermissionChange::Revoked { .. }), "{out:?}");
    assert_eq!(emu.changes_applied(), before + 2);
    assert_eq!(server_acl(&emu, &logins, &alice), None);
}

#[test]
fn permission_change_serializes_with_its_outcome_tag_and_round_trips() {
    let changed = PermissionChange::Changed {
        before: P::READ_ITEM,
        after: P::READ_ITEM | P::MANAGE,
    };
    assert_eq!(
        serde_json::to_value(&changed).unwrap(),
        serde_json::json!({"outcome": "changed", "before": 32, "after": 34})
    );
    let revoked = PermissionChange::Revoked {
        before: P::RWE,
        still_via_groups: vec![opadmin::GroupGrant {
            group: GroupId::new("G1"),
            permissions: P::READ_ITEM,
        }],
    };
    for outcome in [
        changed,
        revoked,
        PermissionChange::Unchanged { current: P::RWE },
        PermissionChange::NoDirectAccess { via_groups: vec![] },
    ] {
        let text = serde_json::to_string(&outcome).unwrap();
        let back: PermissionChange = serde_json::from_str(&text).unwrap();
        assert_eq!(back, outcome);
    }
    assert!(serde_json::from_str::<PermissionChange>(r#"{"outcome":"exploded"}"#).is_err());
}
