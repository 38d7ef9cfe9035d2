//! `/api/v1/consulting/disputes`: participants open disputes of their
//! sessions, read them, write messages, withdraw their own and contest a
//! no-show claim against them. The admin side is `admin_disputes`.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::domain::{ConsultingSessionId, DisputeId, ReviewId};
use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AppJson, AppPath, AppQuery, AuthUser, OptionalJson};
use crate::pagination::{Page, PageParams};
use crate::services::disputes::open::{self, OpenRequest, Opened};
use crate::services::disputes::{self, messages, moves, DisputeView, MessageView};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    #[schema(value_type = i64)]
    pub session_id: ConsultingSessionId,
    /// `no_show`, `quality`, `billing` or `review`.
    pub kind: String,
    /// The disputed review: required for, and only for, kind `review`.
    #[schema(value_type = Option<i64>)]
    pub review_id: Option<ReviewId>,
    /// 1 to 4000 characters (control characters are dropped).
    pub description: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// 1 to 4000 characters (control characters are dropped).
    #[schema(value_type = crate::domain::api_schema::VisibleText)]
    pub text: String,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ContestBody {
    /// Why the claim is wrong (optional; kept as a message).
    pub text: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DisputeListParams {
    /// `open`, `awaiting_response`, `under_review`, `resolved`,
    /// `withdrawn`, or `active` for the first three.
    #[param(inline, value_type = Option<crate::domain::api_schema::DisputeFilter>)]
    pub status: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

impl DisputeListParams {
    pub fn page(&self) -> PageParams {
        PageParams {
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
    }
}

/// Open a dispute of a session I take part in. The other participant is
/// told by e-mail at once and may answer for `[disputes] response_days`
/// (`no_show_response_hours` for a no-show claim).
#[utoipa::path(post, path = "/api/v1/consulting/disputes", tag = "consulting", request_body = OpenBody,
    security(("bearer" = [])),
    responses((status = 201, body = Opened),
              (status = 403, description = "`not_a_participant`: admins are not parties", body = ErrorBody),
              (status = 404, description = "Unknown session, or not mine", body = ErrorBody),
              (status = 409, description = "`dispute_open`, `dispute_window_closed`, `session_not_disputable` or `too_early_for_no_show`", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn open_post(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppJson(b): AppJson<OpenBody>,
) -> AppResult<Response> {
    let req = OpenRequest {
        session_id: b.session_id,
        kind: b.kind,
        review_id: b.review_id,
        description: b.description,
    };
    let opened = open::open(&state, &who, req).await?;
    let location = format!("/api/v1/consulting/disputes/{}", opened.id);
    let mut resp = (StatusCode::CREATED, Json(opened)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Disputes of the sessions I take part in, newest first.
#[utoipa::path(get, path = "/api/v1/consulting/disputes", tag = "consulting", params(DisputeListParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<DisputeView>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppQuery(p): AppQuery<DisputeListParams>,
) -> AppResult<Json<Page<DisputeView>>> {
    Ok(Json(
        disputes::list_mine(&state, &who, p.status.as_deref(), &p.page()).await?,
    ))
}

/// One dispute with its messages (its participants and admins).
#[utoipa::path(get, path = "/api/v1/consulting/disputes/{dispute_id}", tag = "consulting",
    params(("dispute_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DisputeView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<DisputeId>,
) -> AppResult<Json<DisputeView>> {
    Ok(Json(disputes::get(&state, &who, id).await?))
}

/// Write in a dispute (its participants and admins). The other
/// participant's first message is their answer: an admin then reviews it.
#[utoipa::path(post, path = "/api/v1/consulting/disputes/{dispute_id}/messages", tag = "consulting",
    params(("dispute_id" = i64, Path)), request_body = MessageBody, security(("bearer" = [])),
    responses((status = 201, body = MessageView), (status = 404, body = ErrorBody),
              (status = 409, description = "`dispute_closed`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn message_post(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<DisputeId>,
    AppJson(b): AppJson<MessageBody>,
) -> AppResult<(StatusCode, Json<MessageView>)> {
    let m = messages::post(&state, &who, id, &b.text).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// Withdraw a dispute I opened, while it is not resolved.
#[utoipa::path(post, path = "/api/v1/consulting/disputes/{dispute_id}/withdraw", tag = "consulting",
    params(("dispute_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = DisputeView), (status = 404, body = ErrorBody),
              (status = 409, description = "`dispute_closed` or `not_the_opener`", body = ErrorBody)))]
pub async fn withdraw(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<DisputeId>,
) -> AppResult<Json<DisputeView>> {
    Ok(Json(moves::withdraw(&state, &who, id).await?))
}

/// Contest a no-show claim against me before it stands; an admin decides.
#[utoipa::path(post, path = "/api/v1/consulting/disputes/{dispute_id}/contest", tag = "consulting",
    params(("dispute_id" = i64, Path)), request_body = ContestBody, security(("bearer" = [])),
    responses((status = 200, body = DisputeView), (status = 404, body = ErrorBody),
              (status = 409, description = "`dispute_closed`, `not_a_no_show_claim`, `not_the_other_party` or `already_under_review`", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn contest(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<DisputeId>,
    OptionalJson(b): OptionalJson<ContestBody>,
) -> AppResult<Json<DisputeView>> {
    Ok(Json(
        moves::contest(&state, &who, id, b.text.as_deref()).await?,
    ))
}
