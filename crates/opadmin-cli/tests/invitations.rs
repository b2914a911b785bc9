//! `opadmin users invitations | resend | revoke-invitation` against an emulator in which the
//! invitations were sent beforehand through the library (one command line run per emulator).
#![cfg(feature = "emulator")]

use serde_json::Value;

use opadmin::{Admin, UserType};
use opadmin_emulator::{Emulator, EmulatorConfig, RunningEmulator, demo_account};

mod support;
use support::{opadmin, runtime};

/// An emulator in which the owner has invited these people.
fn invited(rt: &tokio::runtime::Runtime, emails: &[&str]) -> RunningEmulator {
    rt.block_on(async {
        let emulator = Emulator::start(
            EmulatorConfig::default(),
            demo_account().iterations(100_000),
        )
        .await
        .expect("emulator starts");
        let owner = emulator.owner().clone();
        let admin = Admin::builder()
            .address(emulator.address())
            .credentials(&owner.email, &owner.password, &owner.secret_key)
            .build()
            .await
            .expect("the owner signs in");
        for email in emails {
            admin
                .invite(email, "", UserType::Member, &[])
                .await
                .expect("invited");
        }
        emulator
    })
}

#[test]
fn invitations_are_listed_resent_and_revoked() {
    let rt = runtime();

    let emulator = invited(&rt, &["two@acme.example", "one@acme.example"]);
    let (code, stdout, stderr) = opadmin(&emulator, &["users", "invitations", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let json: Value = serde_json::from_str(&stdout).expect("JSON");
    let emails: Vec<&str> = json
        .as_array()
        .expect("a list")
        .iter()
        .map(|i| i["email"].as_str().expect("an email"))
        .collect();
    assert_eq!(emails, ["one@acme.example", "two@acme.example"], "sorted");

    let emulator = invited(&rt, &["one@acme.example"]);
    let (code, _, stderr) = opadmin(&emulator, &["users", "resend", "one@acme.example"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(emulator.invitation_resends("one@acme.example"), Some(1));

    // One target that is not pending among several: the others are done, exit 8 (partial),
    // and every target is reported.
    let emulator = invited(&rt, &["one@acme.example", "two@acme.example"]);
    let (code, stdout, stderr) = opadmin(
        &emulator,
        &[
            "users",
            "revoke-invitation",
            "--yes",
            "one@acme.example",
            "nobody@acme.example",
            "two@acme.example",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 8, "{stdout}\n{stderr}");
    assert!(emulator.pending_invitations().is_empty());
    for email in [
        "one@acme.example",
        "nobody@acme.example",
        "two@acme.example",
    ] {
        assert!(stdout.contains(email), "{email} reported: {stdout}");
    }
}

#[test]
fn invite_from_a_file() {
    let rt = runtime();
    let emulator = invited(&rt, &[]);
    let dir = std::env::temp_dir().join(format!("opadmin-invite-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let list = dir.join("joiners.csv");
    // A CSV with a name column; the repeated address is invited once.
    std::fs::write(
        &list,
        "email,name\nnew.one@acme.example,New One\nnew.two@acme.example,\nNEW.ONE@acme.example,Again\n",
    )
    .expect("write the list");
    let path = list.to_string_lossy().into_owned();
    let (code, stdout, stderr) = opadmin(
        &emulator,
        &[
            "users", "invite", "--guest", "--file", &path, "--format", "json",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let outcomes: Value = serde_json::from_str(&stdout).expect("JSON");
    let outcomes = outcomes.as_array().expect("a list");
    assert_eq!(outcomes.len(), 2, "{stdout}");
    assert!(
        outcomes.iter().all(|o| o["outcome"] == "invited"),
        "{stdout}"
    );

    let pending = rt.block_on(async {
        let owner = emulator.owner().clone();
        let admin = Admin::builder()
            .address(emulator.address())
            .credentials(&owner.email, &owner.password, &owner.secret_key)
            .build()
            .await
            .expect("the owner signs in");
        admin.invitations().await.expect("invitations")
    });
    let mut emails: Vec<(&str, UserType)> = pending
        .iter()
        .map(|p| (p.email.as_str(), p.user_type))
        .collect();
    emails.sort_unstable_by_key(|(e, _)| *e);
    assert_eq!(
        emails,
        [
            ("new.one@acme.example", UserType::Guest),
            ("new.two@acme.example", UserType::Guest)
        ]
    );

    // --name is for one invitee: with a file it is a usage error before signing in.
    let (code, _, stderr) = opadmin(
        &emulator,
        &["users", "invite", "--name", "X", "--file", &path],
    );
    assert_eq!(code, 2, "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}
