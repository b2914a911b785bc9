//! Plans against the emulator: plan, apply, plan again; predictions against the direct methods;
//! drift between planning and applying; planning sends nothing.

use opadmin::plan::{Change, DesiredState, Gap, OnDrift, Outcome, StepResult};
use opadmin::{
    Admin, Error, GrantOutcome, GroupId, GroupRole, MembershipOutcome, PermissionChange,
    RevokeOutcome, UserRef, VaultId, VaultPermissions as P,
};
use opadmin_emulator::{
    AccountBuilder, Acl, Emulator, EmulatorConfig, MemberRole, PersonSpec, RunningEmulator,
    VaultSpec, acl, demo_account,
};

/// The emulator's acl for a set of permissions.
fn a(p: P) -> Acl {
    Acl::from(p.bits())
}

/// The demo account plus Henry (in no group) and the vault Ops: the Engineering group with
/// read, write and export, Alice and Bob directly with the same, Gina directly with view only.
fn account() -> AccountBuilder {
    demo_account()
        .person(PersonSpec::new("henry@acme.example", "Henry Hill"))
        .vault(
            VaultSpec::new("Ops")
                .group("Engineering", acl::RWE)
                .user("alice@acme.example", acl::RWE)
                .user("bob@acme.example", acl::RWE)
                .user("gina@acme.example", a(P::READ_ITEM)),
        )
}

async fn start() -> (RunningEmulator, Admin) {
    let emu = Emulator::start(EmulatorConfig::default(), account().iterations(100_000))
        .await
        .expect("emulator starts");
    let admin = sign_in(&emu).await;
    (emu, admin)
}

async fn sign_in(emu: &RunningEmulator) -> Admin {
    let owner = emu.owner().clone();
    Admin::builder()
        .address(emu.address())
        .credentials(&owner.email, &owner.password, &owner.secret_key)
        .build()
        .await
        .expect("the owner signs in")
}

fn vault(emu: &RunningEmulator, name: &str) -> VaultId {
    VaultId::new(emu.vault_uuid(name).expect("vault"))
}

fn group(emu: &RunningEmulator, name: &str) -> GroupId {
    GroupId::new(emu.group_uuid(name).expect("group"))
}

fn uuid(emu: &RunningEmulator, email: &str) -> String {
    emu.user_uuid(email).expect("person")
}

