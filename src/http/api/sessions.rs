//! `/api/v1/consulting/sessions`: book, list, read and move sessions
//! through their lifecycle.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::availability::parse_time;
use crate::domain::{ConsultingSessionId, PaperId, QueryId, ResearcherId};
use crate::error::{AppError, AppResult};
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AppJson, AppPath, AppQuery, AuthUser, OptionalJson};
use crate::pagination::{Page, PageParams};
use crate::services::accounts::Principal;
use crate::services::disputes::no_show::{self, NoShowAnswer};
use crate::services::sessions::actions::{self, Action};
use crate::services::sessions::booking::{self, BookRequest};
use crate::services::sessions::{self, ListQuery, Party, SessionDetail, SessionView};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookBody {
    pub researcher_id: ResearcherId,
    /// RFC 3339 start, one of the free slots.
    #[schema(format = DateTime)]
    pub start: String,
    pub duration_minutes: i64,
    /// What the reader wants to discuss.
    #[schema(value_type = crate::domain::api_schema::TextBlock)]
    pub topic: String,
    pub paper_id: Option<PaperId>,
    /// A question of the reader's to answer in the session.
    pub query_id: Option<QueryId>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SessionListParams {
    /// Only sessions with this status.
    #[param(inline, value_type = Option<crate::domain::status::SessionStatus>)]
    pub status: Option<String>,
    /// Sessions ending after this time (RFC 3339).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Sessions starting before this time (RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Admins: every session, not only their own.
    pub all: Option<bool>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    #[schema(value_type = Option<crate::domain::api_schema::OptionalTextBlock>)]
    pub reason: Option<String>,
}

/// A cancellation: the reason is required (the other participant reads it).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    #[schema(required = true, value_type = crate::domain::api_schema::TextBlock)]
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleBody {
    /// The proposed new start (RFC 3339), one of the free slots.
    #[schema(format = DateTime)]
    pub start: String,
    /// Default: the current length.
    pub duration_minutes: Option<i64>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NoShowBody {
    /// Who did not come: `reader` or `researcher`. Participants report the
    /// other one (the default); admins must say.
    #[schema(value_type = Option<crate::domain::api_schema::NoShowParty>)]
    pub party: Option<String>,
}

/// Book a session. With an `Idempotency-Key` header, repeating the same
/// request answers the same session (header `Idempotent-Replayed: true`).
#[utoipa::path(post, path = "/api/v1/consulting/sessions", tag = "consulting", request_body = BookBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    security(("bearer" = [])),
    responses((status = 201, body = SessionView), (status = 409, description = "The slot is taken or the researcher is not bookable", body = ErrorBody),
              (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "`rate_limited`, or `too_many_unpaid_requests`: the reader already has `[payments] max_unpaid_requests` priced requests waiting for payment; `Retry-After` says when the first lapses")))]
