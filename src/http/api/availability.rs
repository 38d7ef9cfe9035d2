//! `/api/v1/consulting/researchers/{researcher_id}/settings` and
//! `…/availability`: booking settings, weekly rules and exceptions, and the
//! free slots a reader can book.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::availability::Slot;
use crate::domain::ResearcherId;
use crate::error::{AppError, AppResult};
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AppJson, AppPath, AppQuery, AuthUser};
use crate::services::sessions::settings::{self, AvailabilityBody, Published, SettingsBody};
use crate::state::AppState;

/// Parses an RFC 3339 time from a request, naming the field on failure.
pub fn parse_time(field: &str, raw: &str) -> AppResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            AppError::field(
                field,
                "must be an RFC 3339 time such as 2026-03-02T09:00:00Z",
            )
        })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SlotParams {
    /// RFC 3339; default now.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339; default 14 days after `from`; at most 62 days after it.
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Session length in minutes; default the shortest offered.
    pub duration: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SlotsAnswer {
    /// Free start times (UTC), sorted.
    pub slots: Vec<Slot>,
}

/// A researcher's booking settings (defaults until they save their own).
#[utoipa::path(get, path = "/api/v1/consulting/researchers/{researcher_id}/settings", tag = "consulting",
    params(("researcher_id" = i64, Path)),
    responses((status = 200, body = SettingsBody), (status = 404, body = ErrorBody)))]
pub async fn settings_get(
    State(state): State<AppState>,
    AppPath(id): AppPath<ResearcherId>,
) -> AppResult<Json<SettingsBody>> {
    Ok(Json(settings::get_settings(&state, id).await?))
}

/// Set booking settings (the researcher or an admin).
#[utoipa::path(put, path = "/api/v1/consulting/researchers/{researcher_id}/settings", tag = "consulting",
    params(("researcher_id" = i64, Path)), request_body = SettingsBody, security(("bearer" = [])),
    responses((status = 200, body = SettingsBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn settings_put(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ResearcherId>,
    AppJson(body): AppJson<SettingsBody>,
) -> AppResult<Json<SettingsBody>> {
    Ok(Json(settings::put_settings(&state, &who, id, body).await?))
}

/// Free slots in `[from, to)` for sessions of `duration` minutes, after
/// existing sessions, buffers, notice, horizon, daily cap and exceptions.
#[utoipa::path(get, path = "/api/v1/consulting/researchers/{researcher_id}/availability", tag = "consulting",
    params(("researcher_id" = i64, Path), SlotParams),
    responses((status = 200, body = SlotsAnswer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn availability_get(
    State(state): State<AppState>,
    AppPath(id): AppPath<ResearcherId>,
    AppQuery(p): AppQuery<SlotParams>,
) -> AppResult<Json<SlotsAnswer>> {
    let from = match p.from.as_deref() {
        Some(f) => parse_time("from", f)?,
        None => state.now(),
    };
    let to = match p.to.as_deref() {
        Some(t) => parse_time("to", t)?,
        None => from + Duration::days(14),
    };
    let slots = settings::slots(&state, id, from, to, p.duration).await?;
    Ok(Json(SlotsAnswer { slots }))
}

/// Publish weekly rules and date exceptions (the researcher or an admin).
/// Replaces what was there. Windows too short for the shortest session
/// length are saved and listed in `warnings`, since no one can book them.
#[utoipa::path(put, path = "/api/v1/consulting/researchers/{researcher_id}/availability", tag = "consulting",
    params(("researcher_id" = i64, Path)), request_body = AvailabilityBody, security(("bearer" = [])),
    responses((status = 200, body = Published), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn availability_put(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<ResearcherId>,
    AppJson(body): AppJson<AvailabilityBody>,
) -> AppResult<Json<Published>> {
    Ok(Json(
        settings::put_availability(&state, &who, id, body).await?,
    ))
}

/// The weekly rules and exceptions as published.
#[utoipa::path(get, path = "/api/v1/consulting/researchers/{researcher_id}/availability/rules", tag = "consulting",
    params(("researcher_id" = i64, Path)),
    responses((status = 200, body = AvailabilityBody), (status = 404, body = ErrorBody)))]
pub async fn rules_get(
    State(state): State<AppState>,
    AppPath(id): AppPath<ResearcherId>,
) -> AppResult<Json<AvailabilityBody>> {
    Ok(Json(settings::get_availability(&state, id).await?))
}
