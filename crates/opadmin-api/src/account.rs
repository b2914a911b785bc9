//! The account object and the user's keysets.
//!
//! The account object is where every user's `lastAuthAt` comes from (docs/decisions.md, decision 5),
//! and where groups are listed (docs/decisions.md, decision 6).

use crate::client::Client;
use crate::endpoints::{ACCOUNT, KEYSETS};
use crate::error::Result;
use crate::models::{Account, KeysetsResponse};
use crate::transport::Request;

/// The `attrs` [`Client::account`] asks for.
pub const ACCOUNT_ATTRS: &str = "me,users,groups,vaults,tier,counts";

/// One attribute of the account object that `GET /api/v1/account?attrs=…` can include.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountAttr {
    /// `me`: the signed-in user.
    Me,
    /// `users`: every user, with `lastAuthAt`.
    Users,
    /// `groups`: the groups the signed-in user may see.
    Groups,
    /// `vaults`: the vaults the signed-in user may see.
    Vaults,
    /// `tier`: the plan tier.
    Tier,
    /// `counts`: the account's counters.
    Counts,
}

impl AccountAttr {
    /// Every attribute, in the order of [`ACCOUNT_ATTRS`].
    pub const ALL: [AccountAttr; 6] = [
        AccountAttr::Me,
        AccountAttr::Users,
        AccountAttr::Groups,
        AccountAttr::Vaults,
        AccountAttr::Tier,
        AccountAttr::Counts,
    ];

    /// The attribute's name in the query string.
    pub const fn as_str(self) -> &'static str {
        match self {
            AccountAttr::Me => "me",
            AccountAttr::Users => "users",
            AccountAttr::Groups => "groups",
            AccountAttr::Vaults => "vaults",
            AccountAttr::Tier => "tier",
            AccountAttr::Counts => "counts",
        }
    }
}

impl Client {
    /// `GET /api/v1/account?attrs=me,users,groups,vaults,tier,counts`: the account with the
    /// signed-in user, every user (with `lastAuthAt`), the groups and vaults the signed-in user
    /// may see, the plan tier and counters.
    pub async fn account(&self) -> Result<Account> {
        self.account_with_attrs(&ACCOUNT_ATTRS.split(',').collect::<Vec<_>>())
            .await
    }

    /// `GET /api/v1/account?attrs=…` with the given attribute names (e.g. `["tier"]`).
    pub async fn account_with_attrs(&self, attrs: &[&str]) -> Result<Account> {
        self.fetch(Request::new(ACCOUNT, &[]).query("attrs", &attrs.join(",")))
            .await
    }

    /// `GET /api/v1/account?attrs=…` with typed attributes, joined with `,` in the order given
    /// (e.g. `[AccountAttr::Groups, AccountAttr::Vaults]` asks `attrs=groups,vaults`).
    pub async fn account_with(&self, attrs: &[AccountAttr]) -> Result<Account> {
        let names: Vec<&str> = attrs.iter().map(|a| a.as_str()).collect();
        self.account_with_attrs(&names).await
    }

    /// `GET /api/v2/account/keysets`: the signed-in user's keysets (sign-in opens them into
    /// the [`Keyring`](opadmin_crypto::keyset::Keyring)).
    pub async fn keysets(&self) -> Result<KeysetsResponse> {
        self.fetch(Request::new(KEYSETS, &[])).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_attributes_spell_the_full_account_query() {
        let joined: Vec<&str> = AccountAttr::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(joined.join(","), ACCOUNT_ATTRS);
    }
}
