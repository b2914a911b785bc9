//! Property tests of the parsers of untrusted input in opadmin-api: the `ops_` service-account
//! token (never a panic, and no error quotes any part of it longer than 3 characters) and
//! server error bodies (any JSON and any status map to an error by the documented rules, with
//! server text clipped).
//!
//! Run longer with `PROPTEST_CASES=100000 cargo test -p opadmin-api --test parsers`.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use opadmin_api::ApiError;
use opadmin_api::models::ServerErrorBody;
use opadmin_api::service_account::ServiceAccountToken;
use opadmin_crypto::encoding::b64url_encode;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};

/// `default` cases, or `PROPTEST_CASES` when set.
fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[A-Za-z0-9_=@.-]{0,64}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{0,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

// ---------------------------------------------------------------------------------------------
// Service-account tokens
// ---------------------------------------------------------------------------------------------

/// A well-formed token's JSON (made-up values of the right shapes).
fn valid() -> Value {
    json!({
        "signInAddress": "fuzz-corp.1password.com",
        "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256", "iterations": 650000,
                     "salt": "Q2xhdWRlIHNhbHQgMTIzNA"},
        "email": "vq3kz8tw5nfyd@1passwordserviceaccounts.com",
        "srpX": "7c1f0e2d3b4a59687766554433221100ffeeddccbbaa99887766554433221100",
        "muk": {"alg": "A256GCM", "ext": true, "k": "MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXY",
                "key_ops": ["encrypt", "decrypt"], "kty": "oct", "kid": "mp"},
        "secretKey": "A3-K7PQ2M-XW94HT-8FJ3N-ZR6VB-C5LY2-QH7TD",
        "throttleSecret": {"seed": "00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef",
                           "uuid": "t4mzq7xwvk2bc3dfghjnp5rsya"},
        "deviceUuid": "n3b5c7d2e4f6g7h2j3k4m5p6qa",
    })
}

fn encode(value: &Value) -> String {
    format!("ops_{}", b64url_encode(value.to_string().as_bytes()))
}

/// The dotted paths of every member of the valid token.
const PATHS: [&str; 19] = [
    "signInAddress",
    "userAuth",
    "userAuth.method",
    "userAuth.alg",
    "userAuth.iterations",
    "userAuth.salt",
    "email",
    "srpX",
    "muk",
    "muk.alg",
    "muk.k",
    "muk.kty",
    "muk.kid",
    "secretKey",
    "throttleSecret",
    "throttleSecret.seed",
    "throttleSecret.uuid",
    "deviceUuid",
    "muk.ext",
];

fn parent_and_name<'a>(
    root: &'a mut Value,
    path: &str,
) -> Option<(&'a mut Map<String, Value>, String)> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let name = parts.pop()?.to_owned();
    let mut node = root;
    for p in parts {
        node = node.get_mut(p)?;
    }
    Some((node.as_object_mut()?, name))
}

fn with(path: &str, value: Option<Value>) -> Value {
    let mut token = valid();
    if let Some((parent, name)) = parent_and_name(&mut token, path) {
        match value {
            Some(v) => {
                parent.insert(name, v);
            }
            None => {
                parent.remove(&name);
            }
        }
    }
    token
}

fn shown(error: &ApiError) -> String {
    format!("{error}\n{error:?}")
}

/// Every text the parser's errors are made of, gathered by failing each check once with inputs
/// unlike the ones generated below. A window of the input that is also in here is wording, not
/// a quotation.
fn vocabulary() -> &'static str {
    static WORDS: OnceLock<String> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut tokens = vec![
            String::new(),
            "opx_".into(),
            "ops_".into(),
            "ops_!!".into(),
            format!("ops_{}", b64url_encode(b"{")),
            format!("ops_{}", b64url_encode(b"[]")),
        ];
        for path in PATHS {
            for value in [None, Some(json!(7)), Some(json!("#")), Some(json!({}))] {
                tokens.push(encode(&with(path, value)));
            }
        }
        let mut words = BTreeSet::new();
        for token in tokens {
            if let Err(error) = ServiceAccountToken::parse(&token) {
                words.insert(shown(&error));
            }
        }
        words.into_iter().collect::<Vec<_>>().join("\n")
    })
}

/// Every string the token carries: the token itself and each string inside its JSON.
fn texts_of(token: &str, json: Option<&Value>) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k.clone());
                walk(v, out);
            }),
            _ => {}
        }
    }
    let mut out = vec![token.to_owned()];
    if let Some(json) = json {
        walk(json, &mut out);
    }
    out
}

