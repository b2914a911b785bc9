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
    let users = dir(&server).await.users().await.unwrap();
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
    let groups = dir(&server).await.groups().await.unwrap();
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
    let users = dir(&server).await.users().await.unwrap();
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
    let users = dir(&server).await.users().await.unwrap();
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
    assert!(dir(&server).await.users().await.unwrap().is_empty());
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
    let e = dir(&server).await.users().await.unwrap_err();
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
    let e = dir(&server).await.users().await.unwrap_err();
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
    let e = d.users().await.unwrap_err();
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

// ---------------------------------------------------------------------------------------------
// Transport rules: HTTPS, redirects, timeouts, retries that never repeat a change, Retry-After
// dates, the body cap, and the token kept out of every output.
// ---------------------------------------------------------------------------------------------

fn client(server: &MockServer) -> ScimClient {
    ScimClient::new(&format!("{}/scim/v2", server.uri()), TOKEN).unwrap()
}

fn assert_no_token(texts: &[String]) {
    for text in texts {
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
    }
}

#[test]
fn plain_http_only_to_loopback_unless_allowed() {
    for refused in [
        "http://192.0.2.1/scim",
        "http://scim.example.com/scim/v2",
        "http://10.0.0.1:8080",
        "http://localhost.example.com/",
    ] {
        let e = ScimClient::new(refused, TOKEN).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidInput(m) if m.contains("in clear")),
            "{refused}: {e:?}"
        );
        let e = ScimClient::with_http_client(refused, TOKEN, reqwest::Client::new()).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidInput(m) if m.contains("in clear")),
            "{refused}: {e:?}"
        );
        let e = ScimDirectory::new(refused, TOKEN).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{refused}: {e:?}");
        // The explicit opt-in for test set-ups.
        let c = ScimClient::builder(refused, TOKEN)
            .allow_insecure_http(true)
            .build()
            .unwrap();
        assert!(c.base_url().starts_with("http://"));
    }
    for allowed in [
        "http://127.0.0.1:8080/scim",
        "http://127.9.9.9/",
        "http://[::1]:9/scim/v2",
        "http://localhost/scim",
        "https://scim.example.com",
    ] {
        ScimClient::new(allowed, TOKEN).unwrap_or_else(|e| panic!("{allowed}: {e:?}"));
        ScimClient::with_http_client(allowed, TOKEN, reqwest::Client::new())
            .unwrap_or_else(|e| panic!("{allowed}: {e:?}"));
    }
}

#[test]
fn base_url_credentials_and_bad_tokens_are_refused_without_quoting_them() {
    let e = ScimClient::new("https://admin:hunter2@scim.example.com", TOKEN).unwrap_err();
    assert!(matches!(&e, Error::InvalidInput(_)), "{e:?}");
    assert!(!e.to_string().contains("hunter2") && !format!("{e:?}").contains("hunter2"));

    let bad = format!("{TOKEN} with\nspaces");
    let e = ScimClient::new("https://scim.example.com", bad.as_str()).unwrap_err();
    assert!(matches!(&e, Error::InvalidInput(_)), "{e:?}");
    assert_no_token(&[e.to_string(), format!("{e:?}")]);

    // A token read from a file keeps its trailing newline; it is not part of the token.
    let c = ScimClient::new("https://scim.example.com", format!("{TOKEN}\n")).unwrap();
    assert_no_token(&[format!("{c:?}")]);
    assert!(format!("{c:?}").contains("redacted"));
}

#[tokio::test]
async fn trimmed_token_is_what_is_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(scim(list(Some(0), 1, vec![])))
        .expect(1)
        .mount(&server)
        .await;
    let c = ScimClient::new(&format!("{}/scim/v2", server.uri()), format!(" {TOKEN}\n")).unwrap();
    let users: Vec<ScimUser> = c.list(USERS, None).await.unwrap();
    assert!(users.is_empty());
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let target = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(scim(list(Some(0), 1, vec![])))
        .expect(0)
        .mount(&target)
        .await;
    let server = MockServer::start().await;
    for status in [301, 302, 307, 308] {
        server.reset().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("Location", format!("{}/scim/v2/Users", target.uri())),
            )
            .mount(&server)
            .await;
        let e = dir(&server).await.users().await.unwrap_err();
        assert!(
            matches!(&e, Error::Protocol(m) if m.contains("never followed")),
            "{status}: {e:?}"
        );
        // Not retried either.
        assert_eq!(requests(&server).await.len(), 1, "{status}");
    }
    assert!(requests(&target).await.is_empty());
}

