//! The account object and the user's keysets.
//!
//! The account object is where every user's `lastAuthAt` comes from (PROTOCOL.md decision 5),
//! and where groups are listed (decision 6).

use crate::client::Client;
use crate::endpoints::{ACCOUNT, KEYSETS};
use crate::error::Result;
use crate::models::{Account, KeysetsResponse};
use crate::transport::Request;

/// The `attrs` [`Client::account`] asks for.
pub const ACCOUNT_ATTRS: &str = "me,users,groups,vaults,tier,counts";

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

    /// `GET /api/v2/account/keysets`: the signed-in user's keysets (sign-in opens them into
    /// the [`Keyring`](opadmin_crypto::keyset::Keyring)).
    pub async fn keysets(&self) -> Result<KeysetsResponse> {
        self.fetch(Request::new(KEYSETS, &[])).await
    }
}
