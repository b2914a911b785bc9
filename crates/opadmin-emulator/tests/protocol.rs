//! The emulator against a client written from opadmin-crypto alone: sign-in in every flavour,
//! listings, grants and revokes, and every rule the server enforces.

mod support;

use std::time::Duration;

use opadmin_crypto::srp::SrpVersion;
use opadmin_emulator::{
    AccountBuilder, Acl, Emulator, EmulatorConfig, Faults, GroupSpec, MemberRole, PersonSpec,
    PersonState, Plan, Role, RunningEmulator, SrpFlavours, VaultSpec, acl, demo_account,
};
use serde_json::{Value, json};
use support::{Raw, totp_now};

async fn demo() -> RunningEmulator {
    Emulator::start(EmulatorConfig::default(), demo_account().iterations(1000))
        .await
        .expect("emulator starts")
}

async fn signed_in(emu: &RunningEmulator, email: &str) -> Raw {
    let mut raw = Raw::new(&emu.address());
    raw.sign_in(
        emu.credentials(email).expect("credentials"),
        SrpVersion::V2,
        None,
    )
    .await
    .unwrap_or_else(|a| panic!("sign-in refused: {} {}", a.status, a.body));
    raw
}

/// Grants `user` access to `vault` as a real client does: open the vault key through the
/// signed-in admin's keyring, wrap it to the user's public key, PATCH vaultaccess.
async fn grant(
    raw: &mut Raw,
    emu: &RunningEmulator,
    vault: &str,
    user: &str,
    acl_bits: Acl,
) -> support::Answer {
    let creds = emu.owner().clone();
    let ring = raw.keyring(&creds).await;
    let v = raw
        .signed(
            "GET",
            &format!("/api/v3/vault/{vault}?attrs=accessors,combined-access"),
            None,
        )
        .await;
    assert_eq!(v.status, 200, "{}", v.body);
    let enc =
        opadmin_crypto::envelope::Envelope::from_json(&v.body["combinedAccess"]["encVaultKey"])
            .unwrap();
    let vault_key = ring.unwrap_key(&enc).expect("admin opens the vault key");
    let pk = raw
        .signed("GET", &format!("/api/v1/user/pubkeys?uuids={user}"), None)
        .await;
    let jwk: opadmin_crypto::jwk::Jwk =
        serde_json::from_value(pk.body[0]["pubKey"].clone()).unwrap();
    let public = opadmin_crypto::rsa::RsaPublicKey::from_jwk(&jwk).unwrap();
    let wrapped = public.wrap_key(&vault_key).unwrap();
    let body = json!({"vaultaccess": [{
        "vaultUuid": vault, "accessorType": "user", "accessorUuid": user, "acl": acl_bits, "leaseTimeout": 0,
        "vaultKeySN": 1, "encryptedBy": public.kid(), "encVaultKey": wrapped,
    }]});
    raw.signed(
        "PATCH",
        &format!("/api/v2/vault/{vault}/vaultaccess"),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn v2_sign_in_lists_users_and_grants_and_revokes() {
    let emu = demo().await;
    let mut raw = signed_in(&emu, "admin@acme.example").await;

    let account = raw
        .signed(
            "GET",
            "/api/v1/account?attrs=me,users,groups,vaults,tier,counts",
            None,
        )
        .await;
    assert_eq!(account.status, 200);
    assert!(account.encrypted);
    let parsed: opadmin_api::models::Account =
        serde_json::from_value(account.body.clone()).expect("account parses with the SDK's model");
    let users = parsed.users.expect("users");
    assert_eq!(users.len(), 8);
    let alice = users
        .iter()
        .find(|u| u.email == "alice@acme.example")
        .unwrap();
    assert_eq!(alice.last_auth_at.as_deref(), Some("2026-11-20T08:15:00Z"));
    let me = users
        .iter()
        .find(|u| u.email == "admin@acme.example")
        .unwrap();
    assert!(me.last_auth_at.is_some(), "signing in records lastAuthAt");
    assert_eq!(parsed.tier.unwrap().name, "business");

    let list = raw.signed("GET", "/api/v3/users?states=S", None).await;
    let list: opadmin_api::models::UserList = serde_json::from_value(list.body).unwrap();
    assert_eq!(list.total_count, 1);
    assert_eq!(list.users[0].email, "erin@acme.example");

    let vaults = raw
        .signed("GET", "/api/v1/vaults?attrs=combined-access", None)
        .await;
    let vaults: Vec<opadmin_api::models::Vault> =
        serde_json::from_value(vaults.body).expect("vault list parses");
    assert_eq!(vaults.len(), 4, "the owner sees every shared vault");

    let vault = emu.vault_uuid("Marketing").unwrap();
    let alice = emu.user_uuid("alice@acme.example").unwrap();
    let g = grant(&mut raw, &emu, &vault, &alice, acl::RWE).await;
    assert_eq!(g.status, 200, "{}", g.body);
    assert!(!g.encrypted, "vault-access writes answer in plain JSON");
    assert_eq!(g.body, json!({"success": 1}));
    assert_eq!(emu.vault_access(&vault, &alice), Some(acl::RWE));

    let r = raw
        .signed(
            "DELETE",
            &format!("/api/v1/vault/{vault}/person/{alice}"),
            None,
        )
        .await;
    assert_eq!((r.status, r.body.clone()), (200, json!({"success": 1})));
    assert_eq!(emu.vault_access(&vault, &alice), None);
    let again = raw
        .signed(
            "DELETE",
            &format!("/api/v1/vault/{vault}/person/{alice}"),
            None,
        )
        .await;
    assert_eq!(
        (again.status, again.body["errorCode"].as_i64()),
        (404, Some(117))
    );
}

#[tokio::test]
async fn v1_sign_in_works_and_flavours_can_be_restricted() {
    let emu = demo().await;
    let mut raw = Raw::new(&emu.address());
    raw.sign_in(emu.owner(), SrpVersion::V1, None)
        .await
        .unwrap_or_else(|a| panic!("{} {}", a.status, a.body));
    let me = raw.signed("GET", "/api/v1/account?attrs=me", None).await;
    assert_eq!(me.body["me"]["email"], "admin@acme.example");

    let v2_only = Emulator::start(
        EmulatorConfig {
            srp: SrpFlavours::V2Only,
            ..Default::default()
        },
        demo_account().iterations(1000),
    )
    .await
    .unwrap();
    let mut raw = Raw::new(&v2_only.address());
    let refused = raw
        .sign_in(v2_only.owner(), SrpVersion::V1, None)
        .await
        .expect_err("v1 refused");
    assert_eq!(refused.status, 400);
    let mut raw = Raw::new(&v2_only.address());
    raw.sign_in(v2_only.owner(), SrpVersion::V2, None)
        .await
        .unwrap_or_else(|a| panic!("{} {}", a.status, a.body));
}

#[tokio::test]
async fn real_iteration_count_sign_in() {
    let emu = Emulator::start(EmulatorConfig::default(), demo_account())
        .await
        .unwrap();
    let mut raw = Raw::new(&emu.address());
    raw.sign_in(emu.owner(), SrpVersion::V2, None)
        .await
        .unwrap_or_else(|a| panic!("{} {}", a.status, a.body));
    let ring = raw.keyring(emu.owner()).await;
    assert!(
        ring.len() >= 4,
        "primary keyset plus the Owners, Administrators, Recovery and Team Members keysets"
    );
}

fn mfa_account() -> AccountBuilder {
    AccountBuilder::new("MFA Inc")
        .iterations(1000)
        .owner("boss@mfa.example", "Boss", "pw-boss")
        .person(
            PersonSpec::new("totp@mfa.example", "Tia Totp")
                .role(Role::Administrator)
                .password("pw-totp")
                .totp(),
        )
}

#[tokio::test]
async fn totp_and_remembered_device() {
    let emu = Emulator::start(EmulatorConfig::default(), mfa_account())
        .await
        .unwrap();
    let creds = emu.credentials("totp@mfa.example").unwrap().clone();
    let secret = creds.totp_secret.clone().unwrap();

    let mut raw = Raw::new(&emu.address());
    let refused = raw
        .sign_in(&creds, SrpVersion::V2, None)
        .await
        .expect_err("a second factor is due");
    assert_eq!(refused.body["mfa"]["totp"]["enabled"], true);
    // The session is not usable before the second factor.
    let early = raw.signed("GET", "/api/v1/account?attrs=me", None).await;
    assert_eq!(
        (early.status, early.body["errorCode"].as_i64()),
        (401, Some(102))
    );

    let mut raw = Raw::new(&emu.address());
    let wrong = raw
        .sign_in(&creds, SrpVersion::V2, Some("000000".into()))
        .await
        .expect_err("wrong code refused");
    assert_eq!(wrong.status, 401);

    let mut raw = Raw::new(&emu.address());
    raw.sign_in(&creds, SrpVersion::V2, Some(totp_now(&secret)))
        .await
        .unwrap_or_else(|a| panic!("{} {}", a.status, a.body));
    let token = raw.dsecret.clone().expect("remember-me token");
    // Same device, remembered: no code needed.
    raw.sign_in(&creds, SrpVersion::V1, None)
        .await
        .unwrap_or_else(|a| panic!("{} {}", a.status, a.body));
    assert_eq!(raw.dsecret.as_deref().map(|t| t != token), Some(true));

    // An account that enforces MFA, for a person without a factor.
    let enforced = Emulator::start(EmulatorConfig::default(), mfa_account().enforce_mfa())
        .await
        .unwrap();
    let mut raw = Raw::new(&enforced.address());
    let must = raw
        .sign_in(enforced.owner(), SrpVersion::V2, None)
        .await
        .expect_err("must enable");
    assert_eq!(must.body["mfa"]["mustEnable"]["enabled"], true);
}

#[tokio::test]
async fn bad_credentials_and_suspended_people_are_refused() {
    let account = demo_account().iterations(1000).person(
        PersonSpec::new("sam@acme.example", "Sam")
            .password("pw-sam")
            .state(PersonState::Suspended),
    );
    let emu = Emulator::start(EmulatorConfig::default(), account)
        .await
        .unwrap();
    let mut creds = emu.owner().clone();
    creds.password = "wrong".into();
    for v in [SrpVersion::V2, SrpVersion::V1] {
        let mut raw = Raw::new(&emu.address());
        let refused = raw
            .sign_in(&creds, v, None)
            .await
            .expect_err("wrong password refused");
        assert_eq!(
            (refused.status, refused.body["errorCode"].as_i64()),
            (401, Some(102))
        );
    }
    let missing = Raw::new(&emu.address())
        .plain(
            "POST",
            "/api/v3/auth/start",
            &json!({"email": "admin@acme.example"}),
        )
        .await;
    assert_eq!(
        (missing.status, missing.body["errorCode"].as_i64()),
        (400, Some(100)),
        "missing fields"
    );
    let mut unknown = emu.owner().clone();
    unknown.email = "nobody@acme.example".into();
    let refused = Raw::new(&emu.address())
        .sign_in(&unknown, SrpVersion::V2, None)
        .await
        .expect_err("refused");
    assert_eq!((refused.status, refused.body.clone()), (400, json!({})));

    let sam = emu.credentials("sam@acme.example").unwrap().clone();
    let refused = Raw::new(&emu.address())
        .sign_in(&sam, SrpVersion::V2, None)
        .await
        .expect_err("refused");
    assert_eq!(
        (refused.status, refused.body["reason"].as_str()),
        (435, Some("user_suspended"))
    );

    // Suspending someone ends their sessions and stops their next sign-in.
    let mut admin = signed_in(&emu, "admin@acme.example").await;
    let mut it = signed_in(&emu, "it-admin@acme.example").await;
    let it_uuid = emu.user_uuid("it-admin@acme.example").unwrap();
    let s = admin
        .signed("PUT", &format!("/api/v1/people/suspend/{it_uuid}"), None)
        .await;
    assert_eq!(s.status, 200);
    assert_eq!(
        it.signed("GET", "/api/v1/account?attrs=me", None)
            .await
            .status,
        401
    );
    let refused = Raw::new(&emu.address())
        .sign_in(
            emu.credentials("it-admin@acme.example").unwrap(),
            SrpVersion::V2,
            None,
        )
        .await
        .expect_err("refused");
    assert_eq!(refused.status, 435);
    let r = admin
        .signed("PUT", &format!("/api/v1/people/reactivate/{it_uuid}"), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(emu.user_state(&it_uuid), Some(PersonState::Active));
}

#[tokio::test]
async fn macs_request_ids_and_envelopes_are_enforced() {
    let emu = demo().await;
    let mut raw = signed_in(&emu, "admin@acme.example").await;
    let ok = raw.signed_with_id("GET", "/api/v1/vaults", None, 10).await;
    assert_eq!(ok.status, 200);
    let replay = raw.signed_with_id("GET", "/api/v1/vaults", None, 10).await;
    assert_eq!(
        (replay.status, replay.body["errorCode"].as_i64()),
        (401, Some(102)),
        "replayed request id"
    );
    let far = raw
        .signed_with_id("GET", "/api/v1/vaults", None, 10_000)
        .await;
    assert_eq!(far.status, 401, "request id far beyond the window");
    raw.next_id = 11;

    // A MAC over another path.
    let url = format!("{}/api/v1/vaults", raw.base);
    let session = raw.session.clone().unwrap();
    let header = raw
        .mac
        .as_ref()
        .unwrap()
        .sign(&session, "GET", &format!("{}/api/v1/invites", raw.base), 11)
        .unwrap();
    let a = raw
        .finish(
            raw.http
                .get(&url)
                .header("X-AgileBits-Session-ID", &session)
                .header("X-AgileBits-MAC", header),
        )
        .await;
    assert_eq!(a.status, 401);
    // No MAC at all.
    let a = raw
        .finish(
            raw.http
                .get(&url)
                .header("X-AgileBits-Session-ID", &session),
        )
        .await;
    assert_eq!(a.status, 401);
    // An envelope under another key.
    raw.next_id = 12;
    let other = opadmin_crypto::envelope::SymmetricKey::generate(session.clone());
    let header = raw
        .mac
        .as_ref()
        .unwrap()
        .sign(
            &session,
            "PUT",
            &format!("{}/api/v2/people/confirm", raw.base),
            12,
        )
        .unwrap();
    let a = raw
        .finish(
            raw.http
                .put(format!("{}/api/v2/people/confirm", raw.base))
                .header("X-AgileBits-Session-ID", &session)
                .header("X-AgileBits-MAC", header)
                .json(&other.encrypt_json(&json!({"peopleUuids": []}))),
        )
        .await;
    assert_eq!(a.status, 401);
    // Malformed JSON, unknown uuids.
    raw.next_id = 13;
    let header = raw
        .mac
        .as_ref()
        .unwrap()
        .sign(
            &session,
            "PATCH",
            &format!("{}/api/v2/vault/x/vaultaccess", raw.base),
            13,
        )
        .unwrap();
    let a = raw
        .finish(
            raw.http
                .patch(format!("{}/api/v2/vault/x/vaultaccess", raw.base))
                .header("X-AgileBits-Session-ID", &session)
                .header("X-AgileBits-MAC", header)
                .body("{not json"),
        )
        .await;
    assert_eq!((a.status, a.body["errorCode"].as_i64()), (400, Some(100)));
    raw.next_id = 14;
    let a = raw.signed("GET", "/api/v2/user/NOSUCHUSER", None).await;
    assert_eq!((a.status, a.body["errorCode"].as_i64()), (404, Some(117)));
    let a = raw
        .signed("GET", "/api/v3/vault/nosuchvault?attrs=accessors", None)
        .await;
    assert_eq!(a.status, 404);
    // Unknown session.
    raw.session = Some("NOSUCHSESSION".into());
    assert_eq!(raw.signed("GET", "/api/v1/vaults", None).await.status, 401);
}

#[tokio::test]
async fn manage_permission_visibility_and_no_partial_changes() {
    let emu = demo().await;
    let mut it = signed_in(&emu, "it-admin@acme.example").await;
    let vaults = it.signed("GET", "/api/v1/vaults", None).await;
    let names = vaults.body.as_array().unwrap().len();
    assert_eq!(
        names, 3,
        "Finance excluded Administrators, so the IT admin does not see it"
    );
    let finance = emu.vault_uuid("Finance").unwrap();
    let bob = emu.user_uuid("bob@acme.example").unwrap();
    let refused = it
        .signed(
            "DELETE",
            &format!("/api/v1/vault/{finance}/person/{bob}"),
            None,
        )
        .await;
    assert_eq!(
        (refused.status, refused.body["errorCode"].as_i64()),
        (403, Some(101))
    );
    let refused = it
        .signed("GET", &format!("/api/v3/vault/{finance}"), None)
        .await;
    assert_eq!(refused.status, 404);

    // A grant whose key is wrapped to the wrong person changes nothing.
    let mut admin = signed_in(&emu, "admin@acme.example").await;
    let marketing = emu.vault_uuid("Marketing").unwrap();
    let carol = emu.user_uuid("carol@acme.example").unwrap();
    let ok = grant(&mut admin, &emu, &marketing, &carol, acl::RWE).await;
    assert_eq!(ok.status, 200);
    let mut body_for_bob = admin
        .signed(
            "GET",
            &format!("/api/v3/vault/{marketing}?attrs=accessors"),
            None,
        )
        .await
        .body;
    let carol_record = body_for_bob["access"]
        .as_array_mut()
        .unwrap()
        .iter()
        .find(|a| a["accessorUuid"] == carol.as_str())
        .unwrap()
        .clone();
    let mut forged = carol_record.clone();
    forged["accessorUuid"] = json!(bob);
    let r = admin
        .signed(
            "PATCH",
            &format!("/api/v2/vault/{marketing}/vaultaccess"),
            Some(json!({"vaultaccess": [forged]})),
        )
        .await;
    assert_eq!((r.status, r.body["errorCode"].as_i64()), (400, Some(119)));
    assert_eq!(emu.vault_access(&marketing, &bob), None);
    let r = admin
        .signed(
            "PATCH",
            &format!("/api/v1/acl/person/{marketing}/{carol}/0"),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "an empty acl is refused");
    let r = admin
        .signed(
            "PATCH",
            &format!(
                "/api/v1/acl/person/{marketing}/{carol}/{}",
                (acl::RWE | acl::MANAGE).bits()
            ),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        emu.vault_access(&marketing, &carol),
        Some(acl::RWE | acl::MANAGE)
    );
    let groups = it.signed("GET", "/api/v1/account?attrs=groups", None).await;
    assert_eq!(
        groups.body["groups"].as_array().unwrap().len(),
        6,
        "administrators see every group"
    );
}

#[tokio::test]
async fn members_see_only_their_own_things() {
    let account = AccountBuilder::new("Small")
        .iterations(1000)
        .person(PersonSpec::new("mia@small.example", "Mia").password("pw-mia"))
        .person(PersonSpec::new("noah@small.example", "Noah"))
        .group(GroupSpec::new("Design").member("mia@small.example"))
        .group(GroupSpec::new("Sales").member("noah@small.example"))
        .vault(VaultSpec::new("Design").group("Design", acl::RWE))
        .vault(VaultSpec::new("Sales").group("Sales", acl::RWE));
    let emu = Emulator::start(EmulatorConfig::default(), account)
        .await
        .unwrap();
    let mut mia = signed_in(&emu, "mia@small.example").await;
    let a = mia
        .signed("GET", "/api/v1/account?attrs=users,groups,vaults", None)
        .await;
    assert_eq!(
        a.body["users"].as_array().unwrap().len(),
        1,
        "a member sees only herself"
    );
    let mut groups: Vec<&str> = a.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        vec!["Design", "Team Members"],
        "a member sees only the groups she is in"
    );
    let vaults = mia.signed("GET", "/api/v1/vaults", None).await;
    assert_eq!(vaults.body.as_array().unwrap().len(), 1);
    let design = emu.vault_uuid("Design").unwrap();
    let noah = emu.user_uuid("noah@small.example").unwrap();
    let g = mia
        .signed(
            "PATCH",
            &format!("/api/v2/vault/{design}/vaultaccess"),
            Some(json!({"vaultaccess": []})),
        )
        .await;
    assert_eq!(
        g.status, 403,
        "no Manage on a vault shared through a group with RWE"
    );
    let s = mia
        .signed("PUT", &format!("/api/v1/people/suspend/{noah}"), None)
        .await;
    assert_eq!(s.status, 403);
}

#[tokio::test]
async fn invitations_need_business_and_confirmation_needs_real_keys() {
    let teams = Emulator::start(
        EmulatorConfig::default(),
        demo_account().iterations(1000).plan(Plan::Teams),
    )
    .await
    .unwrap();
    let mut raw = signed_in(&teams, "admin@acme.example").await;
    let r = raw
        .signed(
            "POST",
            "/api/v1/invite",
            Some(
                json!({"invites": [{"email": "new@acme.example", "language": "en"}], "type": "R"}),
            ),
        )
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (403, json!({"reason": "account_policy"}))
    );
    assert!(teams.pending_invitations().is_empty());

    let emu = demo().await;
    let mut raw = signed_in(&emu, "admin@acme.example").await;
    let r = raw
        .signed(
            "POST",
            "/api/v1/invite",
            Some(
                json!({"invites": [{"email": "New@Acme.example", "language": "en"}], "type": "R"}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let details: Vec<opadmin_api::models::InvitationDetails> =
        serde_json::from_value(r.body).expect("invitation details parse");
    assert_eq!(details[0].email, "new@acme.example");
    let dup = raw.signed("POST", "/api/v1/invite", Some(json!({"invites": [{"email": "alice@acme.example", "language": "en"}], "type": "R"}))).await;
    assert_eq!(dup.status, 409);

    let new = emu
        .accept_invitation("new@acme.example", "Nina New")
        .unwrap();
    assert_eq!(emu.user_state(&new), Some(PersonState::Pending));
    let ring = raw.keyring(emu.owner()).await;
    let team = emu.group_uuid("Team Members").unwrap();
    let acct = raw
        .signed("GET", "/api/v1/account?attrs=groups", None)
        .await;
    let team_group = acct.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["uuid"] == team.as_str())
        .unwrap()
        .clone();
    let team_keyset_uuid = team_group["userMembership"]["keyset"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let team_keyset = ring
        .get(&team_keyset_uuid)
        .expect("admin holds the Team Members keyset")
        .clone();
    let pk = raw
        .signed("GET", &format!("/api/v1/user/pubkeys?uuids={new}"), None)
        .await;
    let jwk: opadmin_crypto::jwk::Jwk =
        serde_json::from_value(pk.body[0]["pubKey"].clone()).unwrap();
    let public = opadmin_crypto::rsa::RsaPublicKey::from_jwk(&jwk).unwrap();

    // Wrapped to the wrong key (the admin's own): refused, nothing changes.
    let wrong = team_keyset
        .encrypt_for_member(ring.primary().unwrap().public_key(), 1)
        .unwrap();
    let body = |ks: &opadmin_crypto::keyset::KeysetCiphertext| json!({"peopleUuids": [new], "groupMemberships": [{"groupUuid": team, "memberUuid": new, "role": "R", "state": "A", "keyset": ks}]});
    let r = raw
        .signed("PUT", "/api/v2/people/confirm", Some(body(&wrong)))
        .await;
    assert_eq!((r.status, r.body["errorCode"].as_i64()), (400, Some(119)));
    assert_eq!(emu.user_state(&new), Some(PersonState::Pending));
    let r = raw
        .signed(
            "PUT",
            "/api/v2/people/confirm",
            Some(json!({"peopleUuids": [new]})),
        )
        .await;
    assert_eq!(
        r.status, 400,
        "a member must receive the Team Members keyset"
    );

    let right = team_keyset.encrypt_for_member(&public, 1).unwrap();
    let r = raw
        .signed("PUT", "/api/v2/people/confirm", Some(body(&right)))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(emu.user_state(&new), Some(PersonState::Active));
    assert!(emu.group_members(&team).iter().any(|(u, _)| u == &new));
    let value: Value = r.body;
    assert_eq!(value, json!({"success": 1}));
}

#[tokio::test]
async fn sessions_expire_when_idle_and_faults_are_injected() {
    let config = EmulatorConfig {
        session_idle_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let emu = Emulator::start(config, demo_account().iterations(1000))
        .await
        .unwrap();
    let mut raw = signed_in(&emu, "admin@acme.example").await;
    assert_eq!(raw.signed("GET", "/api/v1/vaults", None).await.status, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let expired = raw.signed("GET", "/api/v1/vaults", None).await;
    assert_eq!(
        (expired.status, expired.body["errorCode"].as_i64()),
        (401, Some(102))
    );

    let faults = Faults {
        rate_limit_every: Some(3),
        rate_limit_retry_in_secs: 2,
        ..Default::default()
    };
    let emu = Emulator::start(
        EmulatorConfig {
            faults,
            ..Default::default()
        },
        demo_account().iterations(1000),
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let mut limited = 0;
    for _ in 0..6 {
        let r = http
            .post(format!("{}/api/v3/auth/start", emu.address()))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 429 {
            assert_eq!(r.headers()["X-Rate-Limit-Retry-In"], "2");
            limited += 1;
        }
    }
    assert_eq!(limited, 2);

    let faults = Faults {
        drop_connection_every: Some(1),
        ..Default::default()
    };
    let emu = Emulator::start(
        EmulatorConfig {
            faults,
            ..Default::default()
        },
        demo_account().iterations(1000),
    )
    .await
    .unwrap();
    let err = reqwest::Client::new()
        .post(format!("{}/api/v3/auth/start", emu.address()))
        .json(&json!({}))
        .send()
        .await;
    assert!(err.is_err(), "the connection is dropped");

    let faults = Faults {
        expire_session_after_requests: Some(2),
        ..Default::default()
    };
    let emu = Emulator::start(
        EmulatorConfig {
            faults,
            ..Default::default()
        },
        demo_account().iterations(1000),
    )
    .await
    .unwrap();
    let mut raw = signed_in(&emu, "admin@acme.example").await;
    assert_eq!(raw.signed("GET", "/api/v1/vaults", None).await.status, 200);
    assert_eq!(raw.signed("GET", "/api/v1/vaults", None).await.status, 401);
}

#[tokio::test]
async fn group_membership_changes_need_authority_and_real_keysets() {
    let emu = demo().await;
    let mut admin = signed_in(&emu, "admin@acme.example").await;
    let ring = admin.keyring(emu.owner()).await;
    let eng = emu.group_uuid("Engineering").unwrap();
    let bob = emu.user_uuid("bob@acme.example").unwrap();
    let group = admin
        .signed(
            "GET",
            &format!("/api/v2/group/{eng}?attrs=pubkey,memberships,vault-access"),
            None,
        )
        .await;
    let parsed: opadmin_api::models::Group =
        serde_json::from_value(group.body.clone()).expect("group parses");
    assert_eq!(parsed.memberships.unwrap().len(), 2);
    assert_eq!(parsed.vault_access.unwrap().len(), 1);
    // The owner is not in Engineering, so it cannot wrap Engineering's keyset: it must come from
    // someone who holds it. A keyset that is not Engineering's is refused.
    let pk = admin
        .signed("GET", &format!("/api/v1/user/pubkeys?uuids={bob}"), None)
        .await;
    let jwk: opadmin_crypto::jwk::Jwk =
        serde_json::from_value(pk.body[0]["pubKey"].clone()).unwrap();
    let bob_key = opadmin_crypto::rsa::RsaPublicKey::from_jwk(&jwk).unwrap();
    let not_eng = ring
        .primary()
        .unwrap()
        .encrypt_for_member(&bob_key, 1)
        .unwrap();
    let r = admin
        .signed(
            "PATCH",
            &format!("/api/v3/group/{eng}/membership"),
            Some(
                json!({"add": [{"memberUuid": bob, "role": "R", "keyset": not_eng}], "remove": []}),
            ),
        )
        .await;
    assert_eq!((r.status, r.body["errorCode"].as_i64()), (400, Some(119)));
    // Removing and role changes.
    let carol = emu.user_uuid("carol@acme.example").unwrap();
    let r = admin
        .signed(
            "PATCH",
            &format!("/api/v1/group/{eng}/person/{carol}/role/R"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        emu.group_members(&eng)
            .contains(&(carol.clone(), MemberRole::Member))
    );
    let r = admin
        .signed(
            "DELETE",
            &format!("/api/v1/group/{eng}/person/{carol}"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(!emu.group_members(&eng).iter().any(|(u, _)| u == &carol));
    let me = admin.user_uuid.clone();
    let owners = emu.group_uuid("Owners").unwrap();
    let r = admin
        .signed(
            "DELETE",
            &format!("/api/v1/group/{owners}/person/{me}"),
            None,
        )
        .await;
    assert_eq!(r.status, 409, "one cannot remove oneself");
}

#[tokio::test]
async fn seeded_accounts_repeat() {
    let a = Emulator::start(
        EmulatorConfig::default(),
        demo_account().iterations(1000).seed(42),
    )
    .await
    .unwrap();
    let b = Emulator::start(
        EmulatorConfig::default(),
        demo_account().iterations(1000).seed(42),
    )
    .await
    .unwrap();
    assert_eq!(
        a.user_uuid("alice@acme.example"),
        b.user_uuid("alice@acme.example")
    );
    assert_eq!(a.vault_uuid("Finance"), b.vault_uuid("Finance"));
    assert_eq!(a.owner().secret_key, b.owner().secret_key);
    let c = Emulator::start(
        EmulatorConfig::default(),
        demo_account().iterations(1000).seed(43),
    )
    .await
    .unwrap();
    assert_ne!(
        a.user_uuid("alice@acme.example"),
        c.user_uuid("alice@acme.example")
    );
}

#[tokio::test]
async fn answers_outside_the_plaintext_list_are_envelopes() {
    let emu = demo().await;
    let mut raw = signed_in(&emu, "admin@acme.example").await;
    let vault = emu.vault_uuid("Marketing").unwrap();
    let group = emu.group_uuid("Engineering").unwrap();
    let alice = emu.user_uuid("alice@acme.example").unwrap();
    let erin = emu.user_uuid("erin@acme.example").unwrap();
    for (method, path) in [
        (
            "GET",
            "/api/v1/account?attrs=me,users,groups,vaults,tier".to_owned(),
        ),
        ("GET", "/api/v2/account/keysets".to_owned()),
        ("GET", "/api/v3/users".to_owned()),
        ("GET", format!("/api/v2/user/{alice}")),
        ("GET", format!("/api/v1/user/pubkeys?uuids={alice}")),
        ("GET", format!("/api/v2/group/{group}")),
        ("GET", format!("/api/v1/group/{group}/users")),
        ("GET", "/api/v1/vaults".to_owned()),
        ("GET", format!("/api/v3/vault/{vault}?attrs=accessors")),
        ("GET", "/api/v1/invites".to_owned()),
        ("GET", "/api/v1/invitevaults".to_owned()),
        ("GET", format!("/api/v1/report/user/{alice}")),
        ("PUT", "/api/v1/session/touch".to_owned()),
        ("PUT", format!("/api/v1/people/reactivate/{erin}")),
        ("PUT", format!("/api/v1/people/suspend/{erin}")),
    ] {
        let a = raw.signed(method, &path, None).await;
        assert_eq!(a.status, 200, "{method} {path}: {}", a.body);
        assert!(a.encrypted, "{method} {path} answers an envelope");
    }

    // The listed exceptions: plain {"success":1}.
    let g = grant(&mut raw, &emu, &vault, &alice, acl::RWE).await;
    assert_eq!((g.status, g.encrypted), (200, false), "{}", g.body);
    assert_eq!(g.body, json!({"success": 1}));
    let acl_path = format!(
        "/api/v1/acl/person/{vault}/{alice}/{}",
        (acl::RWE | acl::MANAGE).bits()
    );
    let c = raw.signed("PATCH", &acl_path, None).await;
    assert_eq!((c.status, c.encrypted), (200, false), "{}", c.body);
    assert_eq!(c.body, json!({"success": 1}));
    let r = raw
        .signed(
            "DELETE",
            &format!("/api/v1/vault/{vault}/person/{alice}"),
            None,
        )
        .await;
    assert_eq!((r.status, r.encrypted), (200, false), "{}", r.body);
    assert_eq!(r.body, json!({"success": 1}));
    let out = raw.signed("PUT", "/api/v1/session/signout", None).await;
    assert_eq!((out.status, out.encrypted), (200, false), "{}", out.body);
    assert_eq!(out.body, json!({"success": 1}));
}

#[tokio::test]
async fn signed_requests_with_plain_bodies_are_refused_and_change_nothing() {
    let emu = demo().await;
    let mut raw = signed_in(&emu, "admin@acme.example").await;
    let erin = emu.user_uuid("erin@acme.example").unwrap();
    let changes = emu.changes_applied();

    let invite = json!({"invites": [{"email": "zed@acme.example", "language": "en"}], "type": "R"});
    let a = raw
        .signed_raw_body(
            "POST",
            "/api/v1/invite",
            serde_json::to_vec(&invite).unwrap(),
        )
        .await;
    assert_eq!((a.status, a.body["errorCode"].as_i64()), (400, Some(100)));
    assert!(emu.pending_invitations().is_empty(), "nothing was invited");

    // The same request with its body sealed goes through (the refusal was about the body).
    let sealed = raw.signed("POST", "/api/v1/invite", Some(invite)).await;
    assert_eq!(
        (sealed.status, sealed.encrypted),
        (200, true),
        "{}",
        sealed.body
    );
    assert_eq!(emu.pending_invitations(), ["zed@acme.example"]);

    // An envelope under the right key bytes but naming another kid.
    let key = raw.key.as_ref().unwrap().expose_secret();
    let foreign = opadmin_crypto::envelope::SymmetricKey::new("ANOTHERSESSION", *key);
    let body = json!({"peopleUuids": [erin]});
    let a = raw
        .signed_raw_body(
            "PUT",
            "/api/v2/people/confirm",
            serde_json::to_vec(&foreign.encrypt_json(&body)).unwrap(),
        )
        .await;
    assert_eq!((a.status, a.body["errorCode"].as_i64()), (401, Some(102)));
    // Not JSON at all, and a JSON array.
    for bad in [&b"\x00\xff garbage"[..], b"[1,2,3]", b"\"text\""] {
        let a = raw
            .signed_raw_body("PUT", "/api/v2/people/confirm", bad.to_vec())
            .await;
        assert_eq!(a.status, 400, "{:?}", String::from_utf8_lossy(bad));
    }
    assert_eq!(
        emu.changes_applied(),
        changes + 1,
        "only the sealed invitation applied"
    );
    assert_eq!(emu.user_state(&erin), Some(PersonState::Suspended));
    // The session still works.
    assert_eq!(raw.signed("GET", "/api/v1/vaults", None).await.status, 200);
}

#[tokio::test]
async fn only_requests_that_change_the_account_are_counted_and_faults_strike_after_applying() {
    use opadmin_emulator::{FaultKind, FaultRule, FaultTarget, FaultTiming};
    let emu = demo().await;
    let mut raw = signed_in(&emu, "admin@acme.example").await;
    let vault = emu.vault_uuid("Shared Logins").unwrap();
    let alice = emu.user_uuid("alice@acme.example").unwrap();
    let read_only = Acl::from_bits(32 | 16 | 1024);
    let path = format!("/api/v1/acl/person/{vault}/{alice}/{}", read_only.bits());
    let changes = emu.changes_applied();

    let first = raw.signed("PATCH", &path, None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(emu.vault_access(&vault, &alice), Some(read_only));
    assert_eq!(emu.changes_applied(), changes + 1);
    // The same acl again: accepted, but nothing changes, so nothing is counted.
    let again = raw.signed("PATCH", &path, None).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        emu.changes_applied(),
        changes + 1,
        "a repeat is not a change"
    );

    // Applied, then answered 500: the change is there and counted; the answer is an error.
    emu.inject_fault(FaultRule::new(
        FaultTarget::route("PATCH", "/api/v1/acl/"),
        FaultTiming::Next(1),
        FaultKind::ApplyThenServerError,
    ));
    let all = Acl::from_bits(read_only.bits() | 64 | 128 | 256 | 512 | 2_097_152);
    let path = format!("/api/v1/acl/person/{vault}/{alice}/{}", all.bits());
    let failed = raw.signed("PATCH", &path, None).await;
    assert_eq!(failed.status, 500, "{}", failed.body);
    assert_eq!(emu.vault_access(&vault, &alice), Some(all));
    assert_eq!(emu.changes_applied(), changes + 2);
    assert_eq!(emu.faults_struck(), 1);

    // Failed before applying: nothing changes, nothing is counted.
    emu.inject_fault(FaultRule::new(
        FaultTarget::StateChanging,
        FaultTiming::Next(1),
        FaultKind::FailBeforeApply,
    ));
    let path = format!("/api/v1/acl/person/{vault}/{alice}/{}", read_only.bits());
    let refused = raw.signed("PATCH", &path, None).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(emu.vault_access(&vault, &alice), Some(all));
    assert_eq!(emu.changes_applied(), changes + 2);
}
