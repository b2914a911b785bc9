//! The device file, as a cron job uses it: the `opadmin` binary run several times against an
//! emulator started here signs in as one device, and with `--remember-device` answers the
//! second factor from the stored token instead of a code; a corrupt file stops the run before
//! anything is sent; the embedded emulator never touches the file.
#![cfg(feature = "emulator")]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

use opadmin_emulator::{
    AccountBuilder, Credentials, DEMO_PASSWORD, Emulator, EmulatorConfig, PersonSpec, Role,
    RunningEmulator, demo_account,
};

const MFA_ADMIN: &str = "mfa-admin@acme.example";

/// A directory of this test's own under cargo's temporary directory, emptied first and removed
/// when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("device-file-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the temporary directory");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a run left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn start(rt: &tokio::runtime::Runtime, account: AccountBuilder) -> RunningEmulator {
    rt.block_on(Emulator::start(
        EmulatorConfig::default(),
        account.iterations(100_000),
    ))
    .expect("emulator starts")
}

/// The demo account, with a second factor enforced and an administrator who has TOTP.
fn mfa_account() -> AccountBuilder {
    demo_account().enforce_mfa().person(
        PersonSpec::new(MFA_ADMIN, "Mia MFA")
            .role(Role::Administrator)
            .password(DEMO_PASSWORD)
            .totp(),
    )
}

/// The binary with no `OPADMIN_*` variable inherited, signing in as `creds` to `emulator`.
fn opadmin_as(emulator: &RunningEmulator, creds: &Credentials) -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("opadmin");
    for var in [
        "OPADMIN_TOTP_SECRET",
        "OPADMIN_DEVICE_FILE",
        "OPADMIN_NO_DEVICE_FILE",
        "OPADMIN_REMEMBER_DEVICE",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(["users", "list", "--format", "json"])
        .env("OPADMIN_ADDRESS", emulator.address())
        .env("OPADMIN_EMAIL", &creds.email)
        .env("OPADMIN_PASSWORD", &creds.password)
        .env("OPADMIN_SECRET_KEY", &creds.secret_key);
    cmd
}

/// Runs, and checks that none of `secrets` reached stdout or stderr.
fn run(cmd: &mut Command, secrets: &[&str]) -> Run {
    let out = cmd.output().expect("the binary runs");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for text in [&run.stdout, &run.stderr] {
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            assert!(!text.contains(secret), "a secret leaked:\n{text}");
        }
        assert!(!text.contains("panicked"), "{text}");
    }
    run
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the device file exists");
    serde_json::from_str(&text).expect("the device file is JSON")
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn remember_device_asks_for_the_second_factor_once_and_keeps_one_device() {
    let rt = runtime();
    let emulator = start(&rt, mfa_account());
    let creds = emulator.credentials(MFA_ADMIN).expect("mfa admin").clone();
    let totp = creds.totp_secret.clone().expect("a TOTP secret");
    let dir = TempDir::new("remember");
    // The parent directory does not exist yet: the CLI creates it.
    let path = dir.0.join("config").join("devices.json");
    let secrets = [creds.secret_key.as_str(), creds.password.as_str(), &totp];

    // First run: the second factor is answered from the TOTP secret, and the token kept.
    let first = run(
        opadmin_as(&emulator, &creds)
            .arg("--remember-device")
            .arg("--device-file")
            .arg(&path)
            .env("OPADMIN_TOTP_SECRET", &totp),
        &secrets,
    )
    .expect_code(0);
    let listed: Value = serde_json::from_str(&first.stdout).expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(9));
    let devices = emulator.devices(MFA_ADMIN);
    assert_eq!(devices.len(), 1, "{devices:?}");
    let stored = read_json(&path);
    assert_eq!(stored["version"], 1);
    let entries = stored["devices"].as_array().expect("devices");
    assert_eq!(entries.len(), 1, "{stored}");
    assert_eq!(entries[0]["device_uuid"], devices[0].as_str());
    assert_eq!(entries[0]["email"], MFA_ADMIN);
    let token = entries[0]["remember_token"]
        .as_str()
        .expect("a remember token is stored")
        .to_owned();
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    let with_token = [secrets[0], secrets[1], secrets[2], token.as_str()];

    // The same device without the token and without a code is asked for the second factor:
    // what lets the next run through is the token, not the device alone.
    let asked = run(
        opadmin_as(&emulator, &creds)
            .arg("--device-file")
            .arg(&path),
        &with_token,
    )
    .expect_code(4);
    assert!(asked.stderr.contains("second factor"), "{}", asked.stderr);
    // That run left the stored token alone.
    assert_eq!(
        read_json(&path)["devices"][0]["remember_token"],
        token.as_str()
    );

    // Second run with --remember-device (from the environment) and no TOTP secret, stdin not a
    // terminal: signed in from the stored token, as the same device.
    let second = run(
        opadmin_as(&emulator, &creds)
            .env("OPADMIN_REMEMBER_DEVICE", "1")
            .env("OPADMIN_DEVICE_FILE", &path),
        &with_token,
    )
    .expect_code(0);
    let listed: Value = serde_json::from_str(&second.stdout).expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(9));
    assert_eq!(emulator.devices(MFA_ADMIN), devices);
    let after = read_json(&path);
    assert_eq!(after["devices"].as_array().map(Vec::len), Some(1));
    assert_eq!(after["devices"][0]["device_uuid"], devices[0].as_str());
    assert!(after["devices"][0]["remember_token"].is_string());
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    // No temporary file is left next to it.
    let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("devices.json")]);

    // Without the device file, every run is a new device: the emulator now has two.
    run(
        opadmin_as(&emulator, &creds)
            .env("OPADMIN_NO_DEVICE_FILE", "1")
            .env("OPADMIN_TOTP_SECRET", &totp),
        &with_token,
    )
    .expect_code(0);
    assert_eq!(emulator.devices(MFA_ADMIN).len(), 2);
}

