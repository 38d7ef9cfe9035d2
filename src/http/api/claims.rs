//! Who owns a researcher profile: "This is me", claim requests, and the
//! admins' e-mail, link and merge actions.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::domain::{ClaimRequestId, MergeReviewId, ResearcherId, UserId};
use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AdminUser, AppJson, AppPath, AppQuery, AuthUser, ClientIp};
use crate::services::claims::{self, ClaimRequestView, MergeReviewView};
use crate::services::researchers::{self, ResearcherView};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminResearcherPatch {
    /// The researcher's address, set by hand: provenance `admin`, never
    /// overwritten by collection.
    #[schema(value_type = crate::domain::api_schema::EmailAddress)]
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkAccountBody {
    pub user_id: UserId,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The profile merged into this one (and deleted).
    pub merge_id: ResearcherId,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// Must be true: the terms are accepted and the profile may be listed
    /// as bookable.
    #[schema(value_type = crate::domain::api_schema::MustBeTrue)]
    pub accept_terms: bool,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequestBody {
    /// Why the profile is yours, for the admin (up to 2,000 characters).
    #[schema(value_type = Option<crate::domain::api_schema::OptionalTextBlock>)]
    pub message: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClaimListParams {
    /// `open` (default), `approved` or `refused`.
    #[param(inline, value_type = Option<crate::domain::status::ClaimStatus>)]
    pub status: Option<String>,
}

/// Set a researcher's e-mail by hand (admins; audited).
#[utoipa::path(patch, path = "/api/v1/admin/researchers/{id}", tag = "admin", request_body = AdminResearcherPatch,
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ResearcherView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`opted_out` or `email_in_use`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn admin_researcher_patch(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ResearcherId>,
    AppJson(body): AppJson<AdminResearcherPatch>,
) -> AppResult<Json<ResearcherView>> {
    Ok(Json(
        claims::admin_set_email(&state, &admin, id, &body.email, ip).await?,
    ))
}

/// Link an account to a profile (admins; audited). The account becomes a
/// researcher (an admin stays admin); a previous owner loses the profile.
#[utoipa::path(post, path = "/api/v1/admin/researchers/{id}/link", tag = "admin", request_body = LinkAccountBody,
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ResearcherView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`already_linked`: the account owns another profile", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn admin_researcher_link(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(rid): AppPath<ResearcherId>,
    AppJson(body): AppJson<LinkAccountBody>,
) -> AppResult<Json<ResearcherView>> {
    claims::admin_link(&state, &admin, rid, body.user_id, ip).await?;
    Ok(Json(researchers::get(&state, Some(&admin), rid).await?))
}

/// Merge another profile into this one (admins; audited with both ids).
/// Sessions, settings, availability, payments, outreach, claims and
/// interest move over. When both have owners, the merged one's owner
/// loses it; an unowned profile cannot absorb an owned one.
#[utoipa::path(post, path = "/api/v1/admin/researchers/{id}/merge", tag = "admin", request_body = MergeBody,
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ResearcherView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`merge_conflict`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn admin_researcher_merge(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(keep): AppPath<ResearcherId>,
    AppJson(body): AppJson<MergeBody>,
) -> AppResult<Json<ResearcherView>> {
    claims::admin_merge(&state, &admin, keep, body.merge_id, ip).await?;
    Ok(Json(researchers::get(&state, Some(&admin), keep).await?))
}

/// Pairs of claimed profiles that collection found to be one person and
/// left for an admin (admins).
#[utoipa::path(get, path = "/api/v1/admin/merge-reviews", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<MergeReviewView>), (status = 403, body = ErrorBody)))]
pub async fn merge_reviews(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
) -> AppResult<Json<Vec<MergeReviewView>>> {
    Ok(Json(claims::merge_reviews(&state, &admin).await?))
}

/// "Not the same person": close a merge review (admins).
#[utoipa::path(post, path = "/api/v1/admin/merge-reviews/{id}/dismiss", tag = "admin", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn merge_review_dismiss(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<MergeReviewId>,
) -> AppResult<StatusCode> {
    claims::dismiss_merge_review(&state, &admin, id, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "This is me": claim an unowned profile whose e-mail is your verified
/// address.
#[utoipa::path(post, path = "/api/v1/researchers/{id}/claim", tag = "consulting", request_body = ClaimBody,
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ResearcherView), (status = 401, body = ErrorBody),
              (status = 403, description = "`address_mismatch`: ask an admin with a claim request", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "`already_claimed`, `already_linked` or `admin_account`", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppPath(rid): AppPath<ResearcherId>,
    AppJson(body): AppJson<ClaimBody>,
) -> AppResult<Json<ResearcherView>> {
    claims::self_claim(&state, &who, rid, body.accept_terms, ip).await?;
    Ok(Json(researchers::get(&state, Some(&who), rid).await?))
}

/// Ask an admin to give you this profile, with a message.
#[utoipa::path(post, path = "/api/v1/researchers/{id}/claim-requests", tag = "consulting", request_body = ClaimRequestBody,
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 201, body = ClaimRequestView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`already_requested`, `already_linked`, `yours` or `too_many_requests`", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn claim_request(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ResearcherId>,
    AppJson(body): AppJson<ClaimRequestBody>,
) -> AppResult<(StatusCode, Json<ClaimRequestView>)> {
    let view = claims::request_claim(&state, &who, id, body.message, ip).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Claim requests, newest first (admins).
#[utoipa::path(get, path = "/api/v1/admin/claim-requests", tag = "admin", params(ClaimListParams), security(("bearer" = [])),
    responses((status = 200, body = Vec<ClaimRequestView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn claim_requests(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    AppQuery(p): AppQuery<ClaimListParams>,
) -> AppResult<Json<Vec<ClaimRequestView>>> {
    Ok(Json(claims::list_requests(&state, &admin, p.status).await?))
}

/// Approve a claim request: the requester owns the profile (admins; audited).
#[utoipa::path(post, path = "/api/v1/admin/claim-requests/{id}/approve", tag = "admin", params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = ClaimRequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`already_decided` or `already_linked`", body = ErrorBody)))]
pub async fn claim_request_approve(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ClaimRequestId>,
) -> AppResult<Json<ClaimRequestView>> {
    Ok(Json(
        claims::decide_request(&state, &admin, id, true, ip).await?,
    ))
}

/// Refuse a claim request (admins; audited).
#[utoipa::path(post, path = "/api/v1/admin/claim-requests/{id}/refuse", tag = "admin", params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = ClaimRequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`already_decided`", body = ErrorBody)))]
pub async fn claim_request_refuse(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ClaimRequestId>,
) -> AppResult<Json<ClaimRequestView>> {
    Ok(Json(
        claims::decide_request(&state, &admin, id, false, ip).await?,
    ))
}