fn all_applied(report: &opadmin::plan::ApplyReport) {
    for s in &report.steps {
        assert!(matches!(s, StepResult::Applied { .. }), "{s:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn memberships_reconcile_apply_and_reconcile_again_is_empty() {
    let (emu, admin) = start().await;
    let eng = group(&emu, "Engineering");
    let desired = DesiredState::from_toml_str(
        r#"
        [[groups]]
        group = "Engineering"
        members = [
          { user = "alice@acme.example", role = "manager" },
          { user = "bob@acme.example" },
        ]
        "#,
    )
    .unwrap();
    let before = emu.changes_applied();
    let plan = admin.reconcile(&desired).await.unwrap();
    assert_eq!(emu.changes_applied(), before, "reconciling sends nothing");
    let ops: Vec<&str> = plan.steps.iter().map(|s| s.change.op()).collect();
    assert_eq!(ops, ["set_group_role", "add_to_group", "remove_from_group"]);
    let summaries: Vec<String> = plan.steps.iter().map(|s| s.summary()).collect();
    assert_eq!(
        summaries,
        [
            "make alice@acme.example a manager of group Engineering",
            "add bob@acme.example to group Engineering as member",
            "remove carol@acme.example from group Engineering",
        ]
    );
    assert_eq!(
        plan.steps[1].requests,
        [format!("PATCH /api/v3/group/{eng}/membership")]
    );
    assert!(plan.gaps.is_empty(), "{:?}", plan.gaps);

    let report = admin.apply(&plan, OnDrift::Refuse).await.unwrap();
    all_applied(&report);
    assert!(!report.replanned);
    assert_eq!(emu.changes_applied(), before + 3);
    let mut members = emu.group_members(eng.as_str());
    members.sort_by(|x, y| x.0.cmp(&y.0));
    let mut expected = vec![
        (uuid(&emu, "alice@acme.example"), MemberRole::Manager),
        (uuid(&emu, "bob@acme.example"), MemberRole::Member),
    ];
    expected.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(members, expected);
    // Every applied outcome is the predicted one.
    for (step, result) in plan.steps.iter().zip(&report.steps) {
        let StepResult::Applied { outcome, .. } = result else {
            unreachable!()
        };
        assert_eq!(outcome, &step.predicted);
    }

    let again = admin.reconcile(&desired).await.unwrap();
    assert!(again.is_empty(), "{:?}", again.steps);
    assert!(again.gaps.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn vault_access_reconcile_for_people_and_groups() {
    let (emu, admin) = start().await;
    let ops = vault(&emu, "Ops");
    let eng = group(&emu, "Engineering");
    let desired = DesiredState::from_json_str(
        r#"{"vaults": [{
            "vault": "Ops",
            "groups": [{"group": "Engineering", "permissions": ["view_items", "view_and_copy_passwords"]}],
            "people": [
                {"user": "bob@acme.example", "permissions": ["view_items", "create_items"]},
                {"user": "gina@acme.example", "permissions": ["edit_items"]},
                {"user": "carol@acme.example", "permissions": ["view_items"]},
                {"user": "henry@acme.example", "permissions": ["view_items"]},
                {"user": "it-admin@acme.example", "permissions": ["view_items"]},
                {"user": "nobody@acme.example", "permissions": ["view_items"]}
            ]
        }]}"#,
    )
    .unwrap();
    let before = emu.changes_applied();
    let plan = admin.reconcile(&desired).await.unwrap();
    assert_eq!(emu.changes_applied(), before, "reconciling sends nothing");
    let ops_list: Vec<&str> = plan.steps.iter().map(|s| s.change.op()).collect();
    assert_eq!(
        ops_list,
        [
            // The group first: it decides who is covered.
            "remove_group_vault_permissions",
            // Bob has a superset: a removal; Gina a subset: an addition.
            "remove_vault_permissions",
            "add_vault_permissions",
            // Carol is covered by Engineering: no step. Henry has no access: a grant.
            "grant_vault_access",
            // Alice is not listed: her direct grant goes.
            "revoke_vault_access",
        ],
        "{:#?}",
        plan.steps
    );
    let alice = opadmin::UserId::new(uuid(&emu, "alice@acme.example"));
    let it_admin = opadmin::UserId::new(uuid(&emu, "it-admin@acme.example"));
    // Alice keeps access through Engineering; the IT admin's groups (Administrators, Manage
    // only) give access without view_items, so no direct grant is made; nobody is unknown.
    assert!(plan.gaps.iter().any(|g| matches!(g,
        Gap::StillViaGroups { user, groups, .. } if user == &alice && groups[0].group == eng)));
    assert!(plan.gaps.iter().any(|g| matches!(g,
        Gap::CoveredByGroups { user, asked, .. } if user == &it_admin && asked.contains(P::READ_ITEM))));
    assert!(plan.gaps.contains(&Gap::UnknownUser {
        user: "nobody@acme.example".into()
    }));
    let grant = &plan.steps[3];
    assert_eq!(
        grant.requests,
        [format!("PATCH /api/v2/vault/{ops}/vaultaccess")]
    );
    assert_eq!(
        grant.summary(),
        "grant henry@acme.example view_items on vault Ops (direct)"
    );

    let report = admin.apply(&plan, OnDrift::Refuse).await.unwrap();
    all_applied(&report);
    let acl_of = |email: &str| emu.vault_access(ops.as_str(), &uuid(&emu, email));
    assert_eq!(
        emu.vault_access(ops.as_str(), eng.as_str()),
        Some(a(P::READ_ITEM | P::REVEAL_PASSWORD))
    );
    assert_eq!(
        acl_of("bob@acme.example"),
        Some(a(P::READ_ITEM | P::CREATE_ITEM))
    );
    assert_eq!(
        acl_of("gina@acme.example"),
        Some(a(P::READ_ITEM | P::UPDATE_ITEM | P::REVEAL_PASSWORD))
    );
    assert_eq!(acl_of("henry@acme.example"), Some(a(P::READ_ITEM)));
    assert_eq!(acl_of("alice@acme.example"), None);
    assert_eq!(acl_of("carol@acme.example"), None);

    let again = admin.reconcile(&desired).await.unwrap();
    assert!(again.is_empty(), "{:#?}", again.steps);
}

#[tokio::test(flavor = "multi_thread")]
async fn single_permission_removals_plan_apply_plan_again() {
    let (emu, admin) = start().await;
    let ops = vault(&emu, "Ops");
    let eng = group(&emu, "Engineering");
    let changes = vec![
        Change::RemoveVaultPermissions {
            vault: ops.clone(),
            user: UserRef::from("bob@acme.example"),
            permissions: P::REVEAL_PASSWORD,
        },
        Change::RemoveGroupVaultPermissions {
            vault: ops.clone(),
            group: eng.clone(),
            permissions: P::EXPORT,
        },
    ];
    let plan = admin.plan(changes.clone()).await.unwrap();
    assert_eq!(plan.steps.len(), 2);
    let bob_after = (P::RWE).without_dependents(P::REVEAL_PASSWORD);
    assert_eq!(
        plan.steps[0].predicted,
        Outcome::Permissions(PermissionChange::Changed {
            before: P::RWE,
            after: bob_after
        })
    );
    assert_eq!(
        plan.steps[0].requests,
        [format!(
            "PATCH /api/v1/acl/person/{ops}/{}/{}",
            uuid(&emu, "bob@acme.example"),
            bob_after.bits()
        )]
    );
    let report = admin.apply(&plan, OnDrift::Refuse).await.unwrap();
    all_applied(&report);
    assert_eq!(
        emu.vault_access(ops.as_str(), &uuid(&emu, "bob@acme.example")),
        Some(a(bob_after))
    );
    assert_eq!(
        emu.vault_access(ops.as_str(), eng.as_str()),
        Some(a(P::RWE - P::EXPORT))
    );
    let again = admin.plan(changes).await.unwrap();
    assert!(again.is_empty(), "{:?}", again.steps);
    assert_eq!(again.unchanged.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_plan_predicts_what_the_direct_method_reports() {
    let (emu, admin) = start().await;
    let ops = vault(&emu, "Ops");
    let engineering = vault(&emu, "Engineering");
    let marketing = group(&emu, "Marketing");
    let cases: Vec<Change> = vec![
        // Granted.
        Change::GrantVaultAccess {
            vault: ops.clone(),
            user: "henry@acme.example".into(),
            permissions: P::UPDATE_ITEM,
        },
        // Covered by Engineering.
        Change::GrantVaultAccess {
            vault: engineering.clone(),
            user: "carol@acme.example".into(),
            permissions: P::READ_ITEM,
        },
        // Already direct.
        Change::GrantVaultAccess {
            vault: ops.clone(),
            user: "gina@acme.example".into(),
            permissions: P::RWE,
        },
        // Revoked, with Engineering staying.
        Change::RevokeVaultAccess {
            vault: ops.clone(),
            user: "alice@acme.example".into(),
        },
        // Nothing direct.
        Change::RevokeVaultAccess {
            vault: ops.clone(),
            user: "carol@acme.example".into(),
        },
        Change::GrantGroupVaultAccess {
            vault: ops.clone(),
            group: marketing.clone(),
            permissions: P::READ_ITEM,
        },
        Change::RevokeGroupVaultAccess {
            vault: engineering.clone(),
            group: group(&emu, "Engineering"),
        },
    ];
    for change in cases {
        let before = emu.changes_applied();
        let plan = admin.plan([change.clone()]).await.unwrap();
        assert_eq!(emu.changes_applied(), before, "planning sends nothing");
        let predicted = match (plan.steps.first(), plan.unchanged.first()) {
            (Some(step), None) => step.predicted.clone(),
            (None, Some(same)) => same.outcome.clone(),
            other => panic!("one step or one unchanged change: {other:?}"),
        };
        let actual = match &change {
            Change::GrantVaultAccess {
                vault,
                user,
                permissions,
            } => Outcome::Grant(
                admin
                    .grant_vault_access(vault, user.clone(), *permissions)
                    .await
                    .unwrap(),
            ),
            Change::RevokeVaultAccess { vault, user } => Outcome::Revoke(
                admin
                    .revoke_vault_access(vault, user.clone())
                    .await
                    .unwrap(),
            ),
            Change::GrantGroupVaultAccess {
                vault,
                group,
                permissions,
            } => Outcome::Grant(
                admin
                    .grant_group_vault_access(vault, group, *permissions)
                    .await
                    .unwrap(),
            ),
            Change::RevokeGroupVaultAccess { vault, group } => {
                Outcome::Revoke(admin.revoke_group_vault_access(vault, group).await.unwrap())
            }
            _ => unreachable!(),
        };
        assert_eq!(predicted, actual, "{change:?}");
        assert_eq!(plan.steps.is_empty(), emu.changes_applied() == before);
    }
    // The cases covered every kind of outcome.
    let covered = admin
        .plan([Change::GrantVaultAccess {
            vault: ops.clone(),
            user: "carol@acme.example".into(),
            permissions: P::READ_ITEM,
        }])
        .await
        .unwrap();
    assert!(matches!(
        covered.unchanged[0].outcome,
        Outcome::Grant(GrantOutcome::CoveredByGroups { .. })
    ));
    let revoked = admin
        .plan([Change::RevokeVaultAccess {
            vault: ops.clone(),
            user: "bob@acme.example".into(),
        }])
        .await
        .unwrap();
    assert!(matches!(
        revoked.steps[0].predicted,
        Outcome::Revoke(RevokeOutcome::Revoked { .. })
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn people_memberships_and_refusals_in_a_change_plan() {
    let (emu, admin) = start().await;
    let marketing = group(&emu, "Marketing");
    let plan = admin
        .plan([
            // A later step is predicted on an earlier one: Henry joins Marketing, then a
            // grant on the Marketing vault is covered by it.
            Change::AddToGroup {
                group: marketing.clone(),
                user: "henry@acme.example".into(),
                role: GroupRole::Member,
            },
            Change::GrantVaultAccess {
                vault: vault(&emu, "Marketing"),
                user: "henry@acme.example".into(),
                permissions: P::READ_ITEM,
            },
            Change::Suspend {
                user: "bob@acme.example".into(),
            },
            Change::Suspend {
                user: "erin@acme.example".into(),
            },
            Change::Suspend {
                user: "admin@acme.example".into(),
            },
            Change::Confirm {
                user: "bob@acme.example".into(),
            },
            Change::SetGroupRole {
                group: marketing.clone(),
                user: "carol@acme.example".into(),
                role: GroupRole::Manager,
            },
            Change::RemoveFromGroup {
                group: GroupId::new("no-such-group"),
                user: "bob@acme.example".into(),
            },
        ])
        .await
        .unwrap();
    let ops: Vec<&str> = plan.steps.iter().map(|s| s.change.op()).collect();
    assert_eq!(ops, ["add_to_group", "suspend"]);
    assert_eq!(
        plan.steps[0].predicted,
        Outcome::Membership(MembershipOutcome::Added {
            role: GroupRole::Member
        })
    );
    assert!(matches!(
        plan.unchanged[0].outcome,
        Outcome::Grant(GrantOutcome::CoveredByGroups { .. })
    ));
    // Erin is suspended already.
    assert!(
        matches!(&plan.unchanged[1].outcome, Outcome::Person(u) if u.email == "erin@acme.example")
    );
    let refusals = plan
        .gaps
        .iter()
        .filter(|g| matches!(g, Gap::Refused { .. }))
        .count();
    assert_eq!(
        refusals, 3,
        "self-suspension, confirming an active person, a non-member's role: {:#?}",
        plan.gaps
    );
    assert!(plan.gaps.contains(&Gap::UnknownGroup {
        group: "no-such-group".into()
    }));
    let report = admin.apply(&plan, OnDrift::Refuse).await.unwrap();
    all_applied(&report);
    assert_eq!(
        emu.user_state("bob@acme.example"),
        Some(opadmin_emulator::PersonState::Suspended)
    );
    // The report serialises, one result per step.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["steps"].as_array().unwrap().len(), 2);
    assert_eq!(json["steps"][0]["status"], "applied");
    // The same plan again changes nothing.
    let again = admin.plan(plan_changes(&plan)).await.unwrap();
    assert!(again.is_empty(), "{:?}", again.steps);
}

fn plan_changes(plan: &opadmin::plan::Plan) -> Vec<Change> {
    match &plan.source {
        opadmin::plan::PlanSource::Changes { changes } => changes.clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_between_plan_and_apply_is_refused_or_replanned() {
    let (emu, admin) = start().await;
    let ops = vault(&emu, "Ops");
    let desired = DesiredState::from_toml_str(
        r#"
        [[vaults]]
        vault = "Ops"
        exact = false
        people = [ { user = "henry@acme.example", permissions = ["view_items"] } ]
        "#,
    )
    .unwrap();
    let plan = admin.reconcile(&desired).await.unwrap();
    assert_eq!(plan.steps.len(), 1);
    // The plan survives a round trip through JSON (what the command line stores).
    let plan: opadmin::plan::Plan =
        serde_json::from_str(&serde_json::to_string(&plan).unwrap()).unwrap();

    // Someone else grants Henry access on the server in between.
    let other = sign_in(&emu).await;
    other
        .grant_vault_access(&ops, "henry@acme.example", P::RWE)
        .await
        .unwrap();
    let before = emu.changes_applied();
    let refused = admin.apply(&plan, OnDrift::Refuse).await.unwrap_err();
    let Error::PlanStale { changed } = &refused else {
        panic!("{refused:?}")
    };
    assert_eq!(changed, &[format!("access to vault {ops}")]);
    assert_eq!(emu.changes_applied(), before, "nothing was sent");
    assert!(refused.to_string().contains("nothing was sent"));

    // Re-planning: Henry now has a direct grant with more than asked, so it is narrowed.
    let report = admin.apply(&plan, OnDrift::Replan).await.unwrap();
    assert!(report.replanned);
    assert_eq!(report.steps.len(), 1);
    assert!(
        matches!(&report.steps[0], StepResult::Applied { change, .. } if change.op() == "remove_vault_permissions")
    );
    assert_eq!(
        emu.vault_access(ops.as_str(), &uuid(&emu, "henry@acme.example")),
        Some(a(P::READ_ITEM))
    );
    assert!(admin.reconcile(&desired).await.unwrap().is_empty());

    // A membership change is drift too.
    let groups_plan = admin
        .plan([Change::AddToGroup {
            group: group(&emu, "Marketing"),
            user: "henry@acme.example".into(),
            role: GroupRole::Member,
        }])
        .await
        .unwrap();
    other
        .add_to_group(
            &group(&emu, "Marketing"),
            "carol@acme.example",
            GroupRole::Member,
        )
        .await
        .unwrap();
    let before = emu.changes_applied();
    assert!(matches!(
        admin.apply(&groups_plan, OnDrift::Refuse).await,
        Err(Error::PlanStale { .. })
    ));
    assert_eq!(emu.changes_applied(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn ambiguous_and_unknown_names() {
    let (emu, admin) = start().await;
    let _ = &emu;
    let unknown = DesiredState::from_toml_str(
        r#"
        [[groups]]
        group = "Nope"
        [[vaults]]
        vault = "Nowhere"
        "#,
    )
    .unwrap();
    let plan = admin.reconcile(&unknown).await.unwrap();
    assert!(plan.is_empty());
    assert_eq!(
        plan.gaps,
        [
            Gap::UnknownGroup {
                group: "Nope".into()
            },
            Gap::UnknownVault {
                vault: "Nowhere".into()
            }
        ]
    );
    // Two vaults named alike: an error naming both.
    let twin = Emulator::start(
        EmulatorConfig::default(),
        account()
            .vault(VaultSpec::new("Twin"))
            .vault(VaultSpec::new("Twin"))
            .iterations(100_000),
    )
    .await
    .expect("emulator starts");
    let admin = sign_in(&twin).await;
    let e = admin
        .reconcile(&DesiredState::from_toml_str("[[vaults]]\nvault = \"Twin\"\n").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    assert!(e.to_string().contains("more than one vault"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_desired_state_reconciles_on_the_demo_account() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/desired-state.toml"
    );
    let desired = DesiredState::from_path(path).expect("the example reads");
    let (emu, admin) = start().await;
    let plan = admin.reconcile(&desired).await.unwrap();
    let ops: Vec<&str> = plan.steps.iter().map(|s| s.change.op()).collect();
    assert_eq!(
        ops,
        [
            // Alice becomes a manager, Carol (a manager in the demo account) a member.
            "set_group_role",
            "set_group_role",
            "remove_group_vault_permissions",
            "grant_vault_access",
            "remove_vault_permissions",
        ],
        "{:#?}",
        plan.steps
    );
    // The demo service account's grant on Engineering is not a person's: left alone, and said.
    assert!(
        matches!(&plan.gaps[..], [Gap::LeftAlone { what, .. }] if what.contains("vault Engineering")),
        "{:?}",
        plan.gaps
    );
    let report = admin.apply(&plan, OnDrift::Refuse).await.unwrap();
    all_applied(&report);
    assert!(admin.reconcile(&desired).await.unwrap().is_empty());
    let bob = uuid(&emu, "bob@acme.example");
    assert_eq!(
        emu.vault_access(vault(&emu, "Engineering").as_str(), &bob),
        Some(a(P::from_names(["view_items", "export_items"])
            .unwrap()
            .with_dependencies()))
    );
}