#[test]
fn a_refused_remember_token_falls_back_to_a_one_time_code() {
    let rt = runtime();
    let emulator = start(&rt, mfa_account());
    let creds = emulator.credentials(MFA_ADMIN).expect("mfa admin").clone();
    let totp = creds.totp_secret.clone().expect("a TOTP secret");
    let dir = TempDir::new("refused");
    let path = dir.0.join("devices.json");
    let stale = "c3RhbGUtdG9rZW4tbm90LWlzc3VlZA";
    let secrets = [
        creds.secret_key.as_str(),
        creds.password.as_str(),
        &totp,
        stale,
    ];
    // A device the server knows, with a token it never issued.
    run(
        opadmin_as(&emulator, &creds)
            .arg("--device-file")
            .arg(&path)
            .env("OPADMIN_TOTP_SECRET", &totp),
        &secrets,
    )
    .expect_code(0);
    let mut stored = read_json(&path);
    stored["devices"][0]["remember_token"] = Value::from(stale);
    std::fs::write(&path, stored.to_string()).expect("write");

    // Without a code to fall back on, sign-in is refused, with a hint about the token.
    let refused = run(
        opadmin_as(&emulator, &creds)
            .arg("--remember-device")
            .arg("--device-file")
            .arg(&path),
        &secrets,
    )
    .expect_code(3);
    assert!(
        refused.stderr.contains("remember-this-device token"),
        "{}",
        refused.stderr
    );

    // With the TOTP secret, the CLI tries once more with a code and keeps the new token.
    let recovered = run(
        opadmin_as(&emulator, &creds)
            .arg("--remember-device")
            .arg("--device-file")
            .arg(&path)
            .env("OPADMIN_TOTP_SECRET", &totp),
        &secrets,
    )
    .expect_code(0);
    assert!(
        recovered.stderr.contains("one-time code"),
        "{}",
        recovered.stderr
    );
    let token = read_json(&path)["devices"][0]["remember_token"]
        .as_str()
        .expect("a new token")
        .to_owned();
    assert_ne!(token, stale);
    assert_eq!(emulator.devices(MFA_ADMIN).len(), 1);

    // And the new token works on its own.
    run(
        opadmin_as(&emulator, &creds)
            .arg("--remember-device")
            .arg("--device-file")
            .arg(&path),
        &[secrets[0], secrets[1], secrets[2], token.as_str()],
    )
    .expect_code(0);
}

