//! SCIM 2.0 over the same in-memory account, answering as 1Password's SCIM bridge was recorded
//! answering (docs/scim.md): its own bearer token, `application/scim+json`, `/Users` and `/Groups`
//! with `attr eq "value"` filters and 1-based paging, PatchOp, and the discovery documents.
//!
//! **Where it is mounted.** docs/scim.md finds the bridge addressed three ways: at its root
//! (`https://scim.example.com/Users`, the IdP guides and the bridge README), at `/scim/Users`
//! (1Password's endpoint list) and at `/scim/v2/Users` (the recorded `meta.location`s). The
//! emulator answers all three: none of `/scim/...`, `/Users`, `/Groups`, `/ServiceProviderConfig`,
//! `/Schemas`, `/ResourceTypes` or `/ping` clashes with the b5 API, which lives under `/api/`.
//! [`crate::RunningEmulator::scim_url`] hands out the `/scim/v2` form.
//!
//! **Recorded semantics, and the decisions where nothing was recorded.**
//! * `POST /Users` answers 200 (not RFC 201). It makes the same b5 invitation an administrator's
//!   invite makes, and, because SCIM needs an id at once, a person in state `T` (provisioned,
//!   waiting to set up the account), which a b5 sync reports as `TRANSFER_PENDING`. The person's
//!   SCIM id is that b5 uuid. `RunningEmulator::accept_invitation` turns them into `P`.
//! * `PATCH active:false` / `active:true` suspend and reactivate, and `DELETE /Users/{id}`
//!   answers 204 and suspends: the same state changes as the b5 handlers (one function,
//!   [`super::mutate`]).
//! * Only regular members are users here (guests are never managed; service accounts are not
//!   people), and only user-defined groups are groups (built-in groups are not provisioned).
//!   `POST /Groups` answers 200 and makes a user-defined group; `DELETE /Groups/{id}` deletes it.
//! * Membership: adding a member wraps the group keyset to the member's public key, as the
//!   bridge does with its Provision Manager's keys. **A person still in state `T` has no keys
//!   yet**, so their membership is kept as pending: SCIM lists it at once, b5 sees it once the
//!   person has accepted the invitation and has keys (the pending membership is then applied).
//! * A `userName` change (PUT or PATCH) is not applied: 1Password changes a person's email only
//!   after the person confirms it (docs/scim.md §1.3). `emails` always echo `userName`, and
//!   `preferredLanguage` is always `en`.

mod views;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use serde_json::{Value, json};

use super::mutate::{self, Lifecycle};
use super::{Reply, Req, Shared};
use crate::model::{Account, Group, MemberRole, Plan, User, now_rfc3339};
use crate::rng::Entropy;

/// `filter.maxResults` of the recorded ServiceProviderConfig: the largest page served.
pub(crate) const MAX_RESULTS: usize = 10_000;

const MEDIA_TYPE: &str = "application/scim+json";

/// The SCIM bearer token of one emulator. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ScimToken(String);

impl ScimToken {
    /// A random token (repeatable when `entropy` is seeded).
    pub(crate) fn generate(entropy: &Entropy) -> Self {
        Self(opadmin_crypto::encoding::b64url_encode(
            &entropy.bytes::<32>(),
        ))
    }

    /// The token, to put in `Authorization: Bearer …`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is this token (compared in constant time).
    fn matches(&self, presented: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), presented.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for ScimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ScimToken(<redacted>)")
    }
}

/// What SCIM keeps beside the b5 model.
pub(crate) struct ScimState {
    pub token: ScimToken,
    extra: Mutex<Extra>,
}

impl ScimState {
    pub fn new(token: ScimToken) -> Self {
        Self {
            token,
            extra: Mutex::new(Extra::default()),
        }
    }

    /// Lock after the account, never before.
    fn extra(&self) -> MutexGuard<'_, Extra> {
        self.extra.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// SCIM-only data: `externalId`s, and memberships of people who have no keys yet.
#[derive(Default)]
pub(crate) struct Extra {
    external_ids: HashMap<String, String>,
    /// A `userName` a client chose that is not the person's email (see [`create_user`]).
    user_names: HashMap<String, String>,
    /// Group uuid → people (state `T`) added over SCIM before they had keys.
    pending: BTreeMap<String, BTreeSet<String>>,
}

impl Extra {
    fn is_member(&self, g: &Group, user: &str) -> bool {
        g.members.contains_key(user) || self.pending.get(&g.uuid).is_some_and(|p| p.contains(user))
    }

