//! The emulator's answers held to the answer models compiled into 1Password's own client (the
//! Rust core of its SDK, read from the core's WebAssembly build): for each b5 answer, every
//! field's wire name, JSON type and whether the client requires it. A field the client requires
//! that is missing, `null` where the client does not take `null`, or of the wrong type, makes
//! the client refuse the whole answer; these tests make the emulator fail first.
//!
//! The checklist below is its own data, written by hand from those models: it does not reuse
//! the SDK crates' models, so that the emulator stays an independent second writing of the
//! protocol. Where the client falls back to a catch-all for an unknown enum letter, the check is
//! still that the emulator sends a letter the client knows.

mod support;

use opadmin_crypto::envelope::Envelope;
use opadmin_crypto::keyset::Keyring;
use opadmin_crypto::srp::SrpVersion;
use opadmin_emulator::{
    Credentials, Emulator, EmulatorConfig, GroupSpec, PersonSpec, RunningEmulator, VaultSpec, acl,
    demo_account,
};
use serde_json::{Value, json};
use support::Raw;

// ---------------------------------------------------------------------------------------------
// The checklist's vocabulary.

/// Whether the client needs a field.
#[derive(Clone, Copy, Debug)]
enum Need {
    /// Required: absent or `null` fails the whole answer.
    Required,
    /// `Option<T>`: may be absent or `null`.
    Optional,
    /// `#[serde(default)]` without `Option`: may be absent, but `null` is a type error.
    Default,
}

/// The JSON type (and, where the client checks it, the value's form) a field must have.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Any string.
    Str,
    /// A b5 id: a non-empty string (the client reads it as a string, with no format check).
    Uuid,
    /// An RFC 3339 date and time.
    DateTime,
    /// An absolute URL.
    Url,
    /// An email address that passes the client's address check (exactly one `@`, not empty).
    Email,
    /// RFC 4648 base32 without padding.
    Base32,
    /// Even-length hexadecimal.
    Hex,
    /// base64url without padding.
    B64Url,
    /// A comma-separated list in one string.
    CommaList,
    /// An integer in `min..=max` (the client's integer width, or a value it insists on).
    Int(i128, i128),
    /// `true` or `false`.
    Bool,
    /// One of the letters or words the client knows; it maps others to a catch-all value.
    Letter(&'static [&'static str]),
    /// One of these words or letters, and nothing else (the client refuses others).
    Strict(&'static [&'static str]),
    /// Any JSON value (the client keeps it as a raw value).
    Any,
    /// An object of this model.
    Model(&'static Model),
    /// An array whose every element is of this kind.
    List(&'static Kind),
}

/// One field of a model: its wire name (then any aliases the client also accepts), its kind and
/// its need.
#[derive(Debug)]
struct Field {
    names: &'static [&'static str],
    kind: Kind,
    need: Need,
}

/// One answer model of the client.
#[derive(Debug)]
struct Model {
    name: &'static str,
    fields: &'static [Field],
}

use Kind::*;
use Need::*;

const U8: Kind = Int(0, u8::MAX as i128);
const U16: Kind = Int(0, u16::MAX as i128);
const U32: Kind = Int(0, u32::MAX as i128);
const U64: Kind = Int(0, u64::MAX as i128);
const I64: Kind = Int(i64::MIN as i128, i64::MAX as i128);

const fn r(name: &'static [&'static str], kind: Kind) -> Field {
    Field {
        names: name,
        kind,
        need: Required,
    }
}
const fn o(name: &'static [&'static str], kind: Kind) -> Field {
    Field {
        names: name,
        kind,
        need: Optional,
    }
}
const fn d(name: &'static [&'static str], kind: Kind) -> Field {
    Field {
        names: name,
        kind,
        need: Default,
    }
}

// Enumerations, as the client's letter and word tables have them.
const GROUP_TYPES: &[&str] = &["O", "A", "R", "E", "M", "U"];
const GROUP_STATES: &[&str] = &["A", "D"];
const GROUP_ROLES: &[&str] = &["R", "A"];
const ACCESSOR_TYPES: &[&str] = &["group", "user", "broker"];
const VAULT_TYPES: &[&str] = &["P", "E", "T", "U", "S", "G", "M", "D"];
const ACCOUNT_TYPES: &[&str] = &["I", "F", "B"];
const ACCOUNT_STATES: &[&str] = &["R", "A", "S", "D", "X", "Z"];
const USER_TYPES: &[&str] = &["R", "S", "G"];
const USER_STATES: &[&str] = &[
    "P", "A", "S", "D", "M", "1", "2", "R", "V", "T", "3", "4", "5", "X", "Z",
];
const MIGRATION_STATES: &[&str] = &["P", "C"];
const DEVICE_STATUSES: &[&str] = &["ok", "device-not-registered", "device-deleted"];
const SRP_METHODS: &[&str] = &["SRPg-4096", "SRP-4096"];
const KEY_TYPES: &[&str] = &["RSA", "oct", "EC", "OKP"];
const KEY_ALGORITHMS: &[&str] = &["RSA-OAEP", "RSA-OAEP-256", "A256GCM", "ECDH-ES", "ES256"];
const KEY_OPS: &[&str] = &[
    "sign",
    "verify",
    "encrypt",
    "decrypt",
    "wrapKey",
    "unwrapKey",
    "deriveKey",
    "deriveBits",
];

