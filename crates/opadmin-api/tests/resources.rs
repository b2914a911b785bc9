//! Every resource call: the request it sends (method, path, query, decrypted body) and how it
//! reads the answer, including the real fixtures served through the same code paths.

mod common;

use std::sync::{Arc, Mutex};

use common::{Answer, Fake, catch_all, fixture, keysets_of, start, test_options};
use opadmin_api::ApiError;
use opadmin_api::auth::{SignedIn, sign_in};
use opadmin_api::models::{
    ConfirmPeopleRequest, GroupMembership, GroupMembershipPatch, MemberAddition, VaultAccess,
};
use opadmin_api::types::{
    GroupId, GroupRole, GroupState, Plan, UserId, UserState, UserType, VaultId, VaultPermissions,
};
use opadmin_api::users::UserFilter;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request};

type Log = Arc<Mutex<Vec<(String, String, Option<Value>)>>>;

/// Mounts a signed route answering `answer(request)`, recording (method, path?query, body).
async fn route<F>(server: &MockServer, fake: &Fake, verb: &str, p: &str, answer: F) -> Log
where
    F: Fn(&Request) -> Answer + Send + Sync + 'static,
{
    let log: Log = Arc::default();
    let seen = log.clone();
    let matcher = if p.contains('^') {
        Mock::given(method(verb)).and(path_regex(p))
    } else {
        Mock::given(method(verb)).and(path(p))
    };
    matcher
        .respond_with(fake.signed(move |req, body| {
            let pq = match req.url.query() {
                Some(q) => format!("{}?{q}", req.url.path()),
                None => req.url.path().to_owned(),
            };
            seen.lock()
                .unwrap()
                .push((req.method.as_str().to_owned(), pq, body));
            answer(req)
        }))
        .mount(server)
        .await;
    log
}

fn entries(log: &Log) -> Vec<(String, String, Option<Value>)> {
    log.lock().unwrap().clone()
}

async fn signed_in(server: &MockServer, fake: &Fake) -> SignedIn {
    sign_in(fake.account.credentials(&server.uri()), test_options())
        .await
        .expect("sign-in")
}

fn uuids(n: usize) -> Vec<UserId> {
    (0..n)
        .map(|i| UserId::new(format!("USER{i:022}")))
        .collect()
}

