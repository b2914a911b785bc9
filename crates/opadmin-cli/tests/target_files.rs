//! Hostile target files given to the `opadmin` binary with `--file`: a file that is too large,
//! a line that is too long or bytes that are not text are usage errors (exit code 2) reported
//! before anything is sent, and the error does not echo the file's content.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A file of this test's own, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, content: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!(
            "opadmin-target-files-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, content).expect("write the target file");
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `opadmin users suspend --file <file> --emulator`: the list is read before the emulator
/// starts or anyone signs in.
fn suspend_from(file: &TempFile) -> (i32, String, String) {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("opadmin");
    for var in [
        "OPADMIN_ADDRESS",
        "OPADMIN_EMAIL",
        "OPADMIN_PASSWORD",
        "OPADMIN_SECRET_KEY",
        "OPADMIN_TOTP_SECRET",
    ] {
        cmd.env_remove(var);
    }
    let started = Instant::now();
    let output = cmd
        .args(["users", "suspend", "--emulator", "--file"])
        .arg(&file.0)
        .output()
        .expect("run opadmin");
    assert!(started.elapsed() < Duration::from_secs(30));
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn hostile_target_files_are_usage_errors() {
    let line = "z".repeat(64);
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "large.txt",
            format!("{line}@acme.example\n")
                .repeat((17 << 20) / 78)
                .into_bytes(),
            "at most 16 MiB",
        ),
        (
            "long-line.txt",
            format!("bob@acme.example\n{}@acme.example\n", "q".repeat(100_000)).into_bytes(),
            "line 2 of the target list is longer than 4096 bytes",
        ),
        (
            "long-field.csv",
            format!("name,email\nBob,\"{}\"\n", "qq\n".repeat(3000)).into_bytes(),
            "longer than 4096 bytes",
        ),
        (
            "binary.txt",
            vec![0xff, 0xfe, b'b', b'o', b'b', 0xc3, 0x28, b'\n'],
            "not UTF-8 text",
        ),
    ];
    for (name, content, expected) in cases {
        let file = TempFile::new(name, &content);
        let (code, stdout, stderr) = suspend_from(&file);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert!(
            !stderr.contains("qqqq") && !stderr.contains("zzzz"),
            "{name}: {stderr}"
        );
        assert!(
            stderr.len() < 1000,
            "{name}: {} bytes of stderr",
            stderr.len()
        );
        assert!(!stderr.contains("emulator"), "{name}: signed in: {stderr}");
    }
}