    /// The person's SCIM `userName`: their email, unless a client chose another.
    fn user_name<'a>(&'a self, u: &'a User) -> &'a str {
        self.user_names
            .get(&u.uuid)
            .map_or(&u.email, String::as_str)
    }

    fn members_of(&self, g: &Group) -> Vec<String> {
        let mut all: BTreeSet<String> = g.members.keys().cloned().collect();
        if let Some(p) = self.pending.get(&g.uuid) {
            all.extend(p.iter().cloned());
        }
        all.into_iter().collect()
    }
}

/// People SCIM manages: regular members who are not deleted.
fn visible(u: &User) -> bool {
    u.state != 'D' && u.user_type == 'R'
}

/// Groups SCIM manages: user-defined ones.
fn managed(g: &Group) -> bool {
    g.group_type == 'U'
}

/// The SCIM path under one of the mounts, or `None` for a b5 path.
pub(crate) fn mount<'a>(segs: &'a [&'a str]) -> Option<&'a [&'a str]> {
    match segs {
        ["scim", "v2", rest @ ..] | ["scim", rest @ ..] => Some(rest),
        [first, ..]
            if matches!(
                *first,
                "Users" | "Groups" | "ServiceProviderConfig" | "Schemas" | "ResourceTypes" | "ping"
            ) =>
        {
            Some(segs)
        }
        _ => None,
    }
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        body,
        headers: vec![("content-type", MEDIA_TYPE.to_owned())],
    }
}

fn ok(body: Value) -> Reply {
    reply(200, body)
}

fn error(status: u16, scim_type: Option<&str>, detail: &str) -> Reply {
    reply(status, views::error(status, scim_type, detail))
}

fn not_found(what: &str, id: &str) -> Reply {
    error(404, None, &format!("{what} {id} not found"))
}

fn invalid_value(detail: &str) -> Reply {
    error(400, Some("invalidValue"), detail)
}

/// Serves one SCIM request (`path` relative to the mount).
pub(crate) fn handle(shared: &Shared, req: &Req, path: &[&str]) -> Reply {
    let m = req.method.as_str();
    if path == ["ping"] {
        return reply(
            200,
            json!({"build": env!("CARGO_PKG_VERSION"), "status": "ok"}),
        );
    }
    let presented = req
        .authorization
        .as_deref()
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    if !presented.is_some_and(|t| shared.scim.token.matches(t)) {
        let mut r = error(
            401,
            None,
            "Authentication failed: a valid bearer token is required",
        );
        r.headers.push(("www-authenticate", "Bearer".to_owned()));
        return r;
    }
    let body = || -> Result<Value, Reply> {
        if req.body.is_empty() {
            return Err(invalid_value("a JSON body is required"));
        }
        serde_json::from_slice::<Value>(&req.body)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| invalid_value("the body is not a JSON object"))
    };
    let result = match (m, path) {
        ("GET", ["ServiceProviderConfig"]) => Ok(ok(views::service_provider_config())),
        ("GET", ["Schemas"]) => Ok(ok(views::schemas())),
        ("GET", ["Schemas", id]) => {
            Ok(views::schema(id).map_or_else(|| not_found("schema", id), ok))
        }
        ("GET", ["ResourceTypes"]) => Ok(ok(views::resource_types())),
        ("GET", ["ResourceTypes", id @ ("User" | "Group")]) => Ok(ok(views::resource_type(id))),
        ("GET", ["Users"]) => list_users(shared, req),
        ("POST", ["Users"]) => body().and_then(|b| create_user(shared, &b)),
        ("GET", ["Users", id]) => get_user(shared, req, id),
        ("PUT", ["Users", id]) => body().and_then(|b| replace_user(shared, id, &b)),
        ("PATCH", ["Users", id]) => body().and_then(|b| patch_user(shared, id, &b)),
        ("DELETE", ["Users", id]) => delete_user(shared, id),
        ("GET", ["Groups"]) => list_groups(shared, req),
        ("POST", ["Groups"]) => body().and_then(|b| create_group(shared, &b)),
        ("GET", ["Groups", id]) => get_group(shared, req, id),
        ("PUT", ["Groups", id]) => body().and_then(|b| replace_group(shared, id, &b)),
        ("PATCH", ["Groups", id]) => body().and_then(|b| patch_group(shared, id, &b)),
        ("DELETE", ["Groups", id]) => delete_group(shared, id),
        (_, ["Users" | "Groups" | "ServiceProviderConfig" | "Schemas" | "ResourceTypes"]) => {
            Ok(error(405, None, &format!("{m} is not supported here")))
        }
        (_, ["ServiceProviderConfig" | "Schemas" | "ResourceTypes", _]) if m != "GET" => {
            Ok(error(405, None, &format!("{m} is not supported here")))
        }
        _ => Ok(error(
            404,
            None,
            &format!("no SCIM endpoint /{}", path.join("/")),
        )),
    };
    result.unwrap_or_else(|e| e)
}

