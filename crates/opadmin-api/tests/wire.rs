//! Request bodies serialise with the exact key names the server expects.

use opadmin_api::models::{
    AccessorType, CompleteRequest, ConfirmPeopleRequest, Device, Group, GroupMembershipPatch,
    Invite, InviteRequest, InviteVault, MfaCode, MfaSubmitRequest, SrpV1Request, SrpV2Request,
    StartAuthRequest, StartAuthResponse, StartAuthStatus, SuccessResponse, UserList,
    UserMembershipPatch, UserReport, Vault, VaultAccess, VaultAccessBody, VaultAttributes,
};
use opadmin_api::types::{
    GroupType, UserId, UserState, UserType, VaultId, VaultPermissions, VaultType,
};
use opadmin_crypto::envelope::Envelope;
use serde_json::json;

fn rsa_envelope() -> Envelope {
    serde_json::from_value(
        json!({"kid": "grpkeyset", "enc": "RSA-OAEP", "cty": "b5+jwk+json", "data": "AAAA"}),
    )
    .expect("envelope")
}

#[test]
fn start_auth_bodies() {
    let req = StartAuthRequest {
        email: "admin@example.com".into(),
        sk_format: "A3".into(),
        skid: "C4ZJMN".into(),
        device_uuid: "rz64r4uhyvgew672nm4ncaqonq".into(),
        user_uuid: None,
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"email": "admin@example.com", "skFormat": "A3", "skid": "C4ZJMN", "deviceUuid": "rz64r4uhyvgew672nm4ncaqonq"})
    );
    let resp: StartAuthResponse = serde_json::from_value(
        json!({"status": "device-not-registered", "sessionID": "S", "newHost": "x.1password.com"}),
    )
    .unwrap();
    assert_eq!(resp.status, StartAuthStatus::DeviceNotRegistered);
    assert_eq!(resp.new_host.as_deref(), Some("x.1password.com"));
    let other: StartAuthResponse =
        serde_json::from_value(json!({"status": "domain-changed"})).unwrap();
    assert_eq!(
        other.status,
        StartAuthStatus::Other("domain-changed".into())
    );
    assert_eq!(
        serde_json::to_value(&other).unwrap(),
        json!({"status": "domain-changed", "newHost": null, "newEmail": null})
    );
}

#[test]
fn srp_and_complete_bodies() {
    assert_eq!(
        serde_json::to_value(SrpV1Request {
            session_id: "S".into(),
            user_a: "ab".into()
        })
        .unwrap(),
        json!({"sessionID": "S", "userA": "ab"})
    );
    assert_eq!(
        serde_json::to_value(SrpV2Request {
            user_a: "ab".into()
        })
        .unwrap(),
        json!({"userA": "ab"})
    );
    let device = Device {
        uuid: "d".into(),
        client_name: "1Password SDK".into(),
        client_version: "0050002".into(),
        name: None,
        model: None,
        os_name: Some("linux".into()),
        os_version: None,
        user_agent: None,
    };
    assert_eq!(
        serde_json::to_value(CompleteRequest {
            client: "1Password SDK/0050002".into(),
            device
        })
        .unwrap(),
        json!({"client": "1Password SDK/0050002", "device": {"uuid": "d", "clientName": "1Password SDK", "clientVersion": "0050002", "osName": "linux"}})
    );
    let mut mfa = MfaSubmitRequest::new("S", "c/1");
    mfa.totp = Some(MfaCode {
        code: "123456".into(),
    });
    assert_eq!(
        serde_json::to_value(&mfa).unwrap(),
        json!({"sessionID": "S", "client": "c/1", "totp": {"code": "123456"}})
    );
}

#[test]
fn success_is_the_number_one() {
    assert_eq!(
        serde_json::to_string(&SuccessResponse::OK).unwrap(),
        r#"{"success":1}"#
    );
    assert!(
        serde_json::from_str::<SuccessResponse>(r#"{"success":1}"#)
            .unwrap()
            .is_success()
    );
}

#[test]
fn vault_access_body() {
    let record = VaultAccess {
        vault_uuid: VaultId::new("v"),
        accessor_type: AccessorType::Group,
        accessor_uuid: "g".into(),
        acl: VaultPermissions::RWE,
        lease_timeout: 0,
        vault_key_sn: 1,
        encrypted_by: "grpkeyset".into(),
        enc_vault_key: rsa_envelope(),
    };
    let body = VaultAccessBody {
        vault_access: vec![record],
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"vaultaccess": [{
            "vaultUuid": "v", "accessorType": "group", "accessorUuid": "g", "acl": 15730672,
            "leaseTimeout": 0, "vaultKeySN": 1, "encryptedBy": "grpkeyset",
            "encVaultKey": {"kid": "grpkeyset", "enc": "RSA-OAEP", "cty": "b5+jwk+json", "data": "AAAA"}
        }]})
    );
}

