//! The `opadmin` binary, run as a user runs it: every command against `--emulator` (a fresh
//! emulator per invocation), each output format, the exit codes, credentials from the
//! environment and stdin against an emulator started here, and no secret in any output.
//! Needs the embedded emulator (the default `emulator` feature).
#![cfg(feature = "emulator")]

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

use opadmin_emulator::{
    DEMO_PASSWORD, Emulator, EmulatorConfig, PersonSpec, PersonState, Role, RunningEmulator,
    demo_account,
};

const IT_ADMIN: &str = "it-admin@acme.example";

/// What a run left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The binary with no `OPADMIN_*` variable inherited from the environment, and without a
/// device file (so that tests do not write to the user's configuration directory; the device
/// file has its own tests).
fn opadmin() -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("opadmin");
    for var in [
        "OPADMIN_ADDRESS",
        "OPADMIN_EMAIL",
        "OPADMIN_PASSWORD",
        "OPADMIN_SECRET_KEY",
        "OPADMIN_TOTP_SECRET",
        "OPADMIN_DEVICE_FILE",
        "OPADMIN_REMEMBER_DEVICE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("OPADMIN_NO_DEVICE_FILE", "1");
    cmd
}

/// True when `text` holds something shaped like a Secret Key (`A3-` and six key characters).
fn has_secret_key_shape(text: &str) -> bool {
    text.match_indices("A3-").any(|(i, _)| {
        let rest = &text[i + 3..];
        rest.len() >= 6
            && rest
                .chars()
                .take(6)
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    })
}

/// Runs and checks that no secret reached stdout or stderr.
fn run_cmd(cmd: &mut Command, secrets: &[&str]) -> Run {
    let out = cmd.output().expect("the binary runs");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains(DEMO_PASSWORD),
            "the demo password leaked:\n{text}"
        );
        assert!(!has_secret_key_shape(text), "a Secret Key leaked:\n{text}");
        for secret in secrets {
            assert!(!text.contains(secret), "a secret leaked:\n{text}");
        }
        assert!(
            !text.contains("panicked") && !text.contains("Error {") && !text.contains("Some("),
            "a debug dump reached the output:\n{text}"
        );
    }
    run
}

/// Runs against a fresh embedded emulator, signed in as the owner.
fn emu(args: &[&str]) -> Run {
    run_cmd(opadmin().arg("--emulator").args(args), &[])
}

/// Runs against a fresh embedded emulator, signed in as the IT administrator.
fn emu_as_it_admin(args: &[&str]) -> Run {
    run_cmd(opadmin().args(["--emulator-as", IT_ADMIN]).args(args), &[])
}

fn csv_header(stdout: &str) -> &str {
    stdout.lines().next().unwrap_or_default()
}

fn objects(v: &Value) -> &Vec<Value> {
    v.as_array().expect("a JSON array")
}

fn find<'a>(items: &'a [Value], field: &str, value: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i[field] == value)
        .unwrap_or_else(|| panic!("no item with {field} = {value} in {items:?}"))
}

/// The object has exactly the documented fields.
fn assert_fields(item: &Value, fields: &[&str]) {
    let obj = item.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    let mut expected = fields.to_vec();
    keys.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys, expected, "fields");
}

/// The keys appear in the raw JSON text in the documented order.
fn assert_key_order(text: &str, fields: &[&str]) {
    let positions: Vec<usize> = fields
        .iter()
        .map(|f| {
            text.find(&format!("\"{f}\":"))
                .unwrap_or_else(|| panic!("no key {f} in {text}"))
        })
        .collect();
    assert!(positions.is_sorted(), "key order in {text}");
}

const USER_FIELDS: &[&str] = &[
    "id",
    "email",
    "name",
    "state",
    "type",
    "created_at",
    "last_auth_at",
];
const OUTCOME_FIELDS: &[&str] = &[
    "action",
    "target",
    "id",
    "ok",
    "outcome",
    "permissions",
    "groups",
    "error",
    "message",
];
const OUTCOME_HEADER: &str = "action,target,id,ok,outcome,permissions,groups,error,message";

// ---------------------------------------------------------------------------------------------
// demo, help, usage