#[tokio::test]
async fn account_users_and_reports() {
    let (server, fake) = start().await;
    let account_log = route(&server, &fake, "GET", "/api/v1/account", |_| {
        Answer::Encrypted(fixture("get-account-info-response.json"))
    })
    .await;
    let users_log = route(&server, &fake, "GET", "/api/v3/users", |req| {
        let n = req.url.query().map_or(0, |q| q.matches("%40").count());
        let users: Vec<Value> = (0..n)
            .map(|i| json!({"uuid": format!("U{i}"), "email": "x@y", "name": "X", "state": "A", "type": "R"}))
            .collect();
        Answer::Encrypted(json!({"totalCount": n, "users": users}))
    })
    .await;
    let user_log = route(
        &server,
        &fake,
        "GET",
        "/api/v2/user/DFM4DHQMQ5AS5M6UHSD6PNV774",
        |_| {
            let mut me = fixture("get-account-info-response.json")["me"].clone();
            me["groups"] = json!([]);
            Answer::Encrypted(me)
        },
    )
    .await;
    let pub_key = serde_json::to_value(&keysets_of(&fake)[0].pub_key).unwrap();
    let pubkeys_log = route(&server, &fake, "GET", "/api/v1/user/pubkeys", move |req| {
        let query = req.url.query().unwrap_or_default().to_owned();
        let list = query
            .trim_start_matches("uuids=")
            .split(',')
            .map(|u| json!({"uuid": u, "pubKey": pub_key.clone()}))
            .collect::<Vec<_>>();
        Answer::Encrypted(Value::Array(list))
    })
    .await;
    let report_log = route(
        &server,
        &fake,
        "GET",
        "/api/v1/report/user/DFM4DHQMQ5AS5M6UHSD6PNV774",
        |_| {
            let user = fixture("get-account-info-response.json")["users"][0].clone();
            Answer::Encrypted(json!({"overview": {"user": user}}))
        },
    )
    .await;
    catch_all(&server, 0).await;
    let s = signed_in(&server, &fake).await;
    let c = &s.client;

    let account = c.account().await.expect("account");
    assert_eq!(account.plan(), Plan::Individual);
    let users = account.users.as_ref().expect("users");
    assert!(users[0].last_auth_at().is_some());
    assert_eq!(account.vaults.as_ref().map(Vec::len), Some(2));
    assert_eq!(
        entries(&account_log)[0].1,
        "/api/v1/account?attrs=me,users,groups,vaults,tier,counts"
    );

    // A long email filter: several requests, one page each.
    let emails: Vec<String> = (0..40)
        .map(|i| format!("person{i:03}@example.com"))
        .collect();
    let mut pages = c.users(
        &UserFilter::new()
            .emails(emails.clone())
            .states([UserState::Active]),
    );
    assert!(pages.remaining_pages() >= 2);
    let first = pages.next_page().await.unwrap().unwrap();
    let rest = pages.collect_all().await.unwrap();
    assert_eq!(first.len() + rest.len(), 40);
    for (verb, pq, body) in entries(&users_log) {
        assert_eq!(verb, "GET");
        assert!(pq.starts_with("/api/v3/users?emails=person"), "{pq}");
        assert!(pq.ends_with("&states=A"), "{pq}");
        assert!(body.is_none());
    }
    let list = c
        .user_list(&UserFilter::new().types([UserType::Guest]).limit(5))
        .await
        .unwrap();
    assert_eq!(list.total_count, 0);
    assert_eq!(
        entries(&users_log).last().unwrap().1,
        "/api/v3/users?types=G&limit=5"
    );

    let me = UserId::new("DFM4DHQMQ5AS5M6UHSD6PNV774");
    let person = c.user(&me).await.expect("user");
    assert_eq!(person.uuid, me);
    assert_eq!(
        entries(&user_log)[0].1,
        "/api/v2/user/DFM4DHQMQ5AS5M6UHSD6PNV774?attrs=pubkey,groups,vault-access"
    );

    let keys = c.user_public_keys(&uuids(20)).await.expect("pubkeys");
    assert_eq!(keys.len(), 20);
    let calls = entries(&pubkeys_log);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].1.matches(',').count(), 14);

    let report = c.user_report(&me).await.expect("report");
    let user = report.overview.expect("overview").user;
    assert_eq!(user.last_auth_at.as_deref(), Some("2017-09-16T18:18:13Z"));
    assert_eq!(
        entries(&report_log)[0].1,
        "/api/v1/report/user/DFM4DHQMQ5AS5M6UHSD6PNV774?sections=overview"
    );

    // An answer of the wrong shape is a protocol error naming the call.
    Mock::given(method("GET"))
        .and(path("/api/v2/user/NOPE"))
        .respond_with(fake.signed(|_, _| Answer::Encrypted(json!({"uuid": 5}))))
        .mount(&server)
        .await;
    let err = c.user(&UserId::new("NOPE")).await.unwrap_err();
    assert!(
        matches!(&err, ApiError::Protocol(m) if m.contains("user.get")),
        "{err:?}"
    );
}

