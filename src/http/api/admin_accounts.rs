//! `/api/v1/admin/users/{id}`: an admin disables, enables or deletes an
//! account (`services::accounts::{disable, enable}`, `data_rights::erasure::delete_account`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::users::UserView;
use crate::domain::UserId;
use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AdminUser, AppPath, ClientIp};
use crate::services::accounts;
use crate::state::AppState;

/// Disable an account (admins only): its sessions and refresh tokens end
/// at once and it cannot sign in until enabled again.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/disable", tag = "admin",
    params(("id" = i64, Path, description = "User id")), security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`own_account`, `last_admin` or `account_deleted`", body = ErrorBody)))]
pub async fn disable(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<UserId>,
) -> AppResult<Json<UserView>> {
    let account = accounts::disable(&state, &admin, id, ip).await?;
    Ok(Json(UserView::of(&state, account).await?))
}

/// Enable a disabled account again (admins only).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/enable", tag = "admin",
    params(("id" = i64, Path, description = "User id")), security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`account_deleted`", body = ErrorBody)))]
pub async fn enable(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<UserId>,
) -> AppResult<Json<UserView>> {
    let account = accounts::enable(&state, &admin, id, ip).await?;
    Ok(Json(UserView::of(&state, account).await?))
}

/// Delete an account (admins only): it can never sign in again and its
/// personal data is erased; payments and the audit trail keep its id.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}", tag = "admin",
    params(("id" = i64, Path, description = "User id")), security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Not an admin, an address outside `admin_allowed_ips`, or `reauth_required`: the password was entered too long ago (`POST /api/v1/auth/reauth`)", body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`own_account`, `last_admin`, `account_deleted`, `live_sessions` or `live_subscription`", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<UserId>,
) -> AppResult<StatusCode> {
    crate::services::data_rights::erasure::delete_account(&state, &admin, id, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