// ---------------------------------------------------------------------------------------------
// Listing: filters and paging.

/// A parsed `attr eq "value"` filter.
struct EqFilter {
    attribute: String,
    value: String,
}

/// Parses the one filter form served; anything else is 400 `invalidFilter`.
fn parse_filter(text: &str, allowed: &[&str]) -> Result<EqFilter, Reply> {
    let refuse = |why: &str| {
        error(
            400,
            Some("invalidFilter"),
            &format!(
                "unsupported filter {text:?}: {why}; only attr eq \"value\" on {} is served",
                allowed.join(", ")
            ),
        )
    };
    let text = text.trim();
    let (attribute, rest) = text
        .split_once(char::is_whitespace)
        .ok_or_else(|| refuse("no operator"))?;
    let rest = rest.trim_start();
    let (op, value) = rest
        .split_once(char::is_whitespace)
        .ok_or_else(|| refuse("no value"))?;
    if !op.eq_ignore_ascii_case("eq") {
        return Err(refuse("only the eq operator is served"));
    }
    let attribute = allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(attribute))
        .ok_or_else(|| refuse("attribute not filterable"))?;
    let value: String = serde_json::from_str(value.trim())
        .map_err(|_| refuse("the value must be a quoted string"))?;
    Ok(EqFilter {
        attribute: (*attribute).to_owned(),
        value,
    })
}

/// `startIndex` (1-based, values below 1 mean 1) and `count` (absent: all; capped at
/// [`MAX_RESULTS`]) applied to `all`.
fn page(req: &Req, all: Vec<Value>) -> Result<Reply, Reply> {
    let number = |name: &str| -> Result<Option<i64>, Reply> {
        req.query
            .get(name)
            .map(|v| {
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| invalid_value(&format!("{name} must be an integer")))
            })
            .transpose()
    };
    let start = number("startIndex")?.unwrap_or(1).max(1) as usize;
    let count = number("count")?
        .map_or(MAX_RESULTS, |c| c.max(0) as usize)
        .min(MAX_RESULTS);
    let total = all.len();
    let items: Vec<Value> = all.into_iter().skip(start - 1).take(count).collect();
    Ok(ok(views::list(total, start, items)))
}

fn projection(req: &Req) -> (Vec<String>, Vec<String>) {
    (req.list("attributes"), req.list("excludedAttributes"))
}

fn list_users(shared: &Shared, req: &Req) -> Result<Reply, Reply> {
    let filter = req
        .query
        .get("filter")
        .map(|f| parse_filter(f, &["userName", "displayName", "externalId", "id"]))
        .transpose()?;
    let account = shared.account();
    let extra = shared.scim.extra();
    let (attributes, excluded) = projection(req);
    let all: Vec<Value> = account
        .users
        .values()
        .filter(|u| visible(u))
        .filter(|u| {
            filter.as_ref().is_none_or(|f| match f.attribute.as_str() {
                "userName" => extra.user_name(u).eq_ignore_ascii_case(f.value.trim()),
                "displayName" => u.name.eq_ignore_ascii_case(&f.value),
                "externalId" => extra.external_ids.get(&u.uuid) == Some(&f.value),
                _ => u.uuid == f.value,
            })
        })
        .map(|u| views::project(views::user(&account, &extra, u), &attributes, &excluded))
        .collect();
    page(req, all)
}

fn list_groups(shared: &Shared, req: &Req) -> Result<Reply, Reply> {
    let filter = req
        .query
        .get("filter")
        .map(|f| parse_filter(f, &["displayName", "externalId", "id"]))
        .transpose()?;
    let account = shared.account();
    let extra = shared.scim.extra();
    let (attributes, excluded) = projection(req);
    let all: Vec<Value> = account
        .groups
        .values()
        .filter(|g| managed(g))
        .filter(|g| {
            filter.as_ref().is_none_or(|f| match f.attribute.as_str() {
                "displayName" => g.name.eq_ignore_ascii_case(&f.value),
                "externalId" => extra.external_ids.get(&g.uuid) == Some(&f.value),
                _ => g.uuid == f.value,
            })
        })
        .map(|g| views::project(views::group(&account, &extra, g), &attributes, &excluded))
        .collect();
    page(req, all)
}

