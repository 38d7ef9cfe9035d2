//! `GET /api/v1/users/me/export`: the account's copy of its data.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, AppResult};
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AuthUser, ClientIp};
use crate::services::data_rights::{self, DataExport};
use crate::state::AppState;

/// Everything held about the signed-in account (GDPR Art. 15 and 20), as
/// a JSON file to save: the account, its researcher profile with the
/// provenance of each field, sessions and their events, messages, reviews
/// given and received, disputes, payments, invoices, subscriptions,
/// questions, reading progress, outreach, mail sent to it, and audit rows
/// about it. Encrypted fields are decrypted. Each export is audited
/// (`data.exported`).
#[utoipa::path(get, path = "/api/v1/users/me/export", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, body = DataExport, description = "A JSON attachment"),
        (status = 401, body = ErrorBody)))]
pub async fn export_me(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
) -> AppResult<Response> {
    let doc = data_rights::export_account(&state, &who, ip).await?;
    attachment(&doc)
}

/// A data export as a JSON file to save.
pub fn attachment(doc: &DataExport) -> AppResult<Response> {
    let body = serde_json::to_vec_pretty(doc).map_err(AppError::internal)?;
    let name = format!(
        "colloquy-data-{}-{}.json",
        doc.subject.user_id,
        doc.generated_at.format("%Y-%m-%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}
