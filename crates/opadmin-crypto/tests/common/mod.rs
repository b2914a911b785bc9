//! Shared by the property tests of this directory: the case budget and the real b5 fixtures.

#![allow(dead_code)]

use proptest::test_runner::Config;
use serde_json::Value;

/// A proptest configuration with `default` cases, or `PROPTEST_CASES` when it is set (to run a
/// target longer: `PROPTEST_CASES=100000 cargo test -p opadmin-crypto --test fuzz_mac`).
pub fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        // Shrinking a failure must end too; a few thousand steps is plenty for these inputs.
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

/// A real server answer from `tests/fixtures/b5/`, without a leading `// comment` line.
pub fn fixture(name: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/b5/");
    let text = std::fs::read_to_string(format!("{path}{name}")).expect("fixture readable");
    let json = match text.trim_start().strip_prefix("//") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, r)| r),
        None => text.as_str(),
    };
    serde_json::from_str(json).expect("fixture is JSON")
}

/// Arbitrary JSON values, nested a few levels deep.
pub fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[A-Za-z0-9_=-]{0,64}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{0,8}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
