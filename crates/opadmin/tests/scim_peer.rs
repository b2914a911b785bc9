//! The SCIM backend against an independent SCIM 2.0 server: `scim2-server` 0.8.3 from PyPI
//! (Apache-2.0), installed by this test into a virtual environment under the target directory
//! (reused when present) and started on a free loopback port (SCIM.md §2.2).
//!
//! Needs `python3` (≥ 3.11, with `venv` and `pip`) and network access to PyPI on the first run;
//! without them the test FAILS with a message saying what to install. `PYTHON` picks another
//! interpreter; `SCIM2_SERVER` points at an existing `scim2-server` executable instead.
//!
//! The conformance suite accepts both strict-RFC answers (201, 204, hard delete, members listed)
//! and 1Password's recorded ones (200, DELETE suspends, no members on groups).

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opadmin::scim::{ScimClient, ScimDirectory};
use opadmin::{
    Directory, Error, GroupId, GroupRole, MembershipOutcome, UserId, UserRef, UserState, UserType,
    VaultId, VaultPermissions,
};

const VERSION: &str = "0.8.3";
const TOKEN: &str = "peer-test-token";

/// Runs a command, failing the test with its output if it does not succeed.
fn run(what: &str, cmd: &mut Command) -> String {
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

/// The `scim2-server` executable: `$SCIM2_SERVER`, or a venv under the target directory.
fn scim2_server() -> PathBuf {
    if let Some(exe) = std::env::var_os("SCIM2_SERVER") {
        return PathBuf::from(exe);
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scim-venv");
    let bin = if cfg!(windows) { "Scripts" } else { "bin" };
    let exe = venv.join(bin).join("scim2-server");
    let marker = venv.join(format!(".scim2-server-{VERSION}"));
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
        "scim2-server {VERSION} needs Python >= 3.11; set PYTHON to a newer interpreter"
    );
    if venv.exists() {
        std::fs::remove_dir_all(&venv).expect("removing an incomplete venv");
    }
    run(
        "creating the venv (install python3-venv if this fails)",
        Command::new(&python).arg("-m").arg("venv").arg(&venv),
    );
    run(
        "pip install scim2-server (needs network access to PyPI)",
        Command::new(venv.join(bin).join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(format!("scim2-server=={VERSION}")),
    );
    assert!(exe.exists(), "pip installed no {}", exe.display());
    std::fs::write(&marker, VERSION).expect("writing the venv marker");
    exe
}

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
    let exe = scim2_server();
    // scim2-server prints port 0 for `--port 0`, so pick a free port here.
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
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

/// One suite for every SCIM server: what `Directory` promises over SCIM. `tag` keeps names unique.
async fn conformance(dir: &ScimDirectory, small_pages: &ScimDirectory, tag: &str) {
    let caps = dir.capabilities();
    assert!(caps.groups && !caps.vault_access && !caps.confirmation && !caps.guests);
    assert!(!caps.last_sign_in);

    // Create.
    let people = ["alice", "bob", "carol", "dave", "erin"];
    let mut ids = Vec::new();
    for p in people {
        let inv = dir
            .invite(
                &format!("{p}.{tag}@conf.example"),
                &format!("{p} Tester"),
                UserType::Member,
            )
            .await
            .unwrap_or_else(|e| panic!("invite {p}: {e}"));
        assert!(!inv.id.is_empty());
        assert_eq!(inv.email, format!("{p}.{tag}@conf.example"));
        ids.push(UserId::new(inv.id));
    }
    // A userName that needs escaping in a filter.
    let tricky = format!("o\"brien\\{tag}@conf.example");
    let tricky_id = UserId::new(
        dir.invite(&tricky, "Quote Tester", UserType::Member)
            .await
            .expect("invite a name with a quote and a backslash")
            .id,
    );
    let duplicate = dir
        .invite(
            &format!("alice.{tag}@conf.example"),
            "Again",
            UserType::Member,
        )
        .await;
    assert!(duplicate.is_err(), "a duplicate userName must be refused");

    // List, and paging in small pages gives the same set.
    let all = dir.list_users().await.expect("list users");
    for id in ids.iter().chain([&tricky_id]) {
        let u = all
            .iter()
            .find(|u| &u.id == id)
            .expect("created user listed");
        assert_eq!(u.state, UserState::Active);
        assert_eq!(u.user_type, UserType::Member);
        assert_eq!(u.last_sign_in, None);
    }
    let alice = all.iter().find(|u| u.id == ids[0]).unwrap();
    assert_eq!(alice.email, format!("alice.{tag}@conf.example"));
    assert_eq!(alice.name, "alice Tester");
    let paged = small_pages
        .list_users()
        .await
        .expect("list users in pages of 2");
    let mut a: Vec<_> = all.iter().map(|u| u.id.clone()).collect();
    let mut b: Vec<_> = paged.iter().map(|u| u.id.clone()).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "paging in pages of 2 lists the same users");

    // Filter.
    let found = dir
        .find_user(&format!("CAROL.{tag}@conf.example"))
        .await
        .expect("find")
        .expect("carol found, case-insensitively");
    assert_eq!(found.id, ids[2]);
    let found = dir
        .find_user(&tricky)
        .await
        .expect("find tricky")
        .expect("found");
    assert_eq!(found.id, tricky_id);
    assert!(
        dir.find_user("nobody@conf.example")
            .await
            .expect("find")
            .is_none()
    );

    // Patch: suspend and reactivate, by email and by id.
    let dave = UserRef::Email(format!("dave.{tag}@conf.example"));
    assert_eq!(
        dir.suspend(dave.clone()).await.expect("suspend").state,
        UserState::Suspended
    );
    let again = dir.find_user(&dave.to_string()).await.unwrap().unwrap();
    assert_eq!(again.state, UserState::Suspended);
    let back = dir
        .reactivate(ids[3].clone().into())
        .await
        .expect("reactivate");
    assert_eq!(back.state, UserState::Active);
    let unknown = dir.suspend(UserId::new("0000nonexistent0000").into()).await;
    assert!(
        matches!(unknown, Err(Error::NotFound { .. })),
        "{unknown:?}"
    );

    // Groups and membership.
    let name = format!("Conformance {tag}");
    let group = dir.create_group(&name).await.expect("create group");
    assert_eq!(group.name, name);
    let listed = dir.list_groups().await.expect("list groups");
    assert!(listed.iter().any(|g| g.id == group.id));
    let added = dir
        .add_to_group(&group.id, ids[0].clone().into(), GroupRole::Member)
        .await
        .expect("add member");
    assert_eq!(
        added,
        MembershipOutcome::Added {
            role: GroupRole::Member
        }
    );
    dir.add_to_group(&group.id, ids[1].clone().into(), GroupRole::Member)
        .await
        .expect("add second member");
    let members_of = |groups: &[opadmin::Group]| -> Vec<UserId> {
        let g = groups
            .iter()
            .find(|g| g.id == group.id)
            .expect("group listed");
        g.members.iter().map(|m| m.user.clone()).collect()
    };
    let members = members_of(&dir.list_groups().await.expect("list groups"));
    // 1Password's recorded groups carry no members; a server that lists them must be right.
    if !members.is_empty() {
        assert!(
            members.contains(&ids[0]) && members.contains(&ids[1]),
            "{members:?}"
        );
    }
    let twice = dir
        .add_to_group(&group.id, ids[0].clone().into(), GroupRole::Member)
        .await
        .expect("add again");
    assert!(matches!(
        twice,
        MembershipOutcome::AlreadyMember { .. } | MembershipOutcome::Added { .. }
    ));
    let removed = dir
        .remove_from_group(&group.id, ids[0].clone().into())
        .await
        .expect("remove member");
    assert_eq!(removed, MembershipOutcome::Removed);
    let members = members_of(&dir.list_groups().await.expect("list groups"));
    assert!(!members.contains(&ids[0]), "{members:?}");
    if !members.is_empty() {
        assert!(members.contains(&ids[1]));
    }
    let not = dir
        .remove_from_group(&group.id, ids[0].clone().into())
        .await
        .expect("remove again");
    assert!(matches!(
        not,
        MembershipOutcome::NotMember | MembershipOutcome::Removed
    ));

    // Delete: a group really goes; a user is suspended (1Password) or erased (strict RFC).
    dir.delete_group(&group.id).await.expect("delete group");
    let listed = dir.list_groups().await.expect("list groups");
    assert!(listed.iter().all(|g| g.id != group.id));
    let gone = dir
        .remove(ids[4].clone().into())
        .await
        .expect("remove user");
    assert_eq!(gone.id, ids[4]);
    let after = dir
        .find_user(&format!("erin.{tag}@conf.example"))
        .await
        .expect("find");
    match gone.state {
        UserState::Deleted => assert!(after.is_none(), "{after:?}"),
        UserState::Suspended => {
            assert_eq!(after.expect("still listed").state, UserState::Suspended)
        }
        other => panic!("remove answered {other}"),
    }

    // What SCIM cannot do is refused.
    let vault = VaultId::new("v");
    let refused = [
        dir.confirm(ids[1].clone().into()).await,
        dir.grant_vault_access(&vault, ids[1].clone().into(), VaultPermissions::RWE)
            .await
            .map(drop),
        dir.invite(&format!("guest.{tag}@conf.example"), "G", UserType::Guest)
            .await
            .map(drop),
        dir.add_to_group(
            &GroupId::new("g"),
            ids[1].clone().into(),
            GroupRole::Manager,
        )
        .await
        .map(drop),
    ];
    for r in refused {
        assert!(matches!(r, Err(Error::NotSupported { .. })), "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scim2_server_passes_the_directory_conformance_suite() {
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

    conformance(&dir, &small, "peer").await;

    // The same server answers at its root too (base URL taken verbatim).
    let root = peer.base.trim_end_matches("/v2").to_owned();
    let at_root = ScimDirectory::new(&root, TOKEN).expect("directory at root");
    assert!(!at_root.list_users().await.expect("list at root").is_empty());

    // A wrong token is refused, and the error names neither token.
    let bad = ScimDirectory::new(&peer.base, "wrong-token").expect("directory");
    let e = bad
        .list_users()
        .await
        .expect_err("a wrong token is refused");
    assert!(matches!(e, Error::PermissionDenied { .. }), "{e:?}");
    assert!(!e.to_string().contains("wrong-token") && !e.to_string().contains(TOKEN));
}