#[test]
fn vault_object_carries_what_the_official_client_needs() {
    let vault: Vault = serde_json::from_value(json!({
        "uuid": "v", "type": "U", "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z",
        "attrVersion": 1, "contentVersion": 1,
        "encAttrs": {"kid": "vk", "enc": "A256GCM", "cty": "b5+jwk+json", "iv": "AAAAAAAAAAAAAAAA", "data": "AAAA"}
    }))
    .unwrap();
    let json = serde_json::to_value(&vault).unwrap();
    for key in [
        "activeItemCount",
        "accessorsVersion",
        "clientAccess",
        "accessorsPreviews",
    ] {
        assert!(json.get(key).is_some(), "{key} missing");
    }
    assert_eq!(vault.vault_type, VaultType::UserCreated);
    let attrs = VaultAttributes {
        name: "Shared".into(),
        desc: String::new(),
        avatar: String::new(),
        color: String::new(),
        vault_type: VaultType::UserCreated,
        version: 1,
    };
    assert_eq!(
        serde_json::to_value(&attrs).unwrap(),
        json!({"name": "Shared", "desc": "", "avatar": "", "color": "", "type": "U", "version": 1})
    );
}

#[test]
fn observed_group_shape() {
    let group: Group = serde_json::from_value(json!({
        "uuid": "g", "name": "Eng", "desc": "", "type": "U", "state": "A", "attrVersion": 1,
        "permissions": 0, "activeKeysetUuid": "k", "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-01T00:00:00Z", "avatar": "", "vaultAccess": []
    }))
    .unwrap();
    assert_eq!(group.group_type, GroupType::UserDefined);
    assert_eq!(group.vault_access.as_ref().map(Vec::len), Some(0));
}

#[test]
fn lenient_where_1password_s_client_is_lenient() {
    // `description` is read like `desc`; it is written back as `desc`.
    let group: Group = serde_json::from_value(json!({
        "uuid": "g", "name": "Ext", "description": "outside admins", "type": "E"
    }))
    .unwrap();
    assert_eq!(group.desc, "outside admins");
    assert_eq!(group.group_type, GroupType::ExternalAccountManagers);
    assert_eq!(
        serde_json::to_value(&group).unwrap()["desc"],
        "outside admins"
    );
    // An access record for a broker is read, not refused.
    let broker: AccessorType = serde_json::from_value(json!("broker")).unwrap();
    assert_eq!(broker, AccessorType::Broker);
    assert_eq!(serde_json::to_value(broker).unwrap(), json!("broker"));
    // Letters without a name keep their letter through a round trip.
    for (letter, state) in [("M", 'M'), ("5", '5'), ("X", 'X'), ("Z", 'Z')] {
        let s: UserState = serde_json::from_value(json!(letter)).unwrap();
        assert_eq!(s.letter(), state);
        assert_eq!(serde_json::to_value(s).unwrap(), json!(letter));
    }
    for letter in ["M", "D"] {
        let v: VaultType = serde_json::from_value(json!(letter)).unwrap();
        assert_eq!(serde_json::to_value(v).unwrap(), json!(letter));
    }
}

#[test]
fn membership_patches_send_both_lists() {
    let patch = GroupMembershipPatch {
        add: vec![],
        remove: vec![UserId::new("U")],
    };
    assert_eq!(
        serde_json::to_value(&patch).unwrap(),
        json!({"add": [], "remove": ["U"]})
    );
    let patch = UserMembershipPatch::default();
    assert_eq!(
        serde_json::to_value(&patch).unwrap(),
        json!({"add": [], "remove": []})
    );
}

#[test]
fn invite_and_confirm_bodies() {
    let req = InviteRequest {
        invites: vec![Invite {
            email: "new@example.com".into(),
            language: "en".into(),
            vaults: Some(vec![InviteVault {
                uuid: VaultId::new("v"),
                acl: VaultPermissions::RWE,
            }]),
        }],
        invite_type: UserType::Member,
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"invites": [{"email": "new@example.com", "language": "en", "vaults": [{"uuid": "v", "acl": 15730672}]}], "type": "R"})
    );
    let confirm = ConfirmPeopleRequest {
        people_uuids: vec![UserId::new("U")],
        group_memberships: None,
        vault_access: Some(vec![]),
    };
    assert_eq!(
        serde_json::to_value(&confirm).unwrap(),
        json!({"peopleUuids": ["U"], "vaultaccess": []})
    );
}

#[test]
fn users_list_and_report() {
    let list: UserList = serde_json::from_value(json!({
        "totalCount": 2,
        "users": [
            {"uuid": "A", "name": "Ann", "email": "a@x", "avatar": "", "state": "A", "type": "R", "combinedPermissions": 1},
            {"uuid": "B", "name": "Ben", "email": "b@x", "avatar": "", "state": "S", "type": "G"}
        ]
    }))
    .unwrap();
    assert_eq!(list.total_count, 2);
    assert_eq!(list.users[1].state, UserState::Suspended);
    assert_eq!(list.users[1].user_type, UserType::Guest);
    assert_eq!(list.users[0].display_name(), "Ann");
    let empty: UserList = serde_json::from_str(r#"{"users":[],"totalCount":0}"#).unwrap();
    assert!(empty.users.is_empty());

    let report: UserReport = serde_json::from_value(json!({
        "overview": {"user": {"uuid": "A", "email": "a@x", "name": "Ann", "state": "A", "type": "R", "lastAuthAt": "2025-03-01T10:00:00Z"}, "other": 1}
    }))
    .unwrap();
    let user = report.overview.expect("overview").user;
    assert_eq!(user.last_auth_at().map(|t| t.year()), Some(2025));
    let never: UserReport = serde_json::from_value(json!({
        "overview": {"user": {"uuid": "A", "state": "P", "type": "R", "lastAuthAt": ""}}
    }))
    .unwrap();
    assert_eq!(never.overview.and_then(|o| o.user.last_auth_at()), None);
}
