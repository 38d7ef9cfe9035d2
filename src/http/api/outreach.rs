//! `POST /api/v1/consulting/outreach` and
//! `POST /api/v1/auth/register-researcher`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::users::UserView;
use crate::domain::{PaperId, ResearcherId};
use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AppJson, AuthUser, ClientIp};
use crate::services::outreach::{self, Corrections, OutreachView, ResearcherRegistration};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutreachRequestBody {
    pub researcher_id: ResearcherId,
    /// The paper the reader read (named in the e-mail).
    pub paper_id: Option<PaperId>,
    /// A note to the researcher, up to 2000 characters.
    #[schema(value_type = Option<crate::domain::api_schema::OptionalTextBlock>)]
    pub message: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterResearcherBody {
    /// The token from the invitation link (`/invite/{token}`).
    pub token: String,
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
    /// Defaults to the collected name.
    pub name: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin`: the account's and the
    /// profile's; default the profile's, else `UTC`. Also accepted as
    /// `time_zone`.
    #[serde(default, alias = "time_zone")]
    #[schema(value_type = Option<crate::domain::api_schema::TimeZoneName>)]
    pub timezone: Option<String>,
    /// Must be true; also records the consent to be listed as bookable.
    #[schema(value_type = crate::domain::api_schema::MustBeTrue)]
    pub accept_terms: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkResearcherBody {
    /// The token from the invitation link (`/invite/{token}`).
    pub token: String,
    /// Must be true: the terms are accepted and the profile may be listed
    /// as bookable.
    #[schema(value_type = crate::domain::api_schema::MustBeTrue)]
    pub accept_terms: bool,
    /// IANA time zone, e.g. `Europe/Berlin`: sets the account's and the
    /// profile's. Also accepted as `time_zone`.
    #[serde(default, alias = "time_zone")]
    #[schema(value_type = Option<crate::domain::api_schema::TimeZoneName>)]
    pub timezone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LinkedProfile {
    pub researcher_id: ResearcherId,
}

/// Invite a researcher (readers: also records your interest).
/// Refused with 409 when the researcher opted out, is registered (they are
/// told about the interest instead) or was invited recently; 422 when there
/// is no e-mail address.
#[utoipa::path(post, path = "/api/v1/consulting/outreach", tag = "consulting", request_body = OutreachRequestBody,
    security(("bearer" = [])),
    responses((status = 202, body = OutreachView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn outreach_post(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppJson(body): AppJson<OutreachRequestBody>,
) -> AppResult<(StatusCode, Json<OutreachView>)> {
    let view = outreach::request(
        &state,
        &who,
        body.researcher_id,
        body.paper_id,
        body.message,
        ip,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// Register as a researcher through an invitation link (works once). The
/// link is bound to the address it was mailed to; it never sets the
/// password of an existing account: when the address has one, 409
/// `account_exists` (sign in, then `POST /api/v1/auth/link-researcher`).
#[utoipa::path(post, path = "/api/v1/auth/register-researcher", tag = "auth", request_body = RegisterResearcherBody,
    responses((status = 201, body = UserView),
              (status = 409, description = "`account_exists`, `already_claimed`, `link_recipient_changed` or `no_email`", body = ErrorBody),
              (status = 422, description = "Invalid fields, or an expired, used, tampered or wrong-purpose token", body = ErrorBody)))]
pub async fn register_researcher(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(body): AppJson<RegisterResearcherBody>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    let reg = ResearcherRegistration {
        token: body.token,
        password: body.password,
        name: body.name,
        timezone: body.timezone,
        accept_terms: body.accept_terms,
        corrections: Corrections::default(),
    };
    let user = outreach::register(&state, reg, ip).await?;
    Ok((StatusCode::CREATED, Json(UserView::of(&state, user).await?)))
}

/// Link the profile of an invitation link to the signed-in account, whose
/// address must be the one the link was mailed to. Admin accounts are
/// linked by an admin (`POST /api/v1/admin/researchers/{id}/link`).
#[utoipa::path(post, path = "/api/v1/auth/link-researcher", tag = "auth", request_body = LinkResearcherBody,
    security(("bearer" = [])),
    responses((status = 200, body = LinkedProfile), (status = 401, body = ErrorBody),
              (status = 403, description = "`not_the_recipient`", body = ErrorBody),
              (status = 409, description = "`admin_account`, `already_linked`, `already_claimed` or `link_recipient_changed`", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn link_researcher(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppJson(body): AppJson<LinkResearcherBody>,
) -> AppResult<Json<LinkedProfile>> {
    let researcher_id = outreach::link_profile(
        &state,
        &who,
        &body.token,
        body.accept_terms,
        body.timezone,
        ip,
    )
    .await?;
    Ok(Json(LinkedProfile { researcher_id }))
}