// ---------------------------------------------------------------------------------------------
// Users.

fn scim_user<'a>(account: &'a Account, id: &str) -> Result<&'a User, Reply> {
    account
        .users
        .get(id)
        .filter(|u| visible(u))
        .ok_or_else(|| not_found("user", id))
}

fn user_reply(shared: &Shared, id: &str, status: u16) -> Reply {
    let account = shared.account();
    let extra = shared.scim.extra();
    match scim_user(&account, id) {
        Ok(u) => reply(status, views::user(&account, &extra, u)),
        Err(r) => r,
    }
}

/// The one shape of a SCIM "get one": resolve the id among the resources SCIM manages (or answer
/// its 404), render the resource, and project the requested `attributes` / `excludedAttributes`.
fn get_one<T>(
    shared: &Shared,
    req: &Req,
    id: &str,
    resolve: impl for<'a> FnOnce(&'a Account, &str) -> Result<&'a T, Reply>,
    render: impl FnOnce(&Account, &Extra, &T) -> Value,
) -> Result<Reply, Reply> {
    let account = shared.account();
    let extra = shared.scim.extra();
    let found = resolve(&account, id)?;
    let (attributes, excluded) = projection(req);
    Ok(ok(views::project(
        render(&account, &extra, found),
        &attributes,
        &excluded,
    )))
}

fn get_user(shared: &Shared, req: &Req, id: &str) -> Result<Reply, Reply> {
    get_one(shared, req, id, scim_user, views::user)
}

/// The attributes a request may change on a user.
#[derive(Default)]
struct UserChange {
    name: Option<String>,
    active: Option<bool>,
    external_id: Option<Option<String>>,
}

/// A boolean, also as the strings `"True"`/`"False"` Entra sends.
fn as_bool(v: &Value) -> Result<bool, Reply> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(invalid_value("active must be a boolean")),
    }
}

fn as_text(v: &Value, what: &str) -> Result<String, Reply> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| invalid_value(&format!("{what} must be a string")))
}

/// A full name from a SCIM `name` object (formatted, else given + family).
fn name_from(v: &Value, current: &str) -> Result<String, Reply> {
    if !v.is_object() {
        return Err(invalid_value("name must be an object"));
    }
    if let Some(f) = v
        .get("formatted")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
    {
        return Ok(f.trim().to_owned());
    }
    let (given, family) = views::split_name(current);
    let given = v
        .get("givenName")
        .and_then(Value::as_str)
        .map_or(given, str::to_owned);
    let family = v
        .get("familyName")
        .and_then(Value::as_str)
        .map_or(family, str::to_owned);
    Ok(format!("{} {}", given.trim(), family.trim())
        .trim()
        .to_owned())
}

/// Reads one attribute of a user change (the path lower-cased). Unknown attributes are ignored,
/// as a bridge serving several identity providers must.
fn user_attribute(
    change: &mut UserChange,
    path: &str,
    value: &Value,
    current: &str,
) -> Result<(), Reply> {
    let current = change.name.clone().unwrap_or_else(|| current.to_owned());
    match path {
        "active" => change.active = Some(as_bool(value)?),
        "displayname" | "name.formatted" => {
            change.name = Some(as_text(value, "displayName")?.trim().to_owned())
        }
        "name" => change.name = Some(name_from(value, &current)?),
        "name.givenname" => {
            change.name = Some(name_from(
                &json!({"givenName": as_text(value, path)?}),
                &current,
            )?)
        }
        "name.familyname" => {
            change.name = Some(name_from(
                &json!({"familyName": as_text(value, path)?}),
                &current,
            )?)
        }
        "externalid" => change.external_id = Some(Some(as_text(value, "externalId")?)),
        _ => {}
    }
    Ok(())
}

