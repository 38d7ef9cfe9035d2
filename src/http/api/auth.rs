//! `/api/v1/auth/*`: registration, log-in, refresh, log-out, password change.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::users::UserView;
use crate::error::{AppResult, ErrorBody};
use crate::http::extractors::{AppJson, AuthUser, ClientIp};
use crate::services::accounts::{self, Registration, TokenPair};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: String,
    /// 12 to 128 characters; not a common password; not containing the e-mail.
    pub password: String,
    pub name: String,
    /// Must be true: the current terms (see `GET /api/v1/terms`) are accepted.
    pub accept_terms: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Long-lived, single-use: exchange at `/api/v1/auth/refresh`.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

impl From<TokenPair> for TokenResponse {
    fn from(t: TokenPair) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: "Bearer".into(),
            expires_in: t.expires_in,
        }
    }
}

/// Create an account (role `user`).
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = UserView), (status = 409, description = "E-mail taken", body = ErrorBody),
              (status = 422, description = "Invalid fields", body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<RegisterRequest>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    let r = Registration {
        email: req.email,
        password: req.password,
        name: req.name,
        accept_terms: req.accept_terms,
    };
    let user = accounts::register(&state, r, ip).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(user))))
}

/// Log in; answers an access token and a refresh token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<LoginRequest>,
) -> AppResult<Json<TokenResponse>> {
    Ok(Json(
        accounts::login_api(&state, &req.email, &req.password, ip)
            .await?
            .into(),
    ))
}

/// Exchange a refresh token for a new pair; the old one stops working.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<RefreshRequest>,
) -> AppResult<Json<TokenResponse>> {
    Ok(Json(
        accounts::refresh(&state, &req.refresh_token, ip)
            .await?
            .into(),
    ))
}

/// Log out: revokes the refresh token and its access tokens.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<RefreshRequest>,
) -> AppResult<StatusCode> {
    accounts::logout_api(&state, &req.refresh_token, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change the password; every other session is revoked.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChangeRequest,
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<PasswordChangeRequest>,
) -> AppResult<StatusCode> {
    accounts::change_password(&state, &who, &req.current_password, &req.new_password, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