/// Parses and checks: no panic; a failure is `MalformedServiceAccountToken` and quotes no run
/// of more than 3 characters of the token (or of any string inside it) beyond the fixed wording.
fn check_token(token: &str, json: Option<&Value>) -> Result<(), TestCaseError> {
    let Err(error) = ServiceAccountToken::parse(token) else {
        return Ok(());
    };
    prop_assert!(
        matches!(error, ApiError::MalformedServiceAccountToken { .. }),
        "{error:?}"
    );
    let shown = shown(&error);
    for text in texts_of(token, json) {
        let chars: Vec<char> = text.chars().collect();
        for window in chars.windows(4) {
            let part: String = window.iter().collect();
            prop_assert!(
                !shown.contains(&part) || vocabulary().contains(&part),
                "the error quotes {part:?} of the input:\n{shown}"
            );
        }
    }
    Ok(())
}

/// A value for a mutated member: a plausible one of a wrong shape, or anything.
fn member_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[A-Za-z0-9+/_=@. -]{0,80}".prop_map(Value::String),
        "[0-9a-fA-F]{60,68}".prop_map(Value::String),
        "[a-z2-7]{24,28}".prop_map(Value::String),
        "[A-Z0-9-]{30,45}".prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..48)
            .prop_map(|b| Value::String(b64url_encode(&b))),
        any_json(),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_strings_never_panic_or_leak(input in any::<String>()) {
        check_token(&input, None)?;
        check_token(&format!("ops_{input}"), None)?;
    }

    #[test]
    fn arbitrary_bytes_after_the_prefix_never_panic_or_leak(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let token = format!("ops_{}", b64url_encode(&bytes));
        check_token(&token, None)?;
        check_token(&format!("{token}=="), None)?;
    }

    #[test]
    fn arbitrary_json_never_panics_or_leaks(json in any_json()) {
        check_token(&encode(&json), Some(&json))?;
    }

    /// A valid token with one to three members removed or replaced.
    #[test]
    fn mutated_tokens_never_panic_or_leak(
        edits in proptest::collection::vec((0..PATHS.len(), proptest::option::of(member_value())), 1..4),
    ) {
        let mut token = valid();
        for (path, value) in &edits {
            if let Some((parent, name)) = parent_and_name(&mut token, PATHS[*path]) {
                match value {
                    Some(v) => { parent.insert(name, v.clone()); }
                    None => { parent.remove(&name); }
                }
            }
        }
        check_token(&encode(&token), Some(&token))?;
    }
}

/// The made-up token parses (so mutations start from a valid one), and the vocabulary is
/// made of the error texts only.
#[test]
fn the_seed_token_is_valid() {
    let token = encode(&valid());
    let parsed = ServiceAccountToken::parse(&token).unwrap();
    assert_eq!(parsed.email(), "vq3kz8tw5nfyd@1passwordserviceaccounts.com");
    for secret in [
        "7c1f0e2d", "MDEyMzQ1", "K7PQ2M", "XW94HT", "Q2xhdWRl", "t4mzq7xw",
    ] {
        assert!(!vocabulary().contains(secret), "{secret}");
    }
    assert!(vocabulary().contains("deviceUuid"));
}

/// A token of several megabytes is refused without trouble.
#[test]
fn huge_tokens_are_refused() {
    let huge = format!("ops_{}", "A".repeat(8 << 20));
    let error = ServiceAccountToken::parse(&huge).unwrap_err();
    assert!(matches!(
        error,
        ApiError::MalformedServiceAccountToken { .. }
    ));
    let mut token = valid();
    token["email"] = json!(format!("{}@x", "e".repeat(1 << 20)));
    token["srpX"] = json!("z".repeat(1 << 20));
    let error = ServiceAccountToken::parse(&encode(&token)).unwrap_err();
    assert!(error.to_string().len() < 512, "{}", error.to_string().len());
}

// ---------------------------------------------------------------------------------------------
// Server error bodies
// ---------------------------------------------------------------------------------------------

/// What the documented rules of `ApiError::from_error_body` say an answer maps to, written
/// independently: the first matching rule wins.
fn expected_variant(status: u16, code: Option<i64>, reason: Option<&str>) -> &'static str {
    match reason.map(str::trim) {
        Some("account_policy") => return "BusinessPlanRequired",
        Some("user_suspended") => return "UserSuspended",
        Some("user_deleted") => return "UserDeleted",
        Some("invalid_sk_prefix_format") => return "Authentication",
        _ => {}
    }
    // (error code, HTTP status, variant); 429 has no error code of its own.
    let rules: [(Option<i64>, u16, &str); 7] = [
        (Some(107), 435, "UserSuspended"),
        (Some(109), 436, "UserDeleted"),
        (Some(102), 401, "SessionExpired"),
        (None, 429, "RateLimited"),
        (Some(117), 404, "NotFound"),
        (Some(101), 403, "PermissionDenied"),
        (Some(125), 445, "Protocol"),
    ];
    for (c, s, variant) in rules {
        if (c.is_some() && code == c) || status == s {
            return variant;
        }
    }
    "Server"
}