#[test]
fn the_default_device_file_is_in_the_configuration_directory() {
    let rt = runtime();
    let emulator = start(&rt, demo_account());
    let owner = emulator.owner().clone();
    let dir = TempDir::new("default");
    let secrets = [owner.secret_key.as_str(), owner.password.as_str()];
    for _ in 0..2 {
        run(
            opadmin_as(&emulator, &owner)
                .env("XDG_CONFIG_HOME", &dir.0)
                .env("HOME", dir.0.join("home")),
            &secrets,
        )
        .expect_code(0);
    }
    let path = dir.0.join("opadmin").join("devices.json");
    let stored = read_json(&path);
    let devices = emulator.devices(&owner.email);
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(stored["devices"][0]["device_uuid"], devices[0].as_str());
    // No second factor was asked, so there is no token; and none is kept without
    // --remember-device anyway.
    assert!(stored["devices"][0].get("remember_token").is_none());
    #[cfg(unix)]
    {
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.0.join("opadmin")), 0o700);
    }

    // With XDG_CONFIG_HOME unset, HOME/.config is used.
    run(
        opadmin_as(&emulator, &owner)
            .env_remove("XDG_CONFIG_HOME")
            .env("HOME", dir.0.join("home")),
        &secrets,
    )
    .expect_code(0);
    assert!(dir.0.join("home/.config/opadmin/devices.json").is_file());
}

#[test]
fn a_corrupt_device_file_stops_the_run_before_anything_is_sent() {
    let rt = runtime();
    let emulator = start(&rt, demo_account());
    let owner = emulator.owner().clone();
    let dir = TempDir::new("corrupt");
    let path = dir.0.join("devices.json");
    let secrets = [owner.secret_key.as_str(), owner.password.as_str()];
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("not JSON", b"SECRETISH garbage {".to_vec(), "not JSON"),
        (
            "wrong types",
            br#"{"version": 1, "devices": {"SECRETISH": true}}"#.to_vec(),
            "not the expected fields and types",
        ),
        (
            "not a uuid",
            br#"{"version": 1, "devices": [{"address": "a", "email": "b", "device_uuid": "SECRETISH-not-a-uuid"}]}"#
                .to_vec(),
            "device_uuid is not 26 lower-case base32 characters",
        ),
        (
            "huge",
            vec![b'['; 2 << 20],
            "larger than 1 MiB",
        ),
    ];
    for (name, content, expected) in cases {
        std::fs::write(&path, &content).expect("write");
        let started = Instant::now();
        let failed = run(
            opadmin_as(&emulator, &owner)
                .arg("--device-file")
                .arg(&path),
            &secrets,
        )
        .expect_code(2);
        assert!(started.elapsed() < Duration::from_secs(30), "{name}");
        assert!(failed.stdout.is_empty(), "{name}: {}", failed.stdout);
        for part in [expected, "--no-device-file", "delete it", "devices.json"] {
            assert!(failed.stderr.contains(part), "{name}: {}", failed.stderr);
        }
        assert!(
            !failed.stderr.contains("SECRETISH"),
            "{name}: {}",
            failed.stderr
        );
        assert!(failed.stderr.len() < 1000, "{name}: {}", failed.stderr);
        // Nothing was sent, and the file is as it was.
        assert_eq!(emulator.requests_served(), 0, "{name}");
        assert_eq!(std::fs::read(&path).expect("read"), content, "{name}");
    }

    // --no-device-file (or its variable) goes past the file, and leaves it alone.
    run(
        opadmin_as(&emulator, &owner)
            .arg("--device-file")
            .arg(&path)
            .arg("--no-device-file"),
        &secrets,
    )
    .expect_code(0);
    assert_eq!(std::fs::read(&path).expect("read"), vec![b'['; 2 << 20]);

    // Asking to remember the device without a device file is a usage error.
    let both = run(
        opadmin_as(&emulator, &owner)
            .env("OPADMIN_NO_DEVICE_FILE", "1")
            .arg("--remember-device"),
        &secrets,
    )
    .expect_code(2);
    assert!(both.stderr.contains("--remember-device"), "{}", both.stderr);
}

#[test]
fn the_embedded_emulator_does_not_touch_the_device_file() {
    let dir = TempDir::new("emulator");
    let missing = dir.0.join("devices.json");
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("opadmin");
    cmd.env_remove("OPADMIN_NO_DEVICE_FILE")
        .env("XDG_CONFIG_HOME", &dir.0)
        .args(["--emulator", "--remember-device", "groups", "list"])
        .arg("--device-file")
        .arg(&missing);
    run(&mut cmd, &[]).expect_code(0);
    assert!(!missing.exists());
    assert!(!dir.0.join("opadmin").exists());

    // Even a corrupt one is not read.
    std::fs::write(&missing, b"not json").expect("write");
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("opadmin");
    cmd.env_remove("OPADMIN_NO_DEVICE_FILE")
        .args(["--emulator", "groups", "list", "--device-file"])
        .arg(&missing);
    run(&mut cmd, &[]).expect_code(0);
    assert_eq!(std::fs::read(&missing).expect("read"), b"not json");
}
