//! `GET /api/v1/users/me/export`: the account's copy of its data;
//! `DELETE /api/v1/users/me`: its erasure; the admins' search for data
//! subjects, their copies, and the erasure of a profile whose person never
//! signed up.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::ResearcherId;
use crate::error::{AppError, AppResult};
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AdminUser, AppJson, AppPath, AppQuery, AuthUser, ClientIp};
use crate::services::data_rights::erasure::{self, ErasureAccepted};
use crate::services::data_rights::{self, DataExport, DataSubject, ProfileErased};
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// The account's current password.
    pub password: String,
}

/// Erase the signed-in account (GDPR Art. 17). The password is checked,
/// the account is closed at once (every log-in ends) and the erasure
/// finishes in the background: open sessions are cancelled under the
/// normal rules with refunds, a running subscription stops at the end of
/// its period, personal data is erased and the account's data keys are
/// destroyed, so backups no longer decrypt it either. Invoices and the
/// ledger are kept for `[retention] invoices_years`; reviews show "Former
/// user"; the audit trail names the account by a pseudonym. Works before
/// the current terms are accepted.
#[utoipa::path(delete, path = "/api/v1/users/me", tag = "users", request_body = EraseRequest,
    security(("bearer" = [])),
    responses(
        (status = 202, body = ErasureAccepted, description = "Closed; the erasure finishes in the background"),
        (status = 401, body = ErrorBody),
        (status = 409, description = "`last_admin`: make another admin first", body = ErrorBody),
        (status = 422, description = "Wrong password (`fields.password`)", body = ErrorBody),
        (status = 429, description = "Too many failed password entries", body = ErrorBody)))]
pub async fn erase_me(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<EraseRequest>,
) -> AppResult<(StatusCode, Json<ErasureAccepted>)> {
    let accepted = erasure::request_own(&state, &who, &req.password, ip).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// A data export as a JSON file to save.
pub fn attachment(doc: &DataExport) -> AppResult<Response> {
    let body = serde_json::to_vec_pretty(doc).map_err(AppError::internal)?;
    let whose = match (doc.subject.user_id, doc.subject.researcher_id) {
        (Some(user), _) => format!("user-{user}"),
        (None, Some(r)) => format!("researcher-{r}"),
        (None, None) => "subject".to_string(),
    };
    let name = format!(
        "colloquy-data-{whose}-{}.json",
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubjectQuery {
    /// An e-mail address (matched exactly) or at least two characters of
    /// a name.
    #[serde(default)]
    #[param(
        required = true,
        min_length = 2,
        pattern = "^\\s*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F]\\s*$"
    )]
    pub q: String,
}

/// Find a data subject to answer a request (admins): accounts and
/// researcher profiles (also those of people who never signed up) by
/// e-mail address or name.
#[utoipa::path(get, path = "/api/v1/admin/data-subjects", tag = "admin", params(SubjectQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = [DataSubject]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn find_subjects(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    AppQuery(q): AppQuery<SubjectQuery>,
) -> AppResult<Json<Vec<DataSubject>>> {
    Ok(Json(
        data_rights::subjects::find(&state, &admin, &q.q).await?,
    ))
}

/// A data subject's copy (admins): the same document as
/// `GET /api/v1/users/me/export`, for an account (`user`) or a researcher
/// profile (`researcher`; its owner's account when it has one), with the
/// provenance of every profile field. Audited as `data.exported`.
#[utoipa::path(get, path = "/api/v1/admin/data-subjects/{kind}/{id}/export", tag = "admin",
    params(("kind" = String, Path, description = "`user` or `researcher`"), ("id" = i64, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = DataExport, description = "A JSON attachment"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn export_subject(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath((kind, id)): AppPath<(String, i64)>,
) -> AppResult<Response> {
    let doc = data_rights::export_subject(&state, &admin, &kind, id, ip).await?;
    attachment(&doc)
}

/// Erase a researcher profile whose person never signed up (admins; GDPR
/// Art. 17), on that person's request: its personal fields, provenance,
/// availability, invitations and their mail, open claim requests and
/// readers' interest go; the papers it was an author of show that author
/// as removed at their request. Its address goes on the suppression list
/// and its ORCID iD and OpenAlex id on the do-not-collect list, so
/// collection never rebuilds it. Irreversible. One audit row
/// (`researcher.erased`), without personal values.
#[utoipa::path(delete, path = "/api/v1/admin/data-subjects/researcher/{id}", tag = "admin",
    params(("id" = i64, Path, description = "Researcher profile id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ProfileErased, description = "Erased"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Not an admin, an address outside `admin_allowed_ips`, or `reauth_required`: the password was entered too long ago (`POST /api/v1/auth/reauth`)"),
        (status = 404, body = ErrorBody, description = "No such profile"),
        (status = 409, body = ErrorBody, description = "`profile_owned`: an account owns the profile (its owner erases their data from their account, or an admin deletes the account); `already_erased`")))]
pub async fn erase_researcher(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ResearcherId>,
) -> AppResult<Json<ProfileErased>> {
    Ok(Json(
        data_rights::erase_profile(&state, &admin, id, ip).await?,
    ))
}
