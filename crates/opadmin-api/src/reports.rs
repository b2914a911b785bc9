//! Reports: one user's overview, including `lastAuthAt` (docs/decisions.md, decision 5).

use crate::client::Client;
use crate::endpoints::USER_REPORT;
use crate::error::Result;
use crate::models::UserReport;
use crate::transport::Request;
use crate::types::UserId;

impl Client {
    /// `GET /api/v1/report/user/{uuid}?sections=overview` → `{overview: {user}}`.
    pub async fn user_report(&self, uuid: &UserId) -> Result<UserReport> {
        self.fetch(Request::new(USER_REPORT, &[uuid.as_str()]).query("sections", "overview"))
            .await
            .map_err(|e| e.with_subject(format!("user {uuid}")))
    }
}