/// Applies a validated change to a visible user: name, `externalId`, then the lifecycle
/// through the shared b5 state change.
fn apply_user_change(shared: &Shared, id: &str, change: UserChange) -> Result<(), Reply> {
    let mut account = shared.account();
    let user = account
        .users
        .get_mut(id)
        .filter(|u| visible(u))
        .ok_or_else(|| not_found("user", id))?;
    if let Some(name) = change.name.filter(|n| !n.is_empty()) {
        user.name = name;
        user.updated_at = now_rfc3339();
    }
    let action = match change.active {
        Some(false) if user.state != 'S' => Some(Lifecycle::Suspend),
        Some(true) if user.state == 'S' => Some(Lifecycle::Reactivate),
        _ => None,
    };
    if let Some(action) = action
        && !action.allowed_from(user.state)
    {
        return Err(error(
            400,
            Some("mutability"),
            &format!(
                "a person in state {} cannot be changed this way",
                user.state
            ),
        ));
    }
    {
        let mut extra = shared.scim.extra();
        match change.external_id {
            Some(Some(e)) if !e.is_empty() => {
                extra.external_ids.insert(id.to_owned(), e);
            }
            Some(_) => {
                extra.external_ids.remove(id);
            }
            None => {}
        }
    }
    let ids = [id.to_owned()];
    if let Some(action) = action {
        mutate::apply_lifecycle(&mut account, &ids, action);
        drop(account);
        mutate::end_sessions(shared, &ids, action);
    }
    Ok(())
}

/// `POST /Users`. The `userName` is the person's email address (as every recorded user's is).
/// Decision for a `userName` that is not an address (Entra can map it to a UPN): the person's
/// email is then the primary (else first) address of `emails`, and the `userName` is kept as
/// given; with no address at all the `userName` itself stands for the email (the emulator sends
/// no mail, and what the bridge answers then was never recorded).
fn create_user(shared: &Shared, body: &Value) -> Result<Reply, Reply> {
    let user_name = body
        .get("userName")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| invalid_value("userName is required"))?
        .to_owned();
    let email = if user_name.contains('@') {
        user_name.to_lowercase()
    } else {
        let emails = body.get("emails").and_then(Value::as_array);
        emails
            .and_then(|e| {
                e.iter()
                    .find(|m| m.get("primary") == Some(&Value::Bool(true)))
                    .or_else(|| e.first())
            })
            .and_then(|m| m.get("value"))
            .and_then(Value::as_str)
            .map(|e| e.trim().to_lowercase())
            .filter(|e| e.contains('@'))
            .unwrap_or_else(|| user_name.to_lowercase())
    };
    let mut change = UserChange::default();
    for (key, value) in body.as_object().into_iter().flatten() {
        user_attribute(&mut change, &key.to_ascii_lowercase(), value, "")?;
    }
    let name = change.name.clone().unwrap_or_default();
    let id = {
        let mut account = shared.account();
        if account.plan != Plan::Business {
            return Err(error(403, None, "provisioning needs 1Password Business"));
        }
        let extra = shared.scim.extra();
        let taken = mutate::email_in_use(&account, &email)
            || account
                .users
                .values()
                .any(|u| u.state != 'D' && extra.user_name(u).eq_ignore_ascii_case(&user_name));
        drop(extra);
        if taken {
            return Err(error(
                409,
                Some("uniqueness"),
                &format!("userName {user_name} is already in use"),
            ));
        }
        let entropy = &shared.entropy;
        let id = mutate::add_person(&mut account, entropy, &email, &name, 'T', 'R')
            .map_err(|e| error(500, None, &format!("keyset: {e}")))?;
        let mut invitation = mutate::new_invitation(entropy, email.clone(), 'R', Vec::new());
        invitation.user = Some(id.clone());
        account.invitations.push(invitation);
        if !user_name.eq_ignore_ascii_case(&email) {
            shared.scim.extra().user_names.insert(id.clone(), user_name);
        }
        id
    };
    change.name = None;
    apply_user_change(shared, &id, change)?;
    Ok(user_reply(shared, &id, 200))
}

fn replace_user(shared: &Shared, id: &str, body: &Value) -> Result<Reply, Reply> {
    let current = scim_user(&shared.account(), id)?.name.clone();
    if body
        .get("userName")
        .and_then(Value::as_str)
        .is_none_or(|s| s.trim().is_empty())
    {
        return Err(invalid_value("userName is required"));
    }
    let mut change = UserChange {
        external_id: Some(None),
        ..UserChange::default()
    };
    for (key, value) in body.as_object().into_iter().flatten() {
        user_attribute(&mut change, &key.to_ascii_lowercase(), value, &current)?;
    }
    apply_user_change(shared, id, change)?;
    Ok(user_reply(shared, id, 200))
}

/// One PatchOp operation: `op` lower-cased, `path` as given, `value`.
type Operation = (String, Option<String>, Option<Value>);

