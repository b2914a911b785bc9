//! Every JSON shape the SCIM side answers with, in one place: users, groups, list responses,
//! errors, and the discovery documents as 1Password's bridge was recorded answering them
//! (docs/scim.md §1.2–§1.4).

use serde_json::{Map, Value, json};

use super::Extra;
use crate::model::{Account, Group, User};

pub(crate) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(crate) const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub(crate) const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub(crate) const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

/// Where resources say they live (recorded `meta.location`s use this prefix whatever the mount).
const LOCATION_PREFIX: &str = "/scim/v2";

/// A person's one name string split as 1Password does: the first word is the given name, the
/// rest the family name (docs/scim.md §1.3).
pub(crate) fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.split_once(char::is_whitespace) {
        Some((given, family)) => (given.to_owned(), family.trim().to_owned()),
        None => (name.to_owned(), String::new()),
    }
}

/// A user resource. `active` is false only for suspended people: invited, pending and confirmed
/// people all show `true` (docs/scim.md §1.3).
pub(crate) fn user(account: &Account, extra: &Extra, u: &User) -> Value {
    let (given, family) = split_name(&u.name);
    let mut v = json!({
        "schemas": [USER_SCHEMA],
        "id": u.uuid,
        "userName": extra.user_name(u),
        "name": {"formatted": u.name, "givenName": given, "familyName": family},
        "displayName": u.name,
        "active": u.state != 'S',
        "emails": [{"value": u.email, "primary": true}],
        "preferredLanguage": "en",
        "meta": {
            "resourceType": "User",
            "created": u.created_at,
            "lastModified": u.updated_at,
            "location": format!("{LOCATION_PREFIX}/Users/{}", u.uuid),
        },
    });
    if let Some(external) = extra.external_ids.get(&u.uuid) {
        v["externalId"] = json!(external);
    }
    let groups: Vec<Value> = account
        .groups
        .values()
        .filter(|g| super::managed(g) && extra.is_member(g, &u.uuid))
        .map(|g| {
            json!({
                "value": g.uuid,
                "display": g.name,
                "$ref": format!("{LOCATION_PREFIX}/Groups/{}", g.uuid),
            })
        })
        .collect();
    if !groups.is_empty() {
        v["groups"] = Value::Array(groups);
    }
    v
}

/// A group resource, with its members: b5 members and members waiting for keys alike.
pub(crate) fn group(account: &Account, extra: &Extra, g: &Group) -> Value {
    let members: Vec<Value> = extra
        .members_of(g)
        .into_iter()
        .filter_map(|id| account.users.get(&id).filter(|u| super::visible(u)))
        .map(|u| {
            json!({
                "value": u.uuid,
                "type": "User",
                "$ref": format!("{LOCATION_PREFIX}/Users/{}", u.uuid),
            })
        })
        .collect();
    let mut v = json!({
        "schemas": [GROUP_SCHEMA],
        "id": g.uuid,
        "displayName": g.name,
        "members": members,
        "meta": {
            "resourceType": "Group",
            "created": g.created_at,
            "lastModified": g.updated_at,
            "location": format!("{LOCATION_PREFIX}/Groups/{}", g.uuid),
        },
    });
    if let Some(external) = extra.external_ids.get(&g.uuid) {
        v["externalId"] = json!(external);
    }
    v
}

/// Applies `attributes` / `excludedAttributes` (top-level names, case-insensitive; attributes
/// returned "always" stay, RFC 7644 §3.9).
pub(crate) fn project(mut v: Value, attributes: &[String], excluded: &[String]) -> Value {
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    // Returned "always" by RFC 7643 or by the recorded User schema (`userName`, `name`, `emails`).
    let keep_always = |k: &str| matches!(k, "id" | "schemas" | "userName" | "name" | "emails");
    let top = |a: &str| a.split('.').next().unwrap_or(a).to_ascii_lowercase();
    if !attributes.is_empty() {
        let wanted: Vec<String> = attributes.iter().map(|a| top(a)).collect();
        obj.retain(|k, _| keep_always(k) || wanted.contains(&k.to_ascii_lowercase()));
    } else if !excluded.is_empty() {
        let dropped: Vec<String> = excluded.iter().map(|a| top(a)).collect();
        obj.retain(|k, _| keep_always(k) || !dropped.contains(&k.to_ascii_lowercase()));
    }
    v
}

/// A ListResponse page.
pub(crate) fn list(total: usize, start_index: usize, page: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": page.len(),
        "Resources": page,
    })
}

/// An RFC 7644 §3.12 error body (`status` as a string).
pub(crate) fn error(status: u16, scim_type: Option<&str>, detail: &str) -> Value {
    let mut v = json!({
        "schemas": [ERROR_SCHEMA],
        "status": status.to_string(),
        "detail": detail,
    });
    if let Some(t) = scim_type {
        v["scimType"] = json!(t);
    }
    v
}

/// `/ServiceProviderConfig` exactly as recorded.
pub(crate) fn service_provider_config() -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "meta": {"resourceType": "ServiceProviderConfig", "location": "/scim/v2/ServiceProviderConfig"},
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": super::MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "name": "OAuth Bearer Token",
            "description": "Authentication using the OAuth Bearer Token standard",
            "specUri": "https://tools.ietf.org/html/rfc6750",
            "documentationUri": "",
            "type": "oauthbearertoken",
        }],
    })
}

/// `/ResourceTypes` with the recorded quirks: the User endpoint is singular (`/scim/v2/User`)
/// and the ListResponse says `startIndex: 0`.
pub(crate) fn resource_types() -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": 2,
        "Resources": [resource_type("User"), resource_type("Group")],
        "startIndex": 0,
        "itemsPerPage": 2,
    })
}

