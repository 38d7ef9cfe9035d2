//! `/api/v1/auth/*`: registration, log-in, refresh, log-out, password change.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::users::UserView;
use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AppJson, AuthUser, ClientIp};
use crate::services::accounts::{self, Registration, TokenPair};
use crate::services::mail::Delivery;
use crate::services::signup::{self, SignUp};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(value_type = crate::domain::api_schema::EmailAddress)]
    pub email: String,
    /// 12 to 128 characters; not a common password; not containing the e-mail.
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
    #[schema(value_type = crate::domain::api_schema::TextLine)]
    pub name: String,
    /// Must be true: the current terms (see `GET /api/v1/terms`) are accepted.
    #[schema(value_type = crate::domain::api_schema::MustBeTrue)]
    pub accept_terms: bool,
    /// The account's IANA time zone, e.g. `Europe/Berlin`, used for every
    /// time on its pages and in its e-mails; `UTC` when left out. Also
    /// accepted as `time_zone`.
    #[serde(default, alias = "time_zone")]
    #[schema(value_type = Option<crate::domain::api_schema::TimeZoneName>)]
    pub timezone: Option<String>,
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
    /// 12 to 128 characters; not a common password.
    #[schema(min_length = 12, max_length = 128)]
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

#[derive(Serialize, ToSchema)]
pub struct StatusAnswer {
    /// `verification_sent` (the link's mail leaves the server),
    /// `verification_held` (e-mail is held on this server: an admin must send
    /// it from the mailbox) or `verified`.
    pub status: String,
}

impl StatusAnswer {
    fn new(status: &str) -> Json<Self> {
        Json(Self {
            status: status.into(),
        })
    }

    /// The answer for a queued confirmation link, honest about held mail.
    fn link(delivery: Delivery) -> (StatusCode, Json<Self>) {
        let status = match delivery {
            Delivery::Sending => "verification_sent",
            Delivery::Held => "verification_held",
        };
        (StatusCode::ACCEPTED, Self::new(status))
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The token from the link `/verify-email/{token}`.
    pub token: String,
}

/// Create an account (role `user`). While e-mail verification is on, the
/// answer is always 202 `verification_sent` (or `verification_held` while
/// e-mail is held on the server), whether or not the address has an account
/// (its owner is told by e-mail); while it is off, 201 with the account, or
/// 409 `email_taken`.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, description = "Verification off: the account", body = UserView),
              (status = 202, description = "Verification on: a mail to the address is sent, or held for an admin", body = StatusAnswer),
              (status = 409, description = "E-mail taken (verification off)", body = ErrorBody),
              (status = 422, description = "Invalid fields", body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<RegisterRequest>,
) -> AppResult<Response> {
    let r = Registration {
        email: req.email,
        password: req.password,
        name: req.name,
        accept_terms: req.accept_terms,
        timezone: req.timezone,
    };
    Ok(match signup::register(&state, r, ip).await? {
        SignUp::Created(user) => {
            (StatusCode::CREATED, Json(UserView::of(&state, user).await?)).into_response()
        }
        SignUp::VerificationSent(delivery) => StatusAnswer::link(delivery).into_response(),
    })
}

/// Confirm the account's e-mail address with the token from the link
/// (single use; it expires after `[accounts] verification_ttl_hours`).
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth", request_body = VerifyEmailRequest,
    responses((status = 200, body = StatusAnswer),
              (status = 422, description = "The link is invalid, used or expired", body = ErrorBody)))]
pub async fn verify_email(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<VerifyEmailRequest>,
) -> AppResult<Json<StatusAnswer>> {
    signup::verify_email(&state, &req.token, ip).await?;
    Ok(StatusAnswer::new("verified"))
}

/// Mail a new confirmation link to the signed-in account (a few per hour).
/// The status says whether the mail leaves the server or is held.
#[utoipa::path(post, path = "/api/v1/auth/verify-email/resend", tag = "auth", security(("bearer" = [])),
    responses((status = 202, body = StatusAnswer), (status = 401, body = ErrorBody),
              (status = 409, description = "Already verified, or verification is off", body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn verify_email_resend(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> AppResult<(StatusCode, Json<StatusAnswer>)> {
    let delivery = signup::resend_verification(&state, &who).await?;
    Ok(StatusAnswer::link(delivery))
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReauthRequest {
    /// The caller's current password.
    pub password: String,
}

/// Enter the password again on this log-in session, for the sensitive
/// admin actions `[security] admin_require_reauth_minutes` guards
/// (refunds, erasures, role changes, key operations): they answer 403
/// `reauth_required` once the last entry is older than that. A wrong
/// password counts as a failed log-in.
#[utoipa::path(post, path = "/api/v1/auth/reauth", tag = "auth", request_body = ReauthRequest,
    security(("bearer" = [])),
    responses((status = 204, description = "Recorded on the caller's session"), (status = 401, body = ErrorBody),
              (status = 422, description = "Wrong password (`fields.password`)", body = ErrorBody),
              (status = 429, description = "Too many failed log-ins or re-entries", body = ErrorBody)))]
pub async fn reauth(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<ReauthRequest>,
) -> AppResult<StatusCode> {
    accounts::reauth::confirm(&state, &who, &req.password, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
