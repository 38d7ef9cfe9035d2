//! The researcher's public page: profile, rating, papers, a slot picker in
//! the viewer's time zone and the booking form.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::form::PageForm;
use super::outcome::flash_outcome;
use super::PageError;
use crate::domain::availability::local_instant;
use crate::domain::{PaperId, ResearcherId};
use crate::error::AppError;
use crate::http::extractors::{AppPath, AppQuery, ClientIp};
use crate::services::researchers::{self, ResearcherView};
use crate::services::sessions::booking::{self, BookRequest};
use crate::services::sessions::settings::{self, BookingInfo};
use crate::state::AppState;

/// One bookable start, as the viewer reads it.
pub struct SlotOption {
    /// RFC 3339 UTC, submitted with the form.
    pub value: String,
    /// e.g. "09:00–10:00".
    pub label: String,
}

/// The slots of one day in the viewer's zone.
pub struct DayGroup {
    pub label: String,
    pub slots: Vec<SlotOption>,
}

/// The picker: a week of slots in the viewer's zone.
pub struct Picker {
    pub days: Vec<DayGroup>,
    pub duration: i64,
    pub durations: Vec<i64>,
    pub week: String,
    pub prev_week: Option<String>,
    pub next_week: String,
    pub zone: String,
    pub zones: &'static [Tz],
    pub price: String,
}

#[derive(Template)]
#[template(path = "pages/researcher.html")]
pub struct ResearcherPage {
    pub layout: Layout,
    pub r: ResearcherView,
    pub info: BookingInfo,
    pub picker: Option<Picker>,
    pub can_manage: bool,
    /// The viewer owns this profile: no booking form, but "Edit
    /// availability" and a preview of what readers see.
    pub own: bool,
    pub next: String,
    /// "This is me" / "ask to claim" for a signed-in viewer.
    pub claim: crate::services::claims::ClaimOptions,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickerQuery {
    /// First day shown (YYYY-MM-DD in the viewer's zone).
    pub week: Option<String>,
    pub duration: Option<i64>,
    pub tz: Option<String>,
}

#[derive(Deserialize)]
pub struct BookForm {
    pub csrf_token: String,
    pub start: Option<String>,
    pub duration: i64,
    pub topic: String,
    pub paper_id: Option<String>,
}

/// "Free", or the price with its currency.
pub fn price_label(minor: i64, currency: &str) -> String {
    if minor == 0 {
        "Free".into()
    } else {
        format!(
            "{} per session",
            crate::domain::money::format(minor, currency)
        )
    }
}

async fn picker(
    state: &AppState,
    id: ResearcherId,
    info: &BookingInfo,
    q: &PickerQuery,
    zone: Tz,
) -> Result<Picker, PageError> {
    let now = state.now();
    let today = now.with_timezone(&zone).date_naive();
    let week = q
        .week
        .as_deref()
        .and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok())
        .filter(|d| *d >= today)
        .unwrap_or(today);
    let durations = info.settings.durations.clone();
    let duration = q
        .duration
        .filter(|d| durations.contains(d))
        .or_else(|| durations.first().copied())
        .unwrap_or(60);
    let from = local_instant(zone, week, 0, false).max(now);
    let to = local_instant(zone, week + Duration::days(7), 0, false);
    let slots = settings::slots(state, id, from, to, Some(duration)).await?;
    let mut days: Vec<DayGroup> = Vec::new();
    for s in slots {
        let start = s.start.with_timezone(&zone);
        let label = start.format("%A %-d %B").to_string();
        let option = SlotOption {
            value: s.start.to_rfc3339(),
            label: format!(
                "{}–{}",
                start.format("%H:%M"),
                s.end.with_timezone(&zone).format("%H:%M")
            ),
        };
        match days.last_mut() {
            Some(d) if d.label == label => d.slots.push(option),
            _ => days.push(DayGroup {
                label,
                slots: vec![option],
            }),
        }
    }
    Ok(Picker {
        days,
        duration,
        durations,
        week: week.to_string(),
        prev_week: (week > today).then(|| (week - Duration::days(7)).max(today).to_string()),
        next_week: (week + Duration::days(7)).to_string(),
        zone: zone.name().to_string(),
        zones: &chrono_tz::TZ_VARIANTS,
        price: price_label(info.settings.price_minor, &info.settings.currency),
    })
}