/// One resource type (`User` or `Group`).
pub(crate) fn resource_type(id: &str) -> Value {
    let (endpoint, description, schema) = if id == "User" {
        ("/scim/v2/User", "User Account", USER_SCHEMA)
    } else {
        ("/scim/v2/Groups", "Group", GROUP_SCHEMA)
    };
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": id,
        "name": id,
        "endpoint": endpoint,
        "description": description,
        "schema": schema,
        "meta": {"resourceType": "ResourceType", "location": format!("/scim/v2/ResourceTypes/{id}")},
    })
}

/// `/Schemas`: the core User and Group schemas only (no extension schema exists), with the
/// attributes recorded, like the recording without a `schemas` member per resource. One
/// deliberate difference: the recorded User schema omits `displayName` and `active`, which every
/// recorded user carries; they are listed here so that the schema describes the resources.
pub(crate) fn schemas() -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": 2,
        "Resources": [user_schema(), group_schema()],
    })
}

/// One attribute definition.
fn attr(
    name: &str,
    kind: &str,
    multi: bool,
    required: bool,
    mutability: &str,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("type".into(), json!(kind));
    m.insert("multiValued".into(), json!(multi));
    m.insert("required".into(), json!(required));
    m.insert("mutability".into(), json!(mutability));
    m.insert("returned".into(), json!("default"));
    m.insert("uniqueness".into(), json!("none"));
    m.insert("description".into(), json!(""));
    m
}

fn with(mut m: Map<String, Value>, key: &str, value: Value) -> Map<String, Value> {
    m.insert(key.into(), value);
    m
}

fn string(
    name: &str,
    required: bool,
    case_exact: bool,
    mutability: &str,
    description: &str,
) -> Value {
    let m = with(
        attr(name, "string", false, required, mutability),
        "caseExact",
        json!(case_exact),
    );
    Value::Object(with(m, "description", json!(description)))
}

fn reference(mutability: &str, description: &str) -> Value {
    let m = with(
        attr("$ref", "reference", false, false, mutability),
        "referenceTypes",
        json!(["User", "Group"]),
    );
    Value::Object(with(m, "description", json!(description)))
}

fn complex(
    name: &str,
    multi: bool,
    required: bool,
    mutability: &str,
    description: &str,
    sub: Vec<Value>,
) -> Value {
    let m = with(
        attr(name, "complex", multi, required, mutability),
        "subAttributes",
        json!(sub),
    );
    Value::Object(with(m, "description", json!(description)))
}

fn user_schema() -> Value {
    let user_name = with(
        with(
            attr("userName", "string", false, true, "readWrite"),
            "uniqueness",
            json!("server"),
        ),
        "returned",
        json!("always"),
    );
    let user_name = with(
        user_name,
        "description",
        json!("The person's email address; unique."),
    );
    let primary = with(
        attr("primary", "boolean", false, true, "readWrite"),
        "description",
        json!("Whether this is the primary address."),
    );
    json!({
        "id": USER_SCHEMA,
        "name": "User",
        "description": "User account information",
        "attributes": [
            user_name,
            with(
                complex_map(complex("name", false, true, "readWrite", "The person's name.", vec![
                    string("givenName", true, true, "readWrite", "Given name."),
                    string("familyName", true, true, "readWrite", "Family name."),
                    string("formatted", true, true, "readWrite", "The full name."),
                ])),
                "returned",
                json!("always"),
            ),
            with(
                complex_map(complex("emails", true, false, "readWrite", "Email addresses.", vec![
                    Value::Object(primary),
                    string("type", false, false, "readWrite", "A label such as work."),
                    string("value", true, false, "readWrite", "The address."),
                ])),
                "returned",
                json!("always"),
            ),
            string("displayName", false, false, "readWrite", "The name to show; always the formatted name."),
            Value::Object(with(
                attr("active", "boolean", false, false, "readWrite"),
                "description",
                json!("False when the person is suspended."),
            )),
            string("externalId", false, true, "readWrite", "An identifier set by the provisioning client."),
            string("preferredLanguage", false, false, "readWrite", "Preferred language."),
            complex("groups", true, false, "readOnly", "Groups the person belongs to.", vec![
                reference("readOnly", "The group's URI."),
                string("value", false, false, "readOnly", "The group's id."),
                string("display", false, false, "readOnly", "The group's name."),
            ]),
        ],
        "meta": {"resourceType": "Schema", "location": format!("/scim/v2/Schemas/{USER_SCHEMA}")},
    })
}

fn complex_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn group_schema() -> Value {
    let kind = with(
        complex_map(string("type", false, false, "immutable", "User or Group.")),
        "canonicalValues",
        json!(["User", "Group"]),
    );
    json!({
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "Group information",
        "attributes": [
            string("displayName", true, false, "readWrite", "The group's name."),
            complex("members", true, false, "readWrite", "The group's members.", vec![
                string("value", false, false, "immutable", "The member's id."),
                reference("immutable", "The member's URI."),
                Value::Object(kind),
            ]),
            string("externalId", false, true, "readWrite", "An identifier set by the provisioning client."),
        ],
        "meta": {"resourceType": "Schema", "location": format!("/scim/v2/Schemas/{GROUP_SCHEMA}")},
    })
}

/// One schema by id.
pub(crate) fn schema(id: &str) -> Option<Value> {
    match id {
        USER_SCHEMA => Some(user_schema()),
        GROUP_SCHEMA => Some(group_schema()),
        _ => None,
    }
}