// Building blocks.
static JWE_B: Model = Model {
    name: "JweB",
    fields: &[
        r(&["cty"], Str),
        r(&["kid"], Str),
        r(&["enc"], Str),
        o(&["iv"], B64Url),
        o(&["data"], B64Url),
        o(&["alg"], Strict(KEY_ALGORITHMS_AND_KDF)),
        o(&["p2c"], U32),
        o(&["p2s"], B64Url),
    ],
};
/// A JweB's `alg` also names the password-based derivation of keysets encrypted by the AUK.
const KEY_ALGORITHMS_AND_KDF: &[&str] = &[
    "RSA-OAEP",
    "RSA-OAEP-256",
    "A256GCM",
    "ECDH-ES",
    "ES256",
    "PBES2g-HS256",
    "PBES2-HS256",
];
static JWK_RSA: Model = Model {
    name: "JwkRsaPublicKey",
    fields: &[
        r(&["kty"], Strict(KEY_TYPES)),
        r(&["kid"], Str),
        r(&["alg"], Strict(KEY_ALGORITHMS)),
        o(&["e"], B64Url),
        o(&["n"], B64Url),
        o(&["ext"], Bool),
        o(&["key_ops"], List(&Strict(KEY_OPS))),
    ],
};
static JWK_EC: Model = Model {
    name: "JwkEcPublicKey",
    fields: &[
        r(&["kty"], Strict(KEY_TYPES)),
        r(&["kid"], Str),
        r(&["crv"], Str),
        o(&["alg"], Strict(KEY_ALGORITHMS)),
        o(&["x"], B64Url),
        o(&["y"], B64Url),
        o(&["ext"], Bool),
        o(&["key_ops"], List(&Strict(KEY_OPS))),
    ],
};

// Signing in.
static AUTH_USER_AUTH: Model = Model {
    name: "AuthUserAuthResponse",
    fields: &[
        r(&["alg"], Str),
        // The client refuses fewer than 10 000 PBKDF2 iterations.
        r(&["iterations"], Int(10_000, u32::MAX as i128)),
        r(&["method"], Strict(SRP_METHODS)),
        r(&["salt"], B64Url),
    ],
};
static AUTH_RESPONSE: Model = Model {
    name: "AuthResponse",
    fields: &[
        o(&["status"], Strict(DEVICE_STATUSES)),
        o(&["accountKeyUuid"], Str),
        o(&["sessionID"], Base32),
        o(&["userAuth"], Model(&AUTH_USER_AUTH)),
        o(&["newEmail"], Email),
        o(&["newHost"], Str),
    ],
};
static POST_AUTH: Model = Model {
    name: "PostAuthResponse",
    fields: &[r(&["userB"], Hex)],
};
static CONFIRM_KEY: Model = Model {
    name: "ConfirmKeyResponse",
    fields: &[r(&["serverVerifyHash"], B64Url)],
};
static COMPLETE_AUTH: Model = Model {
    name: "CompleteAuthResponse",
    fields: &[r(&["userUuid"], Uuid)],
};
/// Writes: an `i32` that must be exactly 1.
static SUCCESS: Model = Model {
    name: "SuccessResponse",
    fields: &[r(&["success"], Int(1, 1))],
};

// Keys.
static KEYSET: Model = Model {
    name: "Keyset",
    fields: &[
        r(&["uuid"], Uuid),
        r(&["encryptedBy"], Str),
        r(&["sn"], I64),
        r(&["encPriKey"], Model(&JWE_B)),
        r(&["encSymKey"], Model(&JWE_B)),
        r(&["pubKey"], Model(&JWK_RSA)),
        o(&["encSPriKey"], Model(&JWE_B)),
        o(&["spubKey"], Model(&JWK_EC)),
    ],
};
static KEYSETS_RESPONSE: Model = Model {
    name: "KeysetsResponse",
    fields: &[r(&["version"], I64), r(&["keysets"], List(&Model(&KEYSET)))],
};
static RECOVERY_KEYSET: Model = Model {
    name: "RecoveryKeyset",
    fields: &[
        r(&["uuid"], Uuid),
        r(&["encryptedBy"], Str),
        r(&["sn"], U64),
        r(&["encSymKey"], Model(&JWE_B)),
        r(&["encPriKey"], Model(&JWE_B)),
        r(&["pubKey"], Model(&JWK_RSA)),
    ],
};

