//! Users: the filtered list, one user, and public keys.

use futures::FutureExt;

use crate::client::{BATCH_SIZE, Client, join_ids};
use crate::endpoints::{USER, USER_PUBKEYS, USERS};
use crate::error::Result;
use crate::models::{Person, PublicKeyEntry, UserList};
use crate::pages::Pages;
use crate::transport::Request;
use crate::types::{GroupId, UserId, UserState, UserType, VaultId};

/// Longest comma-joined email filter sent in one request (the web client's limit); longer
/// filters are split over several requests, one page each.
pub const MAX_EMAILS_CHARS: usize = 350;

/// The `attrs` [`Client::user`] asks for by default.
pub const USER_ATTRS: &str = "pubkey,groups,vault-access";

/// Filters of `GET /api/v3/users` (docs/decisions.md, decision 5). Empty lists filter nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserFilter {
    /// Only users in these states.
    pub states: Vec<UserState>,
    /// Only users of these types.
    pub types: Vec<UserType>,
    /// Only users with these emails.
    pub emails: Vec<String>,
    /// Only members of this group.
    pub group: Option<GroupId>,
    /// Only users with access to this vault.
    pub vault: Option<VaultId>,
    /// Free-text search over names and emails.
    pub search: Option<String>,
    /// At most this many users per request (the answer's `totalCount` says how many matched).
    pub limit: Option<u32>,
    /// Ask for each user's `combinedPermissions` (`attrs=combined-permissions`).
    pub combined_permissions: bool,
}

impl UserFilter {
    /// No filter: every user the signed-in user may see.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only users in these states.
    pub fn states(mut self, states: impl IntoIterator<Item = UserState>) -> Self {
        self.states = states.into_iter().collect();
        self
    }

    /// Only users of these types.
    pub fn types(mut self, types: impl IntoIterator<Item = UserType>) -> Self {
        self.types = types.into_iter().collect();
        self
    }

    /// Only users with these emails.
    pub fn emails<S: Into<String>>(mut self, emails: impl IntoIterator<Item = S>) -> Self {
        self.emails = emails.into_iter().map(Into::into).collect();
        self
    }

    /// Only members of this group.
    pub fn group(mut self, group: GroupId) -> Self {
        self.group = Some(group);
        self
    }

    /// Only users with access to this vault.
    pub fn vault(mut self, vault: VaultId) -> Self {
        self.vault = Some(vault);
        self
    }

    /// Free-text search.
    pub fn search(mut self, text: impl Into<String>) -> Self {
        self.search = Some(text.into());
        self
    }

    /// At most this many users per request.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Ask for `combinedPermissions`.
    pub fn with_combined_permissions(mut self) -> Self {
        self.combined_permissions = true;
        self
    }

    /// The request for one chunk of emails (or none).
    fn request(&self, emails: Option<&str>) -> Request {
        let mut r = Request::new(USERS, &[]);
        if self.combined_permissions {
            r = r.query("attrs", "combined-permissions");
        }
        if let Some(emails) = emails {
            r = r.query("emails", emails);
        }
        if !self.states.is_empty() {
            r = r.query("states", &letters(self.states.iter().map(|s| s.letter())));
        }
        if !self.types.is_empty() {
            r = r.query("types", &letters(self.types.iter().map(|t| t.letter())));
        }
        if let Some(group) = &self.group {
            r = r.query("group", group.as_str());
        }
        if let Some(vault) = &self.vault {
            r = r.query("vault", vault.as_str());
        }
        if let Some(search) = &self.search {
            r = r.query("search", search);
        }
        if let Some(limit) = self.limit {
            r = r.query("limit", &limit.to_string());
        }
        r
    }

