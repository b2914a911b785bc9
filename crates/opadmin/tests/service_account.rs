//! Signing in with a service-account token and doing what a service account may, end to end
//! against the emulator; what it may not do fails before anything is sent; malformed tokens.

use opadmin::{
    Accessor, Admin, Error, GrantOutcome, GroupId, GroupRole, RevokeOutcome, UserType, VaultId,
    VaultPermissions,
};
use opadmin_emulator::{
    Acl, DEMO_SERVICE_ACCOUNT_GROUP, DEMO_SERVICE_ACCOUNT_VAULTS, Emulator, EmulatorConfig,
    PersonState, RunningEmulator, demo_account,
};

async fn demo() -> RunningEmulator {
    Emulator::start(
        EmulatorConfig::default(),
        demo_account().iterations(100_000),
    )
    .await
    .expect("emulator starts")
}

/// The token names `127.0.0.1:PORT` (HTTPS by default); the emulator is plain HTTP, so the
/// address is overridden.
async fn service_account(emu: &RunningEmulator) -> Admin {
    Admin::builder()
        .address(emu.address())
        .service_account_token(emu.service_account_token().expect("demo service account"))
        .build()
        .await
        .expect("the service account signs in")
}

async fn owner(emu: &RunningEmulator) -> Admin {
    let c = emu.owner();
    Admin::builder()
        .address(emu.address())
        .credentials(&c.email, &c.password, &c.secret_key)
        .build()
        .await
        .expect("the owner signs in")
}

