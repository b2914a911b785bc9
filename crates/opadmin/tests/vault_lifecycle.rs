//! The vault lifecycle through the facade, against the emulator: creating a vault (its key,
//! attributes and access records made by this SDK, then read back by `sync` and `vaults`),
//! renaming and describing it, deleting it, setting many groups' permissions at once, the
//! refusals, and creations and deletions whose answer is lost after the server applied them.

use std::time::Duration;

use opadmin::{
    Accessor, Admin, Error, GroupId, RetryPolicy, TransportConfig, UserId, VaultId, VaultOutcome,
    VaultPermissions as P, VaultType, VaultUpdate,
};
use opadmin_emulator::{
    AccountBuilder, Acl, Emulator, EmulatorConfig, FaultKind, FaultRule, FaultTarget, FaultTiming,
    PersonSpec, Role, RunningEmulator, VaultSpec, acl, demo_account,
};

const PASSWORD: &str = "correct horse battery staple";

async fn start(account: AccountBuilder) -> RunningEmulator {
    Emulator::start(EmulatorConfig::default(), account.iterations(100_000))
        .await
        .expect("emulator starts")
}

/// Signs in `email` with short retries, so that fault cases are quick.
async fn admin_for(emu: &RunningEmulator, email: &str) -> Admin {
    let c = emu.credentials(email).expect("credentials");
    Admin::builder()
        .address(emu.address())
        .credentials(&c.email, &c.password, &c.secret_key)
        .transport(
            TransportConfig::default()
                .with_timeout(Duration::from_millis(1500))
                .with_retry(
                    RetryPolicy::default()
                        .with_max_attempts(4)
                        .with_backoff(Duration::from_millis(20), Duration::from_millis(100)),
                ),
        )
        .build()
        .await
        .expect("signs in")
}

