//! Reconciling random desired states on random accounts: after applying the plan, the account
//! meets the description wherever the group rules allow, every place it does not is a gap with
//! its cause, and reconciling again gives an empty plan.

use opadmin::plan::{
    DesiredGroup, DesiredGroupGrant, DesiredPerson, DesiredState, DesiredVault, Gap, OnDrift,
    StepResult,
};
use opadmin::{Accessor, Admin, GroupRole, Snapshot, VaultPermissions as P};
use opadmin_emulator::{
    AccountBuilder, Acl, Emulator, EmulatorConfig, GroupSpec, PersonSpec, VaultSpec,
};
use proptest::prelude::*;

const OWNER: &str = "owner@prop.example";
const PASSWORD: &str = "correct horse battery staple";
const PEOPLE: [&str; 4] = [
    "p0@prop.example",
    "p1@prop.example",
    "p2@prop.example",
    "p3@prop.example",
];
const GROUPS: [&str; 2] = ["G0", "G1"];
const VAULTS: [&str; 2] = ["V0", "V1"];

/// Permission sets the account and the descriptions draw from (as Business names).
fn permission_sets() -> Vec<Vec<&'static str>> {
    vec![
        vec!["view_items"],
        vec!["view_items", "create_items"],
        vec!["edit_items"],
        vec!["view_items", "manage_vault"],
        vec!["export_items", "print_items"],
        vec!["manage_vault"],
    ]
}

fn perms(index: usize) -> P {
    P::from_names(&permission_sets()[index]).expect("known names")
}

/// A membership: none, member or manager.
fn membership() -> impl Strategy<Value = Option<bool>> {
    prop_oneof![Just(None), Just(Some(false)), Just(Some(true))]
}

fn grant() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![2 => Just(None), 1 => (0..6usize).prop_map(Some)]
}

/// The account: memberships per group per person, grants per vault per person and per group.
#[derive(Debug, Clone)]
struct Account {
    members: Vec<Vec<Option<bool>>>,
    user_grants: Vec<Vec<Option<usize>>>,
    group_grants: Vec<Vec<Option<usize>>>,
}

/// A description: per group, exact and the members; per vault, exact, people (permissions,
/// direct) and groups.
#[derive(Debug, Clone)]
struct Description {
    groups: Vec<Option<(bool, Vec<Option<bool>>)>>,
    vaults: Vec<Option<DescribedVault>>,
}

#[derive(Debug, Clone)]
struct DescribedVault {
    exact: bool,
    people: Vec<Option<(usize, bool)>>,
    groups: Vec<Option<usize>>,
}

fn account() -> impl Strategy<Value = Account> {
    (
        proptest::collection::vec(proptest::collection::vec(membership(), 4), 2),
        proptest::collection::vec(proptest::collection::vec(grant(), 4), 2),
        proptest::collection::vec(proptest::collection::vec(grant(), 2), 2),
    )
        .prop_map(|(members, user_grants, group_grants)| Account {
            members,
            user_grants,
            group_grants,
        })
}

fn description() -> impl Strategy<Value = Description> {
    let group = proptest::option::of((any::<bool>(), proptest::collection::vec(membership(), 4)));
    let person = proptest::option::of((0..6usize, prop_oneof![4 => Just(false), 1 => Just(true)]));
    let vault = proptest::option::of(
        (
            any::<bool>(),
            proptest::collection::vec(person, 4),
            proptest::collection::vec(proptest::option::of(0..6usize), 2),
        )
            .prop_map(|(exact, people, groups)| DescribedVault {
                exact,
                people,
                groups,
            }),
    );
    (
        proptest::collection::vec(group, 2),
        proptest::collection::vec(vault, 2),
    )
        .prop_map(|(groups, vaults)| Description { groups, vaults })
}

