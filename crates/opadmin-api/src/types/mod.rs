//! Domain types with meaning instead of wire letters: states and kinds of users, groups, vaults
//! and accounts, typed ids, vault permissions with their dependency rules, and timestamps.

mod enums;
mod ids;
mod permissions;

pub use enums::{
    AccountState, AccountType, GroupRole, GroupState, GroupType, InvitationState, ParseEnumError,
    Plan, UserState, UserType, VaultType,
};
pub use ids::{AccountId, GroupId, UserId, VaultId};
pub use permissions::{UnknownPermission, VaultPermissions};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses a wire timestamp (RFC 3339, e.g. `2017-09-16T18:18:13Z`).
///
/// Timestamps stay `String` in the wire models so that nothing the server sends is rejected;
/// this reads one when its meaning is needed. Empty strings, the server's "never" value
/// `0001-01-01T00:00:00Z` and unparsable text all give `None`.
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    (parsed.year() > 1).then_some(parsed)
}

/// Formats a timestamp the way the server writes them (RFC 3339, UTC, whole seconds when the
/// value has no fraction).
pub fn format_timestamp(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    // Formatting a UTC date between years 0 and 9999 with Rfc3339 cannot fail; fall back to
    // the Display form for dates outside that range rather than panicking.
    utc.format(&Rfc3339).unwrap_or_else(|_| utc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let t = parse_timestamp("2017-09-16T18:18:13Z").unwrap();
        assert_eq!(t.year(), 2017);
        assert_eq!(format_timestamp(t), "2017-09-16T18:18:13Z");
        assert_eq!(parse_timestamp(""), None);
        assert_eq!(parse_timestamp("0001-01-01T00:00:00Z"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert!(parse_timestamp("2024-01-02T03:04:05.123+02:00").is_some());
    }
}
