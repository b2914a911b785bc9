//! SCIM 2.0 resources (RFC 7643) as 1Password's bridge sends them, parsed leniently.
//!
//! Every attribute except `id` and `userName` is optional; empty strings count as absent (the
//! self-hosted bridge sends `meta.created: ""`, `externalId: ""`); group references accept both
//! `$ref` and 1Password's `ref`; unknown attributes are kept in `extra`.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The core User schema URN.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema URN.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The PatchOp message URN.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The ListResponse message URN.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// An optional string where `""` (and `null`) means absent.
fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    Ok(v.filter(|s| !s.is_empty()))
}

/// A SCIM User.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimUser {
    /// Schema URNs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// Server-assigned id (1Password: the user's uuid). Empty when creating.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The unique user name (1Password: the email address).
    pub user_name: String,
    /// The IdP's identifier, if any.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub external_id: Option<String>,
    /// Name parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<ScimName>,
    /// Display name.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
    /// `false` means suspended; absent is read as active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Email addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<ScimEmail>,
    /// Groups the user belongs to (read-only; not every server fills it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<ScimReference>,
    /// Resource metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<ScimMeta>,
    /// Attributes this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The parts of a name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimName {
    /// The full name.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub formatted: Option<String>,
    /// Family name.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub family_name: Option<String>,
    /// Given name.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub given_name: Option<String>,
}

/// An email address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimEmail {
    /// The address.
    #[serde(default)]
    pub value: String,
    /// `work`, `home`, ... (1Password sends `""`).
    #[serde(
        default,
        rename = "type",
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<String>,
    /// The primary address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

/// A reference to another resource: a group member, or a user's group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimReference {
    /// The referenced resource's id.
    pub value: String,
    /// Its URI; read from `$ref` or 1Password's `ref`.
    #[serde(
        default,
        rename = "$ref",
        alias = "ref",
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub reference: Option<String>,
    /// Its display name.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub display: Option<String>,
    /// `User`, `Group`, `direct`, ...
    #[serde(
        default,
        rename = "type",
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<String>,
}

/// Resource metadata; dates stay text (the self-hosted bridge sends `""`, read as absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimMeta {
    /// `User` or `Group`.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_type: Option<String>,
    /// Creation time, RFC 3339.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<String>,
    /// Last change, RFC 3339.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modified: Option<String>,
    /// The resource's URI.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub location: Option<String>,
    /// Its version (ETag).
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub version: Option<String>,
}

/// A SCIM Group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimGroup {
    /// Schema URNs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// Server-assigned id. Empty when creating.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The group's name.
    #[serde(default)]
    pub display_name: String,
    /// The IdP's identifier, if any.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub external_id: Option<String>,
    /// Members; `None` when the server did not send the attribute (1Password's recorded groups
    /// never carry it), which is not the same as an empty group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<ScimReference>>,
    /// Resource metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<ScimMeta>,
    /// Attributes this model does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A page of a list (RFC 7644 §3.4.2).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T> {
    /// How many resources match in all.
    #[serde(default)]
    pub total_results: Option<u64>,
    /// The 1-based index of the first resource of this page (1Password's `/ResourceTypes` says 0).
    #[serde(default)]
    pub start_index: Option<u64>,
    /// How many resources this page holds (may be missing or 0; the client counts `Resources`).
    #[serde(default)]
    pub items_per_page: Option<u64>,
    /// The resources.
    #[serde(default = "Vec::new", rename = "Resources", alias = "resources")]
    pub resources: Vec<T>,
}

/// One PATCH operation (RFC 7644 §3.5.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchOperation {
    /// `add`, `remove` or `replace` (sent lower case).
    pub op: String,
    /// The attribute path, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// A PATCH request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchOp {
    /// Always the PatchOp URN.
    pub schemas: Vec<String>,
    /// The operations, applied in order.
    #[serde(rename = "Operations")]
    pub operations: Vec<PatchOperation>,
}

impl PatchOp {
    /// A PatchOp of these operations.
    pub fn new(operations: Vec<PatchOperation>) -> Self {
        Self {
            schemas: vec![PATCH_OP_SCHEMA.to_owned()],
            operations,
        }
    }
}

/// An error body (RFC 7644 §3.12); `status` may be a string or a number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimErrorBody {
    /// The HTTP status the server meant.
    #[serde(default, deserialize_with = "status_any")]
    pub status: Option<u16>,
    /// `uniqueness`, `invalidFilter`, ...
    #[serde(default, deserialize_with = "non_empty")]
    pub scim_type: Option<String>,
    /// A human-readable explanation.
    #[serde(default, deserialize_with = "non_empty")]
    pub detail: Option<String>,
}