fn builder(a: &Account) -> AccountBuilder {
    let mut b = AccountBuilder::new("Prop").owner(OWNER, "Olive Owner", PASSWORD);
    for (i, p) in PEOPLE.iter().enumerate() {
        b = b.person(PersonSpec::new(*p, format!("Person {i}")));
    }
    for (g, name) in GROUPS.iter().enumerate() {
        let mut spec = GroupSpec::new(*name);
        for (i, p) in PEOPLE.iter().enumerate() {
            spec = match a.members[g][i] {
                Some(true) => spec.manager(*p),
                Some(false) => spec.member(*p),
                None => spec,
            };
        }
        b = b.group(spec);
    }
    for (v, name) in VAULTS.iter().enumerate() {
        let mut spec = VaultSpec::new(*name);
        for (i, p) in PEOPLE.iter().enumerate() {
            if let Some(k) = a.user_grants[v][i] {
                spec = spec.user(*p, Acl::from(perms(k).bits()));
            }
        }
        for (g, group) in GROUPS.iter().enumerate() {
            if let Some(k) = a.group_grants[v][g] {
                spec = spec.group(*group, Acl::from(perms(k).bits()));
            }
        }
        b = b.vault(spec);
    }
    b.iterations(100_000)
}

fn desired(d: &Description) -> DesiredState {
    let names =
        |k: usize| -> Vec<String> { permission_sets()[k].iter().map(|s| s.to_string()).collect() };
    let mut state = DesiredState::default();
    for (g, described) in d.groups.iter().enumerate() {
        let Some((exact, members)) = described else {
            continue;
        };
        let text = format!(
            "group = {:?}\nexact = {exact}\nmembers = [{}]\n",
            GROUPS[g],
            members
                .iter()
                .enumerate()
                .filter_map(|(i, m)| m.map(|manager| format!(
                    "{{ user = {:?}, role = {:?} }}",
                    PEOPLE[i],
                    if manager { "manager" } else { "member" }
                )))
                .collect::<Vec<_>>()
                .join(", ")
        );
        state.groups.push(toml_of::<DesiredGroup>(&text));
    }
    for (v, described) in d.vaults.iter().enumerate() {
        let Some(dv) = described else { continue };
        let mut vault: DesiredVault =
            toml_of(&format!("vault = {:?}\nexact = {}\n", VAULTS[v], dv.exact));
        for (i, p) in dv.people.iter().enumerate() {
            if let Some((k, direct)) = p {
                let mut person: DesiredPerson =
                    toml_of(&format!("user = {:?}\npermissions = []\n", PEOPLE[i]));
                person.permissions = names(*k);
                person.direct = *direct;
                vault.people.push(person);
            }
        }
        for (g, k) in dv.groups.iter().enumerate() {
            if let Some(k) = k {
                let mut grant: DesiredGroupGrant =
                    toml_of(&format!("group = {:?}\npermissions = []\n", GROUPS[g]));
                grant.permissions = names(*k);
                vault.groups.push(grant);
            }
        }
        state.vaults.push(vault);
    }
    state.validate().expect("a valid description");
    state
}

/// The description types are `#[non_exhaustive]`: built through their serde form.
fn toml_of<T: serde::de::DeserializeOwned>(text: &str) -> T {
    toml::from_str(text).expect("test TOML")
}

