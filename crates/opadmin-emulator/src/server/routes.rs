//! The one route table of the b5 API. Every method and path the emulator serves is one entry
//! here, with its handler and its policy: when it may be called (before a session key exists,
//! while signing in, or signed in), whether a service account may call it, and whether its
//! success answer goes out unsealed. Dispatch, the service-account rule and the sealing rule all
//! read this table, so a route cannot be added to one of them and forgotten in another.
//!
//! Paths are patterns of `/`-separated segments:
//! * `account`: that literal segment;
//! * `v1|v3`: one of these (not handed to the handler);
//! * `*`: any one segment, handed to the handler;
//! * `{person|group}`: one of these, handed to the handler;
//! * `..` (last only): any number of further segments, none handed over.
//!
//! The first entry that matches serves the request, so specific paths come before the general
//! ones they share a prefix with (`user/pubkeys` before `user/*`).

use serde_json::json;

use super::session::Stage;
use super::{Reply, Req, Shared, auth, resources, vault_lifecycle};

/// Who may call a route, and with what the handler is called.
#[derive(Clone, Copy)]
pub(crate) enum Handler {
    /// Unsigned: a sign-in step before any session key exists.
    Open(fn(&Shared, &Req) -> Reply),
    /// Unsigned, but only while the named session (if any) has no key yet; once it has one, the
    /// request is not this route.
    BeforeKey(fn(&Shared, &Req) -> Reply),
    /// Signed, in a session at any stage (the steps that finish signing in): the handler gets
    /// the session id and stage.
    Signing(fn(&Shared, &Req, &str, Stage) -> Reply),
    /// Signed, in a session that has finished signing in.
    SignedIn(fn(&Shared, &Call<'_>) -> Reply),
}

/// How a 2xx answer to a signed request goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Sealed with the session key (the rule).
    Sealed,
    /// Plain JSON (the exceptions; see [`ROUTES`]).
    Plain,
}

/// One route: method, path pattern, handler and policy.
pub(crate) struct Route {
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path pattern (see the module documentation).
    pub path: &'static str,
    /// The handler, which also says when the route may be called.
    pub handler: Handler,
    /// Whether a service account may call it (if not: HTTP 403, errorCode 101, before anything
    /// else is looked at).
    pub service_accounts: bool,
    /// How its success answer goes out.
    pub answer: Answer,
}

/// A signed-in request as a [`Handler::SignedIn`] handler sees it.
pub(crate) struct Call<'a> {
    /// The request (its body already opened).
    pub req: &'a Req,
    /// The signed-in user's uuid.
    pub me: &'a str,
    /// The session id.
    pub session_id: &'a str,
    /// The segments the pattern hands over (`*` and `{a|b}`), in order.
    params: Vec<&'a str>,
}

impl<'a> Call<'a> {
    /// A signed-in request with the segments its route's pattern hands over.
    pub fn new(req: &'a Req, me: &'a str, session_id: &'a str, params: Vec<&'a str>) -> Self {
        Self {
            req,
            me,
            session_id,
            params,
        }
    }

    /// The `i`-th handed-over segment (empty if the pattern has fewer: never, for a matched
    /// route).
    pub fn param(&self, i: usize) -> &'a str {
        self.params.get(i).copied().unwrap_or("")
    }
}

impl Route {
    const fn new(method: &'static str, path: &'static str, handler: Handler) -> Self {
        Self {
            method,
            path,
            handler,
            service_accounts: true,
            answer: Answer::Sealed,
        }
    }

    /// A service account may not call it.
    const fn people_only(self) -> Self {
        Self {
            service_accounts: false,
            ..self
        }
    }

    /// Its success answer goes out as plain JSON.
    const fn plain(self) -> Self {
        Self {
            answer: Answer::Plain,
            ..self
        }
    }

    /// The segments the pattern hands over, if `segs` matches it.
    pub fn capture<'s>(&self, segs: &[&'s str]) -> Option<Vec<&'s str>> {
        let mut params = Vec::new();
        let mut rest = segs.iter();
        for pattern in self.path.split('/') {
            if pattern == ".." {
                return Some(params);
            }
            let seg = *rest.next()?;
            if pattern == "*" {
                params.push(seg);
            } else if let Some(choices) =
                pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}'))
            {
                if !choices.split('|').any(|c| c == seg) {
                    return None;
                }
                params.push(seg);
            } else if !pattern.split('|').any(|c| c == seg) {
                return None;
            }
        }
        rest.next().is_none().then_some(params)
    }

    fn matches(&self, method: &str, segs: &[&str]) -> bool {
        self.method == method && self.capture(segs).is_some()
    }
}

