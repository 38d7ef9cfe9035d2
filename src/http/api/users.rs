//! `/api/v1/users/me`, the terms, and the admin's user and audit views.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{LegalDocument, Role, UserId};
use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AdminUser, AppJson, AppPath, AppQuery, AuthUser, ClientIp};
use crate::pagination::{Page, PageParams};
use crate::services::accounts::{Account, AccountStatus};
use crate::services::admin::AuditEntry;
use crate::services::{accounts, admin, payments, terms};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// True while the newest subscription is active or trialing, its
    /// period has not ended and its plan is still offered (the same
    /// answer in every endpoint and dashboard).
    pub is_subscribed: bool,
    /// IANA zone for times in e-mails and pages; null until chosen.
    pub timezone: Option<String>,
    /// The account proved it owns its address (a link, or made by an operator).
    pub email_verified: bool,
    /// `active`, `disabled` (an admin stopped its log-in) or `deleted`
    /// (its personal data is erased; name and address are placeholders).
    pub status: AccountStatus,
}

impl UserView {
    fn new(u: Account, is_subscribed: bool) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            is_subscribed,
            timezone: u.timezone,
            email_verified: u.email_verified,
            status: u.status,
        }
    }

    /// The account as every endpoint answers it: `is_subscribed` comes
    /// from payments' one rule (`payments::is_subscribed`), never a
    /// default, so `/users/me`, the admin list and a registration agree.
    pub async fn of(state: &AppState, u: Account) -> AppResult<Self> {
        let subscribed = payments::is_subscribed(state, u.id).await?;
        Ok(Self::new(u, subscribed))
    }

    /// [`UserView::of`] for a page of accounts, in one read.
    pub async fn all(state: &AppState, accounts: Vec<Account>) -> AppResult<Vec<Self>> {
        let ids = accounts.iter().map(|u| u.id).collect();
        let subscribed = payments::subscribed_among(state, ids).await?;
        Ok(accounts
            .into_iter()
            .map(|u| {
                let s = subscribed.contains(&u.id);
                Self::new(u, s)
            })
            .collect())
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    pub role: Role,
}

#[derive(Serialize, ToSchema)]
pub struct TermsView {
    pub version: String,
    pub paragraphs: Vec<String>,
    /// When this version first became current.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<terms::Terms> for TermsView {
    fn from(t: terms::Terms) -> Self {
        Self {
            version: t.version,
            paragraphs: t.paragraphs,
            since: t.since,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only events with this action, for example `auth.login`.
    pub action: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> AppResult<Json<UserView>> {
    Ok(Json(me_view(&state, who.user_id).await?))
}

/// The account as `/users/me` shows it.
async fn me_view(state: &AppState, user: crate::domain::UserId) -> AppResult<UserView> {
    UserView::of(state, accounts::account(state, user).await?).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimezoneRequest {
    /// IANA zone such as `America/New_York`; empty clears it.
    #[schema(value_type = crate::domain::api_schema::TimeZoneOrEmpty)]
    pub timezone: String,
}

/// Set my time zone (used for times in e-mails and pages).
#[utoipa::path(put, path = "/api/v1/users/me/timezone", tag = "users", request_body = TimezoneRequest,
    security(("bearer" = [])), responses((status = 200, body = UserView), (status = 422, body = ErrorBody)))]
pub async fn timezone_put(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppJson(body): AppJson<TimezoneRequest>,
) -> AppResult<Json<UserView>> {
    accounts::set_timezone(&state, &who, &body.timezone).await?;
    Ok(Json(me_view(&state, who.user_id).await?))
}

/// The current terms of use and their version.
#[utoipa::path(get, path = "/api/v1/terms", tag = "users", responses((status = 200, body = TermsView)))]
pub async fn terms_get(State(state): State<AppState>) -> AppResult<Json<TermsView>> {
    let t = terms::current_published(&state, LegalDocument::Terms).await?;
    Ok(Json(t.into()))
}

/// The current privacy notice and its version.
#[utoipa::path(get, path = "/api/v1/privacy", tag = "users", responses((status = 200, body = TermsView)))]
pub async fn privacy_get(State(state): State<AppState>) -> AppResult<Json<TermsView>> {
    let t = terms::current_published(&state, LegalDocument::PrivacyNotice).await?;
    Ok(Json(t.into()))
}

/// All accounts (admins only).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", params(PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<UserView>), (status = 403, body = ErrorBody)))]
pub async fn users_list(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    AppQuery(page): AppQuery<PageParams>,
) -> AppResult<Json<Page<UserView>>> {
    let page = admin::list_users(&state, &admin, &page).await?;
    Ok(Json(Page {
        items: UserView::all(&state, page.items).await?,
        next_cursor: page.next_cursor,
    }))
}

/// Change a user's role (admins only); it applies to their sessions at once.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/role", tag = "admin", request_body = RoleRequest,
    params(("id" = i64, Path, description = "User id")), security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 403, description = "Not an admin, an address outside `admin_allowed_ips`, or `reauth_required`: the password was entered too long ago (`POST /api/v1/auth/reauth`)", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`last_admin`: the only admin cannot stop being one; `account_deleted`: the account is deleted", body = ErrorBody)))]
pub async fn role_put(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<UserId>,
    AppJson(req): AppJson<RoleRequest>,
) -> AppResult<Json<UserView>> {
    let account = accounts::set_role(&state, &admin, id, req.role, ip).await?;
    Ok(Json(UserView::of(&state, account).await?))
}

/// The audit trail, newest first (admins only).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditParams), security(("bearer" = [])),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = ErrorBody)))]
pub async fn audit_list(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    AppQuery(p): AppQuery<AuditParams>,
) -> AppResult<Json<Page<AuditEntry>>> {
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    Ok(Json(
        admin::list_audit(&state, &admin, p.action, &page).await?,
    ))
}
