//! Reviews: writing, editing, answering and reporting them, the public
//! list with its summary, the moderators' queue and decisions, figures,
//! and the review e-mails an account gets.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::{ResearcherId, ReviewId};
use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AdminUser, AppJson, AppPath, AppQuery, AuthUser};
use crate::pagination::{Page, PageParams};
use crate::services::reviews::analytics::{self, ReviewAnalytics};
use crate::services::reviews::answers;
use crate::services::reviews::moderation::{self, Decision, QueueItem};
use crate::services::reviews::write::{self, NewReviewBody, ReviewPatch};
use crate::services::reviews::{self, ReviewList, ReviewView};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    /// 1 to 2,000 characters after trimming (control characters are dropped).
    #[schema(value_type = crate::domain::api_schema::VisibleText)]
    pub text: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// What is wrong with the review (1 to 500 characters, one line).
    #[schema(value_type = crate::domain::api_schema::TextLine)]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReportAnswer {
    /// Always `received`.
    pub status: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueParams {
    /// `held` (default; also published reviews whose answer is held),
    /// `reported` (published, with open reports), `published`, `hidden`,
    /// `removed` or `all`.
    #[param(inline, value_type = Option<crate::domain::api_schema::ReviewFilter>)]
    pub status: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// Which review e-mails an account gets.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewMail {
    /// A researcher: an e-mail for each new published review of them.
    pub new_reviews: bool,
    /// A reader: one reminder to review each completed session.
    pub reminders: bool,
}

