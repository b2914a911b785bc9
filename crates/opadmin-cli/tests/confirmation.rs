//! Destructive bulk changes ask first: on a terminal (a pseudo-terminal here) `y` goes on and
//! anything else sends nothing; without a terminal they are refused unless `--yes` is given.
//! "Sent nothing" is checked with the emulator's count of applied changes.
#![cfg(all(feature = "emulator", unix))]

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use opadmin_emulator::RunningEmulator;

mod support;
use support::{command as opadmin, demo_emulator as emulator, runtime};

/// Runs with stdin and stderr on a pseudo-terminal, typing `answer` (a line) into it; returns
/// the exit code, stdout, and what appeared on the terminal.
fn run_on_terminal(
    emulator: &RunningEmulator,
    args: &[&str],
    answer: &str,
) -> (i32, String, String) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("a pseudo-terminal");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().expect("a path"))
        .expect("open the terminal side");
    let mut master = std::fs::File::from(master);
    let mut child = opadmin(emulator, args)
        .stdin(slave.try_clone().expect("clone"))
        .stderr(slave)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // Typed ahead: the terminal keeps the line until the program reads it.
    master
        .write_all(answer.as_bytes())
        .expect("type the answer");
    let mut reader = master.try_clone().expect("clone");
    let screen = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        // Ends with an error (EIO) once the program has closed the terminal side.
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read stdout");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the command did not finish");
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(master);
    let screen = screen.join().expect("reader thread");
    (status.code().unwrap_or(-1), stdout, screen)
}

const TWO: [&str; 2] = ["erin@acme.example", "gina@acme.example"];

#[test]
fn without_a_terminal_a_bulk_removal_needs_yes() {
    let rt = runtime();
    let emulator = emulator(&rt);
    let mut args = vec!["users", "remove"];
    args.extend(TWO);
    let (code, stdout, stderr) = support::opadmin(&emulator, &args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("Remove 2 people"), "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(emulator.changes_applied(), 0, "nothing may be sent");

    // One target is not a bulk change: no question.
    let (code, _, stderr) = support::opadmin(&emulator, &["users", "suspend", "bob@acme.example"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(emulator.changes_applied(), 1);

    args.push("--yes");
    args.extend(["--format", "csv"]);
    let (code, stdout, stderr) = support::opadmin(&emulator, &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.matches(",removed,").count(), 2, "{stdout}");
    assert_eq!(emulator.changes_applied(), 3);
}

#[test]
fn on_a_terminal_only_yes_goes_on() {
    let rt = runtime();
    let emulator = emulator(&rt);
    let args = vec![
        "users",
        "suspend",
        "--format",
        "csv",
        "bob@acme.example",
        "carol@acme.example",
    ];

    for no in ["n\n", "\n", "yess\n"] {
        let (code, stdout, screen) = run_on_terminal(&emulator, &args, no);
        assert_eq!(code, 9, "answer {no:?}: {screen}");
        // The terminal echoes the answer typed ahead, possibly before the question is
        // written: look for the question's parts, not the line.
        assert!(screen.contains("Suspend 2 people?"), "{screen}");
        assert!(screen.contains("[y/N]"), "{screen}");
        assert!(screen.contains("not confirmed"), "{screen}");
        assert!(stdout.is_empty(), "{stdout}");
        assert_eq!(
            emulator.changes_applied(),
            0,
            "answer {no:?} sent something"
        );
    }

    let (code, stdout, screen) = run_on_terminal(&emulator, &args, "y\n");
    assert_eq!(code, 0, "{screen}");
    assert_eq!(stdout.matches(",suspended,").count(), 2, "{stdout}");
    assert_eq!(emulator.changes_applied(), 2);

    // --yes: no question even on a terminal.
    let mut args = vec!["users", "remove", "--format", "csv", "--yes"];
    args.extend(TWO);
    let (code, stdout, screen) = run_on_terminal(&emulator, &args, "");
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("[y/N]"), "{screen}");
    assert_eq!(stdout.matches(",removed,").count(), 2, "{stdout}");
    assert_eq!(emulator.changes_applied(), 4);
}

#[test]
fn apply_asks_on_a_terminal_after_showing_the_plan() {
    let rt = runtime();
    let emulator = emulator(&rt);
    let file = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/desired-state.toml")
        .to_string_lossy()
        .into_owned();
    let (code, stdout, screen) = run_on_terminal(&emulator, &["apply", &file], "n\n");
    assert_eq!(code, 9, "{screen}");
    assert!(
        screen.contains("change "),
        "the plan is shown first: {screen}"
    );
    assert!(screen.contains("to the account?"), "{screen}");
    assert!(screen.contains("[y/N]"), "{screen}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(emulator.changes_applied(), 0);

    let (code, stdout, screen) =
        run_on_terminal(&emulator, &["apply", &file, "--format", "csv"], "yes\n");
    assert_eq!(code, 0, "{screen}");
    let applied = stdout.matches(",applied,").count() as u64;
    assert!(applied > 0, "{stdout}");
    assert_eq!(emulator.changes_applied(), applied);
}