/// The demo account plus Payroll, which the IT admin can read but not manage.
fn account() -> AccountBuilder {
    demo_account().vault(
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

/// How many vaults the identity sees with this name.
async fn named(admin: &Admin, name: &str) -> usize {
    admin
        .vaults()
        .await
        .expect("vaults")
        .iter()
        .filter(|v| v.name == name)
        .count()
}

#[tokio::test]
async fn create_sync_rename_and_delete() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await;
    let changes = emu.changes_applied();

    let outcome = admin
        .create_vault("Deployments", "Release tooling")
        .await
        .expect("creates");
    let VaultOutcome::Created { vault: created } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(created.name, "Deployments");
    assert_eq!(created.description, "Release tooling");
    assert_eq!(created.vault_type, VaultType::UserCreated);
    assert!(created.permissions.contains(P::RWE | P::MANAGE));
    assert_eq!(emu.changes_applied(), changes + 1);
    assert_eq!(emu.vault_uuid("Deployments"), Some(created.id.to_string()));

    // Read back by a full sync: the name opens with the key this SDK wrapped, and the access
    // records are the ones it made.
    let snapshot = admin.sync().await.expect("sync");
    let v = snapshot
        .vault_by_name("Deployments")
        .expect("in the snapshot");
    assert_eq!(v.id, created.id);
    let me = admin.user_id().clone();
    let expected = [
        Accessor::user(me.clone(), P::RWE | P::MANAGE),
        Accessor::group(group(&emu, "Owners"), P::MANAGE),
        Accessor::group(group(&emu, "Administrators"), P::MANAGE),
        Accessor::group(group(&emu, "Recovery"), P::RECOVER),
    ];
    for a in &expected {
        assert!(v.accessors.contains(a), "{a:?} in {:?}", v.accessors);
    }
    assert_eq!(v.accessors.len(), expected.len(), "{:?}", v.accessors);
    // Another administrator (through Administrators) opens it too.
    let it = admin_for(&emu, "it-admin@acme.example").await;
    assert_eq!(named(&it, "Deployments").await, 1);

    // Rename, then describe: each keeps the other.
    let renamed = admin
        .update_vault(&created.id, VaultUpdate::name("Releases"))
        .await
        .expect("renames");
    match &renamed {
        VaultOutcome::Updated { before, after } => {
            assert_eq!(
                (before.name.as_str(), after.name.as_str()),
                ("Deployments", "Releases")
            );
            assert_eq!(after.description, "Release tooling");
        }
        other => panic!("{other:?}"),
    }
    let described = admin
        .update_vault(
            &created.id,
            VaultUpdate::description("Release and deploy tooling"),
        )
        .await
        .expect("describes");
    assert_eq!(described.vault().name, "Releases");
    assert_eq!(described.vault().description, "Release and deploy tooling");
    let changes = emu.changes_applied();
    let same = admin
        .update_vault(&created.id, VaultUpdate::name("Releases"))
        .await
        .expect("no change");
    assert!(matches!(same, VaultOutcome::Unchanged { .. }), "{same:?}");
    assert_eq!(emu.changes_applied(), changes, "nothing sent");
    let listed = admin.vaults().await.expect("vaults");
    let summary = listed.iter().find(|v| v.id == created.id).expect("listed");
    assert_eq!(summary.name, "Releases");
    assert_eq!(named(&it, "Releases").await, 1, "others read the new name");

    // Delete.
    let deleted = admin.delete_vault(&created.id).await.expect("deletes");
    assert!(matches!(&deleted, VaultOutcome::Deleted { vault } if vault.name == "Releases"));
    assert_eq!(emu.vault_uuid("Releases"), None);
    assert_eq!(named(&admin, "Releases").await, 0);
    assert!(
        admin
            .sync()
            .await
            .expect("sync")
            .vault_by_name("Releases")
            .is_none()
    );
}

#[tokio::test]
async fn refusals_are_typed_and_send_nothing() {
    let emu = start(account()).await;
    let it = admin_for(&emu, "it-admin@acme.example").await;
    let changes = emu.changes_applied();

    // Finance excludes Administrators: not even visible to the IT admin.
    let finance = vault(&emu, "Finance");
    let e = it.delete_vault(&finance).await.expect_err("refused");
    assert!(matches!(e, Error::NoManageVaultPermission), "{e:?}");
    let e = it
        .update_vault(&finance, VaultUpdate::name("Mine"))
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::NoManageVaultPermission), "{e:?}");
    // Payroll: readable, not manageable.
    let payroll = vault(&emu, "Payroll");
    let e = it.delete_vault(&payroll).await.expect_err("refused");
    assert!(matches!(e, Error::NoManageVaultPermission), "{e:?}");
    let e = it
        .set_group_vault_permissions_bulk(&[(payroll.clone(), group(&emu, "Owners"), P::MANAGE)])
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::NoManageVaultPermission), "{e:?}");
    assert!(emu.vault_uuid("Payroll").is_some());

    // Bad input.
    let owner = admin_for(&emu, "admin@acme.example").await;
    assert!(matches!(
        owner.create_vault("  ", "").await,
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        owner.update_vault(&payroll, VaultUpdate::default()).await,
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(emu.changes_applied(), changes);

    // An account whose policy keeps vault creation to administrators.
    let emu = start(
        AccountBuilder::new("Closed")
            .owner("owner@closed.example", "Owner", PASSWORD)
            .person(PersonSpec::new("member@closed.example", "Member").password(PASSWORD))
            .person(
                PersonSpec::new("admin@closed.example", "Admin")
                    .password(PASSWORD)
                    .role(Role::Administrator),
            )
            .members_cannot_create_vaults(),
    )
    .await;
    let member = admin_for(&emu, "member@closed.example").await;
    let e = member.create_vault("Mine", "").await.expect_err("refused");
    assert!(matches!(e, Error::NoCreateVaultPermission), "{e:?}");
    assert_eq!(emu.vault_uuid("Mine"), None);
    let admin = admin_for(&emu, "admin@closed.example").await;
    let made = admin
        .create_vault("Admin's", "")
        .await
        .expect("an administrator may");
    assert_eq!(made.vault().name, "Admin's");

    // The Everyone vault of an older account is not a vault one deletes or renames.
    let emu = start(
        AccountBuilder::new("Legacy")
            .owner("owner@legacy.example", "Owner", PASSWORD)
            .legacy_everyone_vault(),
    )
    .await;
    let owner = admin_for(&emu, "owner@legacy.example").await;
    let everyone = vault(&emu, "Everyone");
    let changes = emu.changes_applied();
    let e = owner.delete_vault(&everyone).await.expect_err("refused");
    assert!(
        matches!(
            &e,
            Error::SpecialVault {
                vault_type: VaultType::Everyone,
                operation: "deleted",
                ..
            }
        ),
        "{e:?}"
    );
    let e = owner
        .update_vault(&everyone, VaultUpdate::name("All"))
        .await
        .expect_err("refused");
    assert!(matches!(&e, Error::SpecialVault { .. }), "{e:?}");
    assert_eq!(emu.changes_applied(), changes);
    assert!(emu.vault_uuid("Everyone").is_some());
}

#[tokio::test]
async fn a_creation_answered_500_after_it_was_applied_converges_without_a_duplicate() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await;
    emu.inject_fault(FaultRule::new(
        FaultTarget::route("POST", "/api/v2/vault"),
        FaultTiming::Next(1),
        FaultKind::ApplyThenServerError,
    ));
    let changes = emu.changes_applied();
    let outcome = admin.create_vault("Struck", "").await.expect("converges");
    assert!(
        matches!(&outcome, VaultOutcome::CreatedDespiteFailure { vault } if vault.name == "Struck"),
        "{outcome:?}"
    );
    assert!(outcome.applied_despite_failure());
    assert_eq!(emu.faults_struck(), 1);
    assert_eq!(emu.changes_applied(), changes + 1, "created once");
    assert_eq!(named(&admin, "Struck").await, 1, "no duplicate");

    // A creation refused before it was applied is sent again, once.
    emu.clear_faults();
    emu.inject_fault(FaultRule::new(
        FaultTarget::route("POST", "/api/v2/vault"),
        FaultTiming::Next(1),
        FaultKind::FailBeforeApply,
    ));
    let outcome = admin.create_vault("Retried", "").await.expect("creates");
    assert!(
        matches!(outcome, VaultOutcome::Created { .. }),
        "{outcome:?}"
    );
    assert_eq!(named(&admin, "Retried").await, 1);

    // A deletion whose connection breaks after it was applied.
    emu.clear_faults();
    emu.inject_fault(FaultRule::new(
        FaultTarget::route("DELETE", "/api/v4/vault/"),
        FaultTiming::Next(1),
        FaultKind::ApplyThenDrop,
    ));
    let struck = outcome_id(&admin, "Struck").await;
    let deleted = admin.delete_vault(&struck).await.expect("converges");
    assert!(
        matches!(deleted, VaultOutcome::DeletedDespiteFailure { .. }),
        "{deleted:?}"
    );
    assert_eq!(named(&admin, "Struck").await, 0);
}

