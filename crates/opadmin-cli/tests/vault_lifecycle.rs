//! `opadmin vaults create | rename | delete` against one emulator started here: the records
//! printed, the account afterwards, the confirmation rule for deleting, and the refusals.
#![cfg(feature = "emulator")]

use serde_json::Value;

mod support;

use opadmin_emulator::{Emulator, EmulatorConfig, demo_account};
use support::{opadmin, opadmin_as};

/// The one record a lifecycle command prints as JSON.
fn record(stdout: &str) -> Value {
    let json: Value = serde_json::from_str(stdout).expect("JSON");
    let list = json.as_array().expect("a list of records");
    assert_eq!(list.len(), 1, "{stdout}");
    list[0].clone()
}

#[test]
fn vaults_are_created_renamed_and_deleted() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let emulator = rt
        .block_on(Emulator::start(
            EmulatorConfig::default(),
            demo_account().iterations(100_000),
        ))
        .expect("emulator starts");

    let (code, stdout, stderr) = opadmin(
        &emulator,
        &[
            "vaults",
            "create",
            "Deployments",
            "--description",
            "Release tooling",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let created = record(&stdout);
    assert_eq!(created["action"], "vault_create");
    assert_eq!(created["outcome"], "created");
    assert_eq!(created["target"], "Deployments");
    let id = created["id"].as_str().expect("the vault's uuid").to_owned();
    assert_eq!(
        emulator.vault_uuid("Deployments").as_deref(),
        Some(id.as_str())
    );
    let permissions = created["permissions"].to_string();
    assert!(permissions.contains("manage_vault"), "{permissions}");

    // Listed with its description, read back through the vault key the CLI made.
    let (code, stdout, stderr) = opadmin(&emulator, &["vaults", "list", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let listed: Value = serde_json::from_str(&stdout).expect("JSON");
    let vault = listed
        .as_array()
        .expect("list")
        .iter()
        .find(|v| v["id"] == id.as_str())
        .expect("listed")
        .clone();
    assert_eq!(vault["name"], "Deployments");
    assert_eq!(vault["description"], "Release tooling");

    // Rename by name; the table says what happened.
    let (code, stdout, stderr) =
        opadmin(&emulator, &["vaults", "rename", "Deployments", "Releases"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("renamed"), "{stdout}");
    assert_eq!(
        emulator.vault_uuid("Releases").as_deref(),
        Some(id.as_str())
    );
    let (code, stdout, stderr) = opadmin(
        &emulator,
        &["vaults", "rename", &id, "Releases", "--format", "json"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(record(&stdout)["outcome"], "unchanged");

    // Without a terminal and without --yes, nothing is deleted.
    let (code, stdout, stderr) = opadmin(&emulator, &["vaults", "delete", "Releases"]);
    assert_eq!(code, 2, "a usage error: {stdout} {stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert!(emulator.vault_uuid("Releases").is_some());
    let (code, stdout, stderr) = opadmin(
        &emulator,
        &["vaults", "delete", "Releases", "--yes", "--format", "json"],
    );
    assert_eq!(code, 0, "{stderr}");
    let deleted = record(&stdout);
    assert_eq!(deleted["outcome"], "deleted");
    assert_eq!(deleted["id"], id.as_str());
    assert_eq!(emulator.vault_uuid("Releases"), None);

    // Refusals: the administrator cannot see Finance (its creator excluded Administrators);
    // an unknown vault by name is the same answer; an empty name is a usage error.
    let (code, _, stderr) = opadmin_as(
        &emulator,
        "it-admin@acme.example",
        &["vaults", "delete", "Finance", "--yes"],
    );
    assert_eq!(code, 5, "{stderr}");
    assert!(emulator.vault_uuid("Finance").is_some());
    let (code, _, stderr) = opadmin(&emulator, &["vaults", "rename", "No Such Vault", "X"]);
    assert_eq!(code, 5, "{stderr}");
    let (code, _, stderr) = opadmin(&emulator, &["vaults", "create", " "]);
    assert_eq!(code, 2, "{stderr}");
}
