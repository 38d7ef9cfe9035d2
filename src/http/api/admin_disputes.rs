//! `/api/v1/admin/disputes`: the admins' queue, taking a dispute up and
//! resolving it (`services::disputes::resolve`).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::disputes::DisputeListParams;
use crate::domain::DisputeId;
use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AdminUser, AppJson, AppPath, AppQuery, ClientIp};
use crate::pagination::Page;
use crate::services::disputes::resolve::{self, ResolveRequest};
use crate::services::disputes::{self, DisputeView};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// `refund_full` (all that is left of the payment; a card only held is
    /// released), `refund_partial` (with `amount_minor`), `no_refund`,
    /// `remove_review` (a dispute about a review: the review is removed),
    /// or `claim_upheld` (a no-show claim stands: the session becomes a
    /// no-show and the refund policy applies).
    pub outcome: String,
    /// Minor units of the payment's currency, 1 to what is left; for
    /// `refund_partial` only.
    pub amount_minor: Option<i64>,
    /// Told to both participants; 1 to 2000 characters.
    pub note: String,
}

/// Every dispute, newest first (admins), by status.
#[utoipa::path(get, path = "/api/v1/admin/disputes", tag = "admin", params(DisputeListParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<DisputeView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    AppQuery(p): AppQuery<DisputeListParams>,
) -> AppResult<Json<Page<DisputeView>>> {
    Ok(Json(
        disputes::list_all(&state, &admin, p.status.as_deref(), &p.page()).await?,
    ))
}

/// Take a dispute up before the other participant answered (admins).
#[utoipa::path(post, path = "/api/v1/admin/disputes/{dispute_id}/review", tag = "admin",
    params(("dispute_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DisputeView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`dispute_closed` or `already_under_review`", body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<DisputeId>,
) -> AppResult<Json<DisputeView>> {
    Ok(Json(resolve::review(&state, &admin, id, ip).await?))
}

/// Resolve a dispute (admins): refunds go through the payments code
/// (Stripe refund, ledger row, credit note); audited; both participants
/// are told by e-mail.
#[utoipa::path(post, path = "/api/v1/admin/disputes/{dispute_id}/resolve", tag = "admin",
    params(("dispute_id" = i64, Path)), request_body = ResolveBody, security(("bearer" = [])),
    responses((status = 200, body = DisputeView), (status = 403, description = "Not an admin, an address outside `admin_allowed_ips`, or `reauth_required`: the password was entered too long ago (`POST /api/v1/auth/reauth`)", body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`dispute_closed`, `nothing_to_refund`, `hold_not_captured`, `chargeback_refund`, `review_gone` or `illegal_moderation` (the review is already removed)", body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 502, description = "Stripe failed; nothing changed", body = ErrorBody)))]
pub async fn resolve_post(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<DisputeId>,
    AppJson(b): AppJson<ResolveBody>,
) -> AppResult<Json<DisputeView>> {
    let req = ResolveRequest {
        outcome: b.outcome,
        amount_minor: b.amount_minor,
        note: b.note,
    };
    Ok(Json(resolve::resolve(&state, &admin, id, req, ip).await?))
}
