//! `/api/v1/dashboard/user`, `/api/v1/dashboard/researcher` and
//! `/api/v1/admin/analytics`: each role's figures
//! (`services::analytics`), cached until a write changes them.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{AppError, AppResult};
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AdminUser, AppQuery, AuthUser};
use crate::services::analytics::{
    self, cache, AdminAnalytics, Bucket, ResearcherDashboard, UserDashboard,
};
use crate::state::AppState;

/// Your home figures: sessions coming up and awaiting an answer, reviews
/// to write, spending by month (per currency), your plan and invitations.
#[utoipa::path(get, path = "/api/v1/dashboard/user", tag = "users",
    security(("bearer" = [])),
    responses((status = 200, body = UserDashboard), (status = 401, body = ErrorBody)))]
pub async fn user(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> AppResult<Json<UserDashboard>> {
    Ok(Json((*cache::user_dashboard(&state, &who).await?).clone()))
}

/// A researcher's home figures: requests to answer, sessions coming up,
/// earnings by month, rating, acceptance rate, median response time,
/// profile completeness and demand. For accounts with a linked profile.
#[utoipa::path(get, path = "/api/v1/dashboard/researcher", tag = "users",
    security(("bearer" = [])),
    responses((status = 200, body = ResearcherDashboard), (status = 401, body = ErrorBody),
              (status = 403, description = "`no_researcher_profile`: the account has no linked researcher profile", body = ErrorBody)))]
pub async fn researcher(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> AppResult<Json<ResearcherDashboard>> {
    Ok(Json(
        (*cache::researcher_dashboard(&state, &who).await?).clone(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsParams {
    /// First day (`YYYY-MM-DD`, or an RFC 3339 time: its date in the
    /// institution's zone). Default: twelve weeks before `to`. The first
    /// bucket starts at the start of its day, week or month.
    pub from: Option<String>,
    /// The day after the last one counted (exclusive). Default: tomorrow.
    pub to: Option<String>,
    /// `day`, `week` (from Monday; default) or `month`.
    #[param(inline, value_type = Option<crate::domain::api_schema::BucketName>)]
    pub bucket: Option<String>,
}

/// Service analytics for admins: sessions, subscriptions, payments (per
/// currency), the researcher funnel, provider spend and engagement, each
/// series with one point per bucket (empty buckets included), buckets in
/// `[institution] timezone`.
#[utoipa::path(get, path = "/api/v1/admin/analytics", tag = "admin", params(AnalyticsParams),
    security(("bearer" = [])),
    responses((status = 200, body = AdminAnalytics), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, description = "A date that does not parse, `to` not after `from`, an unknown bucket or more than 1,830 buckets", body = ErrorBody)))]
pub async fn admin(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    AppQuery(p): AppQuery<AnalyticsParams>,
) -> AppResult<Json<AdminAnalytics>> {
    let a = admin_figures(
        &state,
        p.from.as_deref(),
        p.to.as_deref(),
        p.bucket.as_deref(),
    )
    .await?;
    Ok(Json((*a).clone()))
}

/// Checks the query and answers the (cached) analytics.
pub async fn admin_figures(
    state: &AppState,
    from: Option<&str>,
    to: Option<&str>,
    bucket: Option<&str>,
) -> AppResult<std::sync::Arc<AdminAnalytics>> {
    let bucket = Bucket::parse(bucket).map_err(|m| AppError::field("bucket", m))?;
    let tz = state.config.institution.zone();
    let (from, to) = analytics::range(from, to, tz, analytics::admin::today(state))?;
    cache::admin_analytics(state, from, to, bucket).await
}
