//! Test support shared by the facade's test files: the demo account's emulator with its owner
//! signed in, the opt-in switch for suites that need tools from outside Rust, Python tools from
//! PyPI installed into a virtual environment under the target directory (reused when present),
//! and free loopback ports.
#![allow(dead_code)]

use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The demo account on a fresh emulator (100,000 iterations), and its owner signed in.
pub async fn demo_owner() -> (opadmin_emulator::RunningEmulator, opadmin::Admin) {
    let emu = opadmin_emulator::Emulator::start(
        opadmin_emulator::EmulatorConfig::default(),
        opadmin_emulator::demo_account().iterations(100_000),
    )
    .await
    .expect("emulator starts");
    let owner = emu.owner().clone();
    let admin = opadmin::Admin::builder()
        .address(emu.address())
        .credentials(&owner.email, &owner.password, &owner.secret_key)
        .build()
        .await
        .expect("the owner signs in");
    (emu, admin)
}

/// The environment variable that opts in to the peer suites: tests that install and run tools
/// from outside Rust (`scim2-server` and `scim2-cli` from PyPI, 1Password's JS SDK from npm).
pub const PEER_SUITES_VAR: &str = "OPADMIN_PEER_SUITES";

/// Whether the peer suites run: only when `OPADMIN_PEER_SUITES=1`, so that `cargo test` needs
/// nothing but Rust by default. When they do not, prints one line naming the skipped test, what
/// it needs and how to opt in, and the caller returns early.
pub fn peer_suites_enabled(test: &str, needs: &str) -> bool {
    if std::env::var_os(PEER_SUITES_VAR).is_some_and(|v| v == "1") {
        return true;
    }
    // Straight to stderr rather than `eprintln!`, which the test harness captures and only shows
    // for failing tests: a skip must be visible in a passing run.
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: needs {needs}; run with {PEER_SUITES_VAR}=1 to include it"
    );
    false
}

/// Runs a command, failing the test with its output if it does not succeed.
pub fn run(what: &str, cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{what}: could not run {cmd:?}: {e}. Install python3 (>= 3.11) with venv and pip")
    });
    assert!(
        out.status.success(),
        "{what} failed ({}): {cmd:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The executable `exe` of PyPI package `package` pinned at `version`: `$override_var` if set,
/// else from a venv of its own under the target directory, created and filled with `pip` on
/// first use. Needs `python3` (>= 3.11; `PYTHON` picks another) and network access to PyPI the
/// first time; without them the test fails saying what to install.
pub fn python_tool(package: &str, version: &str, exe: &str, override_var: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(override_var) {
        return PathBuf::from(path);
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("venv-{package}-{version}"));
    let bin = if cfg!(windows) { "Scripts" } else { "bin" };
    let exe = venv.join(bin).join(exe);
    let marker = venv.join(".installed");
    if exe.exists() && marker.exists() {
        return exe;
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = run(
        "checking the Python version",
        Command::new(&python).args(["-c", "import sys; print(sys.version_info >= (3, 11))"]),
    );
    assert_eq!(
        ok.trim(),
        "True",
        "{package} {version} needs Python >= 3.11; set PYTHON to a newer interpreter"
    );
    if venv.exists() {
        std::fs::remove_dir_all(&venv).expect("removing an incomplete venv");
    }
    run(
        "creating the venv (install python3-venv if this fails)",
        Command::new(&python).arg("-m").arg("venv").arg(&venv),
    );
    run(
        &format!("pip install {package}=={version} (needs network access to PyPI)"),
        Command::new(venv.join(bin).join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(format!("{package}=={version}")),
    );
    assert!(exe.exists(), "pip installed no {}", exe.display());
    std::fs::write(&marker, version).expect("writing the venv marker");
    exe
}

/// A loopback port that was free a moment ago (for tools that cannot report the port they
/// bound).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}
