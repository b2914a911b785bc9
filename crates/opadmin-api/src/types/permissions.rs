//! Vault permissions: the ACL bit set of a vault access record (docs/protocol.md 4.2), the
//! Business and Teams permission names (docs/landscape.md 1.4), and the dependency rules between them.

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign, Not, Sub};

/// A set of vault permissions: the `acl` integer of a vault access record.
///
/// Bits this crate does not know are kept as they are (they round-trip through serde and survive
/// set operations), but have no name.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct VaultPermissions(u32);

/// A permission name that this crate does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown vault permission {word:?}; use Business names (view_items, create_items, edit_items, \
     archive_items, delete_items, view_and_copy_passwords, view_item_history, import_items, \
     export_items, copy_and_share_items, print_items, manage_vault) or Teams names \
     (allow_viewing, allow_editing, allow_managing)"
)]
pub struct UnknownPermission {
    /// The word that matched no permission.
    pub word: String,
}

impl VaultPermissions {
    /// No permission at all.
    pub const NONE: Self = Self(0);
    /// Recover the vault (the Recovery group's access).
    pub const RECOVER: Self = Self(1);
    /// Manage the vault: change who has access (`manage_vault`).
    pub const MANAGE: Self = Self(2);
    /// Reveal item passwords (`view_and_copy_passwords`).
    pub const REVEAL_PASSWORD: Self = Self(16);
    /// Read items (`view_items`).
    pub const READ_ITEM: Self = Self(32);
    /// Edit items (`edit_items`).
    pub const UPDATE_ITEM: Self = Self(64);
    /// Create items (`create_items`).
    pub const CREATE_ITEM: Self = Self(128);
    /// Archive items (`archive_items`).
    pub const ARCHIVE_ITEM: Self = Self(256);
    /// Delete items (`delete_items`).
    pub const DELETE_ITEM: Self = Self(512);
    /// View item history (`view_item_history`).
    pub const VIEW_HISTORY: Self = Self(1024);
    /// Copy and share items (`copy_and_share_items`).
    pub const SEND_ITEM: Self = Self(1_048_576);
    /// Import items (`import_items`).
    pub const IMPORT: Self = Self(2_097_152);
    /// Export items (`export_items`).
    pub const EXPORT: Self = Self(4_194_304);
    /// Print items (`print_items`).
    pub const PRINT: Self = Self(8_388_608);

    /// Everything to do with reading: read items, reveal passwords, view history.
    pub const ALL_READ: Self = Self(32 | 16 | 1024);
    /// Everything to do with writing: edit, create, import, archive, delete.
    pub const ALL_WRITE: Self = Self(64 | 128 | 2_097_152 | 256 | 512);
    /// Everything to do with taking items out: export, print, copy and share.
    pub const ALL_EXPORT: Self = Self(4_194_304 | 8_388_608 | 1_048_576);
    /// Read, write and export: the default access of a vault member (15730672).
    pub const RWE: Self = Self(Self::ALL_READ.0 | Self::ALL_WRITE.0 | Self::ALL_EXPORT.0);
    /// Every bit the protocol defines, as the web client writes it (2147483646).
    pub const ALL: Self = Self(2_147_483_646);

    /// Teams `allow_viewing`: view items, view and copy passwords, view item history.
    pub const TEAMS_VIEWING: Self = Self::ALL_READ;
    /// Teams `allow_editing`: create, edit, archive, delete, import, export, copy and share, print.
    pub const TEAMS_EDITING: Self = Self(Self::ALL_WRITE.0 | Self::ALL_EXPORT.0);
    /// Teams `allow_managing`: manage the vault.
    pub const TEAMS_MANAGING: Self = Self::MANAGE;

    /// A set from the wire `acl` integer (unknown bits kept).
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// The wire `acl` integer.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// True when every permission of `other` is in this set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when the two sets share a permission.
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// True when the set holds nothing.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Union.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Intersection.
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// This set without the permissions of `other` (no dependency rules; see
    /// [`without_dependents`](Self::without_dependents)).
    pub const fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// True when the server accepts this as an acl: it must hold at least one of read, write,
    /// export, manage or recover (the web client rejects anything else).
    pub const fn is_grantable(self) -> bool {
        self.intersects(Self(Self::RWE.0 | Self::MANAGE.0 | Self::RECOVER.0))
    }