pub async fn researcher_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ResearcherId>,
    AppQuery(q): AppQuery<PickerQuery>,
) -> Result<Response, PageError> {
    let next = format!("/researchers/{id}");
    let who = viewer
        .session
        .as_ref()
        .map(|_| viewer.require(&next))
        .transpose()?;
    let r = researchers::get(&state, who.as_ref(), id).await?;
    let info = settings::booking_info(&state, id).await?;
    let zone = viewer.zone(q.tz.as_deref());
    let picker = if info.registered && info.has_availability {
        Some(picker(&state, id, &info, &q, zone).await?)
    } else {
        None
    };
    let own = who.as_ref().is_some_and(|w| info.owner == Some(w.user_id));
    let can_manage = own || who.as_ref().is_some_and(|w| w.is_admin());
    let claim = match &who {
        Some(w) => crate::services::claims::options(&state, w, id).await?,
        None => Default::default(),
    };
    Ok(render(&ResearcherPage {
        layout: viewer.layout(r.name.clone()),
        r,
        info,
        picker,
        can_manage,
        own,
        next,
        claim,
    }))
}

pub async fn book_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ResearcherId>,
    PageForm(f): PageForm<BookForm>,
) -> Result<Response, PageError> {
    let back = format!("/researchers/{id}?duration={}", f.duration);
    let who = viewer.require(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let Some(start) = f
        .start
        .as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    else {
        return Ok(redirect_with_flash(
            &state,
            &back,
            "error",
            "Pick one of the free times first.",
        ));
    };
    let paper_id = f
        .paper_id
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<i64>().map(PaperId))
        .transpose()
        .map_err(|_| AppError::field("paper_id", "is not a paper"))?;
    let req = BookRequest {
        researcher_id: id,
        start: start.with_timezone(&Utc),
        duration_minutes: f.duration,
        topic: f.topic,
        paper_id,
        query_id: None,
    };
    match booking::book(&state, &who, req, None).await {
        Ok(b) => Ok(super::outcome::mail_outcome(
            &state,
            &format!("/sessions/{}", b.session.id),
            crate::services::mail::delivery(&state),
            false,
            "Your request is on its way. You will get an e-mail when the researcher answers.",
            "Your request is made. E-mail is held on this server until an admin sends it, so watch this page for the researcher's answer.",
        )),
        Err(e) => super::outcome::flash_failure(&state, &back, e),
    }
}

#[derive(Deserialize)]
pub struct ClaimForm {
    pub csrf_token: String,
    pub accept_terms: Option<String>,
}

#[derive(Deserialize)]
pub struct ClaimRequestForm {
    pub csrf_token: String,
    pub message: String,
}

/// "This is me" on a researcher's page.
pub async fn claim_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ResearcherId>,
    PageForm(f): PageForm<ClaimForm>,
) -> Result<Response, PageError> {
    let back = format!("/researchers/{id}");
    let who = viewer.require(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    match crate::services::claims::self_claim(&state, &who, id, f.accept_terms.is_some(), ip).await
    {
        Ok(()) => Ok(redirect_with_flash(
            &state,
            &format!("/researchers/{id}/availability"),
            "success",
            "The profile is yours. Publish the times readers may book you.",
        )),
        Err(e) => super::outcome::flash_failure(&state, &back, e),
    }
}

/// "Ask to claim this profile": an admin decides.
pub async fn claim_request_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ResearcherId>,
    PageForm(f): PageForm<ClaimRequestForm>,
) -> Result<Response, PageError> {
    let back = format!("/researchers/{id}");
    let who = viewer.require(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let message = Some(f.message).filter(|m| !m.trim().is_empty());
    let r = crate::services::claims::request_claim(&state, &who, id, message, ip).await;
    flash_outcome(
        &state,
        &back,
        r.map(|_| "Your request is with the admins; they will decide."),
    )
}
