//! The signed-in client. Resource calls are methods on [`Client`], defined in one module per
//! resource: [`account`](crate::account), [`users`](crate::users), [`groups`](crate::groups),
//! [`vaults`](crate::vaults), [`invites`](crate::invites), [`people`](crate::people),
//! [`reports`](crate::reports). Session upkeep (touch, sign-out) is here.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::endpoints::{SESSION_SIGNOUT, SESSION_TOUCH};
use crate::error::Result;
use crate::transport::{Request, Transport};
use crate::types::{AccountId, UserId};

/// How many uuids one people/invitation call carries at most (the web client's batch size).
pub const BATCH_SIZE: usize = 15;

/// A client signed in to one 1Password account (made by [`auth::sign_in`](crate::auth::sign_in)).
///
/// Cheap to clone; clones share the session. Calls may run concurrently. When the session
/// expires the client signs in again by itself, once per expiry.
#[derive(Clone)]
pub struct Client {
    transport: Transport,
    account_uuid: AccountId,
    user_uuid: UserId,
    device_uuid: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("account_uuid", &self.account_uuid)
            .field("user_uuid", &self.user_uuid)
            .field("device_uuid", &self.device_uuid)
            .field("transport", &self.transport)
            .finish()
    }
}

impl Client {
    pub(crate) fn new(
        transport: Transport,
        account_uuid: AccountId,
        user_uuid: UserId,
        device_uuid: String,
    ) -> Self {
        Self {
            transport,
            account_uuid,
            user_uuid,
            device_uuid,
        }
    }

    /// The transport (base URL, session id, configuration).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The account's uuid.
    pub fn account_uuid(&self) -> &AccountId {
        &self.account_uuid
    }

    /// The signed-in user's uuid.
    pub fn user_uuid(&self) -> &UserId {
        &self.user_uuid
    }

    /// The device uuid this client signed in as (store it to sign in as the same device).
    pub fn device_uuid(&self) -> &str {
        &self.device_uuid
    }

    /// Sends any call (for endpoints this crate has no method for): encrypted, signed,
    /// retried and re-authenticated like every other call. See [`crate::endpoints`].
    pub async fn send(&self, request: Request) -> Result<Value> {
        self.transport.send(request).await
    }

    /// Sends a call and reads the answer as `T`.
    pub(crate) async fn fetch<T: DeserializeOwned>(&self, request: Request) -> Result<T> {
        self.transport.send_json(request).await
    }

    /// Sends a write and ignores the answer's content (`{"success":1}` or an object).
    pub(crate) async fn write(&self, request: Request) -> Result<()> {
        self.transport.send(request).await.map(|_| ())
    }

    /// `PUT /api/v1/session/touch`: keeps the session from expiring (30 minutes idle).
    pub async fn touch(&self) -> Result<()> {
        self.write(Request::new(SESSION_TOUCH, &[])).await
    }

    /// `PUT /api/v1/session/signout`: ends the session. The client forgets the session and will
    /// not sign in again; calls after this fail.
    pub async fn sign_out(&self) -> Result<()> {
        let result = self.write(Request::new(SESSION_SIGNOUT, &[])).await;
        self.transport.clear_session();
        result
    }
}

/// Joins ids with commas, as list path segments and query values expect.
pub(crate) fn join_ids<I, S>(ids: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for (i, id) in ids.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(id.as_ref());
    }
    out
}