    /// The set closed under the grant dependencies: adding a permission adds every permission
    /// it needs (docs/landscape.md 1.4), e.g. `edit_items` brings `view_and_copy_passwords` and
    /// `view_items`. Teams: `allow_editing` brings `allow_viewing`.
    pub fn with_dependencies(self) -> Self {
        let mut out = self;
        for &(perm, needs) in DEPENDENCIES {
            if out.contains(perm) {
                out = out.union(needs);
            }
        }
        out
    }

    /// This set without `removed` and without everything that depends on what is removed
    /// (revoking `view_items` also revokes every permission that needs it).
    pub fn without_dependents(self, removed: Self) -> Self {
        // A permission goes when anything it needs goes. The table lists the full (transitive)
        // needs of every permission, so one pass against `removed` is enough.
        let mut out = self.difference(removed);
        for &(perm, needs) in DEPENDENCIES {
            if needs.intersects(removed) {
                out = out.difference(perm);
            }
        }
        out
    }

    /// The permissions this one needs (empty for unknown or independent bits).
    pub fn dependencies_of(perm: Self) -> Self {
        DEPENDENCIES
            .iter()
            .filter(|(p, _)| perm.contains(*p) && !p.is_empty())
            .fold(Self::NONE, |acc, (_, needs)| acc.union(*needs))
    }

    /// Parses one permission name: a Business name, a Teams bundle name, or an alias from the
    /// official SDK's vocabulary (`read_items`, `reveal_item_password`, `update_items`,
    /// `update_item_history`, `send_items`, `recover_vault`, `no_access`, `none`). Case-insensitive;
    /// `-` and spaces read as `_`.
    pub fn from_name(name: &str) -> Result<Self, UnknownPermission> {
        let normalized = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let found = NAMES
            .iter()
            .chain(TEAMS_NAMES)
            .chain(ALIASES)
            .find(|(n, _)| *n == normalized)
            .map(|(_, p)| *p);
        found.ok_or_else(|| UnknownPermission {
            word: name.trim().to_owned(),
        })
    }

    /// Parses a comma-separated list of names (see [`from_name`](Self::from_name)); empty items
    /// are skipped. No dependency is added: call [`with_dependencies`](Self::with_dependencies).
    pub fn parse_list(list: &str) -> Result<Self, UnknownPermission> {
        list.split(',')
            .filter(|w| !w.trim().is_empty())
            .try_fold(Self::NONE, |acc, w| Ok(acc.union(Self::from_name(w)?)))
    }

    /// Parses several names, each possibly a comma-separated list.
    pub fn from_names<I, S>(names: I) -> Result<Self, UnknownPermission>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        names.into_iter().try_fold(Self::NONE, |acc, n| {
            Ok(acc.union(Self::parse_list(n.as_ref())?))
        })
    }

    /// The Business names of the known permissions in the set, in a fixed order. The Recover
    /// bit, which has no CLI name, is named `recover_vault`; unknown bits are not named.
    pub fn names(self) -> Vec<&'static str> {
        NAMES
            .iter()
            .filter(|(_, p)| self.contains(*p))
            .map(|(n, _)| *n)
            .collect()
    }

    /// The Teams names, when the set is exactly a union of Teams bundles (else `None`).
    pub fn teams_names(self) -> Option<Vec<&'static str>> {
        let names: Vec<_> = TEAMS_NAMES
            .iter()
            .filter(|(_, p)| self.contains(*p))
            .map(|(n, _)| *n)
            .collect();
        let covered = TEAMS_NAMES
            .iter()
            .filter(|(_, p)| self.contains(*p))
            .fold(Self::NONE, |acc, (_, p)| acc.union(*p));
        (covered == self).then_some(names)
    }

    /// Bits that have no name in this crate.
    pub fn unknown_bits(self) -> u32 {
        let known = NAMES.iter().fold(0, |acc, (_, p)| acc | p.0);
        self.0 & !known
    }
}