async fn outcome_id(admin: &Admin, name: &str) -> VaultId {
    admin
        .vaults()
        .await
        .expect("vaults")
        .into_iter()
        .find(|v| v.name == name)
        .expect("listed")
        .id
}

#[tokio::test]
async fn many_group_permissions_at_once() {
    let emu = start(account()).await;
    let admin = admin_for(&emu, "admin@acme.example").await;
    let (engineering, marketing) = (vault(&emu, "Engineering"), vault(&emu, "Marketing"));
    let (eng, mkt) = (group(&emu, "Engineering"), group(&emu, "Marketing"));
    let changes = emu.changes_applied();
    let outcome = admin
        .set_group_vault_permissions_bulk(&[
            (engineering.clone(), eng.clone(), P::READ_ITEM),
            (marketing.clone(), mkt.clone(), P::RWE | P::MANAGE),
        ])
        .await
        .expect("sets");
    assert_eq!(outcome.changed.len(), 2, "{outcome:?}");
    assert!(outcome.unchanged.is_empty() && !outcome.applied_despite_failure);
    let view = P::READ_ITEM.with_dependencies();
    assert_eq!(outcome.changed[0].before, P::RWE);
    assert_eq!(outcome.changed[0].after, view);
    assert_eq!(
        emu.vault_access(engineering.as_str(), eng.as_str()),
        Some(Acl::from_bits(view.bits()))
    );
    assert_eq!(
        emu.vault_access(marketing.as_str(), mkt.as_str()),
        Some(acl::RWE | acl::MANAGE)
    );
    assert_eq!(emu.changes_applied(), changes + 1, "one request");

    // Again: nothing to send.
    let again = admin
        .set_group_vault_permissions_bulk(&[(engineering.clone(), eng.clone(), P::READ_ITEM)])
        .await
        .expect("nothing to do");
    assert!(again.changed.is_empty() && again.unchanged.len() == 1);
    assert_eq!(emu.changes_applied(), changes + 1);

    // A group without a grant, a pair named twice, no permission: refused before sending.
    let e = admin
        .set_group_vault_permissions_bulk(&[
            (engineering.clone(), eng.clone(), P::RWE),
            (engineering.clone(), mkt.clone(), P::RWE),
        ])
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::InvalidState(_)), "{e:?}");
    let e = admin
        .set_group_vault_permissions_bulk(&[
            (engineering.clone(), eng.clone(), P::RWE),
            (engineering.clone(), eng.clone(), P::MANAGE),
        ])
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    let e = admin
        .set_group_vault_permissions_bulk(&[(engineering.clone(), eng.clone(), P::NONE)])
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    assert_eq!(
        emu.vault_access(engineering.as_str(), eng.as_str()),
        Some(Acl::from_bits(view.bits()))
    );
    assert_eq!(emu.changes_applied(), changes + 1);

    // An answer lost after the change: read back, reported as applied.
    emu.inject_fault(FaultRule::new(
        FaultTarget::route("PATCH", "/api/v2/acl/groups"),
        FaultTiming::Next(1),
        FaultKind::ApplyThenServerError,
    ));
    let outcome = admin
        .set_group_vault_permissions_bulk(&[(engineering.clone(), eng.clone(), P::RWE)])
        .await
        .expect("converges");
    assert!(outcome.applied_despite_failure, "{outcome:?}");
    assert_eq!(
        emu.vault_access(engineering.as_str(), eng.as_str()),
        Some(acl::RWE)
    );
}

#[tokio::test]
async fn a_service_account_creates_and_deletes_its_own_vault() {
    let emu = start(account()).await;
    let service = Admin::builder()
        .address(emu.address())
        .service_account_token(emu.service_account_token().expect("demo service account"))
        .build()
        .await
        .expect("the service account signs in");
    let made = service
        .create_vault("Service-made", "by a token")
        .await
        .expect("creates");
    let id = made.vault().id.clone();
    let sa = UserId::new(emu.service_accounts()[0].user_uuid.clone());
    assert_eq!(
        emu.vault_access(id.as_str(), sa.as_str()),
        Some(acl::RWE | acl::MANAGE)
    );
    assert_eq!(named(&service, "Service-made").await, 1);
    // The owner sees it through Owners.
    let owner = admin_for(&emu, "admin@acme.example").await;
    assert_eq!(named(&owner, "Service-made").await, 1);
    // It may not delete a vault it manages but did not create.
    let e = service
        .delete_vault(&vault(&emu, "Engineering"))
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::NoManageVaultPermission), "{e:?}");
    let deleted = service.delete_vault(&id).await.expect("deletes its own");
    assert!(matches!(deleted, VaultOutcome::Deleted { .. }));
}
