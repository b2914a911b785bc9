//! The SCIM backend against a wiremock server: paging, filters, escaping, lenient parsing,
//! retries, and the operations refused before any request.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;

const TOKEN: &str = "tok-3x4mpl3-s3cr3t";

fn scim(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), SCIM_MEDIA_TYPE)
}

fn user_json(id: &str, email: &str, active: bool) -> Value {
    json!({
        "schemas": [USER_SCHEMA], "id": id, "userName": email,
        "name": {"formatted": "N", "givenName": "N", "familyName": ""},
        "displayName": format!("Name {id}"), "active": active,
        "emails": [{"value": email, "type": "", "primary": true}],
        "meta": {"created": "", "lastModified": "", "location": "", "resourceType": "User", "version": ""}
    })
}

fn list(total: Option<u64>, start: u64, resources: Vec<Value>) -> Value {
    let mut v =
        json!({"schemas": [LIST_RESPONSE_SCHEMA], "startIndex": start, "Resources": resources});
    if let Some(t) = total {
        v["totalResults"] = json!(t);
    }
    v
}

async fn dir(server: &MockServer) -> ScimDirectory {
    ScimDirectory::with_client(
        ScimClient::new(&format!("{}/scim/v2", server.uri()), TOKEN)
            .unwrap()
            .page_size(2)
            .retries(3, Duration::from_secs(2)),
    )
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

#[tokio::test]
async fn lists_every_page_without_items_per_page() {
    let server = MockServer::start().await;
    for (start, ids) in [(1, vec!["A", "B"]), (3, vec!["C", "D"]), (5, vec!["E"])] {
        let resources = ids
            .iter()
            .map(|id| user_json(id, &format!("{}@x.example", id.to_lowercase()), *id != "C"))
            .collect();
        Mock::given(method("GET"))
            .and(path("/scim/v2/Users"))
            .and(query_param("startIndex", start.to_string()))
            .and(query_param("count", "2"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(scim(list(Some(5), start, resources)))
            .expect(1)
            .mount(&server)
            .await;
    }
    let users = dir(&server).await.list_users().await.unwrap();
    assert_eq!(users.len(), 5);
    assert_eq!(users[0].email, "a@x.example");
    assert_eq!(users[0].name, "Name A");
    assert_eq!(users[2].state, UserState::Suspended);
    assert_eq!(users[1].state, UserState::Active);
    assert!(
        users
            .iter()
            .all(|u| u.last_sign_in.is_none() && u.created_at.is_none())
    );
    assert!(users.iter().all(|u| u.user_type == UserType::Member));
}

#[tokio::test]
async fn paging_stops_on_missing_total_or_empty_page() {
    let server = MockServer::start().await;
    // No totalResults: one page only.
    Mock::given(method("GET"))
        .and(path("/scim/v2/Groups"))
        .respond_with(scim(list(
            None,
            1,
            vec![
                json!({"id": "g1", "displayName": "One"}),
                json!({"id": "g2", "displayName": "Two"}),
            ],
        )))
        .expect(1)
        .mount(&server)
        .await;
    let groups = dir(&server).await.list_groups().await.unwrap();
    assert_eq!(groups.len(), 2);
    assert!(groups[0].members.is_empty());

    // A total that claims more than the server delivers: stop at the empty page.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("startIndex", "1"))
        .respond_with(scim(list(
            Some(50),
            1,
            vec![user_json("A", "a@x.example", true)],
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param("startIndex", "2"))
        .respond_with(scim(list(Some(50), 2, vec![])))
        .mount(&server)
        .await;
    let users = dir(&server).await.list_users().await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn find_user_sends_an_escaped_eq_filter() {
    let server = MockServer::start().await;
    let tricky = r#"o"brien\x@x.example"#;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param(
            "filter",
            r#"userName eq "o\"brien\\x@x.example""#,
        ))
        .respond_with(scim(list(Some(1), 1, vec![user_json("Q", tricky, true)])))
        .expect(1)
        .mount(&server)
        .await;
    let found = dir(&server).await.find_user(tricky).await.unwrap().unwrap();
    assert_eq!(found.id.as_str(), "Q");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim(list(Some(0), 1, vec![])))
        .mount(&server)
        .await;
    assert!(
        dir(&server)
            .await
            .find_user("nobody@x.example")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn parses_recorded_shapes_leniently() {
    let server = MockServer::start().await;
    // Hosted shape: meta with resourceType only, no emails; group with real timestamps and `ref`.
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim(json!({
            "schemas": [LIST_RESPONSE_SCHEMA], "totalResults": 1, "itemsPerPage": 0, "startIndex": 1,
            "Resources": [{"schemas": [USER_SCHEMA], "id": "H", "userName": "Hosted@X.example",
                "name": {"formatted": "Ho Sted"}, "active": true, "preferredLanguage": "en",
                "groups": [{"value": "g", "ref": "https://b/Groups/g"}],
                "meta": {"resourceType": "User", "created": "2026-05-21T10:00:00Z"}}]
        })))
        .mount(&server)
        .await;
    let users = dir(&server).await.list_users().await.unwrap();
    assert_eq!(users[0].email, "hosted@x.example");
    assert_eq!(users[0].name, "Ho Sted");
    assert!(users[0].created_at.is_some());
    assert_eq!(users[0].last_sign_in, None);
}

#[tokio::test]
async fn retries_429_and_503_honouring_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(scim(list(Some(0), 1, vec![])))
        .mount(&server)
        .await;
    assert!(dir(&server).await.list_users().await.unwrap().is_empty());
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn retries_are_bounded() {
    // A Retry-After beyond the cap is reported without waiting.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .mount(&server)
        .await;
    let e = dir(&server).await.list_users().await.unwrap_err();
    assert!(
        matches!(e, Error::RateLimited { retry_after: Some(d) } if d.as_secs() == 3600),
        "{e:?}"
    );
    assert_eq!(requests(&server).await.len(), 1);

    // Persistent 429 stops after max_retries + 1 attempts.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .mount(&server)
        .await;
    let e = dir(&server).await.list_users().await.unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e:?}");
    assert_eq!(requests(&server).await.len(), 4);
}

#[tokio::test]
async fn unsupported_operations_send_nothing() {
    let server = MockServer::start().await;
    let d = dir(&server).await;
    let caps = d.capabilities();
    assert!(!caps.vault_access && !caps.guests && !caps.confirmation && !caps.last_sign_in);
    assert!(caps.groups);
    let vault = VaultId::new("v");
    let group = GroupId::new("g");
    let errors = [
        d.grant_vault_access(&vault, "a@x.example".into(), VaultPermissions::RWE)
            .await
            .map(drop),
        d.revoke_vault_access(&vault, "a@x.example".into())
            .await
            .map(drop),
        d.confirm("a@x.example".into()).await,
        d.invite("g@x.example", "Guest", UserType::Guest)
            .await
            .map(drop),
        d.add_to_group(&group, "a@x.example".into(), GroupRole::Manager)
            .await
            .map(drop),
    ];
    for e in errors {
        let e = e.unwrap_err();
        assert!(
            matches!(
                e,
                Error::NotSupported {
                    backend: BACKEND,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("not supported by the SCIM backend"));
    }
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn invite_posts_scim_json_and_accepts_200() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .and(header("content-type", SCIM_MEDIA_TYPE))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_partial_json(json!({
            "schemas": [USER_SCHEMA], "userName": "new@x.example", "active": true,
            "name": {"givenName": "New", "familyName": "Person Jr"},
            "emails": [{"value": "new@x.example", "primary": true}]
        })))
        .respond_with(scim(user_json("NEW", "new@x.example", true)))
        .expect(1)
        .mount(&server)
        .await;
    let inv = dir(&server)
        .await
        .invite(" New@X.example ", "New Person Jr", UserType::Member)
        .await
        .unwrap();
    assert_eq!(inv.id, "NEW");
    assert_eq!(inv.email, "new@x.example");
}

#[tokio::test]
async fn suspend_accepts_200_with_body_and_204() {
    let server = MockServer::start().await;
    let op = json!({"schemas": [PATCH_OP_SCHEMA],
        "Operations": [{"op": "replace", "path": "active", "value": false}]});
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Users/U1"))
        .and(body_partial_json(op))
        .respond_with(scim(user_json("U1", "u1@x.example", false)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Users/U2"))
        .and(body_partial_json(
            json!({"Operations": [{"op": "replace", "path": "active", "value": true}]}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users/U2"))
        .respond_with(scim(user_json("U2", "u2@x.example", true)))
        .expect(1)
        .mount(&server)
        .await;
    let d = dir(&server).await;
    let u = d.suspend(UserId::new("U1").into()).await.unwrap();
    assert_eq!(u.state, UserState::Suspended);
    let u = d.reactivate(UserId::new("U2").into()).await.unwrap();
    assert_eq!(u.state, UserState::Active);
}

#[tokio::test]
async fn remove_reports_suspend_or_delete_honestly() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users/OP"))
        .respond_with(scim(user_json("OP", "op@x.example", true)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users/OP"))
        .respond_with(scim(user_json("OP", "op@x.example", false)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users/RFC"))
        .respond_with(scim(user_json("RFC", "rfc@x.example", true)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users/RFC"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_raw(r#"{"status":"404","detail":"gone"}"#, SCIM_MEDIA_TYPE),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(2)
        .mount(&server)
        .await;
    let d = dir(&server).await;
    let op = d.remove(UserId::new("OP").into()).await.unwrap();
    assert_eq!(op.state, UserState::Suspended);
    let rfc = d.remove(UserId::new("RFC").into()).await.unwrap();
    assert_eq!(rfc.state, UserState::Deleted);
    assert_eq!(rfc.email, "rfc@x.example");
}

#[tokio::test]
async fn membership_patches_use_rfc_forms() {
    let server = MockServer::start().await;
    // The group does not list members (as on 1Password): both changes are sent.
    Mock::given(method("GET"))
        .and(path("/scim/v2/Groups/g1"))
        .respond_with(scim(json!({"id": "g1", "displayName": "G"})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Groups/g1"))
        .and(body_partial_json(json!({"Operations": [
            {"op": "add", "path": "members", "value": [{"value": "U1"}]}]})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/scim/v2/Groups/g1"))
        .and(body_partial_json(json!({"Operations": [
            {"op": "remove", "path": "members[value eq \"U1\"]"}]})))
        .respond_with(scim(json!({"id": "g1", "displayName": "G"})))
        .expect(1)
        .mount(&server)
        .await;
    let d = dir(&server).await;
    let g = GroupId::new("g1");
    let added = d
        .add_to_group(&g, UserId::new("U1").into(), GroupRole::Member)
        .await
        .unwrap();
    assert_eq!(
        added,
        MembershipOutcome::Added {
            role: GroupRole::Member
        }
    );
    let removed = d
        .remove_from_group(&g, UserId::new("U1").into())
        .await
        .unwrap();
    assert_eq!(removed, MembershipOutcome::Removed);

    // A group that lists members answers without a change.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Groups/g2"))
        .respond_with(scim(json!({"id": "g2", "displayName": "G",
            "members": [{"value": "U1", "$ref": "/Users/U1"}]})))
        .mount(&server)
        .await;
    let d = dir(&server).await;
    let g = GroupId::new("g2");
    assert_eq!(
        d.add_to_group(&g, UserId::new("U1").into(), GroupRole::Member)
            .await
            .unwrap(),
        MembershipOutcome::AlreadyMember {
            role: GroupRole::Member
        }
    );
    assert_eq!(
        d.remove_from_group(&g, UserId::new("U9").into())
            .await
            .unwrap(),
        MembershipOutcome::NotMember
    );
    assert!(
        requests(&server)
            .await
            .iter()
            .all(|r| r.method.as_str() == "GET")
    );
}

#[tokio::test]
async fn groups_can_be_created_and_deleted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Groups"))
        .and(body_partial_json(json!({"schemas": [GROUP_SCHEMA], "displayName": "Ops"})))
        .respond_with(ResponseTemplate::new(201).set_body_raw(
            json!({"id": "g9", "displayName": "Ops", "meta": {"created": "2026-05-21T10:00:00Z"}}).to_string(),
            SCIM_MEDIA_TYPE,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/scim/v2/Groups/g9"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let d = dir(&server).await;
    let g = d.create_group("Ops").await.unwrap();
    assert_eq!(g.id.as_str(), "g9");
    assert_eq!(g.group_type, GroupType::UserDefined);
    d.delete_group(&g.id).await.unwrap();
    assert!(matches!(
        d.create_group("  ").await,
        Err(Error::InvalidInput(_))
    ));
}

#[tokio::test]
async fn errors_never_carry_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": 401, "detail": "bad token"}).to_string(),
            SCIM_MEDIA_TYPE,
        ))
        .mount(&server)
        .await;
    let d = dir(&server).await;
    let e = d.list_users().await.unwrap_err();
    assert!(matches!(e, Error::PermissionDenied { .. }), "{e:?}");
    for text in [e.to_string(), format!("{e:?}"), format!("{d:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
    }
    // An unknown id is NotFound naming the person.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let e = dir(&server)
        .await
        .suspend(UserRef::from("nobody@x.example"))
        .await;
    assert!(matches!(e, Err(Error::NotFound { .. })), "{e:?}");
}
