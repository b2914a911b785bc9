//! Every real server answer in `tests/fixtures/b5/` parses into its model and re-serialises
//! without losing a field.

use std::path::PathBuf;

use opadmin_api::ApiError;
use opadmin_api::access::{
    GrantPlan, active_group_ids, can_manage_vault, effective_access, plan_grant,
};
use opadmin_api::models::{
    Account, KeysetsResponse, MfaSubmitResponse, ServerErrorBody, SrpV1Response, StartAuthResponse,
    StartAuthStatus, VerifyResponse,
};
use opadmin_api::types::{
    AccountType, GroupRole, GroupState, GroupType, Plan, UserState, UserType, VaultPermissions,
    VaultType,
};
use opadmin_crypto::envelope::Envelope;
use opadmin_crypto::jwk::Jwk;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/b5")
}

/// The fixture's JSON text, without a leading `// comment` line.
fn read(name: &str) -> String {
    let text = std::fs::read_to_string(fixture_dir().join(name)).expect("fixture readable");
    let trimmed = text.trim_start();
    if trimmed.starts_with("//") {
        trimmed
            .split_once('\n')
            .map(|(_, rest)| rest.to_owned())
            .unwrap_or_default()
    } else {
        text
    }
}

/// Checks that every non-null value of `original` is in `reserialised`, equal.
fn assert_preserved(original: &Value, reserialised: &Value, path: &str) {
    match (original, reserialised) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                if value.is_null() {
                    // null and absent mean the same to the server's clients.
                    assert!(
                        b.get(key).is_none_or(Value::is_null),
                        "{path}.{key}: null became {:?}",
                        b.get(key)
                    );
                    continue;
                }
                match b.get(key) {
                    Some(other) => assert_preserved(value, other, &format!("{path}.{key}")),
                    None => panic!("{path}.{key} lost in re-serialisation"),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: array length changed");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_preserved(x, y, &format!("{path}[{i}]"));
            }
        }
        (a, b) => assert_eq!(a, b, "{path}: value changed"),
    }
}

/// Parses a fixture into `T`, re-serialises it and checks nothing was lost.
fn round_trip<T: DeserializeOwned + Serialize>(name: &str) -> (T, Value) {
    let text = read(name);
    let original: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let model: T =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
    let reserialised: Value =
        serde_json::from_str(&serde_json::to_string(&model).expect("serialises")).expect("JSON");
    assert_preserved(&original, &reserialised, name);
    // Parsing what we wrote gives the same model.
    let again: T = serde_json::from_value(reserialised.clone()).expect("re-parses");
    assert_eq!(
        serde_json::to_value(&again).expect("serialises"),
        reserialised,
        "{name}: second round trip differs"
    );
    (model, reserialised)
}