#[tokio::test]
async fn groups() {
    let (server, fake) = start().await;
    let group_json = json!({
        "uuid": "yf2ji37vkqdow7pnbo3y37b3lu", "name": "Engineering", "desc": "", "type": "U",
        "state": "A", "attrVersion": 1, "permissions": 0, "activeKeysetUuid": "k",
        "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z",
        "vaultAccess": [], "memberships": [],
    });
    let g = group_json.clone();
    let get_log = route(
        &server,
        &fake,
        "GET",
        "/api/v2/group/yf2ji37vkqdow7pnbo3y37b3lu",
        move |_| Answer::Encrypted(g.clone()),
    )
    .await;
    route(&server, &fake, "GET", "/api/v1/account", |_| {
        Answer::Encrypted(fixture("get-account-info-response.json"))
    })
    .await;
    let patch_log = route(
        &server,
        &fake,
        "PATCH",
        "/api/v3/group/yf2ji37vkqdow7pnbo3y37b3lu/membership",
        |_| Answer::Encrypted(json!({"success": 1})),
    )
    .await;
    let remove_log = route(
        &server,
        &fake,
        "DELETE",
        "/api/v1/group/yf2ji37vkqdow7pnbo3y37b3lu/person/ALICE",
        // Not on the allow-list of plaintext answers: encrypted, as the emulator answers it.
        |_| Answer::Encrypted(json!({"success": 1})),
    )
    .await;
    let role_log = route(
        &server,
        &fake,
        "PATCH",
        "/api/v1/group/yf2ji37vkqdow7pnbo3y37b3lu/person/ALICE/role/A",
        |_| Answer::Encrypted(json!({"success": 1})),
    )
    .await;
    let pub_key = serde_json::to_value(&keysets_of(&fake)[0].pub_key).unwrap();
    route(&server, &fake, "GET", "/api/v1/group/pubkeys", move |_| {
        Answer::Encrypted(
            json!([{"uuid": "yf2ji37vkqdow7pnbo3y37b3lu", "pubKey": pub_key.clone()}]),
        )
    })
    .await;
    catch_all(&server, 0).await;
    let s = signed_in(&server, &fake).await;
    let c = &s.client;
    let gid = GroupId::new("yf2ji37vkqdow7pnbo3y37b3lu");

    let group = c.group(&gid).await.expect("group");
    assert_eq!(group.name, "Engineering");
    assert_eq!(
        entries(&get_log)[0].1,
        "/api/v2/group/yf2ji37vkqdow7pnbo3y37b3lu?attrs=pubkey,memberships,vault-access"
    );
    let groups = c.groups().collect_all().await.expect("groups");
    assert_eq!(groups.len(), 3);

    let keys = c
        .group_public_keys(std::slice::from_ref(&gid))
        .await
        .unwrap();
    assert_eq!(keys[0].uuid, gid.as_str());

    let keyset = keysets_of(&fake)[0].clone();
    let patch = GroupMembershipPatch {
        add: vec![MemberAddition {
            member_uuid: UserId::new("BOB"),
            role: GroupRole::Member,
            keyset,
        }],
        remove: vec![UserId::new("CAROL")],
    };
    c.update_group_membership(&gid, &patch)
        .await
        .expect("patch");
    let body = entries(&patch_log)[0].2.clone().expect("body");
    assert_eq!(body["add"][0]["memberUuid"], "BOB");
    assert_eq!(body["add"][0]["role"], "R");
    assert_eq!(body["remove"], json!(["CAROL"]));

    let alice = UserId::new("ALICE");
    c.remove_group_member(&gid, &alice).await.expect("remove");
    assert_eq!(entries(&remove_log).len(), 1);
    c.set_group_role(&gid, &alice, GroupRole::Manager)
        .await
        .expect("role");
    assert_eq!(entries(&role_log).len(), 1);
}

