//! Service accounts against a client written from opadmin-crypto alone: the `ops_` token's
//! shape, sign-in with it (no 2SKD), and every response shape of docs/protocol.md's "Observed from the
//! official 1Password SDK" section for a service-account caller; what a service account may not
//! do; the broken-shape knob.

mod support;

use opadmin_crypto::encoding::{b64url_decode, base32_decode, hex_decode};
use opadmin_crypto::envelope::{Envelope, SymmetricKey};
use opadmin_crypto::jwk::Jwk;
use opadmin_crypto::keyset::{Keyring, KeysetCiphertext};
use opadmin_crypto::mac::MacKey;
use opadmin_crypto::rsa::RsaPublicKey;
use opadmin_crypto::secret::SecretBytes32;
use opadmin_crypto::secret_key::SecretKey;
use opadmin_crypto::srp::SrpClient;
use opadmin_emulator::{
    AccountBuilder, Acl, DEMO_SERVICE_ACCOUNT_GROUP, DEMO_SERVICE_ACCOUNT_VAULTS, Emulator,
    EmulatorConfig, Faults, GroupSpec, PersonSpec, PersonState, RunningEmulator,
    ServiceAccountSpec, VaultSpec, acl, demo_account,
};
use serde_json::{Value, json};
use support::Raw;

async fn demo() -> RunningEmulator {
    Emulator::start(EmulatorConfig::default(), demo_account().iterations(1000))
        .await
        .expect("emulator starts")
}

