//! The desired state: who should be in which group, and who should have which vault.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::change::role;
use crate::error::{Error, Result};
use crate::{GroupRole, VaultPermissions};

/// The largest description file [`DesiredState::from_path`] reads (4 MiB).
pub const MAX_DESIRED_STATE_BYTES: u64 = 4 * 1024 * 1024;

/// A declarative description of group memberships and vault access, for
/// [`Admin::reconcile`](crate::Admin::reconcile). Unknown fields are errors (so a typo is not
/// silently ignored); groups and vaults are named by name or uuid, people by email or uuid.
///
/// ```toml
/// [[groups]]
/// group = "Engineering"
/// members = [ { user = "alice@example.com" }, { user = "bob@example.com", role = "manager" } ]
///
/// [[vaults]]
/// vault = "Production"
/// people = [ { user = "carol@example.com", permissions = ["view_items"] } ]
/// groups = [ { group = "Engineering", permissions = ["allow_viewing", "allow_editing"] } ]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields)]
pub struct DesiredState {
    /// Group memberships.
    #[serde(default)]
    pub groups: Vec<DesiredGroup>,
    /// Vault access.
    #[serde(default)]
    pub vaults: Vec<DesiredVault>,
}

/// The members a group should have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields)]
pub struct DesiredGroup {
    /// The group's name or uuid.
    pub group: String,
    /// Its members, with their roles.
    #[serde(default)]
    pub members: Vec<DesiredMember>,
    /// When true (the default), members not listed are removed.
    #[serde(default = "yes")]
    pub exact: bool,
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields)]
pub struct DesiredMember {
    /// The person's email or uuid.
    pub user: String,
    /// `member` (the default) or `manager`.
    #[serde(with = "role", default = "member")]
    pub role: GroupRole,
}

/// Who should have access to a vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields)]
pub struct DesiredVault {
    /// The vault's name or uuid.
    pub vault: String,
    /// People, with the permissions they should have.
    #[serde(default)]
    pub people: Vec<DesiredPerson>,
    /// Groups, with the permissions their grant should give.
    #[serde(default)]
    pub groups: Vec<DesiredGroupGrant>,
    /// When true (the default), direct grants (of people and of user-defined groups) not
    /// listed are revoked.
    #[serde(default = "yes")]
    pub exact: bool,
}

/// A person's access to a vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields)]
pub struct DesiredPerson {
    /// The person's email or uuid.
    pub user: String,
    /// Permission names (Business or Teams names); closed under their dependencies.
    pub permissions: Vec<String>,
    /// Ask for a direct grant even when the person's groups already give these permissions.
    /// Without it (the default), a person whose groups give the permissions gets no direct
    /// grant.
    #[serde(default)]
    pub direct: bool,
}

/// A group's access to a vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(deny_unknown_fields)]
pub struct DesiredGroupGrant {
    /// The group's name or uuid.
    pub group: String,
    /// Permission names (Business or Teams names); closed under their dependencies.
    pub permissions: Vec<String>,
}

fn yes() -> bool {
    true
}

fn member() -> GroupRole {
    GroupRole::Member
}

/// Parses permission names into a grantable set (before dependencies are added).
pub(super) fn parse_permissions(names: &[String], whose: &str) -> Result<VaultPermissions> {
    let p = VaultPermissions::from_names(names)
        .map_err(|e| Error::InvalidInput(format!("{whose}: {e}")))?;
    if p.is_grantable() {
        Ok(p)
    } else {
        Err(Error::InvalidInput(format!(
            "{whose}: no vault permission given; name at least one, for example view_items or allow_viewing"
        )))
    }
}

