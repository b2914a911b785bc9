//! The SCIM backend against an independent SCIM 2.0 server: `scim2-server` 0.8.3 from PyPI
//! (Apache-2.0), installed by this test into a virtual environment under the target directory
//! (reused when present) and started on a free loopback port (docs/scim.md §2.2), then put through
//! the shared [`conformance`] suite.
//!
//! Opt-in: the test runs only with `OPADMIN_PEER_SUITES=1` (as `.ci/run` sets it) and otherwise
//! returns at once after printing that it was skipped. When it runs it needs `python3` (≥ 3.11,
//! with `venv` and `pip`) and network access to PyPI on the first run; without them the test
//! FAILS with a message saying what to install. `PYTHON` picks another interpreter;
//! `SCIM2_SERVER` points at an existing `scim2-server` executable instead.
//!
//! scim2-server answers strict RFC 7644: 201 on POST, 204 on PATCH, DELETE erases, groups list
//! their members; the suite accepts those as well as 1Password's recorded answers.

mod conformance;
mod support;

use std::net::{Ipv4Addr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opadmin::scim::{ScimClient, ScimDirectory};
use opadmin::{Directory, Error, GroupId};

const VERSION: &str = "0.8.3";
const TOKEN: &str = "peer-test-token";

/// A running peer, stopped on drop.
struct Peer {
    child: Child,
    base: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_peer() -> Peer {
    let exe = support::python_tool("scim2-server", VERSION, "scim2-server", "SCIM2_SERVER");
    // scim2-server prints port 0 for `--port 0`, so pick a free port here.
    let port = support::free_port();
    let child = Command::new(&exe)
        .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
        .args(["--bearer-token", TOKEN])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", exe.display()));
    let mut peer = Peer {
        child,
        base: format!("http://127.0.0.1:{port}/v2"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(status)) = peer.child.try_wait() {
            panic!("scim2-server exited early ({status}); run it by hand: {exe:?} --port {port}");
        }
        if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return peer;
        }
        assert!(
            Instant::now() < deadline,
            "scim2-server did not listen on {port} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scim2_server_passes_the_directory_conformance_suite() {
    if !support::peer_suites_enabled(
        "scim2_server_passes_the_directory_conformance_suite",
        "python3 >= 3.11 with venv and pip, and PyPI",
    ) {
        return;
    }
    let peer = start_peer();
    let dir = ScimDirectory::new(&peer.base, TOKEN).expect("directory");
    let small = ScimDirectory::with_client(
        ScimClient::new(&peer.base, TOKEN)
            .expect("client")
            .page_size(2),
    );
    let spc = dir
        .service_provider_config()
        .await
        .expect("ServiceProviderConfig");
    assert!(spc.patch.supported && spc.filter.supported);

    let group = dir
        .create_group("Conformance peer")
        .await
        .expect("create group");
    assert_eq!(group.name, "Conformance peer");
    conformance::run(&conformance::Backend {
        dir: &dir,
        paged: Some(&small),
        tag: "peer",
        group: group.id.clone(),
        accept: None,
        vault: None,
    })
    .await;

    // Deleting a group really deletes it (on 1Password too).
    dir.delete_group(&group.id).await.expect("delete group");
    let listed = dir.groups().await.expect("list groups");
    assert!(listed.iter().all(|g| g.id != group.id));
    let e = dir.delete_group(&GroupId::new("0000nonexistent0000")).await;
    assert!(matches!(e, Err(Error::NotFound { .. })), "{e:?}");

    // The same server answers at its root too (base URL taken verbatim).
    let root = peer.base.trim_end_matches("/v2").to_owned();
    let at_root = ScimDirectory::new(&root, TOKEN).expect("directory at root");
    assert!(!at_root.users().await.expect("list at root").is_empty());

    // A wrong token is refused, and the error names neither token.
    let bad = ScimDirectory::new(&peer.base, "wrong-token").expect("directory");
    let e = bad.users().await.expect_err("a wrong token is refused");
    assert!(matches!(e, Error::PermissionDenied { .. }), "{e:?}");
    assert!(!e.to_string().contains("wrong-token") && !e.to_string().contains(TOKEN));
}