#[tokio::test]
async fn vaults_and_access_changes() {
    let (server, fake) = start().await;
    let account = fixture("get-account-info-response.json");
    let vaults = account["vaults"].clone();
    let one = vaults[0].clone();
    let vid = VaultId::new(one["uuid"].as_str().unwrap());
    let list_log = route(&server, &fake, "GET", "/api/v1/vaults", move |_| {
        Answer::Encrypted(vaults.clone())
    })
    .await;
    let v = one.clone();
    let get_log = route(
        &server,
        &fake,
        "GET",
        &format!("/api/v3/vault/{vid}"),
        move |_| Answer::Encrypted(v.clone()),
    )
    .await;
    let grant_log = route(
        &server,
        &fake,
        "PATCH",
        &format!("/api/v2/vault/{vid}/vaultaccess"),
        |_| Answer::Plain(json!({"success": 1})),
    )
    .await;
    let revoke_log = route(
        &server,
        &fake,
        "DELETE",
        &format!("^/api/v1/vault/{vid}/(person|group)/[A-Za-z0-9]+$"),
        |_| Answer::Plain(json!({"success": 1})),
    )
    .await;
    let acl_log = route(
        &server,
        &fake,
        "PATCH",
        "^/api/v1/acl/(person|group)/.*$",
        |_| Answer::Plain(json!({"success": 1})),
    )
    .await;
    Mock::given(method("PATCH"))
        .and(path("/api/v2/vault/denied/vaultaccess"))
        .respond_with(fake.signed(|_, _| {
            Answer::Status(
                403,
                json!({"errorCode": 101, "errorMessage": "Operation not permitted."}),
            )
        }))
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let s = signed_in(&server, &fake).await;
    let c = &s.client;

    let all = c.vaults().collect_all().await.expect("vaults");
    assert_eq!(all.len(), 2);
    assert_eq!(
        entries(&list_log)[0].1,
        "/api/v1/vaults?attrs=combined-access"
    );
    let vault = c.vault(&vid).await.expect("vault");
    assert!(vault.access.as_ref().is_some_and(|a| !a.is_empty()));
    assert_eq!(
        entries(&get_log)[0].1,
        format!("/api/v3/vault/{vid}?attrs=accessors,combined-access")
    );

    let record: VaultAccess = vault.access.clone().unwrap()[0].clone();
    c.grant_vault_access(&vid, std::slice::from_ref(&record))
        .await
        .expect("grant");
    let body = entries(&grant_log)[0].2.clone().expect("grant body");
    assert_eq!(
        body["vaultaccess"][0]["accessorUuid"],
        record.accessor_uuid.as_str()
    );

    c.revoke_user_vault_access(&vid, &UserId::new("ALICE"))
        .await
        .expect("revoke user");
    c.revoke_group_vault_access(&vid, &GroupId::new("eng"))
        .await
        .expect("revoke group");
    let revokes: Vec<String> = entries(&revoke_log).into_iter().map(|e| e.1).collect();
    assert_eq!(
        revokes,
        vec![
            format!("/api/v1/vault/{vid}/person/ALICE"),
            format!("/api/v1/vault/{vid}/group/eng")
        ]
    );

    c.set_user_vault_permissions(&vid, &UserId::new("ALICE"), VaultPermissions::RWE)
        .await
        .expect("acl user");
    c.set_group_vault_permissions(&vid, &GroupId::new("eng"), VaultPermissions::MANAGE)
        .await
        .expect("acl group");
    let acls: Vec<String> = entries(&acl_log).into_iter().map(|e| e.1).collect();
    assert_eq!(
        acls,
        vec![
            format!("/api/v1/acl/person/{vid}/ALICE/15730672"),
            format!("/api/v1/acl/group/{vid}/eng/2"),
        ]
    );

    let err = c
        .grant_vault_access(&VaultId::new("denied"), &[record])
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::NoManageVaultPermission), "{err:?}");
}