fn group_grant(accessors: &[Accessor], group: &GroupId) -> Option<VaultPermissions> {
    accessors.iter().find_map(|a| match a {
        Accessor::Group { id, permissions } if id == group => Some(*permissions),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_account_lists_its_vaults_and_reads_its_group() {
    let emu = demo().await;
    let sa = service_account(&emu).await;
    assert!(sa.is_service_account());
    let shown = format!("{sa:?}");
    let token = emu.service_account_token().unwrap();
    assert!(!shown.contains(&token[4..24]), "{shown}");

    let vaults = sa.vaults().await.expect("vaults");
    let mut names: Vec<&str> = vaults.iter().map(|v| v.name.as_str()).collect();
    names.sort_unstable();
    let mut expected = DEMO_SERVICE_ACCOUNT_VAULTS.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "exactly the vaults the builder gave it");
    for v in &vaults {
        assert_eq!(v.id.as_str(), emu.vault_uuid(&v.name).unwrap());
        assert!(v.permissions.contains(VaultPermissions::MANAGE));
        assert!(v.permissions.contains(VaultPermissions::RWE));
    }
    let engineering = vaults.iter().find(|v| v.name == "Engineering").unwrap();
    assert_eq!(engineering.description, "Build and deploy secrets");

    let group = GroupId::new(emu.group_uuid(DEMO_SERVICE_ACCOUNT_GROUP).unwrap());
    let g = sa.group(&group).await.expect("its group is visible");
    assert_eq!(g.name, DEMO_SERVICE_ACCOUNT_GROUP);
    assert_eq!(g.members.len(), 1, "Marketing has Bob");
    let groups = sa.groups().await.expect("groups");
    assert_eq!(
        groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        [DEMO_SERVICE_ACCOUNT_GROUP],
        "it sees only the group it was shown"
    );
    let hidden = GroupId::new(emu.group_uuid("Engineering").unwrap());
    assert!(matches!(
        sa.group(&hidden).await,
        Err(Error::NotFound { .. })
    ));

    let accessors = sa
        .vault_accessors(&engineering.id)
        .await
        .expect("accessors");
    let engineering_group = GroupId::new(emu.group_uuid("Engineering").unwrap());
    assert_eq!(
        group_grant(&accessors, &engineering_group),
        Some(VaultPermissions::RWE)
    );
    assert!(accessors.iter().any(|a| matches!(a,
        Accessor::User { id, .. } if id == sa.user_id())));

    // An expired session is signed in again with the token, transparently.
    emu.expire_sessions();
    assert_eq!(sa.vaults().await.expect("vaults after expiry").len(), 2);

    // A vault it was not given is not there to read.
    let shared = VaultId::new(emu.vault_uuid("Shared Logins").unwrap());
    assert!(matches!(
        sa.vault_accessors(&shared).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_account_grants_and_revokes_a_groups_access_and_an_admin_sees_it() {
    let emu = demo().await;
    let sa = service_account(&emu).await;
    let admin = owner(&emu).await;
    let vault = VaultId::new(emu.vault_uuid("Engineering").unwrap());
    let group = GroupId::new(emu.group_uuid(DEMO_SERVICE_ACCOUNT_GROUP).unwrap());
    let view = VaultPermissions::from_names(["view_items"]).unwrap();

    let before = admin.sync().await.unwrap();
    let eng = before.vault_by_name("Engineering").unwrap();
    assert_eq!(group_grant(&eng.accessors, &group), None);

    let outcome = sa
        .grant_group_vault_access(&vault, &group, view)
        .await
        .expect("grant");
    let GrantOutcome::Granted { permissions } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(permissions.contains(view));
    assert_eq!(
        emu.vault_access(vault.as_str(), group.as_str())
            .map(Acl::bits),
        Some(permissions.bits())
    );

    let after = admin.sync().await.unwrap();
    let eng = after.vault_by_name("Engineering").unwrap();
    assert_eq!(group_grant(&eng.accessors, &group), Some(permissions));
    let bob = after.user_by_email("bob@acme.example").unwrap().id.clone();
    let bob_access = eng.user_access.iter().find(|a| a.user == bob).unwrap();
    assert_eq!(bob_access.via_groups, std::slice::from_ref(&group));
    assert_eq!(
        group_grant(&sa.vault_accessors(&vault).await.unwrap(), &group),
        Some(permissions)
    );

    // Granting again changes nothing.
    let again = sa.grant_group_vault_access(&vault, &group, view).await;
    assert!(
        matches!(again, Ok(GrantOutcome::AlreadyDirect { .. })),
        "{again:?}"
    );

    let revoked = sa
        .revoke_group_vault_access(&vault, &group)
        .await
        .expect("revoke");
    assert!(
        matches!(revoked, RevokeOutcome::Revoked { .. }),
        "{revoked:?}"
    );
    assert_eq!(emu.vault_access(vault.as_str(), group.as_str()), None);
    let undone = admin.sync().await.unwrap();
    let eng = undone.vault_by_name("Engineering").unwrap();
    assert_eq!(group_grant(&eng.accessors, &group), None);
    assert!(!eng.user_access.iter().any(|a| a.user == bob));
}

#[tokio::test(flavor = "multi_thread")]
async fn what_a_service_account_may_not_do_fails_before_anything_is_sent() {
    let emu = demo().await;
    let sa = service_account(&emu).await;
    let vault = VaultId::new(emu.vault_uuid("Engineering").unwrap());
    let group = GroupId::new(emu.group_uuid(DEMO_SERVICE_ACCOUNT_GROUP).unwrap());
    let bob = emu.user_uuid("bob@acme.example").unwrap();
    let dave = emu.user_uuid("dave@acme.example").unwrap();
    let erin = emu.user_uuid("erin@acme.example").unwrap();
    let before = emu.requests_served();

    let results: Vec<(&str, Result<(), Error>)> = vec![
        ("sync", sa.sync().await.map(drop)),
        ("users", sa.users().await.map(drop)),
        (
            "resolve_user",
            sa.resolve_user("bob@acme.example").await.map(drop),
        ),
        (
            "invite",
            sa.invite("new@acme.example", "New", UserType::Member, &[])
                .await
                .map(drop),
        ),
        ("confirm", sa.confirm(dave.as_str()).await),
        (
            "confirm_all_pending",
            sa.confirm_all_pending().await.map(drop),
        ),
        ("suspend", sa.suspend(bob.as_str()).await.map(drop)),
        ("reactivate", sa.reactivate(erin.as_str()).await.map(drop)),
        ("remove", sa.remove(bob.as_str()).await.map(drop)),
        (
            "add_to_group",
            sa.add_to_group(&group, dave.as_str(), GroupRole::Member)
                .await
                .map(drop),
        ),
        (
            "remove_from_group",
            sa.remove_from_group(&group, bob.as_str()).await.map(drop),
        ),
        (
            "set_group_role",
            sa.set_group_role(&group, bob.as_str(), GroupRole::Manager)
                .await,
        ),
        (
            "grant_vault_access",
            sa.grant_vault_access(&vault, bob.as_str(), VaultPermissions::RWE)
                .await
                .map(drop),
        ),
        (
            "revoke_vault_access",
            sa.revoke_vault_access(&vault, bob.as_str()).await.map(drop),
        ),
        (
            "set_vault_permissions",
            sa.set_vault_permissions(&vault, bob.as_str(), VaultPermissions::RWE)
                .await
                .map(drop),
        ),
    ];
    for (name, result) in results {
        let error = result.expect_err(name);
        assert!(
            matches!(error, Error::NotPermittedForServiceAccount { .. }),
            "{name}: {error:?}"
        );
        let text = error.to_string();
        assert!(
            text.contains("sign in as an administrator"),
            "{name}: {text}"
        );
    }
    assert_eq!(
        emu.requests_served(),
        before,
        "nothing was sent for any refused operation"
    );
    assert_eq!(emu.user_state(&bob), Some(PersonState::Active));

    // An administrator is not refused.
    let admin = owner(&emu).await;
    assert!(!admin.is_service_account());
    assert!(admin.users().await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_tokens_are_typed_errors_that_quote_nothing() {
    let emu = demo().await;
    let token = emu.service_account_token().unwrap();
    let body = token.strip_prefix("ops_").unwrap();
    let truncated_json = {
        use opadmin_crypto::encoding::{b64url_decode, b64url_encode};
        let json = b64url_decode(body).unwrap();
        format!("ops_{}", b64url_encode(&json[..json.len() / 2]))
    };
    let before = emu.requests_served();
    for bad in [
        format!("opz_{body}"),
        body.to_owned(),
        format!("ops_{}#{}", &body[..30], &body[31..]),
        truncated_json,
        String::new(),
    ] {
        let result = Admin::builder()
            .address(emu.address())
            .service_account_token(bad.clone())
            .build()
            .await;
        let error = result.expect_err("a malformed token is refused");
        assert!(
            matches!(error, Error::MalformedServiceAccountToken { .. }),
            "{error:?}"
        );
        let shown = format!("{error} {error:?}");
        let chars: Vec<char> = token.chars().collect();
        for window in chars.windows(8) {
            let part: String = window.iter().collect();
            assert!(!shown.contains(&part), "{shown:?} quotes the token");
        }
    }
    assert_eq!(emu.requests_served(), before, "nothing was sent");

    // A well-formed token the account does not know is refused as such.
    let other = Emulator::start(
        EmulatorConfig::default(),
        demo_account().iterations(100_000),
    )
    .await
    .unwrap();
    let foreign = Admin::builder()
        .address(emu.address())
        .service_account_token(other.service_account_token().unwrap())
        .build()
        .await;
    assert!(
        matches!(foreign, Err(Error::ServiceAccountTokenRejected)),
        "{foreign:?}"
    );

    // Credentials and a token together are a usage error.
    let c = emu.owner();
    let both = Admin::builder()
        .address(emu.address())
        .credentials(&c.email, &c.password, &c.secret_key)
        .service_account_token(token)
        .build()
        .await;
    assert!(matches!(both, Err(Error::InvalidInput(_))), "{both:?}");
}