/// The token's JSON.
fn decode(token: &str) -> Value {
    let body = token.strip_prefix("ops_").expect("ops_ prefix");
    assert!(!body.contains('='), "base64url without padding");
    assert!(
        body.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "base64url alphabet"
    );
    serde_json::from_slice(&b64url_decode(body).expect("base64url")).expect("JSON")
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// A b5 id: 26 base32 characters of 16 bytes, in the given case.
fn assert_id(id: &Value, upper: bool) {
    let id = id.as_str().expect("id is a string");
    assert_eq!(id.len(), 26, "{id}");
    assert_eq!(base32_decode(id).expect("base32").len(), 16, "{id}");
    if upper {
        assert_eq!(id, id.to_uppercase(), "{id} is upper case");
    } else {
        assert_eq!(id, id.to_lowercase(), "{id} is lower case");
    }
}

/// Signs in with the token as the official client does: no 2SKD, `srpX` is x, `muk` the AUK.
/// Returns the `auth/start` answer and the keyring.
async fn sign_in(raw: &mut Raw, token: &Value) -> (Value, Keyring) {
    raw.device = token["deviceUuid"].as_str().unwrap().to_owned();
    let sk = SecretKey::parse(token["secretKey"].as_str().unwrap()).unwrap();
    let email = token["email"].as_str().unwrap();
    raw.session = None;
    let start = raw
        .plain(
            "POST",
            "/api/v3/auth/start",
            &json!({"email": email, "skFormat": sk.format(), "skid": sk.account_id(), "deviceUuid": raw.device}),
        )
        .await;
    assert_eq!(start.status, 200, "{}", start.body);
    assert_eq!(
        start.body["status"], "ok",
        "the token's device is registered"
    );
    let session = start.body["sessionID"].as_str().unwrap().to_owned();
    raw.session = Some(session.clone());
    let x: [u8; 32] = hex_decode(token["srpX"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let x = SecretBytes32::new(x);
    let salt = b64url_decode(token["userAuth"]["salt"].as_str().unwrap()).unwrap();
    let client = SrpClient::generate();
    let b = raw
        .plain(
            "POST",
            "/api/v2/auth",
            &json!({"userA": client.public_hex()}),
        )
        .await;
    assert_eq!(b.status, 200, "{}", b.body);
    let b_hex = b.body["userB"].as_str().unwrap();
    assert_eq!(b_hex.len() % 2, 0, "userB is even-length hex");
    assert_eq!(b_hex, b_hex.to_lowercase(), "userB is lower-case hex");
    let proof = client
        .v2_session(&x, b_hex, &salt, sk.account_id(), email)
        .unwrap();
    let c = raw
        .plain(
            "POST",
            "/api/v2/auth/confirm-key",
            &json!({"clientVerifyHash": proof.client_verify_hash()}),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    proof
        .verify_server(c.body["serverVerifyHash"].as_str().unwrap())
        .expect("M2 = SHA-256(A | M1 | K)");
    let key = *proof.key().expose_secret();
    raw.key = Some(SymmetricKey::new(session.clone(), key));
    raw.mac = Some(MacKey::derive(&key));
    raw.next_id = 1;
    let done = raw
        .signed(
            "POST",
            "/api/v2/auth/complete",
            Some(json!({"client": "1Password SDK/0050002", "device": {"uuid": raw.device, "clientName": "1Password SDK", "clientVersion": "0050002"}})),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.encrypted, "complete answers sealed");
    assert_id(&done.body["userUuid"], true);
    raw.user_uuid = done.body["userUuid"].as_str().unwrap().to_owned();

    let ks = raw.signed("GET", "/api/v2/account/keysets", None).await;
    assert_eq!(ks.status, 200);
    assert!(ks.body["version"].is_u64(), "keysets carry version");
    let keysets: Vec<KeysetCiphertext> =
        serde_json::from_value(ks.body["keysets"].clone()).unwrap();
    for k in &keysets {
        assert_id(&json!(k.uuid), false);
    }
    let muk: Jwk = serde_json::from_value(token["muk"].clone()).unwrap();
    let auk = SymmetricKey::from_jwk(&muk).unwrap();
    let ring = Keyring::unlock(&keysets, &auk).expect("the token's muk opens the keyset");
    (start.body, ring)
}

#[tokio::test]
async fn the_token_has_the_observed_shape() {
    let emu = demo().await;
    let sa = emu.service_accounts().into_iter().next().expect("demo SA");
    assert_eq!(
        emu.service_account_token().as_deref(),
        Some(sa.token.as_str())
    );
    assert!(
        !format!("{sa:?}").contains(&sa.token[4..20]),
        "Debug redacts"
    );
    let t = decode(&sa.token);
    assert_eq!(
        keys(&t),
        sorted(&[
            "signInAddress",
            "userAuth",
            "email",
            "srpX",
            "muk",
            "secretKey",
            "throttleSecret",
            "deviceUuid"
        ])
    );
    assert_eq!(t["signInAddress"], emu.host_port());
    assert_eq!(
        keys(&t["userAuth"]),
        sorted(&["method", "alg", "iterations", "salt"])
    );
    assert_eq!(t["userAuth"]["method"], "SRPg-4096");
    assert_eq!(t["userAuth"]["alg"], "PBES2g-HS256");
    assert_eq!(
        t["userAuth"]["iterations"], 100_000,
        "100000 whatever the people's iteration count (1000 here)"
    );
    assert_eq!(
        b64url_decode(t["userAuth"]["salt"].as_str().unwrap())
            .unwrap()
            .len(),
        16
    );
    let email = t["email"].as_str().unwrap();
    assert!(email.ends_with("@1passwordserviceaccounts.com"), "{email}");
    assert_eq!(email, sa.email);
    let srp_x = t["srpX"].as_str().unwrap();
    assert_eq!(srp_x.len(), 64);
    assert!(srp_x.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        t["muk"],
        json!({"alg": "A256GCM", "ext": true, "k": t["muk"]["k"], "key_ops": ["encrypt", "decrypt"], "kty": "oct", "kid": "mp"})
    );
    assert_eq!(
        b64url_decode(t["muk"]["k"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    let sk = SecretKey::parse(t["secretKey"].as_str().unwrap()).expect("a Secret Key");
    assert_eq!(sk.format(), "A3");
    assert_eq!(keys(&t["throttleSecret"]), sorted(&["seed", "uuid"]));
    let seed = t["throttleSecret"]["seed"].as_str().unwrap();
    assert_eq!(seed.len(), 64);
    assert!(seed.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_id(&t["throttleSecret"]["uuid"], false);
    assert_id(&t["deviceUuid"], false);
    assert_id(&json!(sa.user_uuid), true);
}

#[tokio::test]
async fn sign_in_and_every_observed_shape_for_a_service_account() {
    let emu = demo().await;
    let token = decode(&emu.service_account_token().unwrap());
    let mut raw = Raw::new(&emu.address());
    let (start, ring) = sign_in(&mut raw, &token).await;

    // auth/start.
    for key in [
        "status",
        "sessionID",
        "accountKeyUuid",
        "userAuth",
        "newEmail",
        "newHost",
    ] {
        assert!(start.get(key).is_some(), "auth/start lacks {key}: {start}");
    }
    assert_id(&start["sessionID"], true);
    assert_eq!(start["userAuth"], token["userAuth"]);
    let sk = SecretKey::parse(token["secretKey"].as_str().unwrap()).unwrap();
    assert_eq!(start["accountKeyUuid"], sk.account_id());

    // Vaults: an encrypted array of exactly the vaults it was given, in the observed shape.
    let list = raw
        .signed("GET", "/api/v1/vaults?attrs=combined-access", None)
        .await;
    assert_eq!(list.status, 200);
    assert!(list.encrypted);
    let vaults = list.body.as_array().expect("a JSON array");
    let mut names = Vec::new();
    for v in vaults {
        for key in [
            "uuid",
            "type",
            "createdAt",
            "updatedAt",
            "attrVersion",
            "contentVersion",
            "encAttrs",
            "activeItemCount",
            "accessorsVersion",
            "clientAccess",
            "combinedAccess",
            "accessorsPreviews",
        ] {
            assert!(v.get(key).is_some(), "vault lacks {key}: {v}");
        }
        assert_id(&v["uuid"], false);
        let ca = &v["combinedAccess"];
        assert_eq!(
            keys(ca),
            sorted(&[
                "vaultUuid",
                "accessorType",
                "accessorUuid",
                "accessVersion",
                "acl",
                "leaseTimeout",
                "vaultKeySN",
                "encVaultKey",
                "encryptedBy"
            ])
        );
        assert_eq!(ca["accessorType"], "user");
        assert_eq!(ca["accessorUuid"], raw.user_uuid.as_str());
        assert_eq!(
            Acl::from_bits(ca["acl"].as_u64().unwrap() as u32) & (acl::RWE | acl::MANAGE),
            acl::RWE | acl::MANAGE
        );
        let key = ring
            .unwrap_key(&Envelope::from_json(&ca["encVaultKey"]).unwrap())
            .expect("the vault key opens with the service account's keyset");
        let attrs: Value = key
            .decrypt_json(&Envelope::from_json(&v["encAttrs"]).unwrap())
            .unwrap();
        assert_eq!(
            keys(&attrs),
            sorted(&["name", "desc", "avatar", "color", "type", "version"])
        );
        names.push(attrs["name"].as_str().unwrap().to_owned());
    }
    names.sort();
    assert_eq!(names, sorted(&DEMO_SERVICE_ACCOUNT_VAULTS));

    // One vault with every accessor.
    let engineering = emu.vault_uuid("Engineering").unwrap();
    let v = raw
        .signed(
            "GET",
            &format!("/api/v3/vault/{engineering}?attrs=accessors,combined-access"),
            None,
        )
        .await;
    assert_eq!(v.status, 200);
    let access = v.body["access"].as_array().expect("access records");
    assert!(access.len() >= 5, "{access:?}");
    for r in access {
        assert!(r["accessorType"] == "user" || r["accessorType"] == "group");
        for key in [
            "vaultUuid",
            "accessorUuid",
            "acl",
            "leaseTimeout",
            "vaultKeySN",
            "encryptedBy",
            "encVaultKey",
        ] {
            assert!(r.get(key).is_some(), "access record lacks {key}");
        }
    }

    // The group it was shown.
    let group = emu.group_uuid(DEMO_SERVICE_ACCOUNT_GROUP).unwrap();
    assert_id(&json!(group), false);
    let g = raw
        .signed(
            "GET",
            &format!("/api/v2/group/{group}?attrs=vault-access"),
            None,
        )
        .await;
    assert_eq!(g.status, 200, "{}", g.body);
    for key in [
        "uuid",
        "name",
        "desc",
        "type",
        "state",
        "attrVersion",
        "permissions",
        "activeKeysetUuid",
        "createdAt",
        "updatedAt",
        "avatar",
        "vaultAccess",
    ] {
        assert!(g.body.get(key).is_some(), "group lacks {key}: {}", g.body);
    }
    assert_eq!(
        (&g.body["state"], &g.body["type"]),
        (&json!("A"), &json!("U"))
    );
    assert_id(&g.body["activeKeysetUuid"], false);

    // Grant that group access to Engineering as the official client does, then revoke it.
    let pk = raw
        .signed("GET", &format!("/api/v1/group/pubkeys?uuids={group}"), None)
        .await;
    assert_eq!(pk.status, 200);
    assert_eq!(keys(&pk.body[0]), sorted(&["uuid", "pubKey"]));
    let public =
        RsaPublicKey::from_jwk(&serde_json::from_value(pk.body[0]["pubKey"].clone()).unwrap())
            .unwrap();
    let v = raw
        .signed(
            "GET",
            &format!("/api/v3/vault/{engineering}?attrs=combined-access"),
            None,
        )
        .await;
    let vault_key = ring
        .unwrap_key(&Envelope::from_json(&v.body["combinedAccess"]["encVaultKey"]).unwrap())
        .unwrap();
    let wrapped = public.wrap_key(&vault_key).unwrap();
    let record = json!({"vaultUuid": engineering, "accessorType": "group", "accessorUuid": group,
        "acl": acl::RWE, "leaseTimeout": 0, "vaultKeySN": v.body["combinedAccess"]["vaultKeySN"],
        "encryptedBy": public.kid(), "encVaultKey": wrapped});
    let before = emu.changes_applied();
    let patch = raw
        .signed(
            "PATCH",
            &format!("/api/v2/vault/{engineering}/vaultaccess"),
            Some(json!({"vaultaccess": [record]})),
        )
        .await;
    assert_eq!(patch.status, 200, "{}", patch.body);
    assert!(!patch.encrypted, "the PATCH answer is unencrypted");
    assert_eq!(patch.body, json!({"success": 1}));
    assert!(patch.body["success"].is_u64(), "the number 1, not true");
    assert_eq!(emu.vault_access(&engineering, &group), Some(acl::RWE));
    assert_eq!(emu.changes_applied(), before + 1);

    let _ = raw
        .signed("GET", &format!("/api/v3/vault/{engineering}"), None)
        .await;
    let delete = raw
        .signed(
            "DELETE",
            &format!("/api/v1/vault/{engineering}/group/{group}"),
            None,
        )
        .await;
    assert_eq!(delete.status, 200, "{}", delete.body);
    assert!(!delete.encrypted, "the DELETE answer is unencrypted");
    assert_eq!(delete.body, json!({"success": 1}));
    assert_eq!(emu.vault_access(&engineering, &group), None);
}

#[tokio::test]
async fn a_service_account_sees_only_what_it_was_given_and_administers_nothing() {
    let emu = demo().await;
    let token = decode(&emu.service_account_token().unwrap());
    let mut raw = Raw::new(&emu.address());
    let _ = sign_in(&mut raw, &token).await;

    // Groups it was not shown are invisible.
    let engineering_group = emu.group_uuid("Engineering").unwrap();
    let g = raw
        .signed("GET", &format!("/api/v2/group/{engineering_group}"), None)
        .await;
    assert_eq!(g.status, 404);
    let pk = raw
        .signed(
            "GET",
            &format!("/api/v1/group/pubkeys?uuids={engineering_group}"),
            None,
        )
        .await;
    assert_eq!(pk.status, 404);
    let account = raw
        .signed("GET", "/api/v1/account?attrs=groups,users", None)
        .await;
    let groups: Vec<&str> = account.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(groups, [DEMO_SERVICE_ACCOUNT_GROUP]);
    let users = account.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 1, "it sees only itself");
    assert_eq!(users[0]["type"], "S");

    // A vault it has no access to.
    let shared = emu.vault_uuid("Shared Logins").unwrap();
    let v = raw
        .signed("GET", &format!("/api/v3/vault/{shared}"), None)
        .await;
    assert_eq!(v.status, 404);
    let alice = emu.user_uuid("alice@acme.example").unwrap();
    let revoke = raw
        .signed(
            "DELETE",
            &format!("/api/v1/vault/{shared}/person/{alice}"),
            None,
        )
        .await;
    assert_eq!(
        (revoke.status, revoke.body["errorCode"].as_i64()),
        (403, Some(101))
    );

    // People, invitations and group membership: 403 / 101, nothing changes.
    let bob = emu.user_uuid("bob@acme.example").unwrap();
    let erin = emu.user_uuid("erin@acme.example").unwrap();
    let dave = emu.user_uuid("dave@acme.example").unwrap();
    let marketing = emu.group_uuid(DEMO_SERVICE_ACCOUNT_GROUP).unwrap();
    let refused: Vec<(&str, String, Option<Value>)> = vec![
        (
            "POST",
            "/api/v1/invite".into(),
            Some(
                json!({"invites": [{"email": "new@acme.example", "language": "en"}], "type": "R"}),
            ),
        ),
        ("GET", "/api/v1/invites".into(), None),
        ("GET", "/api/v1/invitevaults".into(), None),
        ("PUT", format!("/api/v1/people/suspend/{bob}"), None),
        ("PUT", format!("/api/v1/people/reactivate/{erin}"), None),
        ("DELETE", format!("/api/v1/people/{bob}"), None),
        (
            "PUT",
            "/api/v2/people/confirm".into(),
            Some(json!({"peopleUuids": [dave]})),
        ),
        (
            "PATCH",
            format!("/api/v3/group/{marketing}/membership"),
            Some(json!({"add": [], "remove": [bob]})),
        ),
        (
            "DELETE",
            format!("/api/v1/group/{marketing}/person/{bob}"),
            None,
        ),
        (
            "PATCH",
            format!("/api/v1/group/{marketing}/person/{bob}/role/A"),
            None,
        ),
    ];
    let before = emu.changes_applied();
    for (method, path, body) in refused {
        let a = raw.signed(method, &path, body).await;
        assert_eq!(
            (a.status, a.body["errorCode"].as_i64()),
            (403, Some(101)),
            "{method} {path}: {}",
            a.body
        );
    }
    assert_eq!(emu.changes_applied(), before);
    assert_eq!(emu.user_state(&bob), Some(PersonState::Active));
    assert_eq!(emu.user_state(&erin), Some(PersonState::Suspended));
    assert!(emu.group_members(&marketing).iter().any(|(u, _)| *u == bob));
    assert!(emu.pending_invitations().is_empty());
}

#[tokio::test]
async fn people_listings_leave_service_accounts_out() {
    let emu = demo().await;
    let mut raw = Raw::new(&emu.address());
    raw.sign_in(
        emu.credentials("admin@acme.example").unwrap(),
        opadmin_crypto::srp::SrpVersion::V2,
        None,
    )
    .await
    .unwrap_or_else(|a| panic!("{} {}", a.status, a.body));
    let account = raw
        .signed("GET", "/api/v1/account?attrs=users,counts", None)
        .await;
    let users = account.body["users"].as_array().unwrap();
    assert!(users.iter().all(|u| u["type"] != "S"));
    assert_eq!(account.body["counts"]["users"], users.len());
    let list = raw.signed("GET", "/api/v3/users", None).await;
    assert!(
        list.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["type"] != "S")
    );
    assert_eq!(emu.user_count(), users.len());
}

#[tokio::test]
async fn builder_service_accounts_vault_bits_and_mfa_policy() {
    // A read-only service account in an account that enforces MFA: it signs in (the policy is
    // for people), reads its vault, and may not change that vault's access (no Manage bit).
    let account = AccountBuilder::new("Builder Co")
        .iterations(1000)
        .enforce_mfa()
        .person(PersonSpec::new("pat@builder.example", "Pat"))
        .group(GroupSpec::new("Ops").member("pat@builder.example"))
        .vault(VaultSpec::new("Prod"))
        .vault(VaultSpec::new("Staging"))
        .service_account(
            ServiceAccountSpec::new("Reader")
                .vault("Prod", acl::RWE)
                .group("Ops"),
        );
    let emu = Emulator::start(EmulatorConfig::default(), account)
        .await
        .unwrap();
    let token = decode(&emu.service_account_token().unwrap());
    let mut raw = Raw::new(&emu.address());
    let _ = sign_in(&mut raw, &token).await;
    let list = raw.signed("GET", "/api/v1/vaults", None).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    let prod = emu.vault_uuid("Prod").unwrap();
    let ops = emu.group_uuid("Ops").unwrap();
    assert_eq!(
        list.body[0]["combinedAccess"]["acl"].as_u64(),
        Some(u64::from(acl::RWE))
    );
    let r = raw
        .signed("DELETE", &format!("/api/v1/vault/{prod}/group/{ops}"), None)
        .await;
    assert_eq!(
        (r.status, r.body["errorCode"].as_i64()),
        (403, Some(101)),
        "no Manage bit"
    );

    // Unknown vault names are a build error.
    let bad = AccountBuilder::new("Bad")
        .iterations(1000)
        .service_account(ServiceAccountSpec::new("X").vault("Nope", acl::RWE));
    let err = Emulator::start(EmulatorConfig::default(), bad)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Nope"), "{err}");
}

#[tokio::test]
async fn the_omit_new_email_knob_breaks_auth_start_on_purpose() {
    let config = EmulatorConfig {
        faults: Faults {
            omit_auth_start_new_email: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let emu = Emulator::start(config, demo_account().iterations(1000))
        .await
        .unwrap();
    let token = decode(&emu.service_account_token().unwrap());
    let sk = SecretKey::parse(token["secretKey"].as_str().unwrap()).unwrap();
    let raw = Raw::new(&emu.address());
    let start = raw
        .plain(
            "POST",
            "/api/v3/auth/start",
            &json!({"email": token["email"], "skFormat": sk.format(), "skid": sk.account_id(), "deviceUuid": token["deviceUuid"]}),
        )
        .await;
    assert_eq!(start.status, 200);
    assert_eq!(start.body["status"], "ok");
    assert!(start.body.get("newEmail").is_none(), "{}", start.body);
    assert!(start.body.get("newHost").is_some());

    // Without the knob the key is there.
    let emu = demo().await;
    let token = decode(&emu.service_account_token().unwrap());
    let start = Raw::new(&emu.address())
        .plain(
            "POST",
            "/api/v3/auth/start",
            &json!({"email": token["email"], "skFormat": sk.format(), "skid": SecretKey::parse(token["secretKey"].as_str().unwrap()).unwrap().account_id(), "deviceUuid": token["deviceUuid"]}),
        )
        .await;
    assert!(start.body["newEmail"].is_null() && start.body.get("newEmail").is_some());
}

#[tokio::test]
async fn seeded_tokens_repeat() {
    let start = |seed| async move {
        Emulator::start(
            EmulatorConfig::default(),
            demo_account().iterations(1000).seed(seed),
        )
        .await
        .unwrap()
    };
    let (a, b, c) = (start(7).await, start(7).await, start(8).await);
    let strip = |emu: &RunningEmulator| {
        let mut t = decode(&emu.service_account_token().unwrap());
        t.as_object_mut().unwrap().remove("signInAddress");
        t
    };
    assert_eq!(strip(&a), strip(&b));
    assert_ne!(strip(&a), strip(&c));
}