#[test]
fn demo_walks_through_every_step_and_exits_0() {
    let run = run_cmd(opadmin().arg("demo"), &[]).expect_code(0);
    let out = &run.stdout;
    for expected in [
        "Sync",
        "Invite frank@acme.example",
        "accepts the invitation",
        "frank@acme.example is confirmed and is now ACTIVE",
        "granted: frank@acme.example now has direct access to Engineering",
        "already direct: alice@acme.example already has direct access to Shared Logins",
        "covered by groups: alice@acme.example already has access to Engineering through Engineering",
        "revoked: frank@acme.example's direct access to Engineering was revoked; access through Engineering remains",
        "no direct access: bob@acme.example has no direct access to Marketing",
        "'Manage Vault' permission",
        "bob@acme.example is SUSPENDED",
        "erin@acme.example was removed",
        "Done.",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // Numbered steps, each with its outcome.
    assert!(out.contains("\n1. ") && out.contains("\n15. "), "{out}");
    assert!(out.matches("   -> ").count() >= 15, "{out}");
}

#[test]
fn help_documents_exit_codes_fields_and_environment() {
    let run = run_cmd(opadmin().arg("--help"), &[]).expect_code(0);
    for expected in [
        "Exit codes:",
        "partial failure",
        "last_auth_at",
        "direct_permissions",
        "OPADMIN_PASSWORD",
        "OPADMIN_TOTP_SECRET",
        "--emulator-as",
        "--format",
    ] {
        assert!(run.stdout.contains(expected), "missing {expected:?}");
    }
    opadmin()
        .args(["vaults", "grant", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--permissions").and(predicate::str::contains("--file")));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["users"],
        vec!["users", "confirm", "--emulator"],
        vec!["users", "get", "--emulator", "--format", "yaml"],
        vec![
            "groups",
            "role",
            "Engineering",
            "alice@acme.example",
            "boss",
        ],
        vec![
            "vaults",
            "grant",
            "Engineering",
            "bob@acme.example",
            "--permissions",
            "fly",
            "--emulator",
        ],
        vec!["users", "suspend", "--emulator"],
        vec![
            "users",
            "suspend",
            "--file",
            "/nonexistent/list.txt",
            "--emulator",
        ],
        vec!["users", "list", "--state", "sleepy", "--emulator"],
        vec!["users", "list", "--emulator-as", "alice@acme.example"],
    ] {
        let run = run_cmd(opadmin().args(&args), &[]);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?} wrote data: {}", run.stdout);
        assert!(!run.stderr.trim().is_empty(), "{args:?} said nothing");
    }
}

#[test]
fn missing_credentials_are_a_usage_error_with_a_plain_sentence() {
    let run = run_cmd(opadmin().args(["users", "list"]), &[]).expect_code(2);
    assert!(run.stderr.contains("OPADMIN_ADDRESS"), "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    let run = run_cmd(
        opadmin().args([
            "users",
            "list",
            "--address",
            "my.1password.com",
            "--email",
            "a@b.example",
        ]),
        &[],
    )
    .expect_code(2);
    assert!(run.stderr.contains("OPADMIN_PASSWORD"), "{}", run.stderr);
}

#[test]
fn password_stdin_and_file_stdin_cannot_both_read_stdin() {
    let run = run_cmd(
        opadmin()
            .args(["users", "suspend", "--file", "-", "--password-stdin"])
            .args(["--address", "my.1password.com", "--email", "a@b.example"])
            .write_stdin("x\n"),
        &[],
    )
    .expect_code(2);
    assert!(run.stderr.contains("both read stdin"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// users

#[test]
fn users_list_in_every_format() {
    let table = emu(&["users", "list"]).expect_code(0);
    let header = table.stdout.lines().next().unwrap_or_default();
    assert!(header.starts_with("EMAIL") && header.contains("LAST_AUTH_AT"));
    assert!(table.stdout.contains("dave@acme.example") && table.stdout.contains("PENDING"));
    assert!(table.stdout.contains("erin@acme.example") && table.stdout.contains("SUSPENDED"));
    assert!(
        table.stdout.contains("2026-11-20 08:15"),
        "{}",
        table.stdout
    );

    let json = emu(&["users", "list", "--format", "json"])
        .expect_code(0)
        .json();
    let users = objects(&json);
    assert_eq!(users.len(), 8);
    for u in users {
        assert_fields(u, USER_FIELDS);
    }
    let alice = find(users, "email", "alice@acme.example");
    assert_eq!(alice["state"], "ACTIVE");
    assert_eq!(alice["type"], "MEMBER");
    assert_eq!(alice["last_auth_at"], "2026-11-20T08:15:00Z");
    assert_eq!(find(users, "email", "gina@acme.example")["type"], "GUEST");
    assert!(find(users, "email", "gina@acme.example")["last_auth_at"].is_null());

    let csv = emu(&["users", "list", "--format", "csv"]).expect_code(0);
    assert_eq!(
        csv_header(&csv.stdout),
        "id,email,name,state,type,created_at,last_auth_at"
    );
    assert_eq!(csv.stdout.lines().count(), 9);

    let suspended = emu(&["users", "list", "--state", "suspended", "--format", "json"])
        .expect_code(0)
        .json();
    assert_eq!(objects(&suspended).len(), 1);
    assert_eq!(suspended[0]["email"], "erin@acme.example");
}

#[test]
fn users_get_by_email_and_uuid_in_every_format_and_not_found() {
    let run = emu(&["users", "get", "Dave@Acme.example", "--format", "json"]).expect_code(0);
    assert_key_order(&run.stdout, USER_FIELDS);
    let json = run.json();
    assert_fields(&json, USER_FIELDS);
    assert_eq!(json["email"], "dave@acme.example");
    assert_eq!(json["state"], "PENDING");

    let table = emu(&["users", "get", "bob@acme.example"]).expect_code(0);
    assert!(table.stdout.contains("EMAIL") && table.stdout.contains("bob@acme.example"));
    let csv = emu(&["users", "get", "bob@acme.example", "--format", "csv"]).expect_code(0);
    assert_eq!(
        csv_header(&csv.stdout),
        "id,email,name,state,type,created_at,last_auth_at"
    );
    assert_eq!(csv.stdout.lines().count(), 2);

    let missing = emu(&["users", "get", "nobody@acme.example"]).expect_code(6);
    assert!(missing.stdout.is_empty());
    assert!(missing.stderr.contains("not found"), "{}", missing.stderr);
    assert!(missing.stderr.lines().any(|l| l.starts_with("error: ")));
    emu(&["users", "get", "AAAAAAAAAAAAAAAAAAAAAAAAAA"]).expect_code(6);
}

#[test]
fn users_invite_in_every_format() {
    let json = emu(&["users", "invite", "frank@acme.example", "--format", "json"])
        .expect_code(0)
        .json();
    let outcomes = objects(&json);
    assert_eq!(outcomes.len(), 1);
    assert_fields(&outcomes[0], OUTCOME_FIELDS);
    assert_eq!(outcomes[0]["action"], "invite");
    assert_eq!(outcomes[0]["outcome"], "invited");
    assert_eq!(outcomes[0]["ok"], true);
    assert!(outcomes[0]["error"].is_null());

    let table = emu(&["users", "invite", "gus@acme.example", "--guest"]).expect_code(0);
    assert!(table.stdout.starts_with("TARGET"));
    assert!(table.stdout.contains("invited"));
    let csv = emu(&["users", "invite", "hal@acme.example", "--format", "csv"]).expect_code(0);
    assert_eq!(csv_header(&csv.stdout), OUTCOME_HEADER);
    assert!(csv.stdout.contains("invite,hal@acme.example"));

    let bad = emu(&["users", "invite", "not-an-email"]).expect_code(2);
    assert!(bad.stderr.contains("not an email"), "{}", bad.stderr);
}

#[test]
fn users_confirm_one_all_and_not_applicable() {
    let one = emu(&["users", "confirm", "dave@acme.example", "--format", "json"])
        .expect_code(0)
        .json();
    assert_eq!(one[0]["outcome"], "confirmed");
    assert_eq!(one[0]["target"], "dave@acme.example");

    let all = emu(&["users", "confirm", "--all", "--format", "csv"]).expect_code(0);
    assert_eq!(csv_header(&all.stdout), OUTCOME_HEADER);
    assert!(
        all.stdout.contains("confirm,dave@acme.example"),
        "{}",
        all.stdout
    );
    assert_eq!(all.stdout.lines().count(), 2);

    let active = emu(&["users", "confirm", "alice@acme.example"]).expect_code(1);
    assert!(
        active.stderr.contains("not awaiting confirmation"),
        "{}",
        active.stderr
    );
    emu(&["users", "confirm", "nobody@acme.example"]).expect_code(6);
}

#[test]
fn users_suspend_reactivate_remove() {
    let s = emu(&["users", "suspend", "bob@acme.example", "--format", "json"])
        .expect_code(0)
        .json();
    assert_eq!(s[0]["outcome"], "suspended");
    assert_eq!(s[0]["action"], "suspend");
    assert!(s[0]["id"].is_string());

    let r = emu(&["users", "reactivate", "erin@acme.example"]).expect_code(0);
    assert!(r.stdout.contains("reactivated"));
    let d = emu(&["users", "remove", "erin@acme.example", "--format", "csv"]).expect_code(0);
    assert_eq!(csv_header(&d.stdout), OUTCOME_HEADER);
    assert!(d.stdout.contains(",removed,"));

    emu(&["users", "suspend", "nobody@acme.example"]).expect_code(6);
    // The signed-in administrator cannot suspend itself.
    emu(&["users", "suspend", "admin@acme.example"]).expect_code(2);
}

#[test]
fn bulk_suspend_from_a_file_reports_each_target_and_exits_8_on_partial_failure() {
    let dir = std::env::temp_dir().join(format!("opadmin-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let list = dir.join("leavers.txt");
    std::fs::write(
        &list,
        "# leavers\nbob@acme.example\n\nnobody@acme.example\ncarol@acme.example\n",
    )
    .expect("write list");
    let path = list.to_string_lossy().into_owned();
    let run = emu(&[
        "users", "suspend", "--yes", "--file", &path, "--format", "json",
    ])
    .expect_code(8);
    let outcomes = objects(&run.json()).clone();
    assert_eq!(outcomes.len(), 3);
    assert_eq!(
        find(&outcomes, "target", "bob@acme.example")["outcome"],
        "suspended"
    );
    assert_eq!(
        find(&outcomes, "target", "carol@acme.example")["outcome"],
        "suspended"
    );
    let failed = find(&outcomes, "target", "nobody@acme.example");
    assert_eq!(failed["ok"], false);
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(failed["error"], "not_found");
    assert!(
        run.stderr.contains("1 of 3 targets failed"),
        "{}",
        run.stderr
    );

    // A CSV with an email column.
    let csv_list = dir.join("leavers.csv");
    std::fs::write(
        &csv_list,
        "name,email\nBob,bob@acme.example\nErin,erin@acme.example\n",
    )
    .expect("write csv");
    let path = csv_list.to_string_lossy().into_owned();
    let run = emu(&["users", "reactivate", "--file", &path, "--format", "csv"]).expect_code(8);
    assert_eq!(csv_header(&run.stdout), OUTCOME_HEADER);
    assert!(
        run.stdout.contains("reactivate,erin@acme.example"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(",failed,"),
        "bob is not suspended: {}",
        run.stdout
    );

    // All succeed: exit 0, and several positional targets are a bulk action too.
    let run = emu(&[
        "users",
        "remove",
        "--yes",
        "erin@acme.example",
        "gina@acme.example",
    ])
    .expect_code(0);
    assert_eq!(run.stdout.matches("removed").count(), 4, "{}", run.stdout);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bulk_targets_from_stdin() {
    let run = run_cmd(
        opadmin()
            .args([
                "--emulator",
                "users",
                "suspend",
                "--yes",
                "--file",
                "-",
                "--format",
                "csv",
            ])
            .write_stdin("email\nbob@acme.example\ncarol@acme.example\n"),
        &[],
    )
    .expect_code(0);
    assert_eq!(csv_header(&run.stdout), OUTCOME_HEADER);
    assert_eq!(
        run.stdout.matches(",suspended,").count(),
        2,
        "{}",
        run.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// groups

#[test]
fn groups_list_in_every_format() {
    let table = emu(&["groups", "list"]).expect_code(0);
    assert!(table.stdout.starts_with("NAME"));
    assert!(table.stdout.contains("Engineering") && table.stdout.contains("USER_DEFINED"));
    let json = emu(&["groups", "list", "--format", "json"])
        .expect_code(0)
        .json();
    let groups = objects(&json);
    for g in groups {
        assert_fields(g, &["id", "name", "type", "member_count"]);
    }
    assert_eq!(find(groups, "name", "Engineering")["member_count"], 2);
    assert_eq!(find(groups, "name", "Owners")["type"], "OWNERS");
    let csv = emu(&["groups", "list", "--format", "csv"]).expect_code(0);
    assert_eq!(csv_header(&csv.stdout), "id,name,type,member_count");
}

#[test]
fn groups_members_in_every_format_and_not_found() {
    let json = emu(&["groups", "members", "engineering", "--format", "json"])
        .expect_code(0)
        .json();
    let members = objects(&json);
    assert_eq!(members.len(), 2);
    for m in members {
        assert_fields(
            m,
            &[
                "group_id",
                "group_name",
                "id",
                "email",
                "name",
                "type",
                "state",
                "role",
            ],
        );
    }
    assert_eq!(
        find(members, "email", "carol@acme.example")["role"],
        "MANAGER"
    );
    assert_eq!(
        find(members, "email", "alice@acme.example")["role"],
        "MEMBER"
    );
    let table = emu(&["groups", "members", "Marketing"]).expect_code(0);
    assert!(table.stdout.contains("bob@acme.example"));
    let csv = emu(&["groups", "members", "Marketing", "--format", "csv"]).expect_code(0);
    assert_eq!(
        csv_header(&csv.stdout),
        "group_id,group_name,id,email,name,type,state,role"
    );
    let missing = emu(&["groups", "members", "Nope"]).expect_code(6);
    assert!(missing.stderr.contains("\"Nope\""), "{}", missing.stderr);
}

#[test]
fn groups_add_remove_and_role() {
    let add = emu(&[
        "groups",
        "add",
        "Engineering",
        "bob@acme.example",
        "alice@acme.example",
        "--role",
        "manager",
        "--format",
        "json",
    ])
    .expect_code(0)
    .json();
    let add = objects(&add);
    assert_eq!(find(add, "target", "bob@acme.example")["outcome"], "added");
    assert_eq!(
        find(add, "target", "alice@acme.example")["outcome"],
        "already_member"
    );

    let remove = emu(&[
        "groups",
        "remove",
        "Marketing",
        "bob@acme.example",
        "--format",
        "csv",
    ])
    .expect_code(0);
    assert_eq!(csv_header(&remove.stdout), OUTCOME_HEADER);
    assert!(remove.stdout.contains("group_remove,bob@acme.example"));
    assert!(remove.stdout.contains(",removed,"));
    let not_member = emu(&["groups", "remove", "Marketing", "alice@acme.example"]).expect_code(0);
    assert!(not_member.stdout.contains("not_member"));

    let role = emu(&[
        "groups",
        "role",
        "Engineering",
        "alice@acme.example",
        "manager",
    ])
    .expect_code(0);
    assert!(role.stdout.contains("role_set"));
    assert!(role.stdout.contains("now a manager of Engineering"));
    emu(&[
        "groups",
        "role",
        "Engineering",
        "bob@acme.example",
        "member",
    ])
    .expect_code(1);
    emu(&["groups", "add", "Nope", "bob@acme.example"]).expect_code(6);
    emu(&["groups", "add", "Engineering", "nobody@acme.example"]).expect_code(6);
}

// ---------------------------------------------------------------------------------------------
// vaults

#[test]
fn vaults_list_in_every_format() {
    let table = emu(&["vaults", "list"]).expect_code(0);
    assert!(table.stdout.starts_with("NAME"));
    assert!(table.stdout.contains("Shared Logins"));
    let json = emu(&["vaults", "list", "--format", "json"])
        .expect_code(0)
        .json();
    let vaults = objects(&json);
    assert_eq!(vaults.len(), 4);
    for v in vaults {
        assert_fields(
            v,
            &[
                "id",
                "name",
                "type",
                "description",
                "user_count",
                "group_count",
            ],
        );
    }
    assert_eq!(
        find(vaults, "name", "Engineering")["description"],
        "Build and deploy secrets"
    );
    let csv = emu(&["vaults", "list", "--format", "csv"]).expect_code(0);
    assert_eq!(
        csv_header(&csv.stdout),
        "id,name,type,description,user_count,group_count"
    );
    // The IT administrator does not see Finance.
    let it = emu_as_it_admin(&["vaults", "list", "--format", "json"])
        .expect_code(0)
        .json();
    assert!(objects(&it).iter().all(|v| v["name"] != "Finance"));
}

#[test]
fn vaults_access_people_and_groups_in_every_format() {
    let json = emu(&["vaults", "access", "Shared Logins", "--format", "json"])
        .expect_code(0)
        .json();
    let access = objects(&json);
    for a in access {
        assert_fields(
            a,
            &[
                "vault_id",
                "vault_name",
                "id",
                "email",
                "name",
                "permissions",
                "direct_permissions",
                "via_groups",
            ],
        );
    }
    let alice = find(access, "email", "alice@acme.example");
    assert!(
        alice["direct_permissions"]
            .as_array()
            .is_some_and(|p| p.contains(&Value::from("view_items")))
    );
    assert_eq!(alice["via_groups"], serde_json::json!([]));

    let eng = emu(&["vaults", "access", "Engineering", "--format", "json"])
        .expect_code(0)
        .json();
    let carol = find(objects(&eng), "email", "carol@acme.example");
    assert!(carol["direct_permissions"].is_null());
    assert_eq!(carol["via_groups"], serde_json::json!(["Engineering"]));

    let table = emu(&["vaults", "access", "Engineering"]).expect_code(0);
    assert!(table.stdout.contains("VIA_GROUPS"));
    assert!(table.stdout.contains("allow_viewing, allow_editing"));
    let csv = emu(&["vaults", "access", "Engineering", "--format", "csv"]).expect_code(0);
    assert_eq!(
        csv_header(&csv.stdout),
        "vault_id,vault_name,id,email,name,permissions,direct_permissions,via_groups"
    );
    assert!(csv.stdout.contains("view_items;"), "{}", csv.stdout);

    let groups = emu(&[
        "vaults",
        "access",
        "Engineering",
        "--groups",
        "--format",
        "csv",
    ])
    .expect_code(0);
    assert_eq!(
        csv_header(&groups.stdout),
        "vault_id,vault_name,group_id,group_name,permissions"
    );
    assert!(groups.stdout.contains(",Engineering,view_items;"));

    emu(&["vaults", "access", "Nope"]).expect_code(6);
}

#[test]
fn vaults_add_and_remove_single_permissions() {
    // Alice has RWE directly on Shared Logins: removing view_and_copy_passwords takes what
    // needs it along; Bob has no grant there.
    let json = emu(&[
        "vaults",
        "remove-permissions",
        "--yes",
        "Shared Logins",
        "alice@acme.example",
        "bob@acme.example",
        "--permissions",
        "view_and_copy_passwords",
        "--format",
        "json",
    ])
    .expect_code(0)
    .json();
    let outcomes = objects(&json);
    let alice = find(outcomes, "target", "alice@acme.example");
    assert_eq!(alice["action"], "remove_permissions");
    assert_eq!(alice["outcome"], "changed");
    assert_eq!(
        alice["permissions"],
        serde_json::json!(["view_items", "create_items", "import_items"])
    );
    let bob = find(outcomes, "target", "bob@acme.example");
    assert_eq!(bob["outcome"], "no_direct_access");

    // Alice reaches Engineering through the Engineering group only.
    let csv = emu(&[
        "vaults",
        "add-permissions",
        "Engineering",
        "alice@acme.example",
        "--permissions",
        "manage_vault",
        "--format",
        "csv",
    ])
    .expect_code(0);
    assert!(csv.stdout.contains(",no_direct_access,"), "{}", csv.stdout);
    assert!(csv.stdout.contains(",Engineering,"), "{}", csv.stdout);

    let table = emu(&[
        "vaults",
        "add-permissions",
        "Marketing",
        "--group",
        "Marketing",
        "--permissions",
        "manage_vault",
    ])
    .expect_code(0);
    assert!(table.stdout.contains("changed"), "{}", table.stdout);
    assert!(table.stdout.contains("manage_vault"), "{}", table.stdout);

    // People from a file, as for the other bulk commands (the file used to be ignored here).
    let dir = std::env::temp_dir().join(format!("opadmin-cli-perms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let list = dir.join("people.txt");
    std::fs::write(&list, "alice@acme.example\nbob@acme.example\n").expect("write list");
    let path = list.to_string_lossy().into_owned();
    let from_file = emu(&[
        "vaults",
        "add-permissions",
        "Shared Logins",
        "--file",
        &path,
        "--permissions",
        "manage_vault",
        "--format",
        "json",
    ])
    .expect_code(0)
    .json();
    let outcomes = objects(&from_file);
    assert_eq!(outcomes.len(), 2, "{from_file}");
    assert_eq!(
        find(outcomes, "target", "alice@acme.example")["outcome"],
        "changed"
    );
    assert_eq!(
        find(outcomes, "target", "bob@acme.example")["outcome"],
        "no_direct_access"
    );
    std::fs::remove_dir_all(&dir).ok();

    emu(&[
        "vaults",
        "remove-permissions",
        "Shared Logins",
        "alice@acme.example",
    ])
    .expect_code(2);
    emu(&[
        "vaults",
        "add-permissions",
        "Shared Logins",
        "alice@acme.example",
        "--permissions",
        "fly",
    ])
    .expect_code(2);
}

#[test]
fn vaults_grant_all_three_outcomes() {
    let json = emu(&[
        "vaults",
        "grant",
        "Shared Logins",
        "alice@acme.example",
        "bob@acme.example",
        "--permissions",
        "edit_items",
        "--format",
        "json",
    ])
    .expect_code(0)
    .json();
    let outcomes = objects(&json);
    let alice = find(outcomes, "target", "alice@acme.example");
    assert_eq!(alice["outcome"], "already_direct");
    assert_eq!(alice["action"], "grant");
    let bob = find(outcomes, "target", "bob@acme.example");
    assert_eq!(bob["outcome"], "granted");
    // edit_items brings its dependencies.
    assert_eq!(
        bob["permissions"],
        serde_json::json!(["view_items", "edit_items", "view_and_copy_passwords"])
    );

    let covered = emu(&[
        "vaults",
        "grant",
        "Engineering",
        "alice@acme.example",
        "--format",
        "csv",
    ])
    .expect_code(0);
    assert_eq!(csv_header(&covered.stdout), OUTCOME_HEADER);
    assert!(
        covered.stdout.contains(",covered_by_groups,"),
        "{}",
        covered.stdout
    );
    assert!(
        covered.stdout.contains(",Engineering,"),
        "{}",
        covered.stdout
    );

    let table = emu(&["vaults", "grant", "Marketing", "--group", "Engineering"]).expect_code(0);
    assert!(table.stdout.contains("group Engineering"));
    assert!(table.stdout.contains("granted"));

    emu(&["vaults", "grant", "Engineering", "nobody@acme.example"]).expect_code(6);
    emu(&["vaults", "grant", "Engineering", "--group", "Nope"]).expect_code(6);
}

#[test]
fn vaults_revoke_both_outcomes() {
    let json = emu(&[
        "vaults",
        "revoke",
        "Marketing",
        "bob@acme.example",
        "--format",
        "json",
    ])
    .expect_code(0)
    .json();
    assert_eq!(json[0]["outcome"], "no_direct_access");
    assert_eq!(json[0]["groups"], serde_json::json!(["Marketing"]));
    assert!(
        json[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("access through Marketing remains"))
    );

    let revoked = emu(&["vaults", "revoke", "Shared Logins", "alice@acme.example"]).expect_code(0);
    assert!(revoked.stdout.contains("revoked"));
    assert!(revoked.stdout.contains("no access remains"));

    let group = emu(&[
        "vaults",
        "revoke",
        "Engineering",
        "--group",
        "Engineering",
        "--format",
        "csv",
    ])
    .expect_code(0);
    assert!(
        group.stdout.contains("revoke,group Engineering"),
        "{}",
        group.stdout
    );
}

#[test]
fn bulk_vault_grant_from_a_file_with_a_failure_exits_8() {
    let dir = std::env::temp_dir().join(format!("opadmin-cli-grant-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let list = dir.join("people.txt");
    std::fs::write(&list, "bob@acme.example\nnobody@acme.example\n").expect("write list");
    let path = list.to_string_lossy().into_owned();
    let run = emu(&[
        "vaults",
        "grant",
        "Engineering",
        "--file",
        &path,
        "--format",
        "json",
    ])
    .expect_code(8);
    let outcomes = objects(&run.json()).clone();
    assert_eq!(
        find(&outcomes, "target", "bob@acme.example")["outcome"],
        "granted"
    );
    assert_eq!(
        find(&outcomes, "target", "nobody@acme.example")["error"],
        "not_found"
    );
    let run = emu(&["vaults", "revoke", "--yes", "Engineering", "--file", &path]).expect_code(8);
    assert!(run.stdout.contains("failed") && run.stdout.contains("no_direct_access"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn manage_vault_permission_is_required() {
    for args in [
        vec!["vaults", "grant", "Finance", "bob@acme.example"],
        vec!["vaults", "revoke", "Finance", "bob@acme.example"],
    ] {
        let run = emu_as_it_admin(&args).expect_code(5);
        assert!(run.stdout.is_empty());
        assert!(
            run.stderr
                .contains("The admin account does not have access to this vault")
                && run.stderr.contains("'Manage Vault' permission"),
            "{}",
            run.stderr
        );
    }
    // The IT administrator manages the other vaults.
    emu_as_it_admin(&["vaults", "grant", "Engineering", "bob@acme.example"]).expect_code(0);
}

// ---------------------------------------------------------------------------------------------
// sync

#[test]
fn sync_in_every_format() {
    let table = emu(&["sync"]).expect_code(0);
    for section in [
        "Acme Corp",
        "People:",
        "Groups:",
        "Group members:",
        "Vaults:",
        "Access to vaults:",
    ] {
        assert!(table.stdout.contains(section), "missing {section}");
    }

    let run = emu(&["sync", "--format", "json"]).expect_code(0);
    assert_key_order(
        &run.stdout,
        &[
            "account", "users", "groups", "members", "vaults", "access", "grants",
        ],
    );
    let json = run.json();
    assert_fields(
        &json,
        &[
            "account", "users", "groups", "members", "vaults", "access", "grants", "skipped",
        ],
    );
    assert!(objects(&json["skipped"]).is_empty(), "the demo is complete");
    assert_fields(&json["account"], &["id", "name", "type", "plan"]);
    assert_eq!(json["account"]["name"], "Acme Corp");
    assert_eq!(objects(&json["users"]).len(), 8);
    assert_fields(&json["users"][0], USER_FIELDS);
    assert_eq!(objects(&json["vaults"]).len(), 4);

    let users = emu(&["sync", "--part", "users", "--format", "csv"]).expect_code(0);
    assert_eq!(
        csv_header(&users.stdout),
        "id,email,name,state,type,created_at,last_auth_at"
    );
    let all = emu(&["sync", "--format", "csv"]).expect_code(0);
    assert_eq!(csv_header(&all.stdout), "id,name,type,plan");
    assert!(
        all.stdout
            .contains("\n\nvault_id,vault_name,group_id,group_name,permissions\n")
    );
    let grants = emu(&["sync", "--part", "grants", "--format", "json"])
        .expect_code(0)
        .json();
    assert!(!objects(&grants).is_empty());
}

// ---------------------------------------------------------------------------------------------
// real sign-in against an emulator started here: credentials from the environment and stdin

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn start(
    rt: &tokio::runtime::Runtime,
    account: opadmin_emulator::AccountBuilder,
) -> RunningEmulator {
    rt.block_on(Emulator::start(
        EmulatorConfig::default(),
        account.iterations(100_000),
    ))
    .expect("emulator starts")
}

#[test]
fn credentials_from_the_environment() {
    let rt = runtime();
    let emulator = start(&rt, demo_account());
    let owner = emulator.owner().clone();
    let address = emulator.address();
    let secrets = [owner.secret_key.as_str()];

    let ok = run_cmd(
        opadmin()
            .args(["users", "list", "--format", "json"])
            .env("OPADMIN_ADDRESS", &address)
            .env("OPADMIN_EMAIL", &owner.email)
            .env("OPADMIN_PASSWORD", &owner.password)
            .env("OPADMIN_SECRET_KEY", &owner.secret_key),
        &secrets,
    )
    .expect_code(0);
    assert_eq!(objects(&ok.json()).len(), 8);
    assert!(!ok.stderr.contains("warning"), "{}", ok.stderr);

    let wrong = run_cmd(
        opadmin()
            .args(["users", "list"])
            .env("OPADMIN_ADDRESS", &address)
            .env("OPADMIN_EMAIL", &owner.email)
            .env("OPADMIN_PASSWORD", "not the password")
            .env("OPADMIN_SECRET_KEY", &owner.secret_key),
        &secrets,
    )
    .expect_code(3);
    assert!(wrong.stdout.is_empty());
    assert!(wrong.stderr.contains("sign-in failed"), "{}", wrong.stderr);
    assert!(!wrong.stderr.contains("not the password"));
    assert_eq!(wrong.stderr.trim().lines().count(), 1, "{}", wrong.stderr);

    // The flags work too, with a warning that flags are visible to other users.
    let flagged = run_cmd(
        opadmin()
            .args(["groups", "list", "--format", "csv"])
            .args(["--address", &address, "--email", &owner.email])
            .args([
                "--password",
                &owner.password,
                "--secret-key",
                &owner.secret_key,
            ]),
        &secrets,
    )
    .expect_code(0);
    assert!(
        flagged
            .stderr
            .contains("warning: --password and --secret-key"),
        "{}",
        flagged.stderr
    );
    assert_eq!(csv_header(&flagged.stdout), "id,name,type,member_count");
    drop(emulator);
}

#[test]
fn password_and_secret_key_from_stdin() {
    let rt = runtime();
    let emulator = start(&rt, demo_account());
    let owner = emulator.owner().clone();
    let secrets = [owner.secret_key.as_str()];
    let run = run_cmd(
        opadmin()
            .args([
                "users",
                "get",
                "alice@acme.example",
                "--format",
                "json",
                "--password-stdin",
            ])
            .env("OPADMIN_ADDRESS", emulator.address())
            .env("OPADMIN_EMAIL", &owner.email)
            .write_stdin(format!("{}\n{}\n", owner.password, owner.secret_key)),
        &secrets,
    )
    .expect_code(0);
    assert_eq!(run.json()["email"], "alice@acme.example");

    // The Secret Key from the environment, only the password on stdin; a wrong one is refused.
    run_cmd(
        opadmin()
            .args(["users", "list", "--password-stdin"])
            .env("OPADMIN_ADDRESS", emulator.address())
            .env("OPADMIN_EMAIL", &owner.email)
            .env("OPADMIN_SECRET_KEY", &owner.secret_key)
            .write_stdin("wrong password\n"),
        &secrets,
    )
    .expect_code(3);
}

#[test]
fn a_second_factor_is_required_then_answered_from_the_totp_secret() {
    let rt = runtime();
    let account = demo_account().person(
        PersonSpec::new("mfa-admin@acme.example", "Mia MFA")
            .role(Role::Administrator)
            .password(DEMO_PASSWORD)
            .totp(),
    );
    let emulator = start(&rt, account);
    let creds = emulator
        .credentials("mfa-admin@acme.example")
        .expect("mfa admin")
        .clone();
    let totp = creds.totp_secret.clone().expect("a TOTP secret");
    let secrets = [creds.secret_key.as_str(), totp.as_str()];
    let mut base = opadmin();
    base.args(["users", "list", "--format", "json"])
        .env("OPADMIN_ADDRESS", emulator.address())
        .env("OPADMIN_EMAIL", &creds.email)
        .env("OPADMIN_PASSWORD", &creds.password)
        .env("OPADMIN_SECRET_KEY", &creds.secret_key);
    let run = run_cmd(&mut base, &secrets).expect_code(4);
    assert!(run.stderr.contains("second factor"), "{}", run.stderr);
    let run = run_cmd(base.env("OPADMIN_TOTP_SECRET", &totp), &secrets).expect_code(0);
    assert_eq!(objects(&run.json()).len(), 9);
}

#[test]
fn an_unreachable_address_is_another_error() {
    let run = run_cmd(
        opadmin()
            .args(["users", "list"])
            .env("OPADMIN_ADDRESS", "http://127.0.0.1:9")
            .env("OPADMIN_EMAIL", "admin@acme.example")
            .env("OPADMIN_PASSWORD", "whatever it is")
            .env(
                "OPADMIN_SECRET_KEY",
                "A3-ABCDEF-GHJKLM-NPQRS-TVWXY-Z2345-6789A",
            ),
        &["whatever it is"],
    );
    assert!(
        run.code == 1 || run.code == 2,
        "{}: {}",
        run.code,
        run.stderr
    );
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
}

/// Runs a command signed in as the owner of an emulator started here.
fn as_owner(emulator: &RunningEmulator, args: &[&str]) -> Run {
    let owner = emulator.owner().clone();
    run_cmd(
        opadmin()
            .args(args)
            .env("OPADMIN_ADDRESS", emulator.address())
            .env("OPADMIN_EMAIL", &owner.email)
            .env("OPADMIN_PASSWORD", &owner.password)
            .env("OPADMIN_SECRET_KEY", &owner.secret_key),
        &[owner.secret_key.as_str()],
    )
}

#[test]
fn confirm_all_with_a_refused_batch_lists_every_person_and_exits_8() {
    let rt = runtime();
    let mut account = demo_account();
    for i in 0..20 {
        account = account.person(
            PersonSpec::new(format!("joiner{i:02}@acme.example"), format!("Joiner {i}"))
                .state(PersonState::Pending),
        );
    }
    let emulator = start(&rt, account);
    let mut pending: Vec<String> = std::iter::once("dave@acme.example".to_owned())
        .chain((0..20).map(|i| format!("joiner{i:02}@acme.example")))
        .map(|e| emulator.user_uuid(&e).expect("a person"))
        .collect();
    pending.sort();
    // People are confirmed in listing order (by uuid), 15 per request: the last one is in the
    // second request, which the server refuses (its keyset is wrapped to the wrong key).
    let victim = pending.last().unwrap().clone();
    assert!(emulator.serve_foreign_public_key(&victim, &emulator.owner().email));

    let run = as_owner(
        &emulator,
        &["users", "confirm", "--all", "--format", "json"],
    )
    .expect_code(8);
    let records = run.json();
    let records = objects(&records);
    assert_eq!(records.len(), 21, "every pending person is listed");
    let mut confirmed = 0;
    for r in records {
        assert_fields(r, OUTCOME_FIELDS);
        let id = r["id"].as_str().expect("the person's uuid");
        let state = emulator.user_state(id);
        match r["outcome"].as_str() {
            Some("confirmed") => {
                confirmed += 1;
                assert_eq!(state, Some(PersonState::Active), "{r}");
            }
            Some("failed") => {
                assert_eq!(state, Some(PersonState::Pending), "{r}");
                assert!(r["error"].is_string() && r["message"].is_string(), "{r}");
            }
            other => panic!("unexpected outcome {other:?}: {r}"),
        }
    }
    assert_eq!(confirmed, 15, "the first request's people are confirmed");
    assert!(
        run.stderr.contains("6 of 21 targets failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn sync_with_an_unreadable_vault_prints_the_rest_names_it_and_exits_8() {
    let rt = runtime();
    let emulator = start(&rt, demo_account());
    let owner = emulator.owner().user_uuid.clone();
    let vault = emulator
        .vault_uuid("Marketing")
        .expect("a vault the owner created");
    assert!(emulator.corrupt_vault_key(&vault, &owner));

    let run = as_owner(&emulator, &["sync", "--format", "json"]).expect_code(8);
    let json = run.json();
    assert_eq!(objects(&json["vaults"]).len(), 3, "every other vault");
    let skipped = objects(&json["skipped"]);
    assert_eq!(skipped.len(), 1);
    assert_fields(&skipped[0], &["kind", "id", "name", "reason", "message"]);
    assert_eq!(skipped[0]["kind"], "vault");
    assert_eq!(skipped[0]["id"], vault.as_str());
    assert_eq!(skipped[0]["reason"], "key_does_not_open");
    assert!(
        run.stderr
            .contains(&format!("warning: skipped vault {vault}")),
        "{}",
        run.stderr
    );

    let table = as_owner(&emulator, &["sync"]).expect_code(8);
    assert!(
        table.stdout.contains("Skipped (could not be read):"),
        "{}",
        table.stdout
    );
    let part = as_owner(&emulator, &["sync", "--part", "users", "--format", "csv"]).expect_code(8);
    assert_eq!(part.stdout.lines().count(), 9, "the users section is whole");
}