/// The operations of a PatchOp body.
fn operations(body: &Value) -> Result<Vec<Operation>, Reply> {
    let ops = body
        .get("Operations")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| invalid_value("a PatchOp needs Operations"))?;
    ops.iter()
        .map(|op| {
            let kind = op
                .get("op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                .filter(|k| matches!(k.as_str(), "add" | "replace" | "remove"))
                .ok_or_else(|| invalid_value("op must be add, replace or remove"))?;
            let path = op.get("path").and_then(Value::as_str).map(str::to_owned);
            Ok((kind, path, op.get("value").cloned()))
        })
        .collect()
}

fn patch_user(shared: &Shared, id: &str, body: &Value) -> Result<Reply, Reply> {
    let current = scim_user(&shared.account(), id)?.name.clone();
    let mut change = UserChange::default();
    for (kind, path, value) in operations(body)? {
        match (kind.as_str(), path, value) {
            ("remove", Some(p), _) => {
                if p.eq_ignore_ascii_case("externalId") {
                    change.external_id = Some(None);
                }
            }
            (_, Some(p), Some(v)) => {
                user_attribute(&mut change, &p.to_ascii_lowercase(), &v, &current)?
            }
            (_, None, Some(Value::Object(m))) => {
                for (k, v) in &m {
                    user_attribute(&mut change, &k.to_ascii_lowercase(), v, &current)?;
                }
            }
            _ => {
                return Err(error(
                    400,
                    Some("noTarget"),
                    "the operation has no usable path or value",
                ));
            }
        }
    }
    apply_user_change(shared, id, change)?;
    Ok(user_reply(shared, id, 200))
}

/// `DELETE /Users/{id}`: suspends, as recorded.
fn delete_user(shared: &Shared, id: &str) -> Result<Reply, Reply> {
    apply_user_change(
        shared,
        id,
        UserChange {
            active: Some(false),
            ..UserChange::default()
        },
    )?;
    Ok(reply(204, Value::Null))
}

// ---------------------------------------------------------------------------------------------
// Groups.

fn scim_group<'a>(account: &'a Account, id: &str) -> Result<&'a Group, Reply> {
    account
        .groups
        .get(id)
        .filter(|g| managed(g))
        .ok_or_else(|| not_found("group", id))
}

fn group_reply(shared: &Shared, id: &str) -> Reply {
    let account = shared.account();
    let extra = shared.scim.extra();
    match scim_group(&account, id) {
        Ok(g) => ok(views::group(&account, &extra, g)),
        Err(r) => r,
    }
}

fn get_group(shared: &Shared, req: &Req, id: &str) -> Result<Reply, Reply> {
    get_one(shared, req, id, scim_group, views::group)
}

/// What a request changes on a group.
#[derive(Default)]
struct GroupChange {
    name: Option<String>,
    external_id: Option<Option<String>>,
    /// Replace the member set with this one.
    set: Option<BTreeSet<String>>,
    add: BTreeSet<String>,
    remove: BTreeSet<String>,
    remove_all: bool,
}

/// Member ids from `[{value}]` (or one `{value}`).
fn member_values(v: &Value) -> Result<BTreeSet<String>, Reply> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![v],
        _ => return Err(invalid_value("members must be a list of {\"value\": id}")),
    };
    items
        .into_iter()
        .map(|m| {
            m.get("value")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| invalid_value("a member needs a value"))
        })
        .collect()
}

/// `members[value eq "id"]` → the id.
fn member_selector(path: &str) -> Result<Option<String>, Reply> {
    let Some(inner) = path
        .strip_prefix("members[")
        .or_else(|| path.strip_prefix("Members["))
        .and_then(|p| p.strip_suffix(']'))
    else {
        return Ok(None);
    };
    let f = parse_filter(inner, &["value"]).map_err(|_| {
        error(
            400,
            Some("invalidPath"),
            &format!("unsupported member selector {path:?}"),
        )
    })?;
    Ok(Some(f.value))
}

fn group_attribute(
    change: &mut GroupChange,
    kind: &str,
    path: &str,
    value: &Value,
) -> Result<(), Reply> {
    match (kind, path.to_ascii_lowercase().as_str()) {
        (_, "displayname") => {
            let name = as_text(value, "displayName")?.trim().to_owned();
            if name.is_empty() {
                return Err(invalid_value("displayName is empty"));
            }
            change.name = Some(name);
        }
        (_, "externalid") => change.external_id = Some(Some(as_text(value, "externalId")?)),
        ("add", "members") => change.add.extend(member_values(value)?),
        ("replace", "members") => change.set = Some(member_values(value)?),
        _ => {}
    }
    Ok(())
}

