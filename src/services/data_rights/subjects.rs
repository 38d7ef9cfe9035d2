//! Admins find a data subject (to answer a request): an account or a
//! researcher profile, by e-mail address (through its blind index, so no
//! address is ever compared in clear) or by name.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::repos::{personal_export, users};
use crate::domain::Email;
use crate::error::{AppError, AppResult};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// At most this many accounts and this many profiles per search.
const LIMIT: usize = 50;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DataSubject {
    /// `user` (an account) or `researcher` (a researcher profile).
    pub kind: String,
    pub id: i64,
    pub name: String,
    /// For a profile: the account that owns it (its export is that
    /// account's), null for a profile collected from public sources.
    pub owner_user_id: Option<i64>,
    /// Where the subject's copy is: `GET` it as an admin.
    pub export_url: String,
}

/// Accounts and profiles matching `q`: an e-mail address (exactly, by
/// blind index) or a part of a name (at least two characters).
pub async fn find(state: &AppState, admin: &Principal, q: &str) -> AppResult<Vec<DataSubject>> {
    admin.require_admin()?;
    let q = q.trim();
    let (bidx, name) = if q.contains('@') {
        let email = Email::parse(q).map_err(|e| AppError::field("q", format!("“{q}” {e}")))?;
        (Some(users::email_index(&state.keys, &email)), None)
    } else if q.chars().any(char::is_control) {
        return Err(AppError::field("q", "must not contain control characters"));
    } else if q.chars().filter(|c| !c.is_whitespace()).count() >= 2 {
        (None, Some(q.to_string()))
    } else {
        return Err(AppError::field(
            "q",
            "give an e-mail address or at least two characters of a name",
        ));
    };
    let found = state
        .db
        .read(move |c| personal_export::find_subjects(c, bidx.as_deref(), name.as_deref(), LIMIT))
        .await?;
    Ok(found
        .into_iter()
        .map(|m| DataSubject {
            kind: m.kind.to_string(),
            id: m.id,
            export_url: format!("/api/v1/admin/data-subjects/{}/{}/export", m.kind, m.id),
            name: m.name,
            owner_user_id: m.owner,
        })
        .collect())
}
