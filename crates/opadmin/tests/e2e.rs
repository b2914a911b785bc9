//! The whole administration job, end to end against the emulator.

mod conformance;

use opadmin::{
    Admin, Directory, Error, GrantOutcome, GroupRole, MembershipOutcome, RevokeOutcome, UserRef,
    UserState, UserType, VaultId, VaultPermissions,
};
use opadmin_emulator::{
    AccountBuilder, Acl, Emulator, EmulatorConfig, GroupSpec, MemberRole, PersonSpec, PersonState,
    Plan, Role, RunningEmulator, VaultSpec, acl, demo_account,
};

const SEED_MESSAGE: &str = "The admin account does not have access to this vault. Ensure the user whose credentials are used to connect the integration has access to this vault, and that they have the 'Manage Vault' permission on it.";

async fn start(account: AccountBuilder) -> RunningEmulator {
    Emulator::start(EmulatorConfig::default(), account.iterations(100_000))
        .await
        .expect("emulator starts")
}

async fn admin_for(emu: &RunningEmulator, email: &str) -> Result<Admin, Error> {
    let c = emu.credentials(email).expect("credentials");
    let mut b =
        Admin::builder()
            .address(emu.address())
            .credentials(&c.email, &c.password, &c.secret_key);
    if let Some(t) = &c.totp_secret {
        b = b.totp_secret(t);
    }
    b.build().await
}