fn patch_group(shared: &Shared, id: &str, body: &Value) -> Result<Reply, Reply> {
    scim_group(&shared.account(), id)?;
    let mut change = GroupChange::default();
    for (kind, path, value) in operations(body)? {
        match (kind.as_str(), path, value) {
            ("remove", Some(p), value) => {
                if let Some(member) = member_selector(&p)? {
                    change.remove.insert(member);
                } else if p.eq_ignore_ascii_case("members") {
                    match value {
                        // Entra: remove members with a value array.
                        Some(v) => change.remove.extend(member_values(&v)?),
                        None => change.remove_all = true,
                    }
                } else if p.eq_ignore_ascii_case("externalId") {
                    change.external_id = Some(None);
                }
            }
            (_, Some(p), Some(v)) => group_attribute(&mut change, &kind, &p, &v)?,
            (_, None, Some(Value::Object(m))) => {
                for (k, v) in &m {
                    group_attribute(&mut change, &kind, k, v)?;
                }
            }
            _ => {
                return Err(error(
                    400,
                    Some("noTarget"),
                    "the operation has no usable path or value",
                ));
            }
        }
    }
    apply_group_change(shared, id, change)?;
    Ok(group_reply(shared, id))
}

fn replace_group(shared: &Shared, id: &str, body: &Value) -> Result<Reply, Reply> {
    scim_group(&shared.account(), id)?;
    let mut change = GroupChange {
        external_id: Some(None),
        set: Some(BTreeSet::new()),
        ..GroupChange::default()
    };
    for (key, value) in body.as_object().into_iter().flatten() {
        group_attribute(&mut change, "replace", key, value)?;
    }
    if change.name.is_none() {
        return Err(invalid_value("displayName is required"));
    }
    apply_group_change(shared, id, change)?;
    Ok(group_reply(shared, id))
}

fn create_group(shared: &Shared, body: &Value) -> Result<Reply, Reply> {
    let mut change = GroupChange::default();
    for (key, value) in body.as_object().into_iter().flatten() {
        group_attribute(&mut change, "add", key, value)?;
    }
    let name = change
        .name
        .take()
        .ok_or_else(|| invalid_value("displayName is required"))?;
    // Check the members before creating anything.
    {
        let account = shared.account();
        for m in &change.add {
            scim_user(&account, m).map_err(|_| invalid_value(&format!("no user {m}")))?;
        }
    }
    let id = mutate::add_group(&mut shared.account(), &shared.entropy, &name)
        .map_err(|e| error(500, None, &format!("keyset: {e}")))?;
    apply_group_change(shared, &id, change)?;
    Ok(group_reply(shared, &id))
}

/// Applies a group change after checking every member it names. Members with keys get the
/// group keyset wrapped to their public key (the b5 membership change); people still in state
/// `T` are kept pending until they have keys.
fn apply_group_change(shared: &Shared, id: &str, change: GroupChange) -> Result<(), Reply> {
    let mut account = shared.account();
    let mut extra = shared.scim.extra();
    let group = scim_group(&account, id)?;
    let current: BTreeSet<String> = extra.members_of(group).into_iter().collect();
    let mut target = change.set.unwrap_or_else(|| current.clone());
    if change.remove_all {
        target.clear();
    }
    target.extend(change.add);
    for r in &change.remove {
        target.remove(r);
    }
    for m in target.difference(&current) {
        scim_user(&account, m).map_err(|_| invalid_value(&format!("no user {m}")))?;
    }
    let now = now_rfc3339();
    let mut additions = Vec::new();
    for m in target.difference(&current) {
        let user = &account.users[m];
        if user.state == 'T' {
            extra
                .pending
                .entry(id.to_owned())
                .or_default()
                .insert(m.clone());
        } else {
            let keyset = account.groups[id]
                .keyset
                .encrypt_for_member(&user.public, 1)
                .map_err(|e| error(500, None, &format!("keyset: {e}")))?;
            additions.push((m.clone(), keyset));
        }
    }
    let removals: Vec<String> = current.difference(&target).cloned().collect();
    let group = account.groups.get_mut(id).expect("checked above");
    for (m, keyset) in additions {
        mutate::add_member(group, m, MemberRole::Member, keyset, &now);
    }
    for m in &removals {
        mutate::remove_member(group, m, &now);
        if let Some(p) = extra.pending.get_mut(id) {
            p.remove(m);
        }
    }
    if let Some(name) = change.name
        && name != group.name
    {
        mutate::rename_group(group, &name);
    }
    match change.external_id {
        Some(Some(e)) if !e.is_empty() => {
            extra.external_ids.insert(id.to_owned(), e);
        }
        Some(_) => {
            extra.external_ids.remove(id);
        }
        None => {}
    }
    Ok(())
}