pub async fn book(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    headers: HeaderMap,
    AppJson(body): AppJson<BookBody>,
) -> AppResult<Response> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| AppError::field("Idempotency-Key", "must be printable ASCII"))?
                .to_string(),
        ),
        None => None,
    };
    let req = BookRequest {
        researcher_id: body.researcher_id,
        start: parse_time("start", &body.start)?,
        duration_minutes: body.duration_minutes,
        topic: body.topic,
        paper_id: body.paper_id,
        query_id: body.query_id,
    };
    let booked = booking::book(&state, &who, req, key).await?;
    let location = format!("/api/v1/consulting/sessions/{}", booked.session.id);
    let mut resp = (StatusCode::CREATED, Json(booked.session)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    if booked.replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// My sessions as reader or researcher (all for admins with `all=true`), newest first.
#[utoipa::path(get, path = "/api/v1/consulting/sessions", tag = "consulting", params(SessionListParams),
    security(("bearer" = [])), responses((status = 200, body = Page<SessionView>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppQuery(p): AppQuery<SessionListParams>,
) -> AppResult<Json<Page<SessionView>>> {
    let q = ListQuery {
        status: p.status,
        from: p
            .from
            .as_deref()
            .map(|f| parse_time("from", f))
            .transpose()?,
        to: p.to.as_deref().map(|t| parse_time("to", t)).transpose()?,
        all: p.all.unwrap_or(false),
    };
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    Ok(Json(sessions::list(&state, &who, q, &page).await?))
}

/// One session with its history (participants and admins).
#[utoipa::path(get, path = "/api/v1/consulting/sessions/{session_id}", tag = "consulting",
    params(("session_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = SessionDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ConsultingSessionId>,
) -> AppResult<Json<SessionDetail>> {
    Ok(Json(sessions::get(&state, &who, id).await?))
}

/// The session's calendar file (`text/calendar`).
#[utoipa::path(get, path = "/api/v1/consulting/sessions/{session_id}/ics", tag = "consulting",
    params(("session_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = ErrorBody),
              (status = 409, description = "Not accepted yet", body = ErrorBody)))]
pub async fn ics(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ConsultingSessionId>,
) -> AppResult<Response> {
    let body = sessions::ics(&state, &who, id).await?;
    Ok(crate::http::downloads::calendar_response(id, body))
}

async fn act(
    state: &AppState,
    who: &Principal,
    id: ConsultingSessionId,
    action: Action,
) -> AppResult<Json<SessionView>> {
    actions::act(state, who, id, action).await.map(Json)
}

/// Accept a request (the researcher): creates the video meeting and sends
/// both parties a calendar invite.
#[utoipa::path(post, path = "/api/v1/consulting/sessions/{session_id}/accept", tag = "consulting",
    params(("session_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = SessionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "Illegal transition", body = ErrorBody),
              (status = 502, description = "Video provider failed and no fallback is allowed", body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ConsultingSessionId>,
) -> AppResult<Json<SessionView>> {
    act(&state, &who, id, Action::Accept).await
}

/// Decline a request (the researcher), with an optional note.
#[utoipa::path(post, path = "/api/v1/consulting/sessions/{session_id}/decline", tag = "consulting",
    params(("session_id" = i64, Path)), request_body = ReasonBody, security(("bearer" = [])),
    responses((status = 200, body = SessionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn decline(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ConsultingSessionId>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> AppResult<Json<SessionView>> {
    let reason = body.reason;
    act(&state, &who, id, Action::Decline { reason }).await
}

/// Cancel (either participant or an admin); a reason is required.
#[utoipa::path(post, path = "/api/v1/consulting/sessions/{session_id}/cancel", tag = "consulting",
    params(("session_id" = i64, Path)), request_body = CancelBody, security(("bearer" = [])),
    responses((status = 200, body = SessionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, description = "No reason given", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ConsultingSessionId>,
    AppJson(body): AppJson<CancelBody>,
) -> AppResult<Json<SessionView>> {
    let reason = body.reason.unwrap_or_default();
    act(&state, &who, id, Action::Cancel { reason }).await
}

/// Propose a new time for an accepted session; the other party answers.
#[utoipa::path(post, path = "/api/v1/consulting/sessions/{session_id}/reschedule", tag = "consulting",
    params(("session_id" = i64, Path)), request_body = RescheduleBody, security(("bearer" = [])),
    responses((status = 200, body = SessionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn reschedule(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ConsultingSessionId>,
    AppJson(body): AppJson<RescheduleBody>,
) -> AppResult<Json<SessionView>> {
    let start = parse_time("start", &body.start)?;
    let duration_minutes = body.duration_minutes;
    act(
        &state,
        &who,
        id,
        Action::Propose {
            start,
            duration_minutes,
        },
    )
    .await
}

/// Accept the proposed new time (the other party): the session moves and
/// the old time is free again.
#[utoipa::path(post, path = "/api/v1/consulting/sessions/{session_id}/reschedule/accept", tag = "consulting",
    params(("session_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = SessionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn reschedule_accept(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ConsultingSessionId>,
) -> AppResult<Json<SessionView>> {
    act(&state, &who, id, Action::AnswerProposal(true)).await
}

/// Reject the proposed new time (the other party).
#[utoipa::path(post, path = "/api/v1/consulting/sessions/{session_id}/reschedule/reject", tag = "consulting",
    params(("session_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = SessionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn reschedule_reject(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ConsultingSessionId>,
) -> AppResult<Json<SessionView>> {
    act(&state, &who, id, Action::AnswerProposal(false)).await
}

/// Report that the other participant did not come (from 10 minutes after
/// the start until the completion grace period ends). A participant's
/// report opens a `no_show` dispute (`dispute_id`): the other side may
/// contest it for `[disputes] no_show_response_hours`; uncontested it
/// stands and the refund policy applies, contested an admin decides. An
/// admin naming the absent party records the no-show at once.
#[utoipa::path(post, path = "/api/v1/consulting/sessions/{session_id}/no-show", tag = "consulting",
    params(("session_id" = i64, Path)), request_body = NoShowBody, security(("bearer" = [])),
    responses((status = 200, body = NoShowAnswer), (status = 404, body = ErrorBody),
              (status = 409, description = "`illegal_transition`, `too_early_for_no_show`, `outside_no_show_window` or `dispute_open`", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn no_show(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ConsultingSessionId>,
    OptionalJson(body): OptionalJson<NoShowBody>,
) -> AppResult<Json<NoShowAnswer>> {
    let absent = match body.party.as_deref() {
        None => None,
        Some("reader") => Some(Party::Reader),
        Some("researcher") => Some(Party::Researcher),
        Some(_) => return Err(AppError::field("party", "must be reader or researcher")),
    };
    Ok(Json(no_show::report(&state, &who, id, absent).await?))
}
