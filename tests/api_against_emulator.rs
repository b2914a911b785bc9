//! The typed API crate against the emulator: sign-in v1 and v2 (with and without TOTP), the
//! users list with last sign-in, and every resource call.

use opadmin_api::auth::{Credentials, SignInOptions, SignedIn, sign_in};
use opadmin_api::models::{Invite, InviteRequest};
use opadmin_api::types::{GroupRole, UserId, UserState, UserType, VaultPermissions};
use opadmin_api::users::UserFilter;
use opadmin_crypto::srp::SrpVersion;
use opadmin_emulator::{
    AccountBuilder, Emulator, EmulatorConfig, PersonSpec, PersonState, Role, RunningEmulator,
    demo_account,
};

async fn emulator(account: AccountBuilder) -> RunningEmulator {
    Emulator::start(EmulatorConfig::default(), account.iterations(100_000))
        .await
        .expect("emulator")
}

async fn signed_in(emu: &RunningEmulator, email: &str, options: SignInOptions) -> SignedIn {
    let c = emu.credentials(email).expect("credentials");
    let creds = Credentials::parse(emu.address(), &c.email, c.password.as_str(), &c.secret_key)
        .expect("credentials parse");
    sign_in(creds, options).await.expect("sign-in")
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_v1_and_v2_and_with_totp() {
    let emu = emulator(
        demo_account().person(
            PersonSpec::new("mfa@acme.example", "Mo")
                .role(Role::Administrator)
                .password("pw-mfa")
                .totp(),
        ),
    )
    .await;
    for srp in [SrpVersion::V2, SrpVersion::V1] {
        let s = signed_in(
            &emu,
            "admin@acme.example",
            SignInOptions::default().with_srp(srp),
        )
        .await;
        assert_eq!(
            s.user_uuid.as_str(),
            emu.user_uuid("admin@acme.example").unwrap()
        );
        assert!(s.keyring.len() >= 4);
    }
    let totp = emu
        .credentials("mfa@acme.example")
        .unwrap()
        .totp_secret
        .clone()
        .unwrap();
    let s = signed_in(
        &emu,
        "mfa@acme.example",
        SignInOptions::default().with_totp_secret(totp),
    )
    .await;
    assert!(
        s.new_dsecret.is_some(),
        "a remember-this-device token comes back"
    );
    let again = signed_in(
        &emu,
        "mfa@acme.example",
        SignInOptions::default()
            .with_device_uuid(s.device_uuid.clone())
            .with_dsecret(s.new_dsecret.clone().unwrap()),
    )
    .await;
    assert_eq!(again.device_uuid, s.device_uuid);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_resource_call_succeeds() {
    let emu = emulator(demo_account()).await;
    let s = signed_in(&emu, "admin@acme.example", SignInOptions::default()).await;
    let c = &s.client;

    let account = c.account().await.unwrap();
    let users = account.users.clone().unwrap();
    let alice = users
        .iter()
        .find(|u| u.email == "alice@acme.example")
        .unwrap();
    assert_eq!(alice.last_auth_at.as_deref(), Some("2026-11-20T08:15:00Z"));
    assert_eq!(c.keysets().await.unwrap().keysets.len(), 5);

    let pending = c
        .user_list(&UserFilter::new().states([UserState::Pending]))
        .await
        .unwrap();
    assert_eq!(pending.users.len(), 1);
    let all = c.users(&UserFilter::new()).collect_all().await.unwrap();
    assert_eq!(all.len(), 8);
    let person = c.user(&alice.uuid).await.unwrap();
    assert_eq!(person.email, "alice@acme.example");
    let with_groups = c.user_with_attrs(&alice.uuid, &["groups"]).await.unwrap();
    assert_eq!(
        with_groups.memberships.unwrap().len(),
        2,
        "Engineering and Team Members"
    );
    assert_eq!(
        c.user_public_keys(std::slice::from_ref(&alice.uuid))
            .await
            .unwrap()
            .len(),
        1
    );
    let report = c.user_report(&alice.uuid).await.unwrap();
    assert_eq!(
        report.overview.unwrap().user.last_auth_at.as_deref(),
        Some("2026-11-20T08:15:00Z")
    );

    let groups = c.groups().collect_all().await.unwrap();
    assert_eq!(groups.len(), 6);
    let eng = groups.iter().find(|g| g.name == "Engineering").unwrap();
    let eng_full = c.group(&eng.uuid).await.unwrap();
    assert_eq!(eng_full.memberships.as_ref().unwrap().len(), 2);
    assert_eq!(
        c.group_public_keys(std::slice::from_ref(&eng.uuid))
            .await
            .unwrap()
            .len(),
        1
    );
    let carol = UserId::new(emu.user_uuid("carol@acme.example").unwrap());
    c.set_group_role(&eng.uuid, &carol, GroupRole::Member)
        .await
        .unwrap();
    c.remove_group_member(&eng.uuid, &carol).await.unwrap();
    assert_eq!(emu.group_members(eng.uuid.as_str()).len(), 1);

    let vaults = c.vaults().collect_all().await.unwrap();
    assert_eq!(vaults.len(), 4);
    let shared = vaults
        .iter()
        .find(|v| emu.vault_uuid("Shared Logins").as_deref() == Some(v.uuid.as_str()))
        .unwrap();
    let full = c.vault(&shared.uuid).await.unwrap();
    assert!(full.access.unwrap().len() >= 4);
    c.set_user_vault_permissions(
        &shared.uuid,
        &alice.uuid,
        VaultPermissions::RWE | VaultPermissions::MANAGE,
    )
    .await
    .unwrap();
    c.revoke_user_vault_access(&shared.uuid, &alice.uuid)
        .await
        .unwrap();
    assert_eq!(
        emu.vault_access(shared.uuid.as_str(), alice.uuid.as_str()),
        None
    );
    c.revoke_group_vault_access(
        &shared.uuid,
        &opadmin_api::types::GroupId::new(emu.group_uuid("Administrators").unwrap()),
    )
    .await
    .unwrap();

    let invited = c
        .invite(&InviteRequest {
            invites: vec![Invite {
                email: "x@acme.example".into(),
                language: "en".into(),
                vaults: None,
            }],
            invite_type: UserType::Member,
        })
        .await
        .unwrap();
    assert_eq!(invited.len(), 1);
    assert_eq!(c.invitations().collect_all().await.unwrap().len(), 1);
    c.revoke_invitations(&[invited[0].uuid.clone()])
        .await
        .unwrap();
    assert!(emu.pending_invitations().is_empty());

    let bob = UserId::new(emu.user_uuid("bob@acme.example").unwrap());
    c.suspend_people(std::slice::from_ref(&bob)).await.unwrap();
    assert_eq!(emu.user_state(bob.as_str()), Some(PersonState::Suspended));
    c.reactivate_people(std::slice::from_ref(&bob))
        .await
        .unwrap();
    c.delete_people(std::slice::from_ref(&bob)).await.unwrap();
    assert_eq!(emu.user_state(bob.as_str()), Some(PersonState::Deleted));
    c.touch().await.unwrap();
    c.sign_out().await.unwrap();
}