// Groups.
static GROUP_MEMBERSHIP: Model = Model {
    name: "GroupMembership",
    fields: &[
        r(&["groupUuid"], Uuid),
        r(&["memberUuid"], Uuid),
        r(&["createdAt"], DateTime),
        r(&["updatedAt"], DateTime),
        r(&["version"], U8),
        r(&["state"], Letter(GROUP_STATES)),
        r(&["role"], Letter(GROUP_ROLES)),
    ],
};
static GROUP_RECORD: Model = Model {
    name: "GroupRecord",
    fields: &[
        r(&["uuid"], Uuid),
        r(&["type"], Letter(GROUP_TYPES)),
        r(&["name"], Str),
        r(&["description", "desc"], Str),
        o(&["avatar"], Str),
        r(&["createdAt"], DateTime),
        r(&["updatedAt"], DateTime),
        r(&["activeKeysetUuid"], Uuid),
        r(&["attrVersion"], U32),
        r(&["state"], Letter(GROUP_STATES)),
        r(&["permissions"], U64),
        o(&["userMembership"], Model(&GROUP_MEMBERSHIP)),
        o(&["recoveryKeyset"], Model(&RECOVERY_KEYSET)),
        o(&["pubKey"], Model(&JWK_RSA)),
        o(&["vaultAccess"], List(&Model(&VAULT_ACCESS_RECORD))),
    ],
};
static GROUP_PUB_KEY: Model = Model {
    name: "GroupPubKey",
    fields: &[r(&["uuid"], Uuid), o(&["pubKey"], Model(&JWK_RSA))],
};

// Vaults.
static VAULT_ACCESS_RECORD: Model = Model {
    name: "VaultAccessRecord",
    fields: &[
        r(&["vaultUuid"], Uuid),
        r(&["accessorType"], Strict(ACCESSOR_TYPES)),
        r(&["accessorUuid"], Uuid),
        r(&["acl"], U64),
        r(&["leaseTimeout"], U32),
        r(&["vaultKeySN"], U32),
        r(&["encryptedBy"], Str),
        r(&["encVaultKey"], Model(&JWE_B)),
    ],
};
static COMBINED_ACCESS: Model = Model {
    name: "CombinedAccess",
    fields: &[
        r(&["vaultUuid"], Uuid),
        r(&["accessorType"], Strict(ACCESSOR_TYPES)),
        r(&["accessorUuid"], Uuid),
        r(&["accessVersion"], U32),
        r(&["acl"], U64),
        r(&["leaseTimeout"], U32),
        r(&["vaultKeySN"], U32),
        r(&["encVaultKey"], Model(&JWE_B)),
        r(&["encryptedBy"], Uuid),
    ],
};
static GROUP_PREVIEW: Model = Model {
    name: "GroupPreview",
    fields: &[
        r(&["uuid"], Uuid),
        r(&["state"], Letter(GROUP_STATES)),
        r(&["type"], Letter(GROUP_TYPES)),
        r(&["name"], Str),
        // No `desc` alias here.
        r(&["description"], Str),
        r(&["avatar"], Str),
        r(&["acl"], U64),
    ],
};
static USER_PREVIEW: Model = Model {
    name: "UserPreview",
    fields: &[
        r(&["uuid"], Uuid),
        r(&["state"], Letter(USER_STATES)),
        r(&["type"], Letter(USER_TYPES)),
        r(&["name"], Str),
        r(&["initials"], Str),
        r(&["email"], Email),
        r(&["avatar"], Str),
        r(&["acl"], U64),
    ],
};
static VAULT_ACCESSOR_PREVIEWS: Model = Model {
    name: "VaultAccessorPreviews",
    fields: &[
        o(&["groups"], List(&Model(&GROUP_PREVIEW))),
        o(&["users"], List(&Model(&USER_PREVIEW))),
        o(&["serviceAccounts"], Any),
    ],
};
static VAULT_METADATA: Model = Model {
    name: "VaultMetadataResponse",
    fields: &[
        r(&["uuid"], Uuid),
        r(&["type"], Letter(VAULT_TYPES)),
        r(&["createdAt"], DateTime),
        r(&["updatedAt"], DateTime),
        r(&["attrVersion"], U32),
        r(&["contentVersion"], U32),
        r(&["encAttrs"], Model(&JWE_B)),
        r(&["activeItemCount"], U32),
        d(&["accessorsVersion"], U64),
        r(&["clientAccess"], U64),
        o(&["combinedAccess"], Model(&COMBINED_ACCESS)),
        o(&["accessorsPreviews"], Model(&VAULT_ACCESSOR_PREVIEWS)),
        o(&["access"], List(&Model(&VAULT_ACCESS_RECORD))),
    ],
};
/// The plaintext of a vault's `encAttrs`.
static VAULT_ATTRIBUTES: Model = Model {
    name: "VaultAttributes",
    fields: &[
        o(&["uuid"], Uuid),
        o(&["name"], Str),
        o(&["desc"], Str),
        r(&["type"], Letter(VAULT_TYPES)),
        o(&["avatar"], Str),
        o(&["color"], Str),
    ],
};