fn delete_group(shared: &Shared, id: &str) -> Result<Reply, Reply> {
    let mut account = shared.account();
    scim_group(&account, id)?;
    mutate::delete_group(&mut account, id);
    let mut extra = shared.scim.extra();
    extra.pending.remove(id);
    extra.external_ids.remove(id);
    Ok(reply(204, Value::Null))
}

/// The invitee of a SCIM-provisioned invitation accepts: the person (state `T`) now has keys
/// and awaits confirmation (`P`), and the memberships SCIM gave them while they had none are
/// applied. `None` when the invitation was not made over SCIM.
pub(crate) fn accept_provisioned(
    shared: &Shared,
    account: &mut Account,
    user: &str,
    name: &str,
) -> Option<String> {
    let u = account.users.get_mut(user).filter(|u| u.state == 'T')?;
    u.state = 'P';
    if !name.trim().is_empty() {
        u.name = name.trim().to_owned();
    }
    u.updated_at = now_rfc3339();
    let public = u.public.clone();
    let now = now_rfc3339();
    let mut extra = shared.scim.extra();
    for (group, people) in extra.pending.iter_mut() {
        if people.remove(user)
            && let Some(g) = account.groups.get_mut(group)
            && let Ok(keyset) = g.keyset.encrypt_for_member(&public, 1)
        {
            mutate::add_member(g, user.to_owned(), MemberRole::Member, keyset, &now);
        }
    }
    Some(user.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const USER_ATTRS: &[&str] = &["userName", "displayName", "externalId", "id"];

    /// A refusal of a filter: HTTP 400 with `scimType` `invalidFilter`.
    fn is_invalid_filter(reply: &Reply) -> bool {
        reply.status == 400 && reply.body["scimType"] == "invalidFilter"
    }

    #[test]
    fn known_good_filters_parse() {
        for (text, attribute, value) in [
            (
                r#"userName eq "alice@acme.example""#,
                "userName",
                "alice@acme.example",
            ),
            (r#"  USERNAME   EQ   "Bob"  "#, "userName", "Bob"),
            (
                r#"externalId eq "a \"quoted\" id""#,
                "externalId",
                "a \"quoted\" id",
            ),
            (r#"id eq "ABC""#, "id", "ABC"),
            (r#"displayName eq "Été""#, "displayName", "Été"),
        ] {
            let f = parse_filter(text, USER_ATTRS).unwrap_or_else(|_| panic!("{text}"));
            assert_eq!((f.attribute.as_str(), f.value.as_str()), (attribute, value));
        }
    }

    #[test]
    fn unsupported_filters_are_typed_refusals() {
        for text in [
            "",
            "userName",
            "userName eq",
            r#"userName ne "a""#,
            r#"userName co "a""#,
            r#"password eq "a""#,
            "userName eq alice",
            r#"userName eq "a" and id eq "b""#,
            r#"userName eq ["a"]"#,
        ] {
            let refused = parse_filter(text, USER_ATTRS).err();
            assert!(refused.as_ref().is_some_and(is_invalid_filter), "{text:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_filters_parse_or_are_refused(text in any::<String>()) {
            match parse_filter(&text, USER_ATTRS) {
                Ok(f) => prop_assert!(USER_ATTRS.contains(&f.attribute.as_str())),
                Err(r) => prop_assert!(is_invalid_filter(&r)),
            }
        }

        #[test]
        fn filter_like_text_parses_or_is_refused(
            text in r#"(userName|id|eq|ne|and|or|not|\(|\)|\[|\]|"|\\|\s|[a-z@.]|pr){0,40}"#
        ) {
            match parse_filter(&text, USER_ATTRS) {
                Ok(f) => prop_assert!(USER_ATTRS.contains(&f.attribute.as_str())),
                Err(r) => prop_assert!(is_invalid_filter(&r)),
            }
            let _ = member_selector(&format!("members[{text}]"));
        }

        #[test]
        fn well_formed_filters_round_trip(
            attr in proptest::sample::select(USER_ATTRS),
            value in any::<String>(),
        ) {
            let text = format!("{attr} eq {}", serde_json::to_string(&value).unwrap());
            let f = parse_filter(&text, USER_ATTRS).ok();
            prop_assert!(f.is_some(), "{} does not parse", text);
            let f = f.unwrap();
            prop_assert_eq!(f.attribute.as_str(), attr);
            prop_assert_eq!(f.value, value);
        }
    }
}