/// The demo account plus a vault where Alice has both a direct grant and the Engineering group's,
/// and one where the IT admin can read but not manage.
fn account() -> AccountBuilder {
    demo_account()
        .vault(
            VaultSpec::new("Ops")
                .group("Engineering", acl::RWE)
                .user("alice@acme.example", acl::RWE),
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

#[tokio::test(flavor = "multi_thread")]
async fn sync_reports_people_groups_vaults_and_why() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await.unwrap();
    let snap = admin.sync().await.unwrap();
    assert_eq!(snap.account.name, "Acme Corp");
    assert_eq!(snap.account.plan, opadmin::Plan::Business);
    assert_eq!(snap.users.len(), 8);
    let alice = snap.user_by_email("alice@acme.example").unwrap();
    assert_eq!(alice.state, UserState::Active);
    assert_eq!(
        alice.last_sign_in.map(|t| t.unix_timestamp()),
        Some(1_795_162_500)
    );
    assert_eq!(
        snap.user_by_email("erin@acme.example").unwrap().state,
        UserState::Suspended
    );
    assert_eq!(
        snap.user_by_email("dave@acme.example").unwrap().state,
        UserState::Pending
    );
    assert_eq!(
        snap.user_by_email("gina@acme.example").unwrap().user_type,
        UserType::Guest
    );
    assert!(
        snap.user_by_email("admin@acme.example")
            .unwrap()
            .last_sign_in
            .is_some()
    );

    let eng = snap.group_by_name("Engineering").unwrap();
    assert_eq!(eng.members.len(), 2);
    assert!(
        eng.members
            .iter()
            .any(|m| m.user == alice.id && m.role == GroupRole::Member)
    );

    assert_eq!(snap.vaults.len(), 6, "the owner sees every shared vault");
    let ops = snap.vault_by_name("Ops").unwrap();
    let a = ops.user_access.iter().find(|u| u.user == alice.id).unwrap();
    assert_eq!(a.direct, Some(VaultPermissions::RWE));
    assert_eq!(a.via_groups, vec![eng.id.clone()]);
    let carol = snap.user_by_email("carol@acme.example").unwrap();
    let c = ops.user_access.iter().find(|u| u.user == carol.id).unwrap();
    assert_eq!((c.direct, c.via_groups.len()), (None, 1));
    assert_eq!(
        snap.vault_by_name("Engineering").unwrap().description,
        "Build and deploy secrets"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn grant_follows_the_seed_rules() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await.unwrap();

    // Already direct: nothing sent that changes anything.
    let before = emu.changes_applied();
    let out = admin
        .grant_vault_access(
            &vault(&emu, "Shared Logins"),
            "alice@acme.example",
            VaultPermissions::RWE,
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        GrantOutcome::AlreadyDirect {
            current: VaultPermissions::RWE
        }
    );
    // Covered by a group: not added directly.
    let out = admin
        .grant_vault_access(
            &vault(&emu, "Engineering"),
            "alice@acme.example",
            VaultPermissions::RWE,
        )
        .await
        .unwrap();
    let GrantOutcome::CoveredByGroups { groups } = out else {
        panic!("{out:?}")
    };
    assert_eq!(
        groups[0].group.as_str(),
        emu.group_uuid("Engineering").unwrap()
    );
    assert_eq!(emu.changes_applied(), before, "no change was sent");
    let alice = emu.user_uuid("alice@acme.example").unwrap();
    assert_eq!(
        emu.vault_access(vault(&emu, "Engineering").as_str(), &alice),
        None
    );

    // Granted, with dependencies.
    let edit: VaultPermissions = "edit_items".parse().unwrap();
    let out = admin
        .grant_vault_access(
            &vault(&emu, "Marketing"),
            UserRef::from("alice@acme.example"),
            edit,
        )
        .await
        .unwrap();
    let GrantOutcome::Granted { permissions } = out else {
        panic!("{out:?}")
    };
    assert!(permissions.contains(VaultPermissions::READ_ITEM));
    assert_eq!(
        emu.vault_access(vault(&emu, "Marketing").as_str(), &alice)
            .map(Acl::bits),
        Some(permissions.bits())
    );

    // By uuid too, and group grants.
    let bob = emu.user_uuid("bob@acme.example").unwrap();
    let out = admin
        .grant_vault_access(&vault(&emu, "Finance"), bob.as_str(), VaultPermissions::RWE)
        .await
        .unwrap();
    assert!(matches!(out, GrantOutcome::Granted { .. }));
    let marketing_group = opadmin::GroupId::new(emu.group_uuid("Marketing").unwrap());
    let out = admin
        .grant_group_vault_access(
            &vault(&emu, "Engineering"),
            &marketing_group,
            VaultPermissions::RWE,
        )
        .await
        .unwrap();
    assert!(matches!(out, GrantOutcome::Granted { .. }));
    let out = admin
        .grant_group_vault_access(
            &vault(&emu, "Engineering"),
            &marketing_group,
            VaultPermissions::RWE,
        )
        .await
        .unwrap();
    assert!(matches!(out, GrantOutcome::AlreadyDirect { .. }));
    let out = admin
        .revoke_group_vault_access(&vault(&emu, "Engineering"), &marketing_group)
        .await
        .unwrap();
    assert!(matches!(out, RevokeOutcome::Revoked { .. }));
    assert_eq!(
        emu.vault_access(
            vault(&emu, "Engineering").as_str(),
            marketing_group.as_str()
        ),
        None
    );

    // Changing permissions of a direct grant.
    let p = admin
        .set_vault_permissions(
            &vault(&emu, "Marketing"),
            "alice@acme.example",
            VaultPermissions::RWE | VaultPermissions::MANAGE,
        )
        .await
        .unwrap();
    assert_eq!(
        emu.vault_access(vault(&emu, "Marketing").as_str(), &alice)
            .map(Acl::bits),
        Some(p.bits())
    );
    let e = admin
        .set_vault_permissions(
            &vault(&emu, "Engineering"),
            "alice@acme.example",
            VaultPermissions::RWE,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidState(_)), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn revoke_follows_the_seed_rules() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await.unwrap();
    let ops = vault(&emu, "Ops");
    let out = admin
        .revoke_vault_access(&ops, "alice@acme.example")
        .await
        .unwrap();
    let RevokeOutcome::Revoked { still_via_groups } = out else {
        panic!("{out:?}")
    };
    assert_eq!(
        still_via_groups.len(),
        1,
        "access through Engineering remains and is reported"
    );
    let alice = emu.user_uuid("alice@acme.example").unwrap();
    assert_eq!(emu.vault_access(ops.as_str(), &alice), None);

    let before = emu.changes_applied();
    let out = admin
        .revoke_vault_access(&ops, "alice@acme.example")
        .await
        .unwrap();
    let RevokeOutcome::NoDirectAccess { via_groups } = out else {
        panic!("{out:?}")
    };
    assert_eq!(via_groups.len(), 1);
    let out = admin
        .revoke_vault_access(&vault(&emu, "Marketing"), "carol@acme.example")
        .await
        .unwrap();
    assert_eq!(out, RevokeOutcome::NoDirectAccess { via_groups: vec![] });
    assert_eq!(emu.changes_applied(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_manage_vault_the_seed_message_and_nothing_changes() {
    let emu = start(account()).await;
    let it = admin_for(&emu, "it-admin@acme.example").await.unwrap();
    let before = emu.changes_applied();
    // Finance: its creator excluded Administrators; the IT admin cannot even see it.
    let e = it
        .grant_vault_access(
            &vault(&emu, "Finance"),
            "bob@acme.example",
            VaultPermissions::RWE,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NoManageVaultPermission));
    assert_eq!(e.to_string(), SEED_MESSAGE);
    // Payroll: the IT admin can read it but has no Manage.
    let e = it
        .grant_vault_access(
            &vault(&emu, "Payroll"),
            "bob@acme.example",
            VaultPermissions::RWE,
        )
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), SEED_MESSAGE);
    let e = it
        .revoke_vault_access(&vault(&emu, "Payroll"), "it-admin@acme.example")
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), SEED_MESSAGE);
    assert_eq!(emu.changes_applied(), before);
    // Administrators have Manage where the creator kept them.
    let out = it
        .grant_vault_access(
            &vault(&emu, "Marketing"),
            "carol@acme.example",
            VaultPermissions::RWE,
        )
        .await
        .unwrap();
    assert!(matches!(out, GrantOutcome::Granted { .. }));
    // Visibility: the IT admin's sync lacks Finance.
    let snap = it.sync().await.unwrap();
    assert!(snap.vault_by_name("Finance").is_none());
    assert!(snap.vault_by_name("Payroll").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn onboarding_invite_confirm_groups_and_vaults() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await.unwrap();
    let inv = admin
        .invite("New.Hire@acme.example", "New Hire", UserType::Member, &[])
        .await
        .unwrap();
    assert_eq!(inv.email, "new.hire@acme.example");
    assert_eq!(
        emu.pending_invitations(),
        vec!["new.hire@acme.example".to_string()]
    );
    let uuid = emu
        .accept_invitation("new.hire@acme.example", "New Hire")
        .unwrap();
    admin.confirm("new.hire@acme.example").await.unwrap();
    assert_eq!(emu.user_state(&uuid), Some(PersonState::Active));
    let team = emu.group_uuid("Team Members").unwrap();
    assert!(emu.group_members(&team).iter().any(|(u, _)| u == &uuid));
    let e = admin.confirm("new.hire@acme.example").await.unwrap_err();
    assert!(matches!(e, Error::InvalidState(_)));

    // The owner is not in Engineering; it opens the group's keys through Recovery.
    let eng = opadmin::GroupId::new(emu.group_uuid("Engineering").unwrap());
    let out = admin
        .add_to_group(&eng, "new.hire@acme.example", GroupRole::Member)
        .await
        .unwrap();
    assert_eq!(
        out,
        MembershipOutcome::Added {
            role: GroupRole::Member
        }
    );
    assert!(
        emu.group_members(eng.as_str())
            .iter()
            .any(|(u, r)| u == &uuid && *r == MemberRole::Member)
    );
    let out = admin
        .add_to_group(&eng, "new.hire@acme.example", GroupRole::Manager)
        .await
        .unwrap();
    assert_eq!(
        out,
        MembershipOutcome::AlreadyMember {
            role: GroupRole::Member
        }
    );
    admin
        .set_group_role(&eng, "new.hire@acme.example", GroupRole::Manager)
        .await
        .unwrap();
    assert!(
        emu.group_members(eng.as_str())
            .iter()
            .any(|(u, r)| u == &uuid && *r == MemberRole::Manager)
    );
    let out = admin
        .grant_vault_access(
            &vault(&emu, "Engineering"),
            "new.hire@acme.example",
            VaultPermissions::RWE,
        )
        .await
        .unwrap();
    assert!(matches!(out, GrantOutcome::CoveredByGroups { .. }));
    let out = admin
        .grant_vault_access(
            &vault(&emu, "Shared Logins"),
            "new.hire@acme.example",
            VaultPermissions::RWE,
        )
        .await
        .unwrap();
    assert!(matches!(out, GrantOutcome::Granted { .. }));
    let out = admin
        .remove_from_group(&eng, "new.hire@acme.example")
        .await
        .unwrap();
    assert_eq!(out, MembershipOutcome::Removed);
    let out = admin
        .remove_from_group(&eng, "new.hire@acme.example")
        .await
        .unwrap();
    assert_eq!(out, MembershipOutcome::NotMember);

    // Dave was already awaiting confirmation.
    let confirmed = admin.confirm_all_pending().await.unwrap();
    assert_eq!(
        confirmed
            .iter()
            .map(|r| (r.target.email.as_str(), r.outcome.is_ok()))
            .collect::<Vec<_>>(),
        vec![("dave@acme.example", true)]
    );
    assert_eq!(
        emu.user_state("dave@acme.example"),
        Some(PersonState::Active)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn confirming_on_an_older_account_shares_the_everyone_vault() {
    let emu = start(demo_account().legacy_everyone_vault()).await;
    let admin = admin_for(&emu, "admin@acme.example").await.unwrap();
    admin.confirm("dave@acme.example").await.unwrap();
    let dave = emu.user_uuid("dave@acme.example").unwrap();
    let everyone = emu.vault_uuid("Everyone").unwrap();
    assert_eq!(emu.vault_access(&everyone, &dave), Some(acl::RWE));
}

#[tokio::test(flavor = "multi_thread")]
async fn offboarding_suspend_reactivate_remove_and_bulk() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await.unwrap();
    let bob = admin.suspend("bob@acme.example").await.unwrap();
    assert_eq!(
        emu.user_state(bob.id.as_str()),
        Some(PersonState::Suspended)
    );
    admin.reactivate(&bob.id).await.unwrap();
    assert_eq!(emu.user_state(bob.id.as_str()), Some(PersonState::Active));
    let e = admin.suspend("admin@acme.example").await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)));

    let targets = vec![
        "alice@acme.example",
        "nobody@acme.example",
        "carol@acme.example",
    ];
    let results = admin
        .bulk(targets, |a, t| async move { a.suspend(t).await })
        .await;
    assert_eq!(results.len(), 3);
    assert!(results[0].outcome.is_ok() && results[2].outcome.is_ok());
    assert!(
        matches!(results[1].outcome, Err(Error::NotFound { .. })),
        "{:?}",
        results[1].outcome
    );
    assert_eq!(
        emu.user_state("carol@acme.example"),
        Some(PersonState::Suspended)
    );

    let removed = admin.remove("erin@acme.example").await.unwrap();
    assert_eq!(
        emu.user_state(removed.id.as_str()),
        Some(PersonState::Deleted)
    );
    assert!(
        admin
            .users()
            .await
            .unwrap()
            .iter()
            .all(|u| u.email != "erin@acme.example")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_invitations_are_listed_in_sync_resent_and_revoked() {
    let emu = start(demo_account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await.unwrap();
    for email in ["first@acme.example", "second@acme.example"] {
        admin
            .invite(email, "", UserType::Member, &[])
            .await
            .expect("invited");
    }
    let guest = admin
        .invite("Guest@Acme.example", "", UserType::Guest, &[])
        .await
        .expect("invited");

    // Invited people are in the snapshot, with their type.
    let snapshot = admin.sync().await.unwrap();
    let mut invited: Vec<(String, UserType)> = snapshot
        .invitations
        .iter()
        .map(|i| (i.email.clone(), i.user_type))
        .collect();
    invited.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        invited,
        [
            ("first@acme.example".to_owned(), UserType::Member),
            ("guest@acme.example".to_owned(), UserType::Guest),
            ("second@acme.example".to_owned(), UserType::Member),
        ]
    );
    assert!(snapshot.invitations.iter().all(|i| i.sent_at.is_some()));
    assert!(snapshot.is_complete(), "{:?}", snapshot.skipped);
    assert_eq!(admin.invitations().await.unwrap(), snapshot.invitations);

    // Resend by email; the server sent it once more.
    assert_eq!(emu.invitation_resends("first@acme.example"), Some(0));
    let resent = admin.resend_invitation("FIRST@acme.example").await.unwrap();
    assert_eq!(resent.email, "first@acme.example");
    assert_eq!(emu.invitation_resends("first@acme.example"), Some(1));

    // Revoke by uuid: no longer pending, on the server or in the next sync.
    let revoked = admin.revoke_invitation(&guest.id).await.unwrap();
    assert_eq!(revoked.email, "guest@acme.example");
    assert!(
        !emu.pending_invitations()
            .contains(&"guest@acme.example".to_owned())
    );
    let after = admin.sync().await.unwrap();
    assert_eq!(after.invitations.len(), 2);

    // What is not pending cannot be resent or revoked, and nothing is sent for it.
    let before = emu.changes_applied();
    for e in [
        admin.revoke_invitation(&guest.id).await.unwrap_err(),
        admin
            .resend_invitation("guest@acme.example")
            .await
            .unwrap_err(),
        admin
            .revoke_invitation("nobody@acme.example")
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(e, Error::NotFound { .. }), "{e}");
    }
    assert_eq!(emu.changes_applied(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn teams_accounts_cannot_invite_and_nothing_is_sent() {
    let emu = start(demo_account().plan(Plan::Teams)).await;
    let admin = admin_for(&emu, "admin@acme.example").await.unwrap();
    let before = emu.requests_served();
    let e = admin
        .invite("new@acme.example", "New", UserType::Member, &[])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::BusinessPlanRequired), "{e}");
    assert_eq!(emu.requests_served() - before, 1, "only the plan was read");
    assert!(emu.pending_invitations().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn mfa_enforced_accounts_and_disabled_admins() {
    let account = AccountBuilder::new("Strict")
        .enforce_mfa()
        .owner("boss@strict.example", "Boss", "pw-boss")
        .person(
            PersonSpec::new("ops@strict.example", "Ops")
                .role(Role::Administrator)
                .password("pw-ops")
                .totp(),
        );
    let emu = start(account).await;
    // With the TOTP secret configured: signs in; the remember token lets the same device skip it.
    let admin = admin_for(&emu, "ops@strict.example").await.unwrap();
    let token = admin.remember_token().expect("remember token").to_owned();
    let c = emu.credentials("ops@strict.example").unwrap();
    let again = Admin::builder()
        .address(emu.address())
        .credentials(&c.email, &c.password, &c.secret_key)
        .device_uuid(admin.device_uuid())
        .remember_token(token)
        .build()
        .await
        .expect("remembered device needs no code");
    assert!(!again.users().await.unwrap().is_empty());
    // Without a second factor configured: a typed error naming what the account offers.
    let c = emu.credentials("ops@strict.example").unwrap();
    let e = Admin::builder()
        .address(emu.address())
        .credentials(&c.email, &c.password, &c.secret_key)
        .build()
        .await
        .unwrap_err();
    let Error::MfaRequired { methods } = &e else {
        panic!("{e}")
    };
    assert!(methods.iter().any(|m| m.contains("totp")), "{methods:?}");
    // The owner has no second factor yet and the account demands one: it must enable one first.
    let e = admin_for(&emu, "boss@strict.example").await.unwrap_err();
    let Error::MfaUnsupported { offered } = &e else {
        panic!("{e}")
    };
    assert_eq!(offered, &vec!["mustEnable".to_string()]);

    // Wrong password, suspended integration user.
    let emu = start(
        demo_account().person(
            PersonSpec::new("old@acme.example", "Old")
                .role(Role::Administrator)
                .password("pw")
                .state(PersonState::Suspended),
        ),
    )
    .await;
    let e = admin_for(&emu, "old@acme.example").await.unwrap_err();
    assert!(matches!(e, Error::AdminDisabled("suspended")), "{e}");
    let c = emu.owner();
    let e = Admin::builder()
        .address(emu.address())
        .credentials(&c.email, "Zebra-Guess-123", &c.secret_key)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::BadCredentials));
    assert!(
        !format!("{e} {e:?}").contains("Zebra"),
        "the password never appears in an error"
    );
    let e = Admin::builder()
        .address(emu.address())
        .credentials(&c.email, &c.password, "A3-XXXX")
        .build()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn visibility_is_limited_to_what_the_admin_can_see() {
    let account = AccountBuilder::new("Visible")
        .person(PersonSpec::new("lead@v.example", "Lead").password("pw-lead"))
        .person(PersonSpec::new("dev@v.example", "Dev"))
        .group(
            GroupSpec::new("Devs")
                .manager("lead@v.example")
                .member("dev@v.example"),
        )
        .group(GroupSpec::new("Secret Group").member("dev@v.example"))
        .vault(
            VaultSpec::new("Dev Vault")
                .creator("lead@v.example")
                .group("Devs", acl::RWE),
        )
        .vault(VaultSpec::new("Hidden"));
    let emu = start(account).await;
    let lead = admin_for(&emu, "lead@v.example").await.unwrap();
    let snap = lead.sync().await.unwrap();
    assert_eq!(
        snap.vaults
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Dev Vault"]
    );
    assert!(snap.group_by_name("Secret Group").is_none());
    assert!(snap.group_by_name("Devs").is_some());
    // A group manager adds and removes members of their own group.
    let devs = opadmin::GroupId::new(emu.group_uuid("Devs").unwrap());
    let out = lead
        .remove_from_group(&devs, emu.user_uuid("dev@v.example").unwrap().as_str())
        .await
        .unwrap();
    assert_eq!(out, MembershipOutcome::Removed);
}

#[tokio::test(flavor = "multi_thread")]
async fn session_expiry_signs_in_again_transparently() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await.unwrap();
    assert_eq!(admin.users().await.unwrap().len(), 8);
    emu.expire_sessions();
    let snap = admin.sync().await.unwrap();
    assert_eq!(snap.users.len(), 8);
    let dir: &dyn Directory = &admin;
    assert!(dir.capabilities().vault_access);
    assert!(
        dir.find_user("nobody@acme.example")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        dir.find_user("ALICE@acme.example")
            .await
            .unwrap()
            .map(|u| u.name),
        Some("Alice Anders".into())
    );
}

#[test]
fn nothing_secret_in_debug_or_errors() {
    let builder = Admin::builder().address("my.1password.com").credentials(
        "a@b.c",
        "hunter2-password",
        "A3-RTN9SA-DY9445-Y5FF9-6X6E7-B5GPF-A95R9",
    );
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("DY9445"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_account_syncs_correctly() {
    let emu = start(
        AccountBuilder::new("Large")
            .seed(7)
            .synthetic(10_000, 1_000, 2_000),
    )
    .await;
    let admin = admin_for(&emu, opadmin_emulator::DEFAULT_OWNER_EMAIL)
        .await
        .unwrap();
    let snap = admin.sync().await.unwrap();
    assert_eq!(snap.users.len(), 10_001);
    assert_eq!(snap.groups.len(), 1_000 + 4);
    assert_eq!(snap.vaults.len(), 2_000);
    let g0 = snap.group_by_name("Group 0").unwrap();
    assert_eq!(g0.members.len(), 10);
    let v0 = snap.vault_by_name("Vault 0").unwrap();
    // One group of ten and two people directly, plus the owner (creator).
    let via_group_0 = v0
        .user_access
        .iter()
        .filter(|a| a.via_groups.contains(&g0.id))
        .count();
    assert_eq!(via_group_0, 10);
    assert!(v0.user_access.iter().filter(|a| a.direct.is_some()).count() >= 3);
    assert!(
        snap.users
            .iter()
            .filter(|u| u.last_sign_in.is_some())
            .count()
            >= 10_000
    );
}

/// The b5 backend through the shared `Directory` conformance suite (with confirmation, guests,
/// vault access and group managers, which it supports).
#[tokio::test(flavor = "multi_thread")]
async fn admin_passes_the_directory_conformance_suite() {
    let emu = start(demo_account().group(GroupSpec::new("Conformance b5"))).await;
    let admin = admin_for(&emu, "admin@acme.example").await.unwrap();
    let group = opadmin::GroupId::new(emu.group_uuid("Conformance b5").expect("group"));
    let accept = |email: &str, name: &str| {
        emu.accept_invitation(email, name)
            .expect("invitation accepted");
    };
    let outcome = conformance::run(&conformance::Backend {
        dir: &admin,
        paged: None,
        tag: "b5",
        group,
        accept: Some(&accept),
        vault: Some(vault(&emu, "Engineering")),
    })
    .await;
    assert_eq!(
        emu.user_state(outcome.people[4].as_str()),
        Some(PersonState::Deleted)
    );
}
