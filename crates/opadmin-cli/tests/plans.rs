//! `opadmin plan`, `opadmin apply` and `--dry-run`, against one emulator per test so that the
//! emulator's count of applied changes shows what was sent: nothing for a plan or a dry run,
//! exactly the plan's changes for an apply, and nothing left to do afterwards.
#![cfg(feature = "emulator")]

use std::path::PathBuf;
mod support;
use support::{demo_emulator as emulator, json, opadmin, runtime};

/// The desired state shipped as the README's example, written for the demo account.
fn example() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/desired-state.toml")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn plan_then_apply_then_nothing_left() {
    let rt = runtime();
    let emu = emulator(&rt);
    let file = example();

    // The plan: changes listed, nothing sent.
    let (code, stdout, stderr) = opadmin(&emu, &["plan", &file, "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let plan = json(&stdout);
    let steps = plan["steps"].as_array().expect("steps").len();
    assert!(steps >= 4, "the example changes the demo account: {stdout}");
    assert_eq!(emu.changes_applied(), 0, "a plan sends nothing");

    // Applying needs --yes without a terminal, and sends nothing without it.
    let (code, _, stderr) = opadmin(&emu, &["apply", &file]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(emu.changes_applied(), 0);

    // --dry-run on apply is the plan.
    let (code, stdout, _) = opadmin(&emu, &["apply", &file, "--dry-run", "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(json(&stdout)["steps"].as_array().map(Vec::len), Some(steps));
    assert_eq!(emu.changes_applied(), 0);

    // Applied: one change on the server per step, each reported applied.
    let (code, stdout, stderr) = opadmin(&emu, &["apply", &file, "--yes", "--format", "csv"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(stdout.lines().next(), Some("step,op,status,message"));
    assert_eq!(stdout.matches(",applied,").count(), steps, "{stdout}");
    assert_eq!(emu.changes_applied(), steps as u64);

    // And planned again: nothing left to change.
    let (code, stdout, stderr) = opadmin(&emu, &["plan", &file, "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json(&stdout)["steps"], serde_json::json!([]), "{stdout}");
    let (code, _, stderr) = opadmin(&emu, &["apply", &file, "--yes"]);
    assert_eq!(code, 0);
    assert!(stderr.contains("Nothing to change"), "{stderr}");
    assert_eq!(
        emu.changes_applied(),
        steps as u64,
        "a second apply sends nothing"
    );
}

#[test]
fn dry_run_sends_nothing_on_any_state_changing_command() {
    let rt = runtime();
    let emu = emulator(&rt);
    for (args, expect) in [
        (
            &["users", "remove", "erin@acme.example", "gina@acme.example"][..],
            "remove erin@acme.example",
        ),
        (
            &["users", "suspend", "bob@acme.example"][..],
            "suspend bob@acme.example",
        ),
        (
            &["users", "invite", "new@acme.example"][..],
            "invite new@acme.example",
        ),
        (
            &["groups", "add", "Marketing", "alice@acme.example"][..],
            "alice@acme.example",
        ),
        (
            &[
                "vaults",
                "grant",
                "Finance",
                "bob@acme.example",
                "--permissions",
                "view_items",
            ][..],
            "grant bob@acme.example",
        ),
        (
            &["vaults", "revoke", "Shared Logins", "alice@acme.example"][..],
            "alice@acme.example",
        ),
        (
            &[
                "vaults",
                "remove-permissions",
                "Shared Logins",
                "alice@acme.example",
                "--permissions",
                "export_items",
            ][..],
            "alice@acme.example",
        ),
        (
            &["vaults", "delete", "Finance"][..],
            "delete the vault Finance",
        ),
        (
            &["vaults", "create", "New Vault"][..],
            "create the vault New Vault",
        ),
    ] {
        let mut all = vec!["--dry-run", "--format", "csv"];
        all.extend_from_slice(args);
        let (code, stdout, stderr) = opadmin(&emu, &all);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(
            stdout.starts_with("kind,op,summary,requests"),
            "{args:?}: {stdout}"
        );
        assert!(stdout.contains(expect), "{args:?}: {stdout}");
        assert!(
            stdout.contains("change,"),
            "{args:?} plans a change: {stdout}"
        );
        assert_eq!(emu.changes_applied(), 0, "{args:?} sent a change");
    }
    // A change that would change nothing is reported as such, not as a step.
    let (code, stdout, _) = opadmin(
        &emu,
        &[
            "--dry-run",
            "--format",
            "csv",
            "vaults",
            "grant",
            "Shared Logins",
            "alice@acme.example",
        ],
    );
    assert_eq!(code, 0);
    assert!(!stdout.contains("change,"), "{stdout}");
    assert!(stdout.contains("unchanged,"), "{stdout}");
    assert_eq!(emu.changes_applied(), 0);
}

#[test]
fn an_unreadable_desired_state_is_a_usage_error_before_signing_in() {
    let rt = runtime();
    let emu = emulator(&rt);
    let dir = std::env::temp_dir().join(format!("opadmin-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, text) in [
        (
            "typo.toml",
            "[[groups]]\ngroup = \"Engineering\"\nmembrs = []\n",
        ),
        ("bad.json", "{\"groups\": ["),
        (
            "perm.toml",
            "[[vaults]]\nvault = \"Finance\"\npeople = [{ user = \"a@b.c\", permissions = [\"fly\"] }]\n",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        let (code, stdout, stderr) = opadmin(&emu, &["plan", path.to_str().expect("path")]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stdout.is_empty());
    }
    let (code, _, _) = opadmin(&emu, &["plan", "/nonexistent/state.toml"]);
    assert_eq!(code, 2);
    assert_eq!(emu.requests_served(), 0, "nothing reached the server");
    std::fs::remove_dir_all(&dir).ok();
}
