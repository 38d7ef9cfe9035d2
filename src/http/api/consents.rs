//! `/api/v1/users/me/consents` (the consent ledger: list, grant,
//! withdraw) and `/api/v1/users/me/terms` (accepting the current terms or
//! privacy notice). All of them work before the account accepted the
//! current terms (`terms_gate::EXEMPT`).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{ConsentSource, LegalDocument};
use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AppJson, AppPath, AuthUser, ClientIp};
use crate::services::consents::{self, Consents};
use crate::state::AppState;

/// My consents: each kind as it stands, and the history.
#[utoipa::path(get, path = "/api/v1/users/me/consents", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Consents), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> AppResult<Json<Consents>> {
    Ok(Json(consents::list(&state, &who).await?))
}

/// Give a consent (`terms`, `privacy_notice`: their current versions).
/// Giving `researcher_listing` lists the profile again at once.
#[utoipa::path(post, path = "/api/v1/users/me/consents/{kind}/grant", tag = "users", security(("bearer" = [])),
    params(("kind" = crate::domain::consent::ConsentKind, Path)),
    responses((status = 200, body = Consents), (status = 401, body = ErrorBody),
        (status = 409, description = "`no_researcher_profile`: researcher_listing without a profile", body = ErrorBody),
        (status = 422, description = "Unknown kind", body = ErrorBody)))]
pub async fn grant(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppPath(kind): AppPath<String>,
) -> AppResult<Json<Consents>> {
    let kind = consents::parse_kind(&kind)?;
    Ok(Json(
        consents::grant(&state, &who, kind, ConsentSource::Api, ip).await?,
    ))
}

/// Withdraw a consent. `researcher_listing`: the profile leaves search
/// and booking at once; open sessions stay and the researcher gets an
/// e-mail listing them. `review_reminders`, `product_email`: those mails
/// stop. `terms`, `privacy_notice`: the account can only use what works
/// without accepting until it accepts again.
#[utoipa::path(post, path = "/api/v1/users/me/consents/{kind}/withdraw", tag = "users", security(("bearer" = [])),
    params(("kind" = crate::domain::consent::ConsentKind, Path)),
    responses((status = 200, body = Consents), (status = 401, body = ErrorBody),
        (status = 409, description = "`no_researcher_profile`: researcher_listing without a profile", body = ErrorBody),
        (status = 422, description = "Unknown kind", body = ErrorBody)))]
pub async fn withdraw(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppPath(kind): AppPath<String>,
) -> AppResult<Json<Consents>> {
    let kind = consents::parse_kind(&kind)?;
    Ok(Json(
        consents::withdraw(&state, &who, kind, ConsentSource::Api, ip).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// The version accepted; must be the current one (`GET /api/v1/terms`,
    /// `GET /api/v1/privacy`, or `current_versions` in a
    /// `terms_not_accepted` error).
    pub version: String,
    /// `terms` (the default) or `privacy_notice`.
    #[serde(default)]
    pub document: Option<LegalDocument>,
}

/// Accept the current terms of use (or, with `"document":
/// "privacy_notice"`, the privacy notice).
#[utoipa::path(post, path = "/api/v1/users/me/terms", tag = "users", request_body = AcceptRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Consents), (status = 401, body = ErrorBody),
        (status = 422, description = "Not the current version", body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppJson(body): AppJson<AcceptRequest>,
) -> AppResult<Json<Consents>> {
    let document = body.document.unwrap_or(LegalDocument::Terms);
    Ok(Json(
        consents::accept(
            &state,
            &who,
            document,
            &body.version,
            ConsentSource::Api,
            ip,
        )
        .await?,
    ))
}
