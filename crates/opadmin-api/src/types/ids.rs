//! Typed identifiers. Every b5 id is a 26-character base32 string (user and account ids upper
//! case, vault, group and keyset ids lower case); these newtypes keep a user id from being passed
//! where a vault id is expected. They hold the string exactly as the server sent it.

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id as the server spells it.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self(s.to_owned()))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// A user (person) id, upper-case base32, e.g. `DFM4DHQMQ5AS5M6UHSD6PNV774`.
    UserId
);
id_type!(
    /// A group id, lower-case base32, e.g. `27tqtfrsxlzxyeal6rawfnwwhq`.
    GroupId
);
id_type!(
    /// A vault id, lower-case base32, e.g. `ru74fjxlkipzzctorwj4icrj2a`.
    VaultId
);
id_type!(
    /// An account id, upper-case base32, e.g. `FPF3CVJPDVAT5NVS26SPR4MPAI`.
    AccountId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_transparent_strings() {
        let id: UserId = "DFM4DHQMQ5AS5M6UHSD6PNV774".parse().unwrap();
        assert_eq!(id.to_string(), "DFM4DHQMQ5AS5M6UHSD6PNV774");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"DFM4DHQMQ5AS5M6UHSD6PNV774\""
        );
        let back: UserId = serde_json::from_str("\"DFM4DHQMQ5AS5M6UHSD6PNV774\"").unwrap();
        assert_eq!(back, id);
        assert_eq!(id, "DFM4DHQMQ5AS5M6UHSD6PNV774");
        let set: std::collections::HashSet<VaultId> = [VaultId::new("a")].into_iter().collect();
        assert!(set.contains("a"));
    }
}