#[tokio::test]
async fn total_timeout_is_configurable_and_typed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(scim(list(Some(0), 1, vec![])).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let c = client(&server)
        .timeout(Duration::from_millis(300))
        .retries(0, Duration::from_secs(1));
    let started = std::time::Instant::now();
    let e = ScimDirectory::with_client(c).users().await.unwrap_err();
    assert!(matches!(e, Error::Timeout), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_timed_out_post_is_not_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(scim(user_json("N", "n@x.example", true)).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let d = ScimDirectory::with_client(client(&server).timeout(Duration::from_millis(300)));
    let e = d
        .invite("n@x.example", "N", UserType::Member)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout), "{e:?}");
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_timed_out_get_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(scim(list(Some(0), 1, vec![])).set_delay(Duration::from_secs(5)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(scim(list(Some(0), 1, vec![])))
        .mount(&server)
        .await;
    let d = ScimDirectory::with_client(client(&server).timeout(Duration::from_millis(300)));
    assert!(d.users().await.unwrap().is_empty());
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn changes_answered_503_are_sent_exactly_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "0"))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let d = dir(&server).await;
    let e = d
        .invite("new@x.example", "New", UserType::Member)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Transport { message: m, .. } if m.contains("503") && m.contains("not sent again")),
        "{e:?}"
    );
    let e = d.suspend(UserId::new("U1").into()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Transport { message: m, .. } if m.contains("503")),
        "{e:?}"
    );
    let e = d.delete_group(&GroupId::new("g1")).await.unwrap_err();
    assert!(
        matches!(&e, Error::Transport { message: m, .. } if m.contains("502")),
        "{e:?}"
    );
    let sent: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(sent, ["POST", "PATCH", "DELETE"]);
}

#[tokio::test]
async fn a_get_answered_503_is_retried_until_the_bound() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "0"))
        .mount(&server)
        .await;
    let e = dir(&server).await.users().await.unwrap_err();
    assert!(
        matches!(&e, Error::Transport { message: m, .. } if m.contains("503")),
        "{e:?}"
    );
    // The first attempt and three retries.
    assert_eq!(requests(&server).await.len(), 4);
}

#[tokio::test]
async fn a_post_answered_429_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(scim(user_json("NEW", "new@x.example", true)))
        .mount(&server)
        .await;
    let inv = dir(&server)
        .await
        .invite("new@x.example", "New", UserType::Member)
        .await
        .unwrap();
    assert_eq!(inv.id, "NEW");
    assert_eq!(requests(&server).await.len(), 2);
}

/// An HTTP date `ahead` from now (whole seconds, as HTTP dates are).
fn http_date_in(ahead: Duration) -> String {
    let at = time::OffsetDateTime::now_utc() + ahead;
    at.format(time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    ))
    .unwrap()
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", http_date_in(Duration::from_secs(2)).as_str()),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(scim(list(Some(0), 1, vec![])))
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    assert!(dir(&server).await.users().await.unwrap().is_empty());
    // The date is whole seconds, so the wait is between 1 and 2 s; the back-off alone would be
    // about 0.3 s.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert!(waited < Duration::from_secs(4), "{waited:?}");
    assert_eq!(requests(&server).await.len(), 2);

    // A date further ahead than the longest wait is reported at once, with the wait.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header(
            "Retry-After",
            http_date_in(Duration::from_secs(600)).as_str(),
        ))
        .mount(&server)
        .await;
    let e = dir(&server).await.users().await.unwrap_err();
    assert!(
        matches!(e, Error::RateLimited { retry_after: Some(d) } if d > Duration::from_secs(500)),
        "{e:?}"
    );
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_for_any_method() {
    // A port that was just free: nothing listens on it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = ScimClient::new(&format!("http://127.0.0.1:{port}/scim"), TOKEN)
        .unwrap()
        .retries(2, Duration::from_secs(2));
    let d = ScimDirectory::with_client(c);
    let started = std::time::Instant::now();
    let e = d
        .invite("a@x.example", "A", UserType::Member)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Transport { message: m, .. } if m.contains("could not connect")),
        "{e:?}"
    );
    assert_no_token(&[e.to_string(), format!("{e:?}")]);
    // Two back-offs (at least 250 ms and 500 ms) were waited: the POST was tried three times.
    assert!(started.elapsed() >= Duration::from_millis(750));
}