/// The route serving `method` and `segs`. `has_key` tells whether the request's session already
/// has a key; it is asked only when a [`Handler::BeforeKey`] route matches.
pub(crate) fn find(
    method: &str,
    segs: &[&str],
    has_key: impl FnOnce() -> bool,
) -> Option<&'static Route> {
    let mut has_key = Some(has_key);
    let mut keyed = None;
    ROUTES.iter().find(|r| {
        r.matches(method, segs)
            && !(matches!(r.handler, Handler::BeforeKey(_))
                && *keyed.get_or_insert_with(|| has_key.take().is_some_and(|f| f())))
    })
}

/// Answers a signed-in request that matched nothing.
fn not_served(_: &Shared, _: &Call<'_>) -> Reply {
    Reply::not_found()
}

/// Every route of the b5 API.
///
/// Plain answers: `PATCH /api/v2/vault/{v}/vaultaccess`, `DELETE /api/v1/vault/{v}/person/{u}`
/// and `DELETE /api/v1/vault/{v}/group/{g}`, because 1Password's own client (its SDK 0.5.0)
/// requires exactly `{"success":1}` unencrypted for these vault-access writes (`{"success":true}`,
/// `{}` or an encrypted answer make it fail); `PATCH /api/v1/acl/{person|group}/{v}/{id}/{acl}`,
/// the other vault-access write, kept as the emulator has always answered it (whether 1Password's
/// client requires it plain too is not recorded; clients that tell envelopes from plain answers
/// accept either); and `PUT /api/v1/session/signout`, whose session, and with it its key, is gone
/// by the time the answer is written. The vault lifecycle writes answer plain `{"success":1}` too,
/// because 1Password's SDK 0.5.0 requires exactly that of them (an encrypted answer, or the new
/// vault as an object, makes it fail): `POST /api/v2/vault` (create), `PUT
/// /api/v3/vault/{v}/attrs` (name and description), `DELETE /api/v4/vault/{v}` and `PATCH
/// /api/v2/acl/groups` (many groups' permissions). Errors are always plain JSON, as the real
/// server sends them.
///
/// Service accounts may not manage people or group membership (1Password documents that they
/// cannot manage people or groups): invitations, confirmation, suspend / reactivate / delete,
/// and group membership and role changes are refused to them. The last entries refuse them the
/// rest of those path families too, which are otherwise not served.
pub(crate) static ROUTES: &[Route] = &[
    // Signing in, unsigned.
    Route::new("POST", "api/v3/auth/start", Handler::Open(auth::start)),
    Route::new(
        "POST",
        "api/v1/device",
        Handler::BeforeKey(auth::register_device),
    ),
    Route::new("POST", "api/v1/auth", Handler::Open(auth::srp_v1)),
    Route::new("POST", "api/v2/auth", Handler::Open(auth::srp_v2)),
    Route::new(
        "POST",
        "api/v2/auth/confirm-key",
        Handler::Open(auth::confirm_key),
    ),
    // Signing in, signed.
    Route::new(
        "POST",
        "api/v2/auth/complete",
        Handler::Signing(auth::complete),
    ),
    Route::new("POST", "api/v2/auth/verify", Handler::Signing(auth::verify)),
    Route::new("POST", "api/v1/auth/mfa", Handler::Signing(auth::mfa)),
    // The session.
    Route::new(
        "PUT",
        "api/v1/session/touch",
        Handler::SignedIn(|_, _| Reply::success()),
    ),
    Route::new(
        "PUT",
        "api/v1/session/signout",
        Handler::SignedIn(|shared, c| {
            shared.sessions().remove(c.session_id);
            Reply::plain(json!({"success": 1}))
        }),
    )
    .plain(),
    // The account and people.
    Route::new(
        "GET",
        "api/v1|v3/account",
        Handler::SignedIn(|s, c| resources::account(s, c.req, c.me)),
    ),
    Route::new(
        "GET",
        "api/v1|v2/account/keysets",
        Handler::SignedIn(|s, c| resources::keysets(s, c.me)),
    ),
    Route::new(
        "GET",
        "api/v3|v2/users",
        Handler::SignedIn(|s, c| resources::users(s, c.req, c.me)),
    ),
    Route::new(
        "GET",
        "api/v2|v1/user/pubkeys",
        Handler::SignedIn(|s, c| resources::user_pubkeys(s, c.req)),
    ),
    Route::new(
        "GET",
        "api/v2|v1/user/*",
        Handler::SignedIn(|s, c| resources::user(s, c.req, c.me, c.param(0))),
    ),
    // Groups.
    Route::new(
        "GET",
        "api/v1/group/pubkeys",
        Handler::SignedIn(|s, c| resources::group_pubkeys(s, c.req, c.me)),
    ),
    Route::new(
        "GET",
        "api/v2|v1/group/*",
        Handler::SignedIn(|s, c| resources::group(s, c.req, c.me, c.param(0))),
    ),
    Route::new(
        "GET",
        "api/v1/group/*/users",
        Handler::SignedIn(|s, c| resources::group_users(s, c.me, c.param(0))),
    ),
    Route::new(
        "PATCH",
        "api/v3/group/*/membership",
        Handler::SignedIn(|s, c| resources::membership(s, c.req, c.me, c.param(0))),
    )
    .people_only(),
    Route::new(
        "DELETE",
        "api/v1/group/*/person/*",
        Handler::SignedIn(|s, c| resources::remove_member(s, c.me, c.param(0), c.param(1))),
    )
    .people_only(),
    Route::new(
        "PATCH",
        "api/v1/group/*/person/*/role/*",
        Handler::SignedIn(|s, c| resources::set_role(s, c.me, c.param(0), c.param(1), c.param(2))),
    )
    .people_only(),
    // Vaults and access.
    Route::new(
        "GET",
        "api/v1/vaults",
        Handler::SignedIn(|s, c| resources::vaults(s, c.me)),
    ),
    Route::new(
        "GET",
        "api/v1/vault/preflight/create",
        Handler::SignedIn(|s, c| vault_lifecycle::preflight_create(s, c.req, c.me)),
    ),
    Route::new(
        "GET",
        "api/v1/vault/preflight/delete/*",
        Handler::SignedIn(|s, c| vault_lifecycle::preflight_delete(s, c.me, c.param(0))),
    ),
    Route::new(
        "POST",
        "api/v2/vault",
        Handler::SignedIn(|s, c| vault_lifecycle::create(s, c.req, c.me)),
    )
    .plain(),
    Route::new(
        "PUT",
        "api/v3/vault/*/attrs",
        Handler::SignedIn(|s, c| vault_lifecycle::update(s, c.req, c.me, c.param(0))),
    )
    .plain(),
    Route::new(
        "DELETE",
        "api/v4/vault/*",
        Handler::SignedIn(|s, c| vault_lifecycle::delete(s, c.me, c.param(0))),
    )
    .plain(),
    Route::new(
        "PATCH",
        "api/v2/acl/groups",
        Handler::SignedIn(|s, c| vault_lifecycle::group_acls(s, c.req, c.me)),
    )
    .plain(),
    Route::new(
        "GET",
        "api/v3|v2|v1/vault/*",
        Handler::SignedIn(|s, c| resources::vault(s, c.req, c.me, c.param(0))),
    ),
    Route::new(
        "PATCH",
        "api/v2/vault/*/vaultaccess",
        Handler::SignedIn(|s, c| resources::grant(s, c.req, c.me, c.param(0))),
    )
    .plain(),
    Route::new(
        "DELETE",
        "api/v1/vault/*/{person|group}/*",
        Handler::SignedIn(|s, c| resources::revoke(s, c.me, c.param(0), c.param(1), c.param(2))),
    )
    .plain(),
    Route::new(
        "PATCH",
        "api/v1/acl/{person|group}/*/*/*",
        Handler::SignedIn(|s, c| {
            resources::change_acl(s, c.me, c.param(1), c.param(0), c.param(2), c.param(3))
        }),
    )
    .plain(),
    // Invitations and the people lifecycle.
    Route::new(
        "POST",
        "api/v1/invite",
        Handler::SignedIn(|s, c| resources::invite(s, c.req, c.me)),
    )
    .people_only(),
    Route::new(
        "GET",
        "api/v1/invites",
        Handler::SignedIn(|s, c| resources::invites(s, c.me)),
    )
    .people_only(),
    Route::new(
        "GET",
        "api/v1/invitevaults",
        Handler::SignedIn(|s, c| resources::invite_vaults(s, c.me)),
    )
    .people_only(),
    Route::new(
        "DELETE",
        "api/v1/invite/*",
        Handler::SignedIn(|s, c| resources::revoke_invites(s, c.me, c.param(0))),
    )
    .people_only(),
    // 1Password's web client resends with a GET (docs/protocol.md 4.3).
    Route::new(
        "GET",
        "api/v1/invite/resend/*",
        Handler::SignedIn(|s, c| resources::resend_invites(s, c.me, c.param(0))),
    )
    .people_only(),
    Route::new(
        "PUT",
        "api/v2/people/confirm",
        Handler::SignedIn(|s, c| resources::confirm(s, c.req, c.me)),
    )
    .people_only(),
    Route::new(
        "PUT",
        "api/v1/people/{suspend|reactivate}/*",
        Handler::SignedIn(|s, c| resources::lifecycle(s, c.me, c.param(0), c.param(1))),
    )
    .people_only(),
    Route::new(
        "DELETE",
        "api/v1/people/*",
        Handler::SignedIn(|s, c| resources::lifecycle(s, c.me, "delete", c.param(0))),
    )
    .people_only(),
    // Reports.
    Route::new(
        "GET",
        "api/v1/report/user/*",
        Handler::SignedIn(|s, c| resources::report(s, c.me, c.param(0))),
    ),
    // The rest of the people, invitation and membership path families: not served (404), and
    // refused to service accounts like the routes above.
    Route::new("PUT", "api/v1/people/..", Handler::SignedIn(not_served)).people_only(),
    Route::new(
        "DELETE",
        "api/v1|v2/people/..",
        Handler::SignedIn(not_served),
    )
    .people_only(),
    Route::new("DELETE", "api/v1/invite/..", Handler::SignedIn(not_served)).people_only(),
    Route::new(
        "PATCH",
        "api/v2/user/*/membership",
        Handler::SignedIn(not_served),
    )
    .people_only(),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::parse_path;

    /// The route a signed-in request to `path` reaches (device registration as if keyed).
    fn lookup(method: &str, path: &str) -> Option<&'static Route> {
        let segs = parse_path(path).unwrap();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        find(method, &segs, || true)
    }

    fn plain(method: &str, path: &str) -> bool {
        lookup(method, path).is_some_and(|r| r.answer == Answer::Plain)
    }

    fn refused_to_service_accounts(method: &str, path: &str) -> bool {
        lookup(method, path).is_some_and(|r| !r.service_accounts)
    }

    /// A path the pattern matches: the first choice of each choice, `x` for `*`, nothing for `..`.
    fn example(pattern: &str) -> String {
        pattern
            .split('/')
            .filter(|p| *p != "..")
            .map(|p| {
                let p = p.trim_start_matches('{').trim_end_matches('}');
                match p {
                    "*" => "x",
                    _ => p.split('|').next().unwrap_or(p),
                }
            })
            .fold(String::new(), |path, seg| format!("{path}/{seg}"))
    }

    #[test]
    fn patterns_match_and_hand_over_what_they_name() {
        let route = |path: &'static str| Route::new("GET", path, Handler::SignedIn(not_served));
        let segs = |p: &'static str| p.split('/').collect::<Vec<_>>();
        let r = route("api/v1|v2/vault/*/{person|group}/*");
        assert_eq!(
            r.capture(&segs("api/v2/vault/V/group/G")),
            Some(vec!["V", "group", "G"])
        );
        assert_eq!(r.capture(&segs("api/v3/vault/V/group/G")), None);
        assert_eq!(r.capture(&segs("api/v1/vault/V/item/G")), None);
        assert_eq!(r.capture(&segs("api/v1/vault/V/group")), None);
        assert_eq!(r.capture(&segs("api/v1/vault/V/group/G/x")), None);
        let rest = route("api/v1/people/..");
        assert_eq!(rest.capture(&segs("api/v1/people")), Some(vec![]));
        assert_eq!(rest.capture(&segs("api/v1/people/a/b/c")), Some(vec![]));
        assert_eq!(rest.capture(&segs("api/v1/peoples")), None);
        assert!(!route("api/v1/vaults").matches("POST", &segs("api/v1/vaults")));
    }

    #[test]
    fn every_route_is_reachable() {
        for (i, route) in ROUTES.iter().enumerate() {
            let path = example(route.path);
            let found = lookup(route.method, &path)
                .or_else(|| {
                    let segs = parse_path(&path).unwrap();
                    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
                    find(route.method, &segs, || false)
                })
                .map(|r| std::ptr::eq(r, route));
            assert_eq!(
                found,
                Some(true),
                "route {i} ({} {}) is shadowed by an earlier one",
                route.method,
                route.path
            );
        }
    }

    #[test]
    fn device_registration_is_a_route_only_before_the_session_has_a_key() {
        let segs = ["api", "v1", "device"];
        assert!(find("POST", &segs, || false).is_some());
        assert!(find("POST", &segs, || true).is_none());
        let mut asked = false;
        assert!(
            find("GET", &["api", "v1", "vaults"], || {
                asked = true;
                true
            })
            .is_some()
        );
        assert!(
            !asked,
            "the session is looked at only for device registration"
        );
    }

    #[test]
    fn the_plaintext_answers_are_exactly_the_vault_writes_and_signout() {
        assert!(plain("PATCH", "/api/v2/vault/V/vaultaccess"));
        assert!(plain("DELETE", "/api/v1/vault/V/person/U"));
        assert!(plain("DELETE", "/api/v1/vault/V/group/G"));
        assert!(plain("PATCH", "/api/v1/acl/group/V/G/1"));
        assert!(plain("PATCH", "/api/v1/acl/person/V/U/1"));
        assert!(plain("PUT", "/api/v1/session/signout"));
        assert!(plain("POST", "/api/v2/vault"));
        assert!(plain("PUT", "/api/v3/vault/V/attrs"));
        assert!(plain("DELETE", "/api/v4/vault/V"));
        assert!(plain("PATCH", "/api/v2/acl/groups"));
        assert!(!plain("GET", "/api/v1/vault/preflight/create"));
        assert!(!plain("GET", "/api/v1/vault/preflight/delete/V"));
        assert!(!plain("GET", "/api/v2/vault/V/vaultaccess"));
        assert!(!plain("PUT", "/api/v1/session/touch"));
        assert!(!plain("DELETE", "/api/v1/vault/V/item/I"));
        assert!(!plain("PATCH", "/api/v3/group/G/membership"));
        assert!(!plain("GET", "/api/v1/vaults"));
        let plain_routes = ROUTES.iter().filter(|r| r.answer == Answer::Plain).count();
        assert_eq!(plain_routes, 8);
    }

    #[test]
    fn service_accounts_are_refused_people_invitations_and_membership() {
        for (method, path) in [
            ("POST", "/api/v1/invite"),
            ("GET", "/api/v1/invites"),
            ("GET", "/api/v1/invitevaults"),
            ("DELETE", "/api/v1/invite/I"),
            ("DELETE", "/api/v1/invite"),
            ("PUT", "/api/v2/people/confirm"),
            ("PUT", "/api/v1/people/suspend/U"),
            ("PUT", "/api/v1/people/reactivate/U"),
            ("PUT", "/api/v1/people/other/U"),
            ("PUT", "/api/v1/people"),
            ("DELETE", "/api/v1/people/U"),
            ("DELETE", "/api/v2/people/U"),
            ("DELETE", "/api/v1/people/U/V"),
            ("PATCH", "/api/v3/group/G/membership"),
            ("PATCH", "/api/v2/user/U/membership"),
            ("DELETE", "/api/v1/group/G/person/U"),
            ("PATCH", "/api/v1/group/G/person/U/role/A"),
        ] {
            assert!(refused_to_service_accounts(method, path), "{method} {path}");
        }
        for (method, path) in [
            ("GET", "/api/v1/account"),
            ("GET", "/api/v2/account/keysets"),
            ("GET", "/api/v3/users"),
            ("GET", "/api/v2/user/U"),
            ("GET", "/api/v1/group/G"),
            ("GET", "/api/v1/group/G/users"),
            ("GET", "/api/v1/vaults"),
            ("GET", "/api/v3/vault/V"),
            ("PATCH", "/api/v2/vault/V/vaultaccess"),
            ("DELETE", "/api/v1/vault/V/group/G"),
            ("PATCH", "/api/v1/acl/group/V/G/1"),
            ("GET", "/api/v1/vault/preflight/create"),
            ("POST", "/api/v2/vault"),
            ("PUT", "/api/v3/vault/V/attrs"),
            ("DELETE", "/api/v4/vault/V"),
            ("PATCH", "/api/v2/acl/groups"),
            ("GET", "/api/v1/report/user/U"),
            ("PUT", "/api/v1/session/signout"),
            ("PUT", "/api/v2/people/suspend/U"),
            ("GET", "/api/v1/people/U"),
        ] {
            assert!(
                !refused_to_service_accounts(method, path),
                "{method} {path}"
            );
        }
    }
}