// The account.
static ME: Model = Model {
    name: "Me",
    fields: &[
        r(&["uuid"], Uuid),
        r(&["email"], Str),
        r(&["name"], Str),
        r(&["state"], Letter(USER_STATES)),
        r(&["attrVersion"], I64),
        r(&["avatar"], Str),
        r(&["createdAt"], DateTime),
        r(&["preferences"], U64),
        r(&["type"], Letter(USER_TYPES)),
        o(&["migrationState"], Strict(MIGRATION_STATES)),
    ],
};
static TEAM_MEMBER_POLICIES: Model = Model {
    name: "TeamMemberPolicies",
    fields: &[
        d(&["blockFileStorage"], Bool),
        d(&["blockPasskeyAuthenticator"], Bool),
        d(&["allowedWatchtowerDomains"], CommaList),
        d(&["telemetryOptOut"], Bool),
    ],
};
static SETTINGS: Model = Model {
    name: "Settings",
    fields: &[d(&["teamMemberPolicies"], Model(&TEAM_MEMBER_POLICIES))],
};
static BILLING_TIER: Model = Model {
    name: "BillingTier",
    fields: &[
        d(&["name"], Str),
        r(&["guestsIncluded"], U16),
        r(&["membersIncluded"], U16),
        r(&["features"], List(&Str)),
    ],
};
static ACCOUNT_ATTRIBUTES: Model = Model {
    name: "AccountAttributesResponse",
    fields: &[
        r(&["uuid"], Uuid),
        r(&["avatar"], Str),
        r(&["name"], Str),
        r(&["state"], Letter(ACCOUNT_STATES)),
        r(&["type"], Letter(ACCOUNT_TYPES)),
        r(&["attrVersion"], I64),
        r(&["baseAttachmentURL"], Url),
        r(&["baseAvatarURL"], Url),
        d(&["domain"], Str),
        r(&["createdAt"], DateTime),
        r(&["me"], Model(&ME)),
        d(&["settings"], Model(&SETTINGS)),
        o(&["groups"], List(&Model(&GROUP_RECORD))),
        d(&["tier"], Model(&BILLING_TIER)),
    ],
};

/// The vault creation preflight (`iconSet`, optional, is not served by the emulator).
static VAULT_CREATION_PREFLIGHT: Model = Model {
    name: "VaultCreationPreflightData",
    fields: &[
        r(&["mandatoryGroupUuids"], List(&Uuid)),
        r(&["adminGroupUuids"], List(&Uuid)),
        r(&["enableAdminGroupsByDefault"], Bool),
        o(&["iconSet"], Any),
    ],
};

/// Every model of the checklist (those the emulator's answers are checked against, directly or
/// nested).
static ALL_MODELS: &[&Model] = &[
    &AUTH_RESPONSE,
    &AUTH_USER_AUTH,
    &POST_AUTH,
    &CONFIRM_KEY,
    &COMPLETE_AUTH,
    &SUCCESS,
    &KEYSETS_RESPONSE,
    &KEYSET,
    &RECOVERY_KEYSET,
    &GROUP_RECORD,
    &GROUP_MEMBERSHIP,
    &GROUP_PUB_KEY,
    &GROUP_PREVIEW,
    &USER_PREVIEW,
    &VAULT_ACCESSOR_PREVIEWS,
    &VAULT_ACCESS_RECORD,
    &COMBINED_ACCESS,
    &VAULT_METADATA,
    &VAULT_ATTRIBUTES,
    &ACCOUNT_ATTRIBUTES,
    &ME,
    &SETTINGS,
    &TEAM_MEMBER_POLICIES,
    &BILLING_TIER,
    &VAULT_CREATION_PREFLIGHT,
    &JWE_B,
    &JWK_RSA,
    &JWK_EC,
];

// ---------------------------------------------------------------------------------------------
// The checker.

/// Collects every way answers fall short of the models, each naming model, route and field.
#[derive(Default)]
struct Checker {
    failures: Vec<String>,
    /// Models checked at least once, by name.
    seen: std::collections::BTreeSet<&'static str>,
    /// Present fields checked.
    fields: usize,
}

impl Checker {
    /// Checks `value` (the answer to `route`) against `model`.
    fn answer(&mut self, model: &'static Model, route: &str, value: &Value) {
        self.object(model, route, "", value);
    }