fn variant_name(error: &ApiError) -> &'static str {
    match error {
        ApiError::BusinessPlanRequired => "BusinessPlanRequired",
        ApiError::UserSuspended => "UserSuspended",
        ApiError::UserDeleted => "UserDeleted",
        ApiError::Authentication => "Authentication",
        ApiError::SessionExpired => "SessionExpired",
        ApiError::RateLimited { .. } => "RateLimited",
        ApiError::NotFound { .. } => "NotFound",
        ApiError::PermissionDenied { .. } => "PermissionDenied",
        ApiError::Protocol(_) => "Protocol",
        ApiError::Server { .. } => "Server",
        _ => "other",
    }
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        prop::sample::select(vec![
            200u16, 400, 401, 403, 404, 429, 435, 436, 445, 500, 503
        ]),
        any::<u16>(),
    ]
}

fn code() -> impl Strategy<Value = Option<i64>> {
    proptest::option::of(prop_oneof![
        prop::sample::select(vec![101i64, 102, 107, 109, 117, 125, 0, -1]),
        any::<i64>(),
    ])
}

fn server_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        prop::sample::select(vec![
            "account_policy",
            "user_suspended",
            "user_deleted",
            "invalid_sk_prefix_format",
            "",
        ])
        .prop_flat_map(
            |r| ("[ \t\n]{0,2}", "[ \t\n]{0,2}").prop_map(move |(a, b)| format!("{a}{r}{b}"))
        ),
        any::<String>(),
        (any::<char>(), 150usize..2000).prop_map(|(c, n)| c.to_string().repeat(n)),
    ])
}

/// Server text as kept in an error: trimmed, at most 200 characters and an ellipsis.
fn assert_clipped(kept: &str, original: &str) -> Result<(), TestCaseError> {
    let trimmed = original.trim();
    let body = kept.strip_suffix('…').unwrap_or(kept);
    prop_assert!(
        kept.chars().count() <= 201,
        "{} characters kept",
        kept.chars().count()
    );
    prop_assert!(
        trimmed.starts_with(body),
        "{kept:?} is not a prefix of the server's text"
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_json_bodies_never_panic(json in any_json(), status in any::<u16>()) {
        let bytes = serde_json::to_vec(&json).unwrap();
        let error = ApiError::from_response(status, &bytes);
        let _ = (error.to_string(), format!("{error:?}"), error.is_retryable());
        if let Ok(body) = serde_json::from_value::<ServerErrorBody>(json) {
            let _ = body.is_error();
            let _ = ApiError::from_error_body(status, &body).to_string();
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256), status in any::<u16>()) {
        let error = ApiError::from_response(status, &bytes);
        // Not JSON (almost always): mapped from the status alone, as for `{}`.
        if serde_json::from_slice::<Value>(&bytes).is_err() {
            prop_assert_eq!(variant_name(&error), expected_variant(status, None, None));
        }
    }

    /// Any status, code, reason and message map by the documented rules, and whatever server
    /// text the error keeps is clipped.
    #[test]
    fn bodies_map_by_the_documented_rules(
        status in status(),
        code in code(),
        reason in server_text(),
        message in server_text(),
        request_id in proptest::option::of(any::<i64>()),
    ) {
        let body = ServerErrorBody {
            error_code: code,
            error_message: message.clone(),
            request_id,
            reason: reason.clone(),
        };
        // Through JSON too, as the transport reads it.
        let json = serde_json::to_vec(&body).unwrap();
        let parsed: ServerErrorBody = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(&parsed, &body);

        let error = ApiError::from_error_body(status, &body);
        prop_assert_eq!(variant_name(&error), expected_variant(status, code, reason.as_deref()));
        prop_assert_eq!(variant_name(&ApiError::from_response(status, &json)), variant_name(&error));
        match &error {
            ApiError::Server { status: s, error_code, error_message, reason: r, .. } => {
                prop_assert_eq!(*s, status);
                prop_assert_eq!(*error_code, code);
                if let (Some(kept), Some(original)) = (error_message, &message) {
                    assert_clipped(kept, original)?;
                }
                if let (Some(kept), Some(original)) = (r, &reason) {
                    assert_clipped(kept, original)?;
                }
            }
            ApiError::PermissionDenied { message: kept, .. } => {
                prop_assert!(kept.chars().count() <= 250, "{} characters", kept.chars().count());
            }
            _ => {}
        }
        // Whatever the server wrote, the error stays short.
        prop_assert!(error.to_string().chars().count() < 1000);
    }
}

/// A megabyte of server message is clipped to 200 characters.
#[test]
fn huge_server_messages_are_clipped() {
    let body = json!({"errorCode": 999, "errorMessage": "m".repeat(1 << 20), "reason": "r".repeat(1 << 20)});
    let error = ApiError::from_response(500, &serde_json::to_vec(&body).unwrap());
    let ApiError::Server {
        error_message: Some(message),
        reason: Some(reason),
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(message.chars().count(), 201);
    assert_eq!(reason.chars().count(), 201);
    assert!(error.to_string().len() < 1000);
}