/// Checks the account after applying against the description and the gaps of the plan made
/// after applying.
fn check(snap: &Snapshot, d: &Description, gaps: &[Gap]) -> Result<(), TestCaseError> {
    let id = |email: &str| snap.user_by_email(email).expect("person").id.clone();
    let owner = id(OWNER);
    for (g, described) in d.groups.iter().enumerate() {
        let Some((exact, members)) = described else {
            continue;
        };
        let group = snap.group_by_name(GROUPS[g]).expect("group");
        for (i, m) in members.iter().enumerate() {
            let actual = group.members.iter().find(|x| x.user == id(PEOPLE[i]));
            match m {
                Some(manager) => {
                    let role = if *manager {
                        GroupRole::Manager
                    } else {
                        GroupRole::Member
                    };
                    prop_assert_eq!(
                        actual.map(|x| x.role),
                        Some(role),
                        "{} in {}",
                        PEOPLE[i],
                        GROUPS[g]
                    );
                }
                None if *exact => {
                    prop_assert!(actual.is_none(), "{} left in {}", PEOPLE[i], GROUPS[g])
                }
                None => {}
            }
        }
    }
    for (v, described) in d.vaults.iter().enumerate() {
        let Some(dv) = described else { continue };
        let vault = snap.vault_by_name(VAULTS[v]).expect("vault");
        let group_grant = |name: &str| {
            let gid = &snap.group_by_name(name).expect("group").id;
            vault.accessors.iter().find_map(|a| match a {
                Accessor::Group { id, permissions } if id == gid => Some(*permissions),
                _ => None,
            })
        };
        for (g, k) in dv.groups.iter().enumerate() {
            match k {
                Some(k) => {
                    prop_assert_eq!(group_grant(GROUPS[g]), Some(perms(*k).with_dependencies()))
                }
                None if dv.exact => prop_assert_eq!(group_grant(GROUPS[g]), None),
                None => {}
            }
        }
        for (i, p) in dv.people.iter().enumerate() {
            let user = id(PEOPLE[i]);
            let access = vault.user_access.iter().find(|u| u.user == user);
            let direct = access.and_then(|a| a.direct);
            let effective = access.map_or(P::NONE, |a| a.permissions);
            match p {
                Some((k, asked_direct)) => {
                    let wanted = perms(*k).with_dependencies();
                    let gap = gaps.iter().find(|gap| matches!(gap,
                        Gap::CoveredByGroups { vault: gv, user: gu, .. } if gv == &vault.id && gu == &user));
                    match direct {
                        Some(d) => {
                            prop_assert_eq!(d, wanted, "{} on {}", PEOPLE[i], VAULTS[v]);
                            prop_assert!(gap.is_none());
                        }
                        None if gap.is_some() => {
                            // The cause: groups give access, and not what was asked (or a
                            // direct grant was asked).
                            let via = access.map(|a| a.via_groups.len()).unwrap_or(0);
                            prop_assert!(via > 0, "a gap without groups: {:?}", gap);
                            prop_assert!(*asked_direct || !effective.contains(wanted));
                            let Some(Gap::CoveredByGroups { asked, groups, .. }) = gap else {
                                unreachable!()
                            };
                            prop_assert_eq!(*asked, wanted);
                            prop_assert_eq!(groups.len(), via);
                        }
                        None => {
                            prop_assert!(!asked_direct, "{} asked direct without a gap", PEOPLE[i]);
                            prop_assert!(
                                effective.contains(wanted),
                                "{} lacks {} on {}",
                                PEOPLE[i],
                                wanted,
                                VAULTS[v]
                            );
                        }
                    }
                }
                None if dv.exact => {
                    prop_assert_eq!(direct, None, "{} kept a direct grant", PEOPLE[i])
                }
                None => {}
            }
        }
        // The owner's own grant is never touched.
        let owner_direct = vault
            .user_access
            .iter()
            .find(|u| u.user == owner)
            .and_then(|u| u.direct);
        prop_assert_eq!(owner_direct, Some(P::RWE | P::MANAGE));
    }
    Ok(())
}

async fn run_case(a: Account, d: Description) -> Result<(), TestCaseError> {
    let emu = Emulator::start(EmulatorConfig::default(), builder(&a))
        .await
        .expect("emulator starts");
    let owner = emu.owner().clone();
    let admin = Admin::builder()
        .address(emu.address())
        .credentials(&owner.email, &owner.password, &owner.secret_key)
        .build()
        .await
        .expect("the owner signs in");
    let desired = desired(&d);
    let plan = admin.reconcile(&desired).await.expect("reconcile");
    let report = admin.apply(&plan, OnDrift::Refuse).await.expect("apply");
    for s in &report.steps {
        prop_assert!(matches!(s, StepResult::Applied { .. }), "{:?}", s);
    }
    let again = admin.reconcile(&desired).await.expect("reconcile again");
    prop_assert!(again.is_empty(), "second plan: {:#?}", again.steps);
    let covered = |gaps: &[Gap]| -> Vec<Gap> {
        gaps.iter()
            .filter(|g| matches!(g, Gap::CoveredByGroups { .. }))
            .cloned()
            .collect()
    };
    prop_assert_eq!(covered(&plan.gaps), covered(&again.gaps));
    let snap = admin.sync().await.expect("sync");
    check(&snap, &d, &again.gaps)?;
    emu.shutdown().await;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn apply_reaches_the_description_and_a_second_plan_is_empty(a in account(), d in description()) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run_case(a, d))?;
    }
}
