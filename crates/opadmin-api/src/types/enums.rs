//! Single-letter enumerations of the b5 protocol (docs/protocol.md 4.2, 4.3, 4.4), turned into types
//! with meaning. Each one reads and writes its letter on the wire, shows the CLI-style name
//! (`ACTIVE`, `SUSPENDED`, ...) with `Display`, parses either the letter or the name with
//! `FromStr`, and keeps letters it does not know in `Unknown(char)` rather than failing.

use std::fmt;

/// An enumeration value that could not be parsed from a name or letter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {input:?}; expected one of: {expected}")]
pub struct ParseEnumError {
    /// Which enumeration was being parsed (e.g. `user state`).
    pub kind: &'static str,
    /// The text that did not match.
    pub input: String,
    /// The accepted names, comma-separated.
    pub expected: String,
}

macro_rules! letter_enum {
    (
        $(#[$meta:meta])*
        $name:ident ($kind:literal, unknown = $unknown_name:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $letter:literal => $cli:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A letter this crate does not know; kept so it can be shown and sent back.
            Unknown(char),
        }

        impl $name {
            /// Every known value, in protocol order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value for a wire letter (`Unknown` for letters this crate does not know).
            pub fn from_letter(letter: char) -> Self {
                match letter {
                    $($letter => Self::$variant,)+
                    other => Self::Unknown(other),
                }
            }

            /// The wire letter.
            pub fn letter(self) -> char {
                match self {
                    $(Self::$variant => $letter,)+
                    Self::Unknown(c) => c,
                }
            }

            /// The CLI-style name, e.g. `ACTIVE`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $cli,)+
                    Self::Unknown(_) => $unknown_name,
                }
            }

            /// The value for a CLI-style name (case-insensitive; `-` and spaces read as `_`).
            pub fn from_name(name: &str) -> Option<Self> {
                let normalized = name.trim().to_ascii_uppercase().replace(['-', ' '], "_");
                match normalized.as_str() {
                    $($cli => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// True for values this crate knows.
            pub fn is_known(self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    Self::Unknown(c) => write!(f, "{}({})", $unknown_name, c),
                    known => f.write_str(known.name()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParseEnumError;

            /// Parses a CLI-style name (`ACTIVE`) or a single wire letter (`A`).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if let Some(v) = Self::from_name(s) {
                    return Ok(v);
                }
                let mut chars = s.trim().chars();
                if let (Some(c), None) = (chars.next(), chars.next()) {
                    let v = Self::from_letter(c);
                    if v.is_known() {
                        return Ok(v);
                    }
                }
                Err(ParseEnumError {
                    kind: $kind,
                    input: s.to_owned(),
                    expected: [$($cli),+].join(", "),
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut buf = [0u8; 4];
                serializer.serialize_str(self.letter().encode_utf8(&mut buf))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Ok(Self::from_letter(c)),
                    _ => Err(serde::de::Error::custom(format_args!(
                        "expected a one-letter {}, found {:?}",
                        $kind, s
                    ))),
                }
            }
        }
    };
}

letter_enum!(
    /// A user's state (docs/protocol.md 4.3, `User.State`). Names follow the 1Password CLI and op-js.
    ///
    /// Decision: the provisioning letters `T`, `3`, `4` (ProvisionPending, ProvisionStarted,
    /// ProvisionAccepted) are shown as `TRANSFER_PENDING`, `TRANSFER_STARTED` and
    /// `TRANSFER_ACCEPTED`, the names op-js uses; the sources do not pin this mapping, and the CLI's
    /// `TRANSFER_SUSPENDED` has no letter of its own.
    UserState("user state", unknown = "UNKNOWN") {
        /// `R`: registered, sign-up begun (op-js `TEAM_REGISTRATION_INITIATED`).
        Registered = 'R' => "TEAM_REGISTRATION_INITIATED",
        /// `V`: email verified but registration incomplete.
        VerifiedIncomplete = 'V' => "EMAIL_VERIFIED_BUT_REGISTRATION_INCOMPLETE",
        /// `P`: accepted the invitation, waiting for an administrator to confirm.
        Pending = 'P' => "PENDING",
        /// `A`: active.
        Active = 'A' => "ACTIVE",
        /// `S`: suspended.
        Suspended = 'S' => "SUSPENDED",
        /// `D`: deleted.
        Deleted = 'D' => "DELETED",
        /// `1`: account recovery started.
        RecoveryStarted = '1' => "RECOVERY_STARTED",
        /// `2`: recovery accepted (new password set), waiting for an administrator to confirm again.
        RecoveryAccepted = '2' => "RECOVERY_ACCEPTED",
        /// `T`: provisioned, waiting for the person to set up the account.
        ProvisionPending = 'T' => "TRANSFER_PENDING",
        /// `3`: provisioning started.
        ProvisionStarted = '3' => "TRANSFER_STARTED",
        /// `4`: provisioning accepted.
        ProvisionAccepted = '4' => "TRANSFER_ACCEPTED",
    }
);

impl UserState {
    /// "Enrolled" as the web client counts it: `A`, `T`, `3`, `S`, `1`, `2`.
    pub fn is_enrolled(self) -> bool {
        matches!(
            self,
            Self::Active
                | Self::ProvisionPending
                | Self::ProvisionStarted
                | Self::Suspended
                | Self::RecoveryStarted
                | Self::RecoveryAccepted
        )
    }

    /// True when the person can sign in and use 1Password: active, or in recovery
    /// (the way identity-governance connectors count "enabled").
    pub fn is_enabled(self) -> bool {
        matches!(self, Self::Active | Self::RecoveryStarted)
    }

    /// True when an administrator's confirmation is what the person waits for
    /// (`P` after an invitation, `2` after recovery).
    pub fn awaits_confirmation(self) -> bool {
        matches!(self, Self::Pending | Self::RecoveryAccepted)
    }
}

letter_enum!(
    /// A user's type (docs/protocol.md 4.3, `User.Type`).
    UserType("user type", unknown = "UNKNOWN") {
        /// `R`: a regular member.
        Member = 'R' => "MEMBER",
        /// `G`: a guest.
        Guest = 'G' => "GUEST",
        /// `S`: a service account.
        ServiceAccount = 'S' => "SERVICE_ACCOUNT",
    }
);

letter_enum!(
    /// A group's type (docs/protocol.md 4.4).
    GroupType("group type", unknown = "UNKNOWN_TYPE") {
        /// `O`: Owners.
        Owners = 'O' => "OWNERS",
        /// `A`: Administrators.
        Administrators = 'A' => "ADMINISTRATORS",
        /// `R`: Recovery.
        Recovery = 'R' => "RECOVERY",
        /// `E`: External Account Managers (1Password's own client knows this type by that name;
        /// docs/protocol.md 4.4).
        ExternalAccountManagers = 'E' => "EXTERNAL_ACCOUNT_MANAGERS",
        /// `M`: Team Members.
        TeamMembers = 'M' => "TEAM_MEMBERS",
        /// `U`: a group created by the account's administrators.
        UserDefined = 'U' => "USER_DEFINED",
        /// `S`: Security.
        Security = 'S' => "SECURITY",
        /// `P`: a replacement group.
        Replacement = 'P' => "REPLACEMENT",
    }
);

letter_enum!(
    /// A member's role in a group (docs/protocol.md 4.4).
    GroupRole("group role", unknown = "UNKNOWN") {
        /// `A`: manager of the group.
        Manager = 'A' => "MANAGER",
        /// `R`: member.
        Member = 'R' => "MEMBER",
    }
);

letter_enum!(
    /// The state of a group or of a group membership (docs/protocol.md 4.4).
    GroupState("group state", unknown = "UNKNOWN") {
        /// `A`: active.
        Active = 'A' => "ACTIVE",
        /// `D`: deleted.
        Deleted = 'D' => "DELETED",
        /// `I`: inactive.
        Inactive = 'I' => "INACTIVE",
    }
);

letter_enum!(
    /// A vault's type (docs/protocol.md 4.2).
    VaultType("vault type", unknown = "UNKNOWN") {
        /// `P`: a person's private vault.
        Personal = 'P' => "PERSONAL",
        /// `E`: the Everyone vault (older accounts).
        Everyone = 'E' => "EVERYONE",
        /// `U`: a vault created by a person (shared vaults).
        UserCreated = 'U' => "USER_CREATED",
        /// `T`: a provisioning ("transfer") vault.
        Transfer = 'T' => "TRANSFER",
        /// `S`: a system vault.
        System = 'S' => "SYSTEM",
        /// `G`: generated passwords.
        GeneratedPasswords = 'G' => "GENERATED_PASSWORDS",
        /// `R`: a replacement vault.
        Replacement = 'R' => "REPLACEMENT",
    }
);

letter_enum!(
    /// An account's type (docs/protocol.md 4.3). Business and Teams accounts are both `B`; tell them
    /// apart with [`Plan`].
    AccountType("account type", unknown = "UNKNOWN") {
        /// `I`: individual.
        Individual = 'I' => "INDIVIDUAL",
        /// `F`: family.
        Family = 'F' => "FAMILY",
        /// `B`: business (1Password Business and 1Password Teams).
        Business = 'B' => "BUSINESS",
    }
);

letter_enum!(
    /// An account's state (docs/protocol.md 4.3).
    AccountState("account state", unknown = "UNKNOWN") {
        /// `R`: registered.
        Registered = 'R' => "REGISTERED",
        /// `A`: active.
        Active = 'A' => "ACTIVE",
        /// `S`: suspended.
        Suspended = 'S' => "SUSPENDED",
        /// `D`: deleted.
        Deleted = 'D' => "DELETED",
    }
);

letter_enum!(
    /// An invitation's state (docs/protocol.md 4.3).
    InvitationState("invitation state", unknown = "UNKNOWN") {
        /// `P`: sent, not yet accepted.
        Pending = 'P' => "PENDING",
        /// `A`: accepted.
        Accepted = 'A' => "ACCEPTED",
        /// `R`: revoked.
        Revoked = 'R' => "REVOKED",
    }
);

/// The subscription plan of an account, as far as it matters to administration: invitations
/// need Business.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Plan {
    /// 1Password Business (or Enterprise).
    Business,
    /// 1Password Teams (Starter Pack, Teams).
    Teams,
    /// 1Password Families.
    Family,
    /// 1Password (individual).
    Individual,
    /// A tier name this crate cannot place.
    Unknown(String),
}

impl Plan {
    /// The plan from the account type and its tier name (`tier.name` in the account object).
    ///
    /// Decision (docs/decisions.md, decision 9): Business and Teams accounts are both type `B`, so the
    /// tier name decides: it contains `business` or `enterprise` for Business, `team` for Teams.
    /// Individual and Family accounts are recognised by their type alone.
    pub fn from_account(account_type: AccountType, tier_name: Option<&str>) -> Self {
        match account_type {
            AccountType::Individual => return Self::Individual,
            AccountType::Family => return Self::Family,
            _ => {}
        }
        let tier = tier_name.unwrap_or_default().to_ascii_lowercase();
        if tier.contains("business") || tier.contains("enterprise") {
            Self::Business
        } else if tier.contains("team") {
            Self::Teams
        } else if tier.contains("famil") {
            Self::Family
        } else if tier.contains("individual") || tier.contains("_i_") {
            Self::Individual
        } else {
            Self::Unknown(tier_name.unwrap_or_default().to_owned())
        }
    }

    /// True for Business: the plan that may send invitations.
    pub fn allows_invitations(&self) -> bool {
        matches!(self, Self::Business)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Business => f.write_str("BUSINESS"),
            Self::Teams => f.write_str("TEAM"),
            Self::Family => f.write_str("FAMILY"),
            Self::Individual => f.write_str("INDIVIDUAL"),
            Self::Unknown(tier) => write!(f, "UNKNOWN({tier})"),
        }
    }
}

impl Plan {
    /// Reads back what [`Display`](fmt::Display) wrote (`BUSINESS`, `TEAM`, `FAMILY`,
    /// `INDIVIDUAL`, `UNKNOWN(tier)`); anything else is an unknown tier of that name.
    pub fn from_display(text: &str) -> Self {
        match text {
            "BUSINESS" => Self::Business,
            "TEAM" => Self::Teams,
            "FAMILY" => Self::Family,
            "INDIVIDUAL" => Self::Individual,
            other => Self::Unknown(
                other
                    .strip_prefix("UNKNOWN(")
                    .and_then(|t| t.strip_suffix(')'))
                    .unwrap_or(other)
                    .to_owned(),
            ),
        }
    }
}

/// Written as its display form (`BUSINESS`, `TEAM`, ...), so a stored snapshot reads back.
impl serde::Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Plan {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Self::from_display(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_round_trip_through_their_display_form() {
        for plan in [
            Plan::Business,
            Plan::Teams,
            Plan::Family,
            Plan::Individual,
            Plan::Unknown("weird_tier".into()),
        ] {
            let json = serde_json::to_string(&plan).unwrap();
            assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), plan, "{json}");
        }
        assert_eq!(serde_json::to_string(&Plan::Teams).unwrap(), "\"TEAM\"");
    }

    #[test]
    fn every_user_state_letter_round_trips() {
        let letters = ['R', 'V', 'P', 'A', 'S', 'D', '1', '2', 'T', '3', '4'];
        assert_eq!(UserState::KNOWN.len(), letters.len());
        for l in letters {
            let s = UserState::from_letter(l);
            assert!(s.is_known(), "{l}");
            assert_eq!(s.letter(), l);
            assert_eq!(UserState::from_name(s.name()), Some(s));
            assert_eq!(s.to_string().parse::<UserState>(), Ok(s));
            assert_eq!(l.to_string().parse::<UserState>(), Ok(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{l}\""));
            assert_eq!(serde_json::from_str::<UserState>(&json).unwrap(), s);
        }
    }

    #[test]
    fn cli_names() {
        assert_eq!(UserState::Active.to_string(), "ACTIVE");
        assert_eq!(UserState::Suspended.to_string(), "SUSPENDED");
        assert_eq!(UserState::RecoveryStarted.to_string(), "RECOVERY_STARTED");
        assert_eq!(UserState::RecoveryAccepted.to_string(), "RECOVERY_ACCEPTED");
        assert_eq!(UserState::ProvisionStarted.to_string(), "TRANSFER_STARTED");
        assert_eq!(UserState::Pending.to_string(), "PENDING");
        assert_eq!(
            "recovery-started".parse::<UserState>(),
            Ok(UserState::RecoveryStarted)
        );
        assert_eq!(UserType::ServiceAccount.to_string(), "SERVICE_ACCOUNT");
        assert_eq!(GroupType::TeamMembers.to_string(), "TEAM_MEMBERS");
        assert_eq!(GroupType::from_letter('X').to_string(), "UNKNOWN_TYPE(X)");
        assert_eq!(GroupRole::Manager.to_string(), "MANAGER");
        assert_eq!(VaultType::UserCreated.to_string(), "USER_CREATED");
        assert_eq!(AccountType::Business.to_string(), "BUSINESS");
    }

    #[test]
    fn unknown_letters_are_kept_not_rejected() {
        let s: UserState = serde_json::from_str("\"Z\"").unwrap();
        assert_eq!(s, UserState::Unknown('Z'));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"Z\"");
        assert_eq!(s.to_string(), "UNKNOWN(Z)");
        assert!("Z".parse::<UserState>().is_err());
        let err = "BOGUS".parse::<UserType>().unwrap_err();
        assert!(err.to_string().contains("BOGUS"));
        assert!(err.to_string().contains("GUEST"));
        assert!(serde_json::from_str::<UserState>("\"AB\"").is_err());
        assert!(serde_json::from_str::<UserState>("\"\"").is_err());
        assert!(serde_json::from_str::<UserState>("3").is_err());
    }

    #[test]
    fn other_letters() {
        for (l, v) in [
            ('R', UserType::Member),
            ('G', UserType::Guest),
            ('S', UserType::ServiceAccount),
        ] {
            assert_eq!(UserType::from_letter(l), v);
        }
        for l in ['O', 'A', 'R', 'E', 'M', 'U', 'S', 'P'] {
            assert!(GroupType::from_letter(l).is_known());
        }
        assert_eq!(
            GroupType::from_letter('E'),
            GroupType::ExternalAccountManagers
        );
        // Letters 1Password's client has but names nowhere we can cite: kept, letter intact.
        for l in ['M', 'D'] {
            assert_eq!(VaultType::from_letter(l), VaultType::Unknown(l));
            assert_eq!(VaultType::from_letter(l).letter(), l);
        }
        for l in ['M', '5', 'X', 'Z'] {
            assert_eq!(UserState::from_letter(l).letter(), l);
        }
        for l in ['P', 'E', 'U', 'T', 'S', 'G', 'R'] {
            assert!(VaultType::from_letter(l).is_known());
        }
        assert_eq!(GroupRole::from_letter('A'), GroupRole::Manager);
        assert_eq!(GroupRole::from_letter('R'), GroupRole::Member);
    }

    #[test]
    fn state_predicates() {
        assert!(UserState::Active.is_enabled());
        assert!(!UserState::Suspended.is_enabled());
        assert!(UserState::Suspended.is_enrolled());
        assert!(!UserState::Pending.is_enrolled());
        assert!(UserState::Pending.awaits_confirmation());
    }

    #[test]
    fn plans() {
        assert_eq!(
            Plan::from_account(AccountType::Business, Some("business_2023")),
            Plan::Business
        );
        assert_eq!(
            Plan::from_account(AccountType::Business, Some("teams")),
            Plan::Teams
        );
        assert_eq!(
            Plan::from_account(AccountType::Individual, Some("20160727_i_standard")),
            Plan::Individual
        );
        assert_eq!(Plan::from_account(AccountType::Family, None), Plan::Family);
        assert_eq!(
            Plan::from_account(AccountType::Business, Some("x")),
            Plan::Unknown("x".into())
        );
        assert!(Plan::Business.allows_invitations());
        assert!(!Plan::Teams.allows_invitations());
    }
}
