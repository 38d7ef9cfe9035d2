//! `/api/v1/admin/sessions`: every session, for admins, by status, start
//! time and researcher (`services::sessions::admin`).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::availability::parse_time;
use crate::domain::ResearcherId;
use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AdminUser, AppQuery};
use crate::pagination::{Page, PageParams};
use crate::services::sessions::admin::{self, AdminListQuery, AdminSessionRow};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AdminSessionParams {
    /// Only sessions with this status: `requested`, `accepted`,
    /// `declined`, `expired`, `cancelled`, `completed` or `no_show`.
    #[param(inline, value_type = Option<crate::domain::status::SessionStatus>)]
    pub status: Option<String>,
    /// Sessions starting at or after this time (RFC 3339).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Sessions starting before this time (RFC 3339); after `from`.
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Only this researcher's sessions.
    pub researcher_id: Option<ResearcherId>,
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<usize>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// Every session, newest id first (admins). The cursor continues after the
/// last id of a page, so new bookings never shift the pages.
#[utoipa::path(get, path = "/api/v1/admin/sessions", tag = "admin", params(AdminSessionParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<AdminSessionRow>), (status = 400, description = "`invalid_cursor`", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, description = "Unknown status, a time that is not RFC 3339, `to` not after `from`, a bad limit or an unknown parameter", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    AppQuery(p): AppQuery<AdminSessionParams>,
) -> AppResult<Json<Page<AdminSessionRow>>> {
    let q = AdminListQuery {
        status: p.status,
        from: p
            .from
            .as_deref()
            .map(|f| parse_time("from", f))
            .transpose()?,
        to: p.to.as_deref().map(|t| parse_time("to", t)).transpose()?,
        researcher: p.researcher_id,
    };
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    Ok(Json(admin::list(&state, &admin, q, &page).await?))
}