fn status_any<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// The parts of `/ServiceProviderConfig` this client reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ServiceProviderConfig {
    /// PATCH support.
    #[serde(default)]
    pub patch: Supported,
    /// Bulk support.
    #[serde(default)]
    pub bulk: Supported,
    /// Filter support.
    #[serde(default)]
    pub filter: Supported,
    /// Sort support.
    #[serde(default)]
    pub sort: Supported,
    /// ETag support.
    #[serde(default)]
    pub etag: Supported,
}

/// A `{"supported": bool}` flag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Supported {
    /// Whether the feature is offered.
    #[serde(default)]
    pub supported: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_hosted_user_with_empty_strings_and_ref() {
        let json = r#"{
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "DFM4DHQMQ5AS5M6UHSD6PNV774",
            "userName": "wendy@example.com",
            "externalId": "",
            "name": {"formatted": "Wendy Appleseed", "familyName": "Appleseed",
                     "givenName": "Wendy", "middleName": "", "honorificPrefix": ""},
            "displayName": "Wendy Appleseed",
            "active": true,
            "emails": [{"value": "wendy@example.com", "type": "", "primary": true}],
            "groups": [{"value": "g1", "ref": "https://scim.example.com/Groups/g1"}],
            "meta": {"created": "", "lastModified": "", "location": "", "resourceType": "User", "version": ""}
        }"#;
        let u: ScimUser = serde_json::from_str(json).unwrap();
        assert_eq!(u.external_id, None);
        assert_eq!(u.emails[0].kind, None);
        assert_eq!(
            u.groups[0].reference.as_deref(),
            Some("https://scim.example.com/Groups/g1")
        );
        let meta = u.meta.unwrap();
        assert_eq!(meta.created, None);
        assert_eq!(meta.resource_type.as_deref(), Some("User"));
        assert_eq!(u.name.unwrap().given_name.as_deref(), Some("Wendy"));
    }

    #[test]
    fn minimal_user_and_dollar_ref_group() {
        let u: ScimUser = serde_json::from_str(r#"{"id":"x","userName":"a@b.c"}"#).unwrap();
        assert_eq!(u.active, None);
        assert!(u.name.is_none());
        let g: ScimGroup = serde_json::from_str(
            r#"{"id":"g","displayName":"G","members":[{"value":"u","$ref":"/Users/u"}]}"#,
        )
        .unwrap();
        assert_eq!(g.members.unwrap()[0].reference.as_deref(), Some("/Users/u"));
        let g: ScimGroup = serde_json::from_str(r#"{"id":"g","displayName":"G"}"#).unwrap();
        assert!(g.members.is_none());
    }

    #[test]
    fn user_without_user_name_is_rejected() {
        assert!(serde_json::from_str::<ScimUser>(r#"{"id":"x"}"#).is_err());
    }

    #[test]
    fn error_status_string_or_number() {
        let a: ScimErrorBody =
            serde_json::from_str(r#"{"status":"409","scimType":"uniqueness"}"#).unwrap();
        let b: ScimErrorBody = serde_json::from_str(r#"{"status":404,"detail":"gone"}"#).unwrap();
        let c: ScimErrorBody = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(a.status, Some(409));
        assert_eq!(a.scim_type.as_deref(), Some("uniqueness"));
        assert_eq!(b.status, Some(404));
        assert_eq!(c.status, None);
    }

    #[test]
    fn list_response_with_start_index_zero_and_no_items_per_page() {
        let l: ListResponse<ScimGroup> = serde_json::from_str(
            r#"{"schemas":[],"totalResults":1,"startIndex":0,"Resources":[{"id":"g","displayName":"G"}]}"#,
        )
        .unwrap();
        assert_eq!(l.start_index, Some(0));
        assert_eq!(l.items_per_page, None);
        assert_eq!(l.resources.len(), 1);
        let empty: ListResponse<ScimUser> = serde_json::from_str(r#"{"totalResults":0}"#).unwrap();
        assert!(empty.resources.is_empty());
    }

    #[test]
    fn patch_op_serializes_rfc_form() {
        let p = PatchOp::new(vec![PatchOperation {
            op: "replace".into(),
            path: Some("active".into()),
            value: Some(Value::Bool(false)),
        }]);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["schemas"][0], PATCH_OP_SCHEMA);
        assert_eq!(v["Operations"][0]["op"], "replace");
        assert_eq!(v["Operations"][0]["value"], false);
    }
}