    /// One request per email chunk of at most [`MAX_EMAILS_CHARS`] characters.
    fn requests(&self) -> Vec<Request> {
        if self.emails.is_empty() {
            return vec![self.request(None)];
        }
        let mut chunks: Vec<String> = Vec::new();
        let mut current = String::new();
        for email in &self.emails {
            let email = email.trim();
            if !current.is_empty() && current.len() + 1 + email.len() > MAX_EMAILS_CHARS {
                chunks.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(',');
            }
            current.push_str(email);
        }
        if !current.is_empty() {
            chunks.push(current);
        }
        chunks.iter().map(|c| self.request(Some(c))).collect()
    }
}

fn letters(iter: impl Iterator<Item = char>) -> String {
    join_ids(iter.map(String::from))
}

impl Client {
    /// `GET /api/v3/users` with `filter`: the raw answer of one request (`{totalCount, users}`).
    /// An email filter longer than [`MAX_EMAILS_CHARS`] is cut to its first chunk; use
    /// [`users`](Self::users) to get all.
    pub async fn user_list(&self, filter: &UserFilter) -> Result<UserList> {
        let request = filter
            .requests()
            .into_iter()
            .next()
            .unwrap_or_else(|| filter.request(None));
        self.fetch(request).await
    }

    /// The users matching `filter`, as lazy pages: one page per `GET /api/v3/users` request
    /// (one request, or one per email chunk). Users are partial (`uuid, name, email, avatar,
    /// state, type`); their `lastAuthAt` comes from [`account`](Self::account).
    pub fn users(&self, filter: &UserFilter) -> Pages<Person> {
        let fetches = filter
            .requests()
            .into_iter()
            .map(|request| {
                let client = self.clone();
                Box::new(move || {
                    async move {
                        let list: UserList = client.fetch(request).await?;
                        Ok(list.users)
                    }
                    .boxed()
                }) as _
            })
            .collect();
        Pages::from_fetches(fetches)
    }

    /// `GET /api/v2/user/{uuid}?attrs=pubkey,groups,vault-access`.
    pub async fn user(&self, uuid: &UserId) -> Result<Person> {
        self.user_with_attrs(uuid, &USER_ATTRS.split(',').collect::<Vec<_>>())
            .await
    }

    /// `GET /api/v2/user/{uuid}?attrs=…` with the given attribute names.
    pub async fn user_with_attrs(&self, uuid: &UserId, attrs: &[&str]) -> Result<Person> {
        self.fetch(Request::new(USER, &[uuid.as_str()]).query("attrs", &attrs.join(",")))
            .await
            .map_err(|e| e.with_subject(format!("user {uuid}")))
    }

    /// `GET /api/v1/user/pubkeys?uuids=a,b`: the users' active public keys (what vault keys and
    /// group keysets are wrapped to). Sent in batches of [`BATCH_SIZE`].
    pub async fn user_public_keys(&self, uuids: &[UserId]) -> Result<Vec<PublicKeyEntry>> {
        let mut all = Vec::with_capacity(uuids.len());
        for batch in uuids.chunks(BATCH_SIZE) {
            let request = Request::new(USER_PUBKEYS, &[])
                .query("uuids", &join_ids(batch.iter().map(UserId::as_str)));
            let keys: Vec<PublicKeyEntry> = self.fetch(request).await?;
            all.extend(keys);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_query() {
        let f = UserFilter::new()
            .states([UserState::Active, UserState::Suspended])
            .types([UserType::Member])
            .limit(10);
        assert_eq!(
            f.request(None).path_and_query(),
            "/api/v3/users?states=A,S&types=R&limit=10"
        );
    }

    #[test]
    fn long_email_filters_are_split() {
        let emails: Vec<String> = (0..60).map(|i| format!("user{i:03}@example.com")).collect();
        let f = UserFilter::new().emails(emails.clone());
        let requests = f.requests();
        assert!(requests.len() > 1);
        let mut seen = Vec::new();
        for r in &requests {
            let pq = r.path_and_query();
            let value = pq.split("emails=").nth(1).unwrap();
            assert!(value.replace("%40", "@").len() <= MAX_EMAILS_CHARS);
            seen.extend(value.split(',').map(|e| e.replace("%40", "@")));
        }
        assert_eq!(seen, emails);
    }
}