/// Business names (and `recover_vault` for the Recover bit), in display order.
const NAMES: &[(&str, VaultPermissions)] = &[
    ("view_items", VaultPermissions::READ_ITEM),
    ("create_items", VaultPermissions::CREATE_ITEM),
    ("edit_items", VaultPermissions::UPDATE_ITEM),
    ("archive_items", VaultPermissions::ARCHIVE_ITEM),
    ("delete_items", VaultPermissions::DELETE_ITEM),
    ("view_and_copy_passwords", VaultPermissions::REVEAL_PASSWORD),
    ("view_item_history", VaultPermissions::VIEW_HISTORY),
    ("import_items", VaultPermissions::IMPORT),
    ("export_items", VaultPermissions::EXPORT),
    ("copy_and_share_items", VaultPermissions::SEND_ITEM),
    ("print_items", VaultPermissions::PRINT),
    ("manage_vault", VaultPermissions::MANAGE),
    ("recover_vault", VaultPermissions::RECOVER),
];

/// Teams bundle names.
const TEAMS_NAMES: &[(&str, VaultPermissions)] = &[
    ("allow_viewing", VaultPermissions::TEAMS_VIEWING),
    ("allow_editing", VaultPermissions::TEAMS_EDITING),
    ("allow_managing", VaultPermissions::TEAMS_MANAGING),
];

/// The official SDK's and Terraform's names for the same bits.
const ALIASES: &[(&str, VaultPermissions)] = &[
    ("read_items", VaultPermissions::READ_ITEM),
    ("reveal_item_password", VaultPermissions::REVEAL_PASSWORD),
    ("update_items", VaultPermissions::UPDATE_ITEM),
    ("update_item_history", VaultPermissions::VIEW_HISTORY),
    ("send_items", VaultPermissions::SEND_ITEM),
    ("no_access", VaultPermissions::NONE),
    ("none", VaultPermissions::NONE),
];

/// Grant dependencies: each permission with everything it needs, transitively (docs/landscape.md
/// 1.4, as 1Password's CLI documentation and baton-1password describe them). `manage_vault` and
/// `recover_vault` need nothing.
const DEPENDENCIES: &[(VaultPermissions, VaultPermissions)] = {
    use VaultPermissions as P;
    const VIEW: P = P::READ_ITEM;
    const PASSWORDS: P = P::REVEAL_PASSWORD.union(VIEW);
    const EDIT: P = P::UPDATE_ITEM.union(PASSWORDS);
    const HISTORY: P = P::VIEW_HISTORY.union(PASSWORDS);
    &[
        (P::CREATE_ITEM, VIEW),
        (P::REVEAL_PASSWORD, VIEW),
        (P::UPDATE_ITEM, PASSWORDS),
        (P::ARCHIVE_ITEM, EDIT),
        (P::DELETE_ITEM, EDIT),
        (P::VIEW_HISTORY, PASSWORDS),
        (P::IMPORT, P::CREATE_ITEM.union(VIEW)),
        (P::EXPORT, HISTORY),
        (P::SEND_ITEM, HISTORY),
        (P::PRINT, HISTORY),
    ]
};

impl fmt::Display for VaultPermissions {
    /// The Business names, comma-separated (`none` for the empty set), with any unknown bits
    /// appended as a number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.names();
        let unknown = self.unknown_bits();
        if names.is_empty() && unknown == 0 {
            return f.write_str("none");
        }
        f.write_str(&names.join(","))?;
        if unknown != 0 {
            if !names.is_empty() {
                f.write_str(",")?;
            }
            write!(f, "0x{unknown:x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for VaultPermissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VaultPermissions({} = {})", self.0, self)
    }
}

impl std::str::FromStr for VaultPermissions {
    type Err = UnknownPermission;

    /// Parses a comma-separated list of names; see [`VaultPermissions::parse_list`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_list(s)
    }
}

impl BitOr for VaultPermissions {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl BitOrAssign for VaultPermissions {
    fn bitor_assign(&mut self, rhs: Self) {
        *self = self.union(rhs);
    }
}

impl BitAnd for VaultPermissions {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        self.intersection(rhs)
    }
}

impl Sub for VaultPermissions {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        self.difference(rhs)
    }
}