    /// Checks a top-level array answer whose every element is a `model`.
    fn list(&mut self, model: &'static Model, route: &str, value: &Value) {
        match value.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.object(model, route, &format!("[{i}]"), item);
                }
            }
            None => self.fail(model, route, "(answer)", "is not an array"),
        }
    }

    fn fail(&mut self, model: &Model, route: &str, path: &str, what: &str) {
        self.failures
            .push(format!("{} ({route}): field `{path}` {what}", model.name));
    }

    fn object(&mut self, model: &'static Model, route: &str, path: &str, value: &Value) {
        self.seen.insert(model.name);
        let Some(map) = value.as_object() else {
            let at = if path.is_empty() { "(answer)" } else { path };
            self.fail(model, route, at, &format!("is not an object: {value}"));
            return;
        };
        for field in model.fields {
            let found = field
                .names
                .iter()
                .find_map(|n| map.get(*n).map(|v| (*n, v)));
            let primary = field.names[0];
            let at = |name: &str| {
                if path.is_empty() {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                }
            };
            match (found, field.need) {
                (None, Required) => {
                    self.fail(model, route, &at(primary), "is required but missing")
                }
                (None, _) | (Some((_, Value::Null)), Optional) => {}
                (Some((name, Value::Null)), _) => self.fail(
                    model,
                    route,
                    &at(name),
                    "is null, which the client does not accept here",
                ),
                (Some((name, v)), _) => {
                    self.fields += 1;
                    self.value(model, route, &at(name), field.kind, v);
                }
            }
        }
    }

    fn value(&mut self, model: &'static Model, route: &str, path: &str, kind: Kind, v: &Value) {
        let text = v.as_str();
        let problem: Option<String> = match kind {
            Any => None,
            Model(inner) => {
                self.object(inner, route, path, v);
                None
            }
            List(element) => match v.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.value(model, route, &format!("{path}[{i}]"), *element, item);
                    }
                    None
                }
                None => Some(format!("is not an array: {v}")),
            },
            Bool => (!v.is_boolean()).then(|| format!("is not a bool: {v}")),
            Int(min, max) => {
                let n = v
                    .as_u64()
                    .map(i128::from)
                    .or_else(|| v.as_i64().map(i128::from));
                match n {
                    None => Some(format!("is not an integer: {v}")),
                    Some(n) if n < min || n > max => Some(format!("is {n}, outside {min}..={max}")),
                    Some(_) => None,
                }
            }
            _ => match text {
                None => Some(format!("is not a string: {v}")),
                Some(s) => string_problem(kind, s),
            },
        };
        if let Some(p) = problem {
            self.fail(model, route, path, &p);
        }
    }

    /// Panics with every failure, if any.
    fn assert_clean(&self) {
        assert!(
            self.failures.is_empty(),
            "{} answer field(s) 1Password's client would refuse:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// What is wrong with string `s` as a `kind`, if anything.
fn string_problem(kind: Kind, s: &str) -> Option<String> {
    let only = |ok: fn(char) -> bool| s.chars().all(ok);
    let (ok, what) = match kind {
        Uuid => (!s.is_empty(), "is an empty id"),
        DateTime => (
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok(),
            "is not an RFC 3339 date and time",
        ),
        Url => (
            reqwest::Url::parse(s)
                .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some()),
            "is not an absolute http(s) URL",
        ),
        Email => {
            let mut parts = s.split('@');
            let (local, domain, rest) = (parts.next(), parts.next(), parts.next());
            (
                (3..=254).contains(&s.len())
                    && local.is_some_and(|l| !l.is_empty())
                    && domain.is_some_and(|d| !d.is_empty())
                    && rest.is_none()
                    && !s.contains(char::is_whitespace),
                "is not an email address",
            )
        }
        Base32 => (
            !s.is_empty() && only(|c| c.is_ascii_alphabetic() || ('2'..='7').contains(&c)),
            "is not unpadded base32",
        ),
        Hex => (
            !s.is_empty() && s.len().is_multiple_of(2) && only(|c| c.is_ascii_hexdigit()),
            "is not even-length hex",
        ),
        B64Url => (
            only(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "is not unpadded base64url",
        ),
        Letter(known) | Strict(known) => {
            return (!known.contains(&s)).then(|| format!("is {s:?}, not one of {known:?}"));
        }
        Str | CommaList | Any | Bool | Int(..) | Model(_) | List(_) => (true, ""),
    };
    (!ok).then(|| format!("{what}: {s:?}"))
}

// ---------------------------------------------------------------------------------------------
// Driving the emulator.

/// A member who signs in and reaches the vault "Support" only through the group "Support".
const MEMBER: &str = "sam@acme.example";

/// The demo account and [`MEMBER`]. The client refuses fewer than 10 000 PBKDF2 iterations, so
/// the account uses that many.
async fn emulator() -> RunningEmulator {
    let account = demo_account()
        .iterations(10_000)
        .person(PersonSpec::new(MEMBER, "Sam Support").password("correct horse battery"))
        .group(GroupSpec::new("Support").member(MEMBER))
        .vault(VaultSpec::new("Support").group("Support", acl::RWE));
    Emulator::start(EmulatorConfig::default(), account)
        .await
        .expect("emulator starts")
}

/// Every answer of the sign-in steps, as logged, for `route`.
fn logged_all(raw: &Raw, route: &str) -> Vec<(u16, Value)> {
    raw.log
        .lock()
        .expect("log")
        .iter()
        .filter(|(r, _, _)| r == route)
        .map(|(_, s, b)| (*s, b.clone()))
        .collect()
}

/// A signed GET that must succeed; returns the (decrypted) body.
async fn get(raw: &mut Raw, path: &str) -> Value {
    let a = raw.signed("GET", path, None).await;
    assert_eq!(a.status, 200, "GET {path}: {}", a.body);
    a.body
}

/// Checks every answer `raw` (signed in with `creds`) reads: keysets, the account, each group it
/// sees and their public keys, the vault listing, each vault with its accessors and each vault's
/// attributes. Returns the keyring and how many groups and vaults were checked.
async fn check_reads(
    raw: &mut Raw,
    creds: &Credentials,
    check: &mut Checker,
) -> (Keyring, usize, usize) {
    // Keys.
    let route = "/api/v2/account/keysets";
    let keysets = get(raw, route).await;
    check.answer(&KEYSETS_RESPONSE, &format!("GET {route}"), &keysets);
    let ring = raw.keyring(creds).await;

    // The account, as 1Password's client asks for it, then with its groups and billing tier.
    for route in [
        "/api/v3/account?attrs=me",
        "/api/v3/account?attrs=me,tier,groups,settings",
    ] {
        let account = get(raw, route).await;
        check.answer(&ACCOUNT_ATTRIBUTES, &format!("GET {route}"), &account);
    }
    let with_tier = get(raw, "/api/v3/account?attrs=me,tier").await;
    assert!(with_tier["tier"].is_object(), "tier asked for: {with_tier}");

    // Groups: each one the person sees, one by one, and their public keys together.
    let account = get(raw, "/api/v3/account?attrs=me,groups").await;
    let groups: Vec<String> = account["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["uuid"].as_str().map(str::to_owned))
        .collect();
    for uuid in &groups {
        for attrs in ["", "?attrs=pubkey,vault-access"] {
            let route = format!("/api/v2/group/{uuid}{attrs}");
            let group = get(raw, &route).await;
            check.answer(&GROUP_RECORD, &format!("GET {route}"), &group);
        }
    }
    let route = format!("/api/v1/group/pubkeys?uuids={}", groups.join(","));
    let pubkeys = get(raw, &route).await;
    assert_eq!(pubkeys.as_array().map(Vec::len), Some(groups.len()));
    check.list(&GROUP_PUB_KEY, &format!("GET {route}"), &pubkeys);

    // Vaults: the listing, each vault with its accessors, and each vault's attributes.
    let route = "/api/v1/vaults?attrs=combined-access";
    let vaults = get(raw, route).await;
    check.list(&VAULT_METADATA, &format!("GET {route}"), &vaults);
    let ids: Vec<String> = vaults
        .as_array()
        .expect("vaults")
        .iter()
        .filter_map(|v| v["uuid"].as_str().map(str::to_owned))
        .collect();
    let mut opened = 0;
    for uuid in &ids {
        let route = format!("/api/v3/vault/{uuid}?attrs=accessors,combined-access");
        let vault = get(raw, &route).await;
        check.answer(&VAULT_METADATA, &format!("GET {route}"), &vault);
        assert!(vault["access"].is_array(), "accessors asked for: {vault}");
        if vault["combinedAccess"].is_null() {
            continue;
        }
        let wrapped = Envelope::from_json(&vault["combinedAccess"]["encVaultKey"]).expect("jwe");
        let key = ring
            .unwrap_key(&wrapped)
            .expect("the signed-in person opens the vault key");
        let attrs: Value = key
            .decrypt_json(&Envelope::from_json(&vault["encAttrs"]).expect("jwe"))
            .expect("encAttrs open with the vault key");
        check.answer(
            &VAULT_ATTRIBUTES,
            &format!("encAttrs of GET {route}"),
            &attrs,
        );
        opened += 1;
    }
    (ring, groups.len(), opened)
}

#[tokio::test]
async fn every_answer_has_what_1passwords_client_requires() {
    let emu = emulator().await;
    let owner = emu.owner().clone();
    let mut raw = Raw::new(&emu.address());
    // A new device: the first auth/start answers device-not-registered, registration follows.
    raw.sign_in(&owner, SrpVersion::V2, None)
        .await
        .unwrap_or_else(|a| panic!("sign-in refused: {} {}", a.status, a.body));
    let mut check = Checker::default();

    // Signing in.
    let starts = logged_all(&raw, "POST /api/v3/auth/start");
    assert_eq!(starts.len(), 2, "unregistered, then registered device");
    assert_eq!(starts[0].1["status"], "device-not-registered");
    assert_eq!(starts[1].1["status"], "ok");
    for (status, body) in &starts {
        assert_eq!(*status, 200);
        check.answer(&AUTH_RESPONSE, "POST /api/v3/auth/start", body);
    }
    for (route, model) in [
        ("POST /api/v1/device", &SUCCESS),
        ("POST /api/v2/auth", &POST_AUTH),
        ("POST /api/v2/auth/confirm-key", &CONFIRM_KEY),
        ("POST /api/v2/auth/complete", &COMPLETE_AUTH),
    ] {
        let (status, body) = raw
            .logged(route)
            .unwrap_or_else(|| panic!("{route} was not called"));
        assert_eq!(status, 200, "{route}: {body}");
        check.answer(model, route, &body);
    }

    let (ring, groups, vaults) = check_reads(&mut raw, &owner, &mut check).await;
    assert!(groups >= 5, "the demo account's groups: {groups}");
    assert!(vaults >= 4, "vault attributes opened: {vaults}");
    // A member who reaches a vault through a group only: its combined access names the group.
    let mut member = Raw::new(&emu.address());
    let sam = emu.credentials(MEMBER).expect("member").clone();
    member
        .sign_in(&sam, SrpVersion::V2, None)
        .await
        .unwrap_or_else(|a| panic!("sign-in refused: {} {}", a.status, a.body));
    let (_, groups, vaults) = check_reads(&mut member, &sam, &mut check).await;
    assert!(
        groups >= 2 && vaults >= 1,
        "the member's groups {groups} and vaults {vaults}"
    );
    let support = emu.vault_uuid("Support").expect("vault");
    let v = get(
        &mut member,
        &format!("/api/v3/vault/{support}?attrs=combined-access"),
    )
    .await;
    assert_eq!(v["combinedAccess"]["accessorType"], "group", "{v}");

    // Writes answer `{"success":1}`; the vault-access writes do so unencrypted.
    let a = raw.signed("PUT", "/api/v1/session/touch", None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    check.answer(&SUCCESS, "PUT /api/v1/session/touch", &a.body);
    let vault = emu.vault_uuid("Shared Logins").expect("vault");
    let bob = emu.user_uuid("bob@acme.example").expect("bob");
    let v = get(
        &mut raw,
        &format!("/api/v3/vault/{vault}?attrs=combined-access"),
    )
    .await;
    let vault_key = ring
        .unwrap_key(&Envelope::from_json(&v["combinedAccess"]["encVaultKey"]).expect("jwe"))
        .expect("vault key");
    let pk = get(&mut raw, &format!("/api/v1/user/pubkeys?uuids={bob}")).await;
    let jwk: opadmin_crypto::jwk::Jwk = serde_json::from_value(pk[0]["pubKey"].clone()).unwrap();
    let public = opadmin_crypto::rsa::RsaPublicKey::from_jwk(&jwk).unwrap();
    let record = json!({
        "vaultUuid": vault, "accessorType": "user", "accessorUuid": bob, "acl": acl::RWE, "leaseTimeout": 0,
        "vaultKeySN": 1, "encryptedBy": public.kid(), "encVaultKey": public.wrap_key(&vault_key).unwrap(),
    });
    check.answer(&VAULT_ACCESS_RECORD, "(request body of the grant)", &record);
    for (method, path, body) in [
        (
            "PATCH",
            format!("/api/v2/vault/{vault}/vaultaccess"),
            Some(json!({ "vaultaccess": [record] })),
        ),
        (
            "DELETE",
            format!("/api/v1/vault/{vault}/person/{bob}"),
            None,
        ),
    ] {
        let a = raw.signed(method, &path, body).await;
        assert_eq!(a.status, 200, "{method} {path}: {}", a.body);
        assert!(!a.encrypted, "{method} {path} answers unencrypted");
        check.answer(&SUCCESS, &format!("{method} {path}"), &a.body);
    }

    // The vault lifecycle: the creation preflight, then a vault created and deleted; both
    // writes answer `{"success":1}` unencrypted, as 1Password's SDK requires.
    let route = "/api/v1/vault/preflight/create?type=U";
    let preflight = get(&mut raw, route).await;
    check.answer(
        &VAULT_CREATION_PREFLIGHT,
        &format!("GET {route}"),
        &preflight,
    );
    let new_vault =
        opadmin_crypto::encoding::generate_uuid(opadmin_crypto::encoding::UuidCase::Lower);
    let new_key = opadmin_crypto::envelope::SymmetricKey::generate(
        opadmin_crypto::encoding::generate_uuid(opadmin_crypto::encoding::UuidCase::Lower),
    );
    let me = raw.user_uuid.clone();
    let mine = get(&mut raw, &format!("/api/v1/user/pubkeys?uuids={me}")).await;
    let mine: opadmin_crypto::jwk::Jwk = serde_json::from_value(mine[0]["pubKey"].clone()).unwrap();
    let mine = opadmin_crypto::rsa::RsaPublicKey::from_jwk(&mine).unwrap();
    let mut access = vec![json!({
        "vaultUuid": new_vault, "accessorType": "user", "accessorUuid": me, "acl": acl::RWE | acl::MANAGE,
        "leaseTimeout": 0, "vaultKeySN": 1, "encryptedBy": mine.kid(), "encVaultKey": mine.wrap_key(&new_key).unwrap(),
    })];
    for g in preflight["mandatoryGroupUuids"].as_array().expect("groups") {
        let g = g.as_str().expect("uuid");
        let pk = get(&mut raw, &format!("/api/v1/group/pubkeys?uuids={g}")).await;
        let jwk: opadmin_crypto::jwk::Jwk =
            serde_json::from_value(pk[0]["pubKey"].clone()).unwrap();
        let public = opadmin_crypto::rsa::RsaPublicKey::from_jwk(&jwk).unwrap();
        access.push(json!({
            "vaultUuid": new_vault, "accessorType": "group", "accessorUuid": g, "acl": acl::MANAGE,
            "leaseTimeout": 0, "vaultKeySN": 1, "encryptedBy": public.kid(), "encVaultKey": public.wrap_key(&new_key).unwrap(),
        }));
    }
    let attrs = new_key.encrypt_json(&json!({"name": "Checked", "desc": "", "avatar": "", "color": "", "type": "U", "version": 1}));
    for (method, path, body) in [
        (
            "POST",
            "/api/v2/vault".to_owned(),
            Some(json!({"uuid": new_vault, "type": "U", "encAttrs": attrs, "access": access})),
        ),
        ("DELETE", format!("/api/v4/vault/{new_vault}"), None),
    ] {
        let a = raw.signed(method, &path, body).await;
        assert_eq!(a.status, 200, "{method} {path}: {}", a.body);
        assert!(!a.encrypted, "{method} {path} answers unencrypted");
        check.answer(&SUCCESS, &format!("{method} {path}"), &a.body);
    }

    check.assert_clean();
    // Everything the emulator serves of the checklist was met at least once.
    for model in ALL_MODELS {
        let reachable_only_when_filled = ["GroupPreview", "UserPreview", "VaultAccessorPreviews"];
        let served_only_when_present = ["JwkEcPublicKey"];
        if reachable_only_when_filled.contains(&model.name)
            || served_only_when_present.contains(&model.name)
        {
            continue;
        }
        assert!(
            check.seen.contains(model.name),
            "model {} was never checked",
            model.name
        );
    }
    assert!(check.fields > 500, "fields checked: {}", check.fields);
}

#[test]
fn the_checker_names_model_route_and_field() {
    let route = "GET /api/v3/account?attrs=me";
    let good = json!({
        "uuid": "AAAAAAAAAAAAAAAAAAAAAAAAAA", "avatar": "", "name": "Acme", "state": "A", "type": "B",
        "attrVersion": 1, "baseAttachmentURL": "https://f.example/", "baseAvatarURL": "https://a.example/",
        "domain": "acme", "createdAt": "2026-11-30T10:00:00Z",
        "me": {"uuid": "BBBBBBBBBBBBBBBBBBBBBBBBBB", "email": "a@acme.example", "name": "A", "state": "A",
               "attrVersion": 1, "avatar": "", "createdAt": "2026-11-30T10:00:00Z", "preferences": 0,
               "type": "R", "migrationState": null},
        "tier": {"guestsIncluded": 20, "membersIncluded": 1, "features": ["scim"]},
        "groups": null,
    });
    let mut check = Checker::default();
    check.answer(&ACCOUNT_ATTRIBUTES, route, &good);
    check.assert_clean();

    let mut bad = good.clone();
    let map = bad.as_object_mut().unwrap();
    map.remove("baseAvatarURL");
    map.insert("createdAt".into(), json!("yesterday"));
    map.insert("domain".into(), Value::Null);
    bad["tier"]["guestsIncluded"] = json!(70_000);
    bad["tier"]["features"] = json!(["scim", 3]);
    bad["me"]["state"] = json!("Q");
    bad["me"]["migrationState"] = json!("X");
    bad["me"].as_object_mut().unwrap().remove("preferences");
    let mut check = Checker::default();
    check.answer(&ACCOUNT_ATTRIBUTES, route, &bad);
    let expected = [
        "AccountAttributesResponse (GET /api/v3/account?attrs=me): field `baseAvatarURL` is required but missing",
        "AccountAttributesResponse (GET /api/v3/account?attrs=me): field `domain` is null",
        "AccountAttributesResponse (GET /api/v3/account?attrs=me): field `createdAt` is not an RFC 3339",
        "Me (GET /api/v3/account?attrs=me): field `me.state` is \"Q\"",
        "Me (GET /api/v3/account?attrs=me): field `me.preferences` is required but missing",
        "Me (GET /api/v3/account?attrs=me): field `me.migrationState` is \"X\"",
        "BillingTier (GET /api/v3/account?attrs=me): field `tier.guestsIncluded` is 70000, outside 0..=65535",
        "BillingTier (GET /api/v3/account?attrs=me): field `tier.features[1]` is not a string",
    ];
    for e in expected {
        assert!(
            check.failures.iter().any(|f| f.starts_with(e)),
            "expected a failure starting {e:?} in {:#?}",
            check.failures
        );
    }
    assert_eq!(
        check.failures.len(),
        expected.len(),
        "{:#?}",
        check.failures
    );

    // An alias counts as the field; a group's description may come as `desc`.
    let group = |desc_key: &str| {
        let mut g = json!({
            "uuid": "g", "type": "U", "name": "Eng", "createdAt": "2026-11-30T10:00:00Z",
            "updatedAt": "2026-11-30T10:00:00Z", "activeKeysetUuid": "k", "attrVersion": 1,
            "state": "A", "permissions": 0,
        });
        g[desc_key] = json!("");
        g
    };
    let mut check = Checker::default();
    check.answer(&GROUP_RECORD, "GET /api/v2/group/g", &group("desc"));
    check.answer(&GROUP_RECORD, "GET /api/v2/group/g", &group("description"));
    check.assert_clean();
    check.answer(&GROUP_RECORD, "GET /api/v2/group/g", &group("descr"));
    assert_eq!(
        check.failures,
        ["GroupRecord (GET /api/v2/group/g): field `description` is required but missing"]
    );
}

#[test]
fn the_checklist_is_well_formed() {
    let mut names = std::collections::BTreeSet::new();
    for model in ALL_MODELS {
        assert!(names.insert(model.name), "{} listed twice", model.name);
        assert!(!model.fields.is_empty(), "{} has no fields", model.name);
        let mut wire = std::collections::BTreeSet::new();
        for field in model.fields {
            for name in field.names {
                assert!(wire.insert(*name), "{}.{name} listed twice", model.name);
            }
        }
    }
    assert_eq!(names.len(), 28);
}
