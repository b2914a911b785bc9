//! `opadmin sync --state FILE`: the first run syncs in full and stores the snapshot; a later run
//! continues from it (reading again only what moved), lists what changed with `--part changes`,
//! and stores the new snapshot. A state file that cannot be trusted is refused, naming the file.
#![cfg(feature = "emulator")]

use std::path::{Path, PathBuf};

mod support;
use serde_json::Value;
use support::{demo_emulator as emulator, json, opadmin, runtime};

/// A fresh directory for this test's files.
fn dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("opadmin-sync-state-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// `sync --state STATE --part changes --format FORMAT`: the exit code and stdout (stderr shown
/// when it fails).
fn changes(emu: &opadmin_emulator::RunningEmulator, state: &Path, format: &str) -> String {
    let (code, stdout, stderr) = opadmin(
        emu,
        &[
            "sync",
            "--state",
            &arg(state),
            "--part",
            "changes",
            "--format",
            format,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    stdout
}

#[test]
fn a_stored_snapshot_carries_the_next_sync_and_lists_what_changed() {
    let rt = runtime();
    let emu = emulator(&rt);
    let dir = dir("carry");
    let state = dir.join("state.json");

    // First run: no file yet, so a full sync; the snapshot is stored, private.
    let stdout = changes(&emu, &state, "json");
    assert_eq!(
        json(&stdout),
        serde_json::json!([]),
        "nothing to compare with yet"
    );
    let stored: Value = json(&std::fs::read_to_string(&state).expect("stored"));
    let vaults = stored["vaults"].as_array().expect("vaults").len();
    assert!(vaults > 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A change on the server, then the next run: only the changed vault is read again, and
    // the change is listed by name.
    let (code, _, stderr) = opadmin(&emu, &["users", "suspend", "bob@acme.example"]);
    assert_eq!(code, 0, "{stderr}");
    let stdout = changes(&emu, &state, "json");
    let listed = json(&stdout);
    let bob = listed
        .as_array()
        .expect("records")
        .iter()
        .find(|c| c["name"] == "bob@acme.example")
        .unwrap_or_else(|| panic!("bob's suspension is listed: {stdout}"));
    assert_eq!(
        (&bob["kind"], &bob["change"]),
        (&"person".into(), &"changed".into())
    );
    let stored: Value = json(&std::fs::read_to_string(&state).expect("stored"));
    let c = &stored["changes"];
    assert_eq!(c["vaults_reused"].as_u64(), Some(vaults as u64), "{c}");
    assert_eq!(c["vaults_read"].as_u64(), Some(0), "{c}");

    // Nothing changed since but this run's own sign-in: only the administrator's last sign-in
    // is listed.
    let stdout = changes(&emu, &state, "csv");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "kind,change,id,name");
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.starts_with("person,changed,") && l.ends_with(",admin@acme.example")),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_state_file_that_cannot_be_trusted_is_refused_and_left_alone() {
    let rt = runtime();
    let emu = emulator(&rt);
    let dir = dir("refused");
    let state = dir.join("state.json");
    let (code, _, stderr) = opadmin(
        &emu,
        &["sync", "--state", &arg(&state), "--part", "account"],
    );
    assert_eq!(code, 0, "{stderr}");
    let good = std::fs::read_to_string(&state).unwrap();
    let mut foreign: Value = json(&good);
    foreign["account"]["id"] = "ZZZZZZZZZZZZZZZZZZZZZZZZZZ".into();

    let cases: Vec<(&str, String, &str)> = vec![
        ("not JSON", "secret-looking {".into(), "is not JSON"),
        ("cut short", good[..good.len() / 2].to_owned(), "cut short"),
        (
            "another shape",
            r#"{"users":5}"#.into(),
            "not a snapshot opadmin wrote",
        ),
        (
            "another account",
            foreign.to_string(),
            "ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
        ),
    ];
    for (name, content, says) in cases {
        std::fs::write(&state, &content).unwrap();
        let (code, stdout, stderr) = opadmin(
            &emu,
            &["sync", "--state", &arg(&state), "--part", "account"],
        );
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}: nothing printed: {stdout}");
        assert!(stderr.contains(says), "{name}: {stderr}");
        assert!(
            !stderr.contains("secret-looking"),
            "{name}: the file is never quoted"
        );
        assert_eq!(
            std::fs::read_to_string(&state).unwrap(),
            content,
            "{name}: left alone"
        );
    }

    // A directory, and --part changes without a state file.
    let (code, _, stderr) = opadmin(&emu, &["sync", "--state", &arg(&dir)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    let (code, _, stderr) = opadmin(&emu, &["sync", "--part", "changes"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--state"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
