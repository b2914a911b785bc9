//! The vault lifecycle against a client written from `opadmin-crypto` alone: the creation
//! preflight, creating a vault (its key wrapped by the client, its attributes encrypted under
//! it), renaming and describing it, deleting it, and setting many groups' permissions at once;
//! who may do each, and bodies that do not check out.

mod support;

use opadmin_crypto::encoding::{UuidCase, b64url_decode, generate_uuid, hex_decode};
use opadmin_crypto::envelope::{Envelope, SymmetricKey};
use opadmin_crypto::jwk::Jwk;
use opadmin_crypto::mac::MacKey;
use opadmin_crypto::rsa::RsaPublicKey;
use opadmin_crypto::secret::SecretBytes32;
use opadmin_crypto::secret_key::SecretKey;
use opadmin_crypto::srp::SrpClient;
use opadmin_crypto::srp::SrpVersion;
use opadmin_emulator::{
    AccountBuilder, Emulator, EmulatorConfig, FaultKind, FaultRule, FaultTarget, FaultTiming,
    PersonSpec, Role, RunningEmulator, VaultSpec, acl, demo_account,
};
use serde_json::{Value, json};
use support::Raw;

const PASSWORD: &str = "correct horse battery staple";
/// Everything, as 1Password's SDK gives the creator of a vault.
const CREATOR_ACL: u32 = 2_147_483_647;