impl DesiredState {
    /// Reads a description from TOML and checks it ([`validate`](Self::validate)).
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let state: Self = toml::from_str(text)
            .map_err(|e| Error::InvalidInput(format!("desired state (TOML): {}", e.message())))?;
        state.validate()?;
        Ok(state)
    }

    /// Reads a description from JSON and checks it ([`validate`](Self::validate)).
    pub fn from_json_str(text: &str) -> Result<Self> {
        let state: Self = serde_json::from_str(text)
            .map_err(|e| Error::InvalidInput(format!("desired state (JSON): {e}")))?;
        state.validate()?;
        Ok(state)
    }

    /// Reads a description from a `.toml` or `.json` file (by its extension), at most
    /// [`MAX_DESIRED_STATE_BYTES`] long.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let shown = path.display();
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let toml = match extension.as_deref() {
            Some("toml") => true,
            Some("json") => false,
            _ => {
                return Err(Error::InvalidInput(format!(
                    "{shown}: a desired-state file ends in .toml or .json"
                )));
            }
        };
        let file = std::fs::File::open(path)
            .map_err(|e| Error::InvalidInput(format!("{shown}: cannot open it ({e})")))?;
        let mut bytes = Vec::new();
        file.take(MAX_DESIRED_STATE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::InvalidInput(format!("{shown}: cannot read it ({e})")))?;
        if bytes.len() as u64 > MAX_DESIRED_STATE_BYTES {
            return Err(Error::InvalidInput(format!(
                "{shown}: larger than {MAX_DESIRED_STATE_BYTES} bytes, the most a desired-state file may be"
            )));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::InvalidInput(format!("{shown}: not UTF-8 text")))?;
        if toml {
            Self::from_toml_str(&text)
        } else {
            Self::from_json_str(&text)
        }
    }

    /// Checks what can be checked without the account: every name is given, every permission
    /// name is known and names something, and nothing is listed twice.
    pub fn validate(&self) -> Result<()> {
        let mut groups = BTreeSet::new();
        for g in &self.groups {
            let name = non_empty(&g.group, "a group")?;
            if !groups.insert(name.to_owned()) {
                return Err(Error::InvalidInput(format!(
                    "group {name:?} is described twice"
                )));
            }
            let mut people = BTreeSet::new();
            for m in &g.members {
                let user = non_empty(&m.user, "a member")?.to_lowercase();
                if !people.insert(user.clone()) {
                    return Err(Error::InvalidInput(format!(
                        "{user} is listed twice in group {name:?}"
                    )));
                }
            }
        }
        let mut vaults = BTreeSet::new();
        for v in &self.vaults {
            let name = non_empty(&v.vault, "a vault")?;
            if !vaults.insert(name.to_owned()) {
                return Err(Error::InvalidInput(format!(
                    "vault {name:?} is described twice"
                )));
            }
            let mut people = BTreeSet::new();
            for p in &v.people {
                let user = non_empty(&p.user, "a person")?.to_lowercase();
                parse_permissions(&p.permissions, &format!("{user} on vault {name:?}"))?;
                if !people.insert(user.clone()) {
                    return Err(Error::InvalidInput(format!(
                        "{user} is listed twice on vault {name:?}"
                    )));
                }
            }
            let mut grants = BTreeSet::new();
            for g in &v.groups {
                let group = non_empty(&g.group, "a group")?;
                parse_permissions(
                    &g.permissions,
                    &format!("group {group:?} on vault {name:?}"),
                )?;
                if !grants.insert(group.to_owned()) {
                    return Err(Error::InvalidInput(format!(
                        "group {group:?} is listed twice on vault {name:?}"
                    )));
                }
            }
        }
        Ok(())
    }
}

fn non_empty<'a>(text: &'a str, what: &str) -> Result<&'a str> {
    let t = text.trim();
    if t.is_empty() {
        Err(Error::InvalidInput(format!("{what} without a name")))
    } else {
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_read_the_same_description() {
        let toml = r#"
            [[groups]]
            group = "Engineering"
            members = [ { user = "alice@example.com" }, { user = "bob@example.com", role = "manager" } ]

            [[vaults]]
            vault = "Production"
            exact = false
            people = [ { user = "carol@example.com", permissions = ["view_items"], direct = true } ]
            groups = [ { group = "Engineering", permissions = ["allow_viewing", "allow_editing"] } ]
        "#;
        let from_toml = DesiredState::from_toml_str(toml).unwrap();
        assert_eq!(from_toml.groups[0].members[1].role, GroupRole::Manager);
        assert_eq!(from_toml.groups[0].members[0].role, GroupRole::Member);
        assert!(from_toml.groups[0].exact);
        assert!(!from_toml.vaults[0].exact);
        assert!(from_toml.vaults[0].people[0].direct);
        let json = serde_json::to_string(&from_toml).unwrap();
        assert!(json.contains(r#""role":"manager""#), "{json}");
        assert_eq!(DesiredState::from_json_str(&json).unwrap(), from_toml);
    }

    #[test]
    fn typos_unknown_permissions_and_repeats_are_errors() {
        for bad in [
            "[[groups]]\ngroup = \"Eng\"\nmembrs = []\n",
            "[[vaults]]\nvault = \"P\"\npeople = [ { user = \"a@x\", permissions = [\"view_itemz\"] } ]\n",
            "[[vaults]]\nvault = \"P\"\npeople = [ { user = \"a@x\", permissions = [] } ]\n",
            "[[groups]]\ngroup = \"Eng\"\nmembers = [ { user = \"a@x\" }, { user = \"A@x\" } ]\n",
            "[[groups]]\ngroup = \"Eng\"\n[[groups]]\ngroup = \"Eng\"\n",
            "[[groups]]\ngroup = \" \"\n",
            "[[groups]]\ngroup = \"Eng\"\nmembers = [ { user = \"a@x\", role = \"owner\" } ]\n",
            "groups = 3",
        ] {
            let e = DesiredState::from_toml_str(bad).expect_err(bad);
            assert!(matches!(e, Error::InvalidInput(_)), "{bad}: {e:?}");
        }
    }

    #[test]
    fn files_are_read_by_extension_and_size() {
        let dir = std::env::temp_dir().join(format!("opadmin-desired-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("d.json");
        std::fs::write(&json, r#"{"groups":[{"group":"Eng","members":[]}]}"#).unwrap();
        assert_eq!(
            DesiredState::from_path(&json).unwrap().groups[0].group,
            "Eng"
        );
        let txt = dir.join("d.txt");
        std::fs::write(&txt, "").unwrap();
        assert!(matches!(
            DesiredState::from_path(&txt),
            Err(Error::InvalidInput(_))
        ));
        let big = dir.join("big.toml");
        let mut text = String::from("# padding\n");
        text.push_str(&"#".repeat(MAX_DESIRED_STATE_BYTES as usize));
        std::fs::write(&big, text).unwrap();
        let e = DesiredState::from_path(&big).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
        assert!(matches!(
            DesiredState::from_path(dir.join("missing.toml")),
            Err(Error::InvalidInput(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