/// Review a completed session (its reader; with `[reviews] two_way` also
/// its researcher, who rates the reader).
#[utoipa::path(post, path = "/api/v1/consulting/reviews", tag = "reviews", request_body = NewReviewBody,
    security(("bearer" = [])),
    responses((status = 201, description = "`status` is `published`, or `held` for moderation", body = ReviewView),
              (status = 401, body = ErrorBody),
              (status = 403, description = "Not the session's reader", body = ErrorBody),
              (status = 404, description = "Unknown or foreign session", body = ErrorBody),
              (status = 409, description = "`session_not_completed`, `already_reviewed` or `review_window_closed`", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppJson(body): AppJson<NewReviewBody>,
) -> AppResult<(StatusCode, Json<ReviewView>)> {
    let view = write::create(&state, &who, body).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One review: published ones for anyone signed in; held, hidden or
/// removed ones only for their author and admins.
#[utoipa::path(get, path = "/api/v1/consulting/reviews/{id}", tag = "reviews", params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = ReviewView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ReviewId>,
) -> AppResult<Json<ReviewView>> {
    Ok(Json(write::get(&state, &who, id).await?))
}

/// Edit my review within `[reviews] edit_hours`; the hold rules run again.
#[utoipa::path(patch, path = "/api/v1/consulting/reviews/{id}", tag = "reviews", params(("id" = i64, Path)),
    request_body = ReviewPatch, security(("bearer" = [])),
    responses((status = 200, body = ReviewView), (status = 401, body = ErrorBody),
              (status = 403, description = "Not the author", body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`edit_window_closed` or `review_not_editable`", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ReviewId>,
    AppJson(patch): AppJson<ReviewPatch>,
) -> AppResult<Json<ReviewView>> {
    Ok(Json(write::edit(&state, &who, id, patch).await?))
}

/// The researcher's one answer to a published review of them; held by the
/// same rules as reviews.
#[utoipa::path(post, path = "/api/v1/consulting/reviews/{id}/reply", tag = "reviews", params(("id" = i64, Path)),
    request_body = ReplyBody, security(("bearer" = [])),
    responses((status = 201, body = ReviewView), (status = 401, body = ErrorBody),
              (status = 403, description = "Not the reviewed researcher", body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`already_answered`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reply(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ReviewId>,
    AppJson(body): AppJson<ReplyBody>,
) -> AppResult<(StatusCode, Json<ReviewView>)> {
    let view = answers::reply(&state, &who, id, &body.text).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Report a published review; after `[reviews] reports_to_hold` distinct
/// reports it is held for moderation.
#[utoipa::path(post, path = "/api/v1/consulting/reviews/{id}/report", tag = "reviews", params(("id" = i64, Path)),
    request_body = ReportBody, security(("bearer" = [])),
    responses((status = 202, body = ReportAnswer), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`already_reported` or `own_review`", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ReviewId>,
    AppJson(body): AppJson<ReportBody>,
) -> AppResult<(StatusCode, Json<ReportAnswer>)> {
    answers::report(&state, &who, id, &body.reason).await?;
    let answer = ReportAnswer {
        status: "received".into(),
    };
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// A researcher's published reviews, newest first, with their summary
/// (public). Reviewers are shown as "Ada L.".
#[utoipa::path(get, path = "/api/v1/consulting/researchers/{researcher_id}/reviews", tag = "reviews",
    params(("researcher_id" = i64, Path), ListParams),
    responses((status = 200, body = ReviewList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn researcher_reviews(
    State(state): State<AppState>,
    AppPath(id): AppPath<ResearcherId>,
    AppQuery(p): AppQuery<ListParams>,
) -> AppResult<Json<ReviewList>> {
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    Ok(Json(reviews::list_public(&state, id, &page).await?))
}

/// A researcher's review figures (the researcher or admins).
#[utoipa::path(get, path = "/api/v1/consulting/researchers/{researcher_id}/reviews/analytics", tag = "reviews",
    params(("researcher_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ReviewAnalytics), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn researcher_analytics(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ResearcherId>,
) -> AppResult<Json<ReviewAnalytics>> {
    Ok(Json(analytics::for_researcher(&state, &who, id).await?))
}

/// The moderation queue (admins).
#[utoipa::path(get, path = "/api/v1/admin/reviews", tag = "admin", params(QueueParams), security(("bearer" = [])),
    responses((status = 200, body = Page<QueueItem>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    AppQuery(p): AppQuery<QueueParams>,
) -> AppResult<Json<Page<QueueItem>>> {
    let filter = moderation::parse_filter(p.status.as_deref())?;
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    Ok(Json(
        moderation::queue(&state, &admin, filter, &page).await?,
    ))
}

/// Publish, hide or remove a review or its answer (admins; audited; the
/// author of a held review is told).
#[utoipa::path(post, path = "/api/v1/admin/reviews/{id}/moderate", tag = "admin", params(("id" = i64, Path)),
    request_body = Decision, security(("bearer" = [])),
    responses((status = 200, body = QueueItem), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "`illegal_moderation` or `no_answer`", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn moderate(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    AppPath(id): AppPath<ReviewId>,
    AppJson(d): AppJson<Decision>,
) -> AppResult<Json<QueueItem>> {
    Ok(Json(moderation::moderate(&state, &admin, id, d).await?))
}

/// Review figures over all researchers (admins).
#[utoipa::path(get, path = "/api/v1/admin/reviews/analytics", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = ReviewAnalytics), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn admin_analytics(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
) -> AppResult<Json<ReviewAnalytics>> {
    Ok(Json(analytics::overall(&state, &admin).await?))
}

/// Which review e-mails I get.
#[utoipa::path(get, path = "/api/v1/users/me/review-mail", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = ReviewMail), (status = 401, body = ErrorBody)))]
pub async fn mail_get(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> AppResult<Json<ReviewMail>> {
    let (new_reviews, reminders) = reviews::mail_prefs(&state, &who).await?;
    Ok(Json(ReviewMail {
        new_reviews,
        reminders,
    }))
}

/// Turn review e-mails on or off.
#[utoipa::path(put, path = "/api/v1/users/me/review-mail", tag = "users", request_body = ReviewMail,
    security(("bearer" = [])),
    responses((status = 200, body = ReviewMail), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mail_put(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppJson(body): AppJson<ReviewMail>,
) -> AppResult<Json<ReviewMail>> {
    reviews::set_mail_prefs(&state, &who, body.new_reviews, body.reminders).await?;
    Ok(Json(body))
}
