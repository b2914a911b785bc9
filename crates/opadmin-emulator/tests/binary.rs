//! The standalone binary: starts, prints its sign-in details and SCIM URL and token, serves both,
//! and stops on Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn starts_prints_serves_and_stops_on_ctrl_c() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().expect("addr").port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_opadmin-emulator"))
        .args(["--port", &port.to_string(), "--iterations", "1000"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = String::new();
    while !printed.contains("Ctrl-C") {
        let mut line = String::new();
        if out.read_line(&mut line).expect("read") == 0 {
            break;
        }
        printed.push_str(&line);
    }
    assert!(
        printed.contains(&format!("http://127.0.0.1:{port}")),
        "{printed}"
    );
    assert!(
        printed.contains("admin@acme.example") && printed.contains("Secret Key: A3-"),
        "{printed}"
    );
    let token_line = printed
        .lines()
        .find_map(|l| l.strip_prefix("  service-account token: "))
        .expect("the service-account token is printed");
    assert!(token_line.starts_with("ops_"), "{printed}");
    let group_line = printed
        .lines()
        .find_map(|l| l.strip_prefix("  service-account group: "))
        .expect("the service account's group is printed");
    let (uuid, name) = group_line.split_once(' ').expect("uuid and name");
    assert_eq!(uuid.len(), 26, "{group_line}");
    assert_eq!(name, "(Marketing)");

    let answer = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v3/auth/start"))
        .json(&serde_json::json!({"email": "admin@acme.example", "skFormat": "A3", "skid": "X", "deviceUuid": "d"}))
        .send()
        .await
        .expect("serves");
    assert_eq!(answer.status(), 200);

    let scim_url = format!("http://127.0.0.1:{port}/scim/v2");
    assert!(
        printed.contains(&format!("SCIM bridge: {scim_url}")),
        "{printed}"
    );
    let token = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("SCIM token:"))
        .expect("the SCIM token is printed")
        .trim()
        .to_owned();
    let users = reqwest::Client::new()
        .get(format!("{scim_url}/Users"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("serves SCIM");
    assert_eq!(users.status(), 200);
    let list: serde_json::Value = users.json().await.expect("a ListResponse");
    assert!(list["totalResults"].as_u64().unwrap_or(0) > 0, "{list}");

    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    for _ in 0..50 {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "exits cleanly: {status}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    panic!("did not stop within 5 s of Ctrl-C");
}

#[test]
fn the_break_flag_takes_only_known_shapes() {
    let out = Command::new(env!("CARGO_BIN_EXE_opadmin-emulator"))
        .args(["--break", "no-such-shape"])
        .output()
        .expect("binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("omit-new-email"));
}

#[test]
fn a_malformed_fault_is_refused_with_the_usage() {
    for bad in [
        "nope",
        "apply-then-500",
        "apply-then-500:0",
        "fail-before-apply:1.5",
        "x:3",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_opadmin-emulator"))
            .args(["--port", "1", "--fault", bad])
            .output()
            .expect("binary runs");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--fault takes KIND:WHEN"), "{bad}: {err}");
    }
}
