//! What the command-line tests against one in-process emulator share: a runtime, the demo
//! account's emulator, and the binary signed in to it (no device file, nothing inherited from
//! the environment, stdin closed so it is not a terminal).
#![allow(dead_code)]

use std::process::{Command, Stdio};

use opadmin_emulator::{Emulator, EmulatorConfig, RunningEmulator, demo_account};

/// A runtime for the emulator, which keeps serving while the test waits on the binary.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The demo account on a fresh emulator (100,000 iterations).
pub fn demo_emulator(rt: &tokio::runtime::Runtime) -> RunningEmulator {
    rt.block_on(Emulator::start(
        EmulatorConfig::default(),
        demo_account().iterations(100_000),
    ))
    .expect("emulator starts")
}

/// The binary, signed in to the emulator as `email` through the environment.
pub fn command_as(emulator: &RunningEmulator, email: &str, args: &[&str]) -> Command {
    let creds = emulator.credentials(email).expect("credentials");
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("opadmin"));
    for var in [
        "OPADMIN_TOTP_SECRET",
        "OPADMIN_DEVICE_FILE",
        "OPADMIN_REMEMBER_DEVICE",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(args)
        .env("OPADMIN_NO_DEVICE_FILE", "1")
        .env("OPADMIN_ADDRESS", emulator.address())
        .env("OPADMIN_EMAIL", &creds.email)
        .env("OPADMIN_PASSWORD", &creds.password)
        .env("OPADMIN_SECRET_KEY", &creds.secret_key);
    cmd
}

/// The binary signed in as the demo owner.
pub fn command(emulator: &RunningEmulator, args: &[&str]) -> Command {
    command_as(emulator, &emulator.owner().email, args)
}

/// Runs it with stdin closed; the exit code, stdout and stderr.
pub fn run(mut cmd: Command) -> (i32, String, String) {
    let out = cmd.stdin(Stdio::null()).output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs as the demo owner with stdin closed.
pub fn opadmin(emulator: &RunningEmulator, args: &[&str]) -> (i32, String, String) {
    run(command(emulator, args))
}

/// Runs as `email` with stdin closed.
pub fn opadmin_as(emulator: &RunningEmulator, email: &str, args: &[&str]) -> (i32, String, String) {
    run(command_as(emulator, email, args))
}

/// Reads a command's stdout as JSON, showing it when it is not.
pub fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}