#[tokio::test]
async fn invitations_people_and_session() {
    let (server, fake) = start().await;
    let invitation = json!({"uuid": "INV1", "email": "new@example.com", "state": "P", "type": "R", "token": "secret-token"});
    let inv = invitation.clone();
    let invite_log = route(&server, &fake, "POST", "/api/v1/invite", move |_| {
        Answer::Encrypted(json!([inv.clone()]))
    })
    .await;
    let inv = invitation.clone();
    route(&server, &fake, "GET", "/api/v1/invites", move |_| {
        Answer::Encrypted(json!([inv.clone()]))
    })
    .await;
    let revoke_log = route(&server, &fake, "DELETE", "^/api/v1/invite/.+$", |_| {
        Answer::Encrypted(json!({"success": 1}))
    })
    .await;
    let suspend_log = route(&server, &fake, "PUT", "^/api/v1/people/suspend/.+$", |_| {
        Answer::Encrypted(json!({"success": 1}))
    })
    .await;
    let reactivate_log = route(
        &server,
        &fake,
        "PUT",
        "^/api/v1/people/reactivate/.+$",
        |_| Answer::Encrypted(json!({})),
    )
    .await;
    let delete_log = route(
        &server,
        &fake,
        "DELETE",
        "^/api/v1/people/[A-Z0-9,]+$",
        |_| Answer::Encrypted(json!({})),
    )
    .await;
    let confirm_log = route(&server, &fake, "PUT", "/api/v2/people/confirm", |_| {
        Answer::Encrypted(json!({"success": 1}))
    })
    .await;
    let touch_log = route(&server, &fake, "PUT", "/api/v1/session/touch", |_| {
        Answer::Encrypted(json!({"success": 1}))
    })
    .await;
    let signout_log = route(&server, &fake, "PUT", "/api/v1/session/signout", |_| {
        Answer::Encrypted(json!({"success": 1}))
    })
    .await;
    catch_all(&server, 0).await;
    let s = signed_in(&server, &fake).await;
    let c = &s.client;

    let request = opadmin_api::models::InviteRequest {
        invites: vec![opadmin_api::models::Invite {
            email: "new@example.com".into(),
            language: "en".into(),
            vaults: None,
        }],
        invite_type: UserType::Member,
    };
    let sent = c.invite(&request).await.expect("invite");
    assert_eq!(sent[0].uuid, "INV1");
    let body = entries(&invite_log)[0].2.clone().unwrap();
    assert_eq!(
        body,
        json!({"invites": [{"email": "new@example.com", "language": "en"}], "type": "R"})
    );
    assert_eq!(c.invitations().collect_all().await.unwrap().len(), 1);
    let many: Vec<String> = (0..16).map(|i| format!("INV{i}")).collect();
    c.revoke_invitations(&many).await.expect("revoke");
    assert_eq!(entries(&revoke_log).len(), 2);

    let people = uuids(20);
    c.suspend_people(&people).await.expect("suspend");
    c.reactivate_people(&people[..3]).await.expect("reactivate");
    c.delete_people(&people[..15]).await.expect("delete");
    let suspends = entries(&suspend_log);
    assert_eq!(suspends.len(), 2);
    assert_eq!(suspends[0].1.matches(',').count(), 14);
    assert_eq!(suspends[1].1.matches(',').count(), 4);
    assert_eq!(entries(&reactivate_log).len(), 1);
    assert_eq!(entries(&delete_log).len(), 1);

    let keyset = keysets_of(&fake)[0].clone();
    let memberships: Vec<GroupMembership> = people
        .iter()
        .map(|u| GroupMembership {
            group_uuid: GroupId::new("teammembers"),
            member_uuid: u.clone(),
            role: GroupRole::Member,
            state: GroupState::Active,
            version: None,
            keyset: Some(keyset.clone()),
            created_at: None,
            updated_at: None,
        })
        .collect();
    let confirmed = c
        .confirm_people(&ConfirmPeopleRequest {
            people_uuids: people.clone(),
            group_memberships: Some(memberships),
            vault_access: None,
        })
        .await;
    assert!(
        confirmed.iter().all(|b| b.error().is_none()),
        "every batch applied: {confirmed:?}"
    );
    assert_eq!(confirmed.len(), 2);
    let confirms = entries(&confirm_log);
    assert_eq!(confirms.len(), 2);
    for (_, _, body) in &confirms {
        let body = body.as_ref().unwrap();
        let people: Vec<&str> = body["peopleUuids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let members: Vec<&str> = body["groupMemberships"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["memberUuid"].as_str().unwrap())
            .collect();
        assert_eq!(people, members);
    }

    c.touch().await.expect("touch");
    assert_eq!(entries(&touch_log).len(), 1);
    c.sign_out().await.expect("sign out");
    assert_eq!(entries(&signout_log).len(), 1);
    assert!(c.transport().session_id().is_none());
}

/// The real fixtures through the sign-in and resource code paths: the complete answer with
/// its MFA challenge, the MFA answer, the keysets answer (opened with the fixture account's
/// Account Unlock Key from the published vectors) and the account, whose vault key opens with
/// the resulting keyring.
#[tokio::test]
async fn real_fixtures_through_the_sign_in_and_account_paths() {
    let (server, fake) = start().await;
    {
        let mut state = fake.state();
        state.complete_answer = Some(fixture("verify-key-response-mfa.json"));
        state.dsecret_to_hand_out = fixture("mfa-response.json")["dsecret"]
            .as_str()
            .map(str::to_owned);
    }
    route(&server, &fake, "GET", "/api/v1/account", |_| {
        Answer::Encrypted(fixture("get-account-info-response.json"))
    })
    .await;

    let s = sign_in(
        fake.account.credentials(&server.uri()),
        test_options().with_totp_secret(common::TOTP_SECRET),
    )
    .await
    .expect("sign-in with the fixture answers");
    assert_eq!(s.user_uuid.as_str(), "DFM4DHQMQ5AS5M6UHSD6PNV774");
    assert_eq!(s.account_uuid.as_str(), "FPF3CVJPDVAT5NVS26SPR4MPAI");
    assert_eq!(fake.state().mfa_answers, vec!["totp".to_owned()]);
    assert_eq!(
        s.new_dsecret
            .as_ref()
            .map(|d| d.expose_secret().to_owned())
            .as_deref(),
        Some("gUhBItRHUI7vAc04TJNUkA")
    );

    // From now on the keysets answer is the real one.
    Mock::given(method("GET"))
        .and(path("/api/v2/account/keysets"))
        .respond_with(fake.signed(|_, _| Answer::Encrypted(fixture("get-keysets-response.json"))))
        .with_priority(1)
        .mount(&server)
        .await;
    catch_all(&server, 0).await;
    let keysets = s.client.keysets().await.expect("keysets");
    let primary = keysets.primary().expect("primary keyset");
    assert_eq!(primary.uuid, "szerdhg2ww2ahjo4ilz57x7cce");
    assert_eq!(primary.enc_sym_key.p2c, Some(100_000));
    // The fixture account's AUK (vectors/keys.json); its password is not published.
    let auk_bytes = opadmin_crypto::encoding::hex_decode(
        "44c38e8fedb84a1ab5ba74ed98dde931f6500ae39c1d9c85e20a7268ab2074f0",
    )
    .unwrap();
    let auk = opadmin_crypto::envelope::SymmetricKey::new("mp", auk_bytes.try_into().unwrap());
    let keyring = opadmin_crypto::keyset::Keyring::unlock(&keysets.keysets, &auk).expect("unlock");

    let account = s.client.account().await.expect("account");
    let vault = account
        .vaults
        .as_ref()
        .and_then(|v| {
            v.iter()
                .find(|v| v.uuid.as_str() == "ru74fjxlkipzzctorwj4icrj2a")
        })
        .expect("fixture vault");
    let access = &vault.access.as_ref().expect("access")[0];
    let vault_key = keyring
        .unwrap_key(&access.enc_vault_key)
        .expect("vault key opens");
    assert_eq!(vault_key.kid(), "x4ouqoqyhcnqojrgubso4hsdga");
}