#[test]
fn every_fixture_is_covered() {
    let covered = [
        "empty-object-response.json",
        "encrypted-aes-key.json",
        "encrypted-rsa-key.json",
        "exchange-a-for-b-response.json",
        "get-account-info-response.json",
        "get-keysets-response.json",
        "mfa-response.json",
        "no-auth-response.json",
        "rsa-key-oaep-256.json",
        "rsa-key.json",
        "start-new-session-response.json",
        "verify-key-response-mfa.json",
        "verify-key-response.json",
    ];
    let mut found: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("fixture directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    found.sort();
    assert_eq!(
        found, covered,
        "a fixture was added or removed: give it a test"
    );
}

#[test]
fn start_auth_response() {
    let (r, json): (StartAuthResponse, _) = round_trip("start-new-session-response.json");
    assert_eq!(r.status, StartAuthStatus::Ok);
    assert_eq!(r.session_id.as_deref(), Some("TOZVTFIFBZGFDFNE5KSZFY7EZY"));
    assert_eq!(r.account_key_format.as_deref(), Some("A3"));
    let auth = r.user_auth.expect("userAuth");
    assert_eq!(auth.method, "SRPg-4096");
    assert_eq!(auth.iterations, 100000);
    // The official client needs these keys, even null.
    assert!(json.get("newEmail").is_some_and(Value::is_null));
    assert!(json.get("newHost").is_some_and(Value::is_null));
    assert!(json.get("newDomain").is_none());
}

#[test]
fn srp_v1_exchange() {
    let (r, _): (SrpV1Response, _) = round_trip("exchange-a-for-b-response.json");
    assert_eq!(r.session_id, "TOZVTFIFBZGFDFNE5KSZFY7EZY");
    assert_eq!(r.user_b.len(), 1024);
}

#[test]
fn verify_responses() {
    let (r, _): (VerifyResponse, _) = round_trip("verify-key-response.json");
    assert_eq!(r.user_uuid, "DFM4DHQMQ5AS5M6UHSD6PNV774");
    assert_eq!(r.account_uuid, "FPF3CVJPDVAT5NVS26SPR4MPAI");
    assert!(r.mfa.is_none());
    assert_eq!(
        r.server_verify_hash.as_deref(),
        Some("Ke81HUwT13BAW5OrymPX7i7Aii_3cnCKSDJOlt55HMc")
    );

    let (r, _): (VerifyResponse, _) = round_trip("verify-key-response-mfa.json");
    let mfa = r.mfa.expect("mfa");
    assert_eq!(
        mfa.offered_methods(),
        ["dsecret", "dsecretProxy", "totp", "duo"]
    );
    assert!(mfa.accepts_totp());
    assert!(mfa.accepts_dsecret());
    assert_eq!(mfa.totp.and_then(|t| t.digits), Some(6));
    let duo = mfa.duo.expect("duo");
    assert_eq!(duo.host.as_deref(), Some("api-005dde75.duosecurity.com"));
    assert!(duo.preauth.is_some());
}

#[test]
fn mfa_response() {
    let (r, _): (MfaSubmitResponse, _) = round_trip("mfa-response.json");
    assert_eq!(
        r.dsecret.as_ref().map(|d| d.expose_secret()),
        Some("gUhBItRHUI7vAc04TJNUkA")
    );
}

#[test]
fn error_bodies() {
    let (r, _): (ServerErrorBody, _) = round_trip("no-auth-response.json");
    assert_eq!(r.error_code, Some(102));
    assert_eq!(r.error_message.as_deref(), Some("Authentication required."));
    assert_eq!(r.request_id, Some(5425802));
    assert!(r.is_error());
    assert!(matches!(
        ApiError::from_response(401, read("no-auth-response.json").as_bytes()),
        ApiError::SessionExpired
    ));

    let (r, _): (ServerErrorBody, _) = round_trip("empty-object-response.json");
    assert_eq!(r, ServerErrorBody::default());
    assert!(!r.is_error());
    assert!(matches!(
        ApiError::from_response(400, read("empty-object-response.json").as_bytes()),
        ApiError::Server { status: 400, .. }
    ));
}

#[test]
fn envelopes_and_keys() {
    let (e, _): (Envelope, _) = round_trip("encrypted-aes-key.json");
    assert_eq!(e.kid, "mp");
    let (e, _): (Envelope, _) = round_trip("encrypted-rsa-key.json");
    assert_eq!(e.kid, "szerdhg2ww2ahjo4ilz57x7cce");
    for name in ["rsa-key.json", "rsa-key-oaep-256.json"] {
        let (k, _): (Jwk, _) = round_trip(name);
        assert_eq!(k.kty, "RSA");
    }
}

#[test]
fn keysets_response() {
    let (r, _): (KeysetsResponse, _) = round_trip("get-keysets-response.json");
    assert_eq!(r.version, 5);
    assert_eq!(r.keysets.len(), 5);
    assert_eq!(
        r.primary().map(|k| k.uuid.as_str()),
        Some("szerdhg2ww2ahjo4ilz57x7cce")
    );
}

#[test]
fn account_object() {
    let (a, _): (Account, _) = round_trip("get-account-info-response.json");
    assert_eq!(a.uuid, "FPF3CVJPDVAT5NVS26SPR4MPAI");
    assert_eq!(a.account_type, AccountType::Individual);
    assert_eq!(a.plan(), Plan::Individual);
    assert_eq!(
        a.tier.as_ref().map(|t| t.name.as_str()),
        Some("20160727_i_standard")
    );
    assert_eq!(a.counts.as_ref().and_then(|c| c.invitations), Some(0));

    // Users: firstName/lastName, lastAuthAt, state and type letters.
    let users = a.users.as_deref().expect("users");
    assert_eq!(users.len(), 1);
    let jeff = &users[0];
    assert_eq!(jeff.display_name(), "Jeff Lebowski");
    assert_eq!(jeff.state, UserState::Active);
    assert_eq!(jeff.user_type, UserType::Member);
    assert_eq!(jeff.last_auth_at().map(|t| t.year()), Some(2017));
    assert_eq!(jeff.combined_permissions, Some(68719476494));
    assert_eq!(jeff.has_mfa_enabled, Some(false));

    // Groups.
    let groups = a.groups.as_deref().expect("groups");
    let types: Vec<GroupType> = groups.iter().map(|g| g.group_type).collect();
    assert_eq!(
        types,
        [
            GroupType::Owners,
            GroupType::Administrators,
            GroupType::Recovery
        ]
    );
    let owners = &groups[0];
    let membership = owners.user_membership.as_ref().expect("userMembership");
    assert_eq!(membership.role, GroupRole::Manager);
    assert_eq!(membership.state, GroupState::Active);
    assert!(membership.keyset.is_some());
    assert!(owners.recovery_keyset.is_some());

    // Vaults and access records.
    let vaults = a.vaults.as_deref().expect("vaults");
    assert_eq!(vaults[0].vault_type, VaultType::Personal);
    assert_eq!(vaults[1].vault_type, VaultType::UserCreated);
    assert_eq!(vaults[0].client_access, 4294967295);
    let shared = &vaults[1];
    let access = shared.access.as_deref().expect("access");
    assert_eq!(access.len(), 3);
    assert_eq!(access[0].acl, VaultPermissions::ALL);
    assert_eq!(access[1].acl, VaultPermissions::MANAGE);

    // The access rules over the real records: Jeff has direct access and is in Owners and
    // Administrators, which have Manage.
    let me = a.me.as_ref().expect("me");
    assert_eq!(me.display_name(), "Jeff Lebowski");
    let my_groups = active_group_ids(me.memberships.as_deref().unwrap_or_default(), &me.uuid);
    assert_eq!(my_groups.len(), 3);
    let eff = effective_access(access, &me.uuid, &my_groups);
    assert_eq!(eff.direct, Some(VaultPermissions::ALL));
    assert_eq!(eff.via_groups.len(), 2);
    assert!(can_manage_vault(access, &me.uuid, &my_groups));
    assert!(matches!(
        plan_grant(access, &me.uuid, &my_groups, VaultPermissions::READ_ITEM),
        Ok(GrantPlan::AlreadyDirect { .. })
    ));
    let personal = vaults[0].access.as_deref().expect("access");
    assert_eq!(
        personal[0].acl,
        VaultPermissions::RWE | VaultPermissions::MANAGE
    );
    assert_eq!(me.vault_access.as_ref().map(Vec::len), Some(5));
}

#[test]
#[should_panic(expected = "lost in re-serialisation")]
fn the_check_catches_a_lost_field() {
    // A model that keeps only `status` loses `sessionID`: the check must notice.
    #[derive(serde::Deserialize, serde::Serialize)]
    struct OnlyStatus {
        status: String,
    }
    let _ = round_trip::<OnlyStatus>("start-new-session-response.json");
}

#[test]
#[should_panic(expected = "value changed")]
fn the_check_catches_a_changed_value() {
    let original = serde_json::json!({"a": {"b": [1, 2]}});
    let changed = serde_json::json!({"a": {"b": [1, 3]}});
    assert_preserved(&original, &changed, "x");
}