impl Not for VaultPermissions {
    type Output = Self;
    fn not(self) -> Self {
        Self(!self.0)
    }
}

impl FromIterator<VaultPermissions> for VaultPermissions {
    fn from_iter<T: IntoIterator<Item = VaultPermissions>>(iter: T) -> Self {
        iter.into_iter().fold(Self::NONE, Self::union)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VaultPermissions as P;
    use proptest::prelude::*;

    #[test]
    fn protocol_constants() {
        assert_eq!(P::RWE.bits(), 15_730_672);
        assert_eq!(P::RWE.union(P::MANAGE).bits(), 15_730_674);
        assert_eq!(P::ALL.bits(), 2_147_483_646);
        assert!(P::ALL.contains(P::RWE | P::MANAGE));
        assert!(!P::ALL.contains(P::RECOVER));
        assert_eq!(P::TEAMS_VIEWING | P::TEAMS_EDITING, P::RWE);
    }

    #[test]
    fn serde_is_the_integer_acl() {
        assert_eq!(serde_json::to_string(&P::RWE).unwrap(), "15730672");
        let p: P = serde_json::from_str("2147483646").unwrap();
        assert_eq!(p, P::ALL);
        assert!(serde_json::from_str::<P>("\"view_items\"").is_err());
    }

    #[test]
    fn business_names_parse_and_print() {
        let all12 = "view_items, create_items, edit_items, archive_items, delete_items, \
                     view_and_copy_passwords, view_item_history, import_items, export_items, \
                     copy_and_share_items, print_items, manage_vault";
        let p: P = all12.parse().unwrap();
        assert_eq!(p, P::RWE | P::MANAGE);
        assert_eq!(p.names().len(), 12);
        assert_eq!(
            p.names().join(", "),
            all12.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        assert_eq!(P::parse_list("VIEW_ITEMS").unwrap(), P::READ_ITEM);
        assert_eq!(
            P::parse_list("View-Items ,, manage vault").unwrap(),
            P::READ_ITEM | P::MANAGE
        );
        assert_eq!(P::parse_list("").unwrap(), P::NONE);
        assert_eq!(P::NONE.to_string(), "none");
        assert_eq!(
            (P::READ_ITEM | P::MANAGE).to_string(),
            "view_items,manage_vault"
        );
        assert_eq!(
            P::from_bits(32 | (1 << 30)).to_string(),
            "view_items,0x40000000"
        );
    }

    #[test]
    fn teams_names_and_aliases() {
        assert_eq!(P::parse_list("allow_viewing").unwrap(), P::ALL_READ);
        assert_eq!(
            P::parse_list("allow_viewing,allow_editing").unwrap(),
            P::RWE
        );
        assert_eq!(P::parse_list("Allow_Managing").unwrap(), P::MANAGE);
        assert_eq!(
            P::parse_list("read_items,reveal_item_password").unwrap(),
            P::READ_ITEM | P::REVEAL_PASSWORD
        );
        assert_eq!(P::parse_list("no_access").unwrap(), P::NONE);
        assert_eq!(
            P::RWE.teams_names(),
            Some(vec!["allow_viewing", "allow_editing"])
        );
        assert_eq!(P::MANAGE.teams_names(), Some(vec!["allow_managing"]));
        assert_eq!(P::NONE.teams_names(), Some(vec![]));
        assert_eq!(P::READ_ITEM.teams_names(), None);
        assert_eq!(
            P::from_names(["view_items", "edit_items,print_items"]).unwrap(),
            P::READ_ITEM | P::UPDATE_ITEM | P::PRINT
        );
    }

    #[test]
    fn unknown_word_is_named() {
        let err = P::parse_list("view_items, fly_to_moon").unwrap_err();
        assert_eq!(err.word, "fly_to_moon");
        assert!(err.to_string().contains("\"fly_to_moon\""));
        assert!(err.to_string().contains("allow_viewing"));
    }

    #[test]
    fn grant_dependencies() {
        assert_eq!(
            P::CREATE_ITEM.with_dependencies(),
            P::CREATE_ITEM | P::READ_ITEM
        );
        assert_eq!(
            P::REVEAL_PASSWORD.with_dependencies(),
            P::REVEAL_PASSWORD | P::READ_ITEM
        );
        assert_eq!(
            P::UPDATE_ITEM.with_dependencies(),
            P::UPDATE_ITEM | P::REVEAL_PASSWORD | P::READ_ITEM
        );
        for p in [P::ARCHIVE_ITEM, P::DELETE_ITEM] {
            assert_eq!(
                p.with_dependencies(),
                p | P::UPDATE_ITEM | P::REVEAL_PASSWORD | P::READ_ITEM
            );
        }
        assert_eq!(
            P::VIEW_HISTORY.with_dependencies(),
            P::VIEW_HISTORY | P::REVEAL_PASSWORD | P::READ_ITEM
        );
        assert_eq!(
            P::IMPORT.with_dependencies(),
            P::IMPORT | P::CREATE_ITEM | P::READ_ITEM
        );
        for p in [P::EXPORT, P::SEND_ITEM, P::PRINT] {
            assert_eq!(
                p.with_dependencies(),
                p | P::VIEW_HISTORY | P::REVEAL_PASSWORD | P::READ_ITEM
            );
        }
        assert_eq!(P::MANAGE.with_dependencies(), P::MANAGE);
        assert_eq!(P::RECOVER.with_dependencies(), P::RECOVER);
        assert_eq!(P::NONE.with_dependencies(), P::NONE);
        // Teams: allow_editing needs allow_viewing; allow_managing is independent.
        assert_eq!(P::TEAMS_EDITING.with_dependencies(), P::RWE);
        assert_eq!(P::TEAMS_MANAGING.with_dependencies(), P::MANAGE);
        assert_eq!(P::RWE.with_dependencies(), P::RWE);
    }

    #[test]
    fn revoke_dependents() {
        let full = P::RWE | P::MANAGE;
        assert_eq!(full.without_dependents(P::READ_ITEM), P::MANAGE);
        assert_eq!(
            full.without_dependents(P::UPDATE_ITEM),
            full - P::UPDATE_ITEM - P::ARCHIVE_ITEM - P::DELETE_ITEM
        );
        assert_eq!(
            full.without_dependents(P::REVEAL_PASSWORD),
            P::READ_ITEM | P::CREATE_ITEM | P::IMPORT | P::MANAGE
        );
        assert_eq!(
            full.without_dependents(P::CREATE_ITEM),
            full - P::CREATE_ITEM - P::IMPORT
        );
        assert_eq!(full.without_dependents(P::MANAGE), P::RWE);
        assert_eq!(full.without_dependents(P::PRINT), full - P::PRINT);
        // Teams: revoking allow_viewing also revokes allow_editing.
        assert_eq!(full.without_dependents(P::TEAMS_VIEWING), P::MANAGE);
        assert_eq!(P::NONE.without_dependents(P::READ_ITEM), P::NONE);
    }

    #[test]
    fn grantable() {
        assert!(P::RWE.is_grantable());
        assert!(P::MANAGE.is_grantable());
        assert!(P::RECOVER.is_grantable());
        assert!(!P::NONE.is_grantable());
        assert!(!P::from_bits(1 << 30).is_grantable());
    }

    fn any_perms() -> impl Strategy<Value = P> {
        proptest::collection::vec(
            proptest::sample::select(NAMES.iter().map(|(_, p)| *p).collect::<Vec<_>>()),
            0..13,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn dependency_closure_laws(p in any_perms(), r in any_perms()) {
            let closed = p.with_dependencies();
            prop_assert!(closed.contains(p));
            prop_assert_eq!(closed.with_dependencies(), closed);
            let revoked = closed.without_dependents(r);
            prop_assert!(!revoked.intersects(r));
            prop_assert!(closed.contains(revoked));
            // Revoking keeps the set closed: nothing left needs something removed.
            prop_assert_eq!(revoked.with_dependencies(), revoked);
        }

        #[test]
        fn names_round_trip(p in any_perms()) {
            prop_assert_eq!(P::from_names(p.names()).unwrap(), p);
            prop_assert_eq!(p.to_string().parse::<P>().unwrap(), p);
        }
    }
}