#[tokio::test]
async fn answers_over_the_cap_are_refused_and_not_retried() {
    let server = MockServer::start().await;
    let big = list(
        Some(40),
        1,
        (0..40)
            .map(|i| user_json(&format!("U{i}"), &format!("u{i}@x.example"), true))
            .collect(),
    )
    .to_string();
    assert!(big.len() > 4096);
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(big.clone(), SCIM_MEDIA_TYPE))
        .mount(&server)
        .await;
    let d = ScimDirectory::with_client(client(&server).max_answer_bytes(4096));
    let e = d.users().await.unwrap_err();
    assert!(matches!(e, Error::AnswerTooLarge { limit: 4096 }), "{e:?}");
    assert_eq!(requests(&server).await.len(), 1);
    // The same answer under a cap that fits it is read.
    let d = ScimDirectory::with_client(client(&server).max_answer_bytes(big.len()));
    assert_eq!(d.users().await.unwrap().len(), 40);
    // Error answers are capped too.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(big, SCIM_MEDIA_TYPE))
        .mount(&server)
        .await;
    let d = ScimDirectory::with_client(client(&server).max_answer_bytes(4096));
    let e = d.create_group("G").await.unwrap_err();
    assert!(matches!(e, Error::AnswerTooLarge { limit: 4096 }), "{e:?}");
}

#[tokio::test]
async fn the_token_is_scrubbed_from_what_the_server_echoes() {
    let server = MockServer::start().await;
    let echo = |status: u16| {
        ResponseTemplate::new(status).set_body_raw(
            json!({"status": status, "scimType": "invalidValue",
                "detail": format!("bad header: Authorization: Bearer {TOKEN}")})
            .to_string(),
            SCIM_MEDIA_TYPE,
        )
    };
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(echo(400))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/scim/v2/Groups"))
        .respond_with(echo(409))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(echo(503))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(echo(403))
        .mount(&server)
        .await;
    // A success answer whose shape is wrong, quoting the token in the offending value.
    Mock::given(method("GET"))
        .respond_with(scim(json!({"Resources": TOKEN, "totalResults": 1})))
        .mount(&server)
        .await;
    let d = dir(&server).await;
    let errors = [
        d.invite("a@x.example", "A", UserType::Member)
            .await
            .map(drop)
            .unwrap_err(),
        d.create_group("G").await.map(drop).unwrap_err(),
        d.suspend(UserId::new("U").into())
            .await
            .map(drop)
            .unwrap_err(),
        d.delete_group(&GroupId::new("g")).await.unwrap_err(),
        d.users().await.map(drop).unwrap_err(),
    ];
    assert!(
        matches!(&errors[0], Error::InvalidInput(m) if m.contains("<redacted>")),
        "{:?}",
        errors[0]
    );
    assert!(matches!(&errors[1], Error::InvalidState(_)));
    assert!(matches!(&errors[2], Error::Transport { .. }));
    assert!(matches!(&errors[3], Error::PermissionDenied { .. }));
    assert!(matches!(&errors[4], Error::Protocol(_)));
    let mut texts: Vec<String> = errors
        .iter()
        .flat_map(|e| [e.to_string(), format!("{e:?}")])
        .collect();
    texts.push(format!("{d:?}"));
    assert_no_token(&texts);
}

mod capture {
    //! A `tracing` subscriber that writes every span and event, with all their fields, to a
    //! string, to check what the client logs.

    use std::fmt::{Debug, Write};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    #[derive(Clone, Default)]
    pub(super) struct Capture {
        pub(super) text: Arc<Mutex<String>>,
        next: Arc<AtomicU64>,
    }

    struct Writer<'a>(&'a mut String);

    impl Visit for Writer<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    impl Capture {
        fn write(&self, f: impl FnOnce(&mut String)) {
            if let Ok(mut text) = self.text.lock() {
                f(&mut text);
                text.push('\n');
            }
        }
    }

    impl Subscriber for Capture {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &Attributes<'_>) -> Id {
            self.write(|t| {
                t.push_str(span.metadata().name());
                span.record(&mut Writer(t));
            });
            Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed) + 1)
        }
        fn record(&self, _: &Id, values: &Record<'_>) {
            self.write(|t| values.record(&mut Writer(t)));
        }
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            self.write(|t| {
                t.push_str(event.metadata().name());
                event.record(&mut Writer(t));
            });
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }
}

#[tokio::test]
async fn tracing_never_records_the_token() {
    let capture = capture::Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(scim(list(Some(0), 1, vec![])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_raw(
            json!({"detail": format!("token {TOKEN}")}).to_string(),
            SCIM_MEDIA_TYPE,
        ))
        .mount(&server)
        .await;
    let d = dir(&server).await;
    d.users().await.unwrap();
    d.invite("a@x.example", "A", UserType::Member)
        .await
        .unwrap_err();
    let text = capture.text.lock().unwrap().clone();
    // The capture works: the request spans, their statuses and the retry were recorded.
    assert!(text.contains("scim.request"), "{text}");
    assert!(
        text.contains("status=429") && text.contains("status=503"),
        "{text}"
    );
    assert!(text.contains("retrying"), "{text}");
    assert_no_token(&[text]);
}