async fn start(account: AccountBuilder) -> RunningEmulator {
    Emulator::start(EmulatorConfig::default(), account.iterations(1000))
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

/// The public key the server serves for a user or group.
async fn public_key(raw: &mut Raw, kind: &str, uuid: &str) -> RsaPublicKey {
    let answer = raw
        .signed("GET", &format!("/api/v1/{kind}/pubkeys?uuids={uuid}"), None)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let jwk: Jwk = serde_json::from_value(answer.body[0]["pubKey"].clone()).expect("jwk");
    RsaPublicKey::from_jwk(&jwk).expect("public key")
}

fn record(
    vault: &str,
    kind: &str,
    id: &str,
    acl: u32,
    public: &RsaPublicKey,
    key: &SymmetricKey,
) -> Value {
    json!({
        "vaultUuid": vault, "accessorType": kind, "accessorUuid": id, "acl": acl,
        "leaseTimeout": 0, "vaultKeySN": 1, "encryptedBy": public.kid(),
        "encVaultKey": public.wrap_key(key).expect("wrap"),
    })
}

fn attrs(key: &SymmetricKey, name: &str, desc: &str) -> Envelope {
    key.encrypt_json(
        &json!({"name": name, "desc": desc, "avatar": "", "color": "", "type": "U", "version": 1}),
    )
}

/// A new vault as 1Password's SDK sends it: read the preflight, wrap a fresh vault key to the
/// creator and to the groups it names, encrypt the attributes under the key.
struct NewVault {
    uuid: String,
    key: SymmetricKey,
    body: Value,
}

async fn new_vault(raw: &mut Raw, name: &str) -> NewVault {
    let preflight = raw
        .signed("GET", "/api/v1/vault/preflight/create?type=U", None)
        .await;
    assert_eq!(preflight.status, 200, "{}", preflight.body);
    assert!(preflight.encrypted, "the preflight answer is sealed");
    let uuid = generate_uuid(UuidCase::Lower);
    let key = SymmetricKey::generate(generate_uuid(UuidCase::Lower));
    let me = raw.user_uuid.clone();
    let mine = public_key(raw, "user", &me).await;
    let mut access = vec![record(&uuid, "user", &me, CREATOR_ACL, &mine, &key)];
    let groups: Vec<String> = ["mandatoryGroupUuids", "adminGroupUuids"]
        .iter()
        .flat_map(|k| preflight.body[k].as_array().cloned().unwrap_or_default())
        .filter_map(|g| g.as_str().map(str::to_owned))
        .collect();
    for group in groups {
        let public = public_key(raw, "group", &group).await;
        access.push(record(&uuid, "group", &group, 2, &public, &key));
    }
    let body =
        json!({"uuid": uuid, "type": "U", "encAttrs": attrs(&key, name, ""), "access": access});
    NewVault { uuid, key, body }
}

async fn create(raw: &mut Raw, body: Value) -> support::Answer {
    raw.signed("POST", "/api/v2/vault", Some(body)).await
}

fn is_plain_success(answer: &support::Answer) -> bool {
    answer.status == 200 && !answer.encrypted && answer.body == json!({"success": 1})
}

#[tokio::test]
async fn an_owner_creates_renames_and_deletes_a_vault() {
    let emu = start(demo_account()).await;
    let mut raw = signed_in(&emu, "admin@acme.example").await;
    let preflight = raw
        .signed("GET", "/api/v1/vault/preflight/create?type=U", None)
        .await;
    assert_eq!(
        preflight.body["mandatoryGroupUuids"],
        json!([emu.group_uuid("Owners").unwrap()])
    );
    assert_eq!(
        preflight.body["adminGroupUuids"],
        json!([emu.group_uuid("Administrators").unwrap()])
    );
    assert_eq!(preflight.body["enableAdminGroupsByDefault"], true);
    let other_type = raw
        .signed("GET", "/api/v1/vault/preflight/create?type=P", None)
        .await;
    assert_eq!(other_type.status, 400);

    let changes = emu.changes_applied();
    let new = new_vault(&mut raw, "Deployments").await;
    let answer = create(&mut raw, new.body.clone()).await;
    assert!(
        is_plain_success(&answer),
        "{} {}",
        answer.status,
        answer.body
    );
    assert_eq!(emu.changes_applied(), changes + 1);
    assert_eq!(
        emu.vault_uuid("Deployments").as_deref(),
        Some(new.uuid.as_str())
    );
    let me = raw.user_uuid.clone();
    assert_eq!(
        emu.vault_access(&new.uuid, &me).map(|a| a.bits()),
        Some(CREATOR_ACL)
    );
    let owners = emu.group_uuid("Owners").unwrap();
    assert_eq!(emu.vault_access(&new.uuid, &owners), Some(acl::MANAGE));

    // Served back as any vault: its attributes open with the key the creator wrapped.
    let listed = raw
        .signed("GET", "/api/v1/vaults?attrs=combined-access", None)
        .await;
    let vault = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["uuid"] == new.uuid.as_str())
        .expect("listed")
        .clone();
    assert_eq!(vault["type"], "U");
    assert_eq!(vault["attrVersion"], 1);
    let enc = Envelope::from_json(&vault["encAttrs"]).unwrap();
    let opened: Value = new.key.decrypt_json(&enc).unwrap();
    assert_eq!(opened["name"], "Deployments");

    // The same uuid again is refused: a client re-reading by uuid after a failure can tell.
    let again = create(&mut raw, new.body.clone()).await;
    assert_eq!(
        (again.status, again.body["errorCode"].as_i64()),
        (409, Some(115))
    );
    assert_eq!(emu.changes_applied(), changes + 1);

    // Rename and describe, at the current attrVersion.
    let update = |version: u64, name: &str| json!({"uuid": new.uuid, "type": "U", "attrVersion": version, "encAttrs": attrs(&new.key, name, "Release tooling")});
    let path = format!("/api/v3/vault/{}/attrs", new.uuid);
    let renamed = raw.signed("PUT", &path, Some(update(1, "Releases"))).await;
    assert!(
        is_plain_success(&renamed),
        "{} {}",
        renamed.status,
        renamed.body
    );
    assert_eq!(
        emu.vault_uuid("Releases").as_deref(),
        Some(new.uuid.as_str())
    );
    let stale = raw.signed("PUT", &path, Some(update(1, "Stale"))).await;
    assert_eq!(
        (stale.status, stale.body["errorCode"].as_i64()),
        (409, Some(127))
    );
    let read = raw
        .signed("GET", &format!("/api/v3/vault/{}", new.uuid), None)
        .await;
    assert_eq!(read.body["attrVersion"], 2);
    let opened: Value = new
        .key
        .decrypt_json(&Envelope::from_json(&read.body["encAttrs"]).unwrap())
        .unwrap();
    assert_eq!(
        (opened["name"].as_str(), opened["desc"].as_str()),
        (Some("Releases"), Some("Release tooling"))
    );
    let foreign = SymmetricKey::generate(new.key.kid());
    let wrong_key = json!({"uuid": new.uuid, "type": "U", "attrVersion": 2, "encAttrs": attrs(&foreign, "X", "")});
    assert_eq!(raw.signed("PUT", &path, Some(wrong_key)).await.status, 400);
    let wrong_type = json!({"uuid": new.uuid, "type": "P", "attrVersion": 2, "encAttrs": attrs(&new.key, "X", "")});
    assert_eq!(raw.signed("PUT", &path, Some(wrong_type)).await.status, 400);
    assert_eq!(
        emu.vault_uuid("Releases").as_deref(),
        Some(new.uuid.as_str())
    );

    // Delete: the web client's preflight, then the deletion.
    let pre = raw
        .signed(
            "GET",
            &format!("/api/v1/vault/preflight/delete/{}", new.uuid),
            None,
        )
        .await;
    assert_eq!(
        (pre.status, pre.body["archivedItemCount"].as_u64()),
        (200, Some(0))
    );
    let changes = emu.changes_applied();
    let deleted = raw
        .signed("DELETE", &format!("/api/v4/vault/{}", new.uuid), None)
        .await;
    assert!(
        is_plain_success(&deleted),
        "{} {}",
        deleted.status,
        deleted.body
    );
    assert_eq!(emu.vault_uuid("Releases"), None);
    assert_eq!(emu.changes_applied(), changes + 1);
    let gone = raw
        .signed("DELETE", &format!("/api/v4/vault/{}", new.uuid), None)
        .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn creating_vaults_needs_the_create_vault_permission() {
    let member = |email: &str| PersonSpec::new(email, "Member").password(PASSWORD);
    // By default members may create vaults (through Team Members); guests may not.
    let emu = start(
        AccountBuilder::new("Open")
            .owner("owner@open.example", "Owner", PASSWORD)
            .person(member("member@open.example"))
            .person(member("guest@open.example").role(Role::Guest)),
    )
    .await;
    let mut raw = signed_in(&emu, "member@open.example").await;
    let new = new_vault(&mut raw, "Member vault").await;
    assert!(is_plain_success(&create(&mut raw, new.body).await));
    assert!(emu.vault_uuid("Member vault").is_some());
    let mut guest = signed_in(&emu, "guest@open.example").await;
    let refused = guest
        .signed("GET", "/api/v1/vault/preflight/create?type=U", None)
        .await;
    assert_eq!(
        (refused.status, refused.body["errorCode"].as_i64()),
        (403, Some(101))
    );

    // An account whose policy keeps vault creation to administrators.
    let emu = start(
        AccountBuilder::new("Closed")
            .owner("owner@closed.example", "Owner", PASSWORD)
            .person(member("member@closed.example"))
            .person(member("admin@closed.example").role(Role::Administrator))
            .members_cannot_create_vaults(),
    )
    .await;
    let mut owner = signed_in(&emu, "owner@closed.example").await;
    let body = new_vault(&mut owner, "Owner's").await.body;
    let mut raw = signed_in(&emu, "member@closed.example").await;
    let refused = raw
        .signed("GET", "/api/v1/vault/preflight/create?type=U", None)
        .await;
    assert_eq!(
        (refused.status, refused.body["errorCode"].as_i64()),
        (403, Some(101))
    );
    // A member cannot read the groups the preflight names either.
    let owners = emu.group_uuid("Owners").unwrap();
    let hidden = raw
        .signed("GET", &format!("/api/v2/group/{owners}?attrs=pubkey"), None)
        .await;
    assert_eq!(hidden.status, 404);
    let changes = emu.changes_applied();
    let refused = create(&mut raw, body).await;
    assert_eq!(
        (refused.status, refused.body["errorCode"].as_i64()),
        (403, Some(101))
    );
    assert_eq!(emu.changes_applied(), changes);
    assert_eq!(emu.vault_uuid("Owner's"), None);
    let mut admin = signed_in(&emu, "admin@closed.example").await;
    let new = new_vault(&mut admin, "Admin's").await;
    assert!(is_plain_success(&create(&mut admin, new.body).await));
}

#[tokio::test]
async fn creation_bodies_that_do_not_check_out_change_nothing() {
    let emu = start(demo_account()).await;
    let mut raw = signed_in(&emu, "admin@acme.example").await;
    let new = new_vault(&mut raw, "Hostile").await;
    let alice = emu.user_uuid("alice@acme.example").unwrap();
    let alice_key = public_key(&mut raw, "user", &alice).await;
    let changes = emu.changes_applied();

    let with = |edit: &dyn Fn(&mut Value)| {
        let mut body = new.body.clone();
        edit(&mut body);
        body
    };
    let cases: Vec<(&str, Value, u16)> = vec![
        ("not an object", json!([1, 2]), 400),
        (
            "no uuid",
            with(&|b| {
                b.as_object_mut().unwrap().remove("uuid");
            }),
            400,
        ),
        (
            "upper-case uuid",
            with(&|b| b["uuid"] = json!(new.uuid.to_uppercase())),
            400,
        ),
        ("short uuid", with(&|b| b["uuid"] = json!("abc")), 400),
        ("uuid not a string", with(&|b| b["uuid"] = json!(7)), 400),
        ("personal type", with(&|b| b["type"] = json!("P")), 400),
        (
            "attributes not an envelope",
            with(&|b| b["encAttrs"] = json!("name")),
            400,
        ),
        ("no access", with(&|b| b["access"] = json!([])), 400),
        (
            "access not a list",
            with(&|b| b["access"] = json!({"a": 1})),
            400,
        ),
        (
            "no creator record",
            with(&|b| {
                b["access"].as_array_mut().unwrap().remove(0);
            }),
            400,
        ),
        (
            "creator record wrapped to someone else",
            with(&|b| {
                b["access"][0]["encVaultKey"] =
                    serde_json::to_value(alice_key.wrap_key(&new.key).unwrap()).unwrap();
            }),
            400,
        ),
        (
            "creator without Manage",
            with(&|b| b["access"][0]["acl"] = json!(acl::RWE.bits())),
            400,
        ),
        (
            "acl out of range",
            with(&|b| b["access"][1]["acl"] = json!(u64::MAX)),
            400,
        ),
        (
            "Owners left out",
            with(&|b| {
                b["access"].as_array_mut().unwrap().remove(1);
            }),
            400,
        ),
        (
            "attributes under another key",
            with(&|b| {
                b["encAttrs"] =
                    serde_json::to_value(attrs(&SymmetricKey::generate(new.key.kid()), "X", ""))
                        .unwrap();
            }),
            400,
        ),
        (
            "attributes without a name",
            with(&|b| {
                b["encAttrs"] =
                    serde_json::to_value(new.key.encrypt_json(&json!({"type": "U"}))).unwrap();
            }),
            400,
        ),
        (
            "record for another vault",
            with(&|b| b["access"][1]["vaultUuid"] = json!(generate_uuid(UuidCase::Lower))),
            400,
        ),
        (
            "record for nobody",
            with(&|b| b["access"][1]["accessorUuid"] = json!("NOBODY")),
            404,
        ),
        (
            "record for a broker",
            with(&|b| b["access"][1]["accessorType"] = json!("broker")),
            400,
        ),
        (
            "a record wrapped with a wrong key",
            with(&|b| {
                let other = SymmetricKey::generate(new.key.kid());
                b["access"].as_array_mut().unwrap().push(record(
                    &new.uuid,
                    "user",
                    &alice,
                    acl::RWE.bits(),
                    &alice_key,
                    &other,
                ));
            }),
            400,
        ),
        (
            "too many records",
            with(&|b| {
                let first = b["access"][1].clone();
                let list = b["access"].as_array_mut().unwrap();
                list.extend(std::iter::repeat_n(first, 70));
            }),
            400,
        ),
    ];
    for (what, body, status) in cases {
        let answer = create(&mut raw, body).await;
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        assert!(
            answer.body.get("errorCode").is_some(),
            "{what}: a b5 error body"
        );
    }
    assert_eq!(emu.changes_applied(), changes, "nothing was created");
    assert_eq!(emu.vault_uuid("Hostile"), None);
    // The good body still works afterwards.
    assert!(is_plain_success(&create(&mut raw, new.body.clone()).await));
}

#[tokio::test]
async fn deleting_needs_manage_and_a_user_created_vault() {
    let emu = start(demo_account()).await;
    // Finance excludes Administrators: the administrator sees it not, and cannot delete it.
    let finance = emu.vault_uuid("Finance").unwrap();
    let mut admin = signed_in(&emu, "it-admin@acme.example").await;
    let refused = admin
        .signed("DELETE", &format!("/api/v4/vault/{finance}"), None)
        .await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    // Engineering: the administrator has Manage through Administrators, and may.
    let changes = emu.changes_applied();
    let engineering = emu.vault_uuid("Engineering").unwrap();
    // A service account with Manage on a vault it did not create may not delete it.
    let sa = emu.service_accounts().remove(0);
    let mut service = Raw::new(&emu.address());
    support_sign_in_service_account(&mut service, &emu, &sa.token).await;
    let refused = service
        .signed("DELETE", &format!("/api/v4/vault/{engineering}"), None)
        .await;
    assert_eq!(
        (refused.status, refused.body["errorCode"].as_i64()),
        (403, Some(101))
    );
    assert_eq!(emu.changes_applied(), changes);
    // It may create one and delete that.
    let new = new_vault(&mut service, "Service-made").await;
    assert!(is_plain_success(&create(&mut service, new.body).await));
    let deleted = service
        .signed("DELETE", &format!("/api/v4/vault/{}", new.uuid), None)
        .await;
    assert!(
        is_plain_success(&deleted),
        "{} {}",
        deleted.status,
        deleted.body
    );
    let deleted = admin
        .signed("DELETE", &format!("/api/v4/vault/{engineering}"), None)
        .await;
    assert!(
        is_plain_success(&deleted),
        "{} {}",
        deleted.status,
        deleted.body
    );
    assert_eq!(emu.vault_uuid("Engineering"), None);

    // The Everyone vault of an older account cannot be deleted, even by its manager.
    let emu = start(
        AccountBuilder::new("Legacy")
            .owner("owner@legacy.example", "Owner", PASSWORD)
            .vault(VaultSpec::new("Shared"))
            .legacy_everyone_vault(),
    )
    .await;
    let everyone = emu.vault_uuid("Everyone").unwrap();
    let mut owner = signed_in(&emu, "owner@legacy.example").await;
    let refused = owner
        .signed("DELETE", &format!("/api/v4/vault/{everyone}"), None)
        .await;
    assert_eq!(
        (refused.status, refused.body["errorCode"].as_i64()),
        (403, Some(101))
    );
    let pre = owner
        .signed(
            "GET",
            &format!("/api/v1/vault/preflight/delete/{everyone}"),
            None,
        )
        .await;
    assert_eq!(pre.status, 403);
    assert!(emu.vault_uuid("Everyone").is_some());
}

/// Signs in with a service-account token as 1Password's SDK does: the token's SRP `x`, no 2SKD.
async fn support_sign_in_service_account(raw: &mut Raw, _emu: &RunningEmulator, token: &str) {
    let claims: Value = serde_json::from_slice(
        &b64url_decode(token.strip_prefix("ops_").expect("ops_")).expect("base64url"),
    )
    .expect("JSON");
    raw.device = claims["deviceUuid"].as_str().unwrap().to_owned();
    let sk = SecretKey::parse(claims["secretKey"].as_str().unwrap()).unwrap();
    let email = claims["email"].as_str().unwrap();
    let start = raw
        .plain(
            "POST",
            "/api/v3/auth/start",
            &json!({"email": email, "skFormat": sk.format(), "skid": sk.account_id(), "deviceUuid": raw.device}),
        )
        .await;
    assert_eq!(start.body["status"], "ok", "{}", start.body);
    let session = start.body["sessionID"].as_str().unwrap().to_owned();
    raw.session = Some(session.clone());
    let x: [u8; 32] = hex_decode(claims["srpX"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let salt = b64url_decode(claims["userAuth"]["salt"].as_str().unwrap()).unwrap();
    let client = SrpClient::generate();
    let b = raw
        .plain(
            "POST",
            "/api/v2/auth",
            &json!({"userA": client.public_hex()}),
        )
        .await;
    let proof = client
        .v2_session(
            &SecretBytes32::new(x),
            b.body["userB"].as_str().unwrap(),
            &salt,
            sk.account_id(),
            email,
        )
        .unwrap();
    let c = raw
        .plain(
            "POST",
            "/api/v2/auth/confirm-key",
            &json!({"clientVerifyHash": proof.client_verify_hash()}),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    let key = *proof.key().expose_secret();
    raw.key = Some(SymmetricKey::new(session, key));
    raw.mac = Some(MacKey::derive(&key));
    raw.next_id = 1;
    let done = raw
        .signed(
            "POST",
            "/api/v2/auth/complete",
            Some(json!({"client": "test", "device": {"uuid": raw.device}})),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    raw.user_uuid = done.body["userUuid"].as_str().unwrap().to_owned();
}

#[tokio::test]
async fn many_group_permissions_are_set_all_or_nothing() {
    let emu = start(demo_account()).await;
    let mut raw = signed_in(&emu, "admin@acme.example").await;
    let (engineering, marketing) = (
        emu.vault_uuid("Engineering").unwrap(),
        emu.vault_uuid("Marketing").unwrap(),
    );
    let (eng_group, mkt_group) = (
        emu.group_uuid("Engineering").unwrap(),
        emu.group_uuid("Marketing").unwrap(),
    );
    let read_only = 32 | 16;
    let entry = |group: &str, vault: &str, permission: u64| json!({"groupUuid": group, "vaultUuid": vault, "permission": permission});

    let changes = emu.changes_applied();
    let body = json!([
        entry(&eng_group, &engineering, read_only),
        entry(&mkt_group, &marketing, read_only | 2)
    ]);
    let answer = raw.signed("PATCH", "/api/v2/acl/groups", Some(body)).await;
    assert!(
        is_plain_success(&answer),
        "{} {}",
        answer.status,
        answer.body
    );
    assert_eq!(
        emu.vault_access(&engineering, &eng_group).map(|a| a.bits()),
        Some(read_only as u32)
    );
    assert_eq!(
        emu.vault_access(&marketing, &mkt_group).map(|a| a.bits()),
        Some((read_only | 2) as u32)
    );
    assert_eq!(emu.changes_applied(), changes + 1);

    // One bad entry and nothing changes: a group without a record, no permission at all, an
    // acl too wide, a vault the caller does not manage, a malformed body.
    let finance = emu.vault_uuid("Finance").unwrap();
    let mut admin = signed_in(&emu, "it-admin@acme.example").await;
    let admins = emu.group_uuid("Administrators").unwrap();
    let cases: Vec<(bool, Value, u16)> = vec![
        (
            false,
            json!([
                entry(&eng_group, &engineering, acl::RWE.bits() as u64),
                entry(&eng_group, &marketing, 32)
            ]),
            404,
        ),
        (false, json!([entry(&eng_group, &engineering, 0)]), 400),
        (
            false,
            json!([entry(&eng_group, &engineering, 1 << 40)]),
            400,
        ),
        (false, json!([]), 400),
        (false, json!({"groupUuid": eng_group}), 400),
        (
            false,
            json!([{"groupUuid": eng_group, "vaultUuid": engineering, "permissions": 32}]),
            400,
        ),
        (true, json!([entry(&admins, &finance, 2)]), 403),
    ];
    for (as_admin, body, status) in cases {
        let client = if as_admin { &mut admin } else { &mut raw };
        let answer = client
            .signed("PATCH", "/api/v2/acl/groups", Some(body.clone()))
            .await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
    }
    let too_many: Vec<Value> = (0..65)
        .map(|_| entry(&eng_group, &engineering, 32))
        .collect();
    assert_eq!(
        raw.signed("PATCH", "/api/v2/acl/groups", Some(json!(too_many)))
            .await
            .status,
        400
    );
    assert_eq!(
        emu.vault_access(&engineering, &eng_group).map(|a| a.bits()),
        Some(read_only as u32)
    );
    assert_eq!(emu.changes_applied(), changes + 1);
}

#[tokio::test]
async fn a_creation_struck_after_it_was_applied_is_in_place() {
    let emu = start(demo_account()).await;
    let mut raw = signed_in(&emu, "admin@acme.example").await;
    let new = new_vault(&mut raw, "Struck").await;
    emu.inject_fault(FaultRule::new(
        FaultTarget::route("POST", "/api/v2/vault"),
        FaultTiming::Next(1),
        FaultKind::ApplyThenServerError,
    ));
    let changes = emu.changes_applied();
    let answer = create(&mut raw, new.body.clone()).await;
    assert_eq!(answer.status, 500);
    assert_eq!(emu.faults_struck(), 1);
    assert_eq!(
        emu.changes_applied(),
        changes + 1,
        "applied despite the answer"
    );
    let read = raw
        .signed("GET", &format!("/api/v3/vault/{}", new.uuid), None)
        .await;
    assert_eq!(
        read.status, 200,
        "a read by the client's uuid tells it was created"
    );
    let again = create(&mut raw, new.body).await;
    assert_eq!(again.status, 409, "and a repeat cannot make a second one");
}
