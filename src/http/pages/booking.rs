//! The researcher's public page: profile, rating, papers, a slot picker in
//! the viewer's time zone and the booking form (its claim forms are
//! handled in `researcher_claims`).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::context::{render, Layout, Viewer};
use super::form::PageForm;
use super::form_errors::{FormErrors, Labels};
use super::zones::ZoneField;
use super::PageError;
use crate::domain::availability::local_instant;
use crate::domain::zone;
use crate::domain::{PaperId, ResearcherId};
use crate::http::extractors::{AppPath, AppQuery};
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
    /// `zone` for a query string ("Etc/GMT+1" keeps its plus).
    pub zone_query: String,
    pub zone_field: ZoneField,
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
    /// What the booking and claim forms show: empty, or as typed.
    pub typed: Typed,
    /// A failed form: `"book"`, `"claim"`, `"claim_request"`, `"reply"` or
    /// `"report"` (with `typed.review_id`).
    pub errors: FormErrors,
    /// Published reviews with their summary, answer and report forms.
    pub reviews: super::review_sections::ProfileReviews,
}

/// The researcher page's forms as the viewer filled them.
#[derive(Default)]
pub struct Typed {
    /// The chosen slot (RFC 3339), checked again in the picker.
    pub start: String,
    pub topic: String,
    pub paper_id: String,
    pub claim_message: String,
    pub accepted: bool,
    /// The review whose answer or report form failed, and its text.
    pub review_id: Option<crate::domain::ReviewId>,
    pub review_text: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PickerQuery {
    /// First day shown (YYYY-MM-DD in the viewer's zone).
    pub week: Option<String>,
    pub duration: Option<i64>,
    pub tz: Option<String>,
    /// Where the list of reviews continues (a cursor).
    pub reviews: Option<String>,
}

#[derive(Deserialize)]
pub struct BookForm {
    pub csrf_token: String,
    pub start: Option<String>,
    pub duration: i64,
    #[serde(default)]
    pub topic: String,
    pub paper_id: Option<String>,
    /// The zone and week the picker showed, to show them again.
    pub tz: Option<String>,
    pub week: Option<String>,
}

fn query_value(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

const BOOK_LABELS: Labels = &[
    ("start", "The time"),
    ("topic", "The topic"),
    ("paper_id", "The paper"),
];

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
    tz: Tz,
) -> Result<Picker, PageError> {
    let now = state.now();
    let today = now.with_timezone(&tz).date_naive();
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
    let from = local_instant(tz, week, 0, false).max(now);
    let to = local_instant(tz, week + Duration::days(7), 0, false);
    let slots = settings::slots(state, id, from, to, Some(duration)).await?;
    let mut days: Vec<DayGroup> = Vec::new();
    for s in slots {
        let label = zone::day(s.start, tz);
        let option = SlotOption {
            value: s.start.to_rfc3339(),
            label: zone::hours(s.start, s.end, tz),
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
        zone: tz.name().to_string(),
        zone_query: query_value(tz.name()),
        zone_field: ZoneField::new("Times shown in", tz.name()).named("tz", "slot-zone"),
        price: price_label(info.settings.price_minor, &info.settings.currency),
    })
}

pub async fn researcher_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ResearcherId>,
    AppQuery(q): AppQuery<PickerQuery>,
) -> Result<Response, PageError> {
    let page = researcher_page(
        &state,
        &viewer,
        id,
        &q,
        Typed::default(),
        FormErrors::default(),
    );
    Ok(render(&page.await?))
}

/// The public profile with the picker for `q`, its forms filled with `typed`.
async fn researcher_page(
    state: &AppState,
    viewer: &Viewer,
    id: ResearcherId,
    q: &PickerQuery,
    typed: Typed,
    errors: FormErrors,
) -> Result<ResearcherPage, PageError> {
    let next = format!("/researchers/{id}");
    let who = viewer.session;
    let r = researchers::get(state, who.as_ref(), id).await?;
    let info = settings::booking_info(state, id).await?;
    let zone = viewer.zone(q.tz.as_deref());
    let picker = if info.registered && info.has_availability {
        Some(picker(state, id, &info, q, zone).await?)
    } else {
        None
    };
    let own = who.as_ref().is_some_and(|w| info.owner == Some(w.user_id));
    let can_manage = own || who.as_ref().is_some_and(|w| w.is_admin());
    let claim = match &who {
        Some(w) => crate::services::claims::options(state, w, id).await?,
        None => Default::default(),
    };
    let reviews =
        super::review_sections::ProfileReviews::of(state, viewer, id, own, q.reviews.clone())
            .await?;
    let mut errors = errors;
    if errors.form == "book" && (picker.is_none() || info.papers.is_empty()) {
        // The booking form (or its paper list) is not on the page now.
        errors.unplace("paper_id");
        if picker.is_none() {
            errors.unplace_all();
            errors.form = "";
        }
    }
    Ok(ResearcherPage {
        layout: viewer.layout(r.name.clone()),
        r,
        info,
        picker,
        can_manage,
        own,
        next,
        claim,
        typed,
        errors,
        reviews,
    })
}

/// The page again after a failed form, with what was typed and why.
pub(super) async fn failed(
    state: &AppState,
    viewer: &Viewer,
    id: ResearcherId,
    q: &PickerQuery,
    typed: Typed,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let page = researcher_page(state, viewer, id, q, typed, errors).await?;
    Ok(page.errors.respond(&page))
}

/// Requests a session, or shows the page again with the slot, topic,
/// paper, length, zone and week kept, and every problem at once.
pub async fn book_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ResearcherId>,
    PageForm(f): PageForm<BookForm>,
) -> Result<Response, PageError> {
    let browsed = viewer.zone(f.tz.as_deref());
    let back = format!(
        "/researchers/{id}?duration={}&tz={}",
        f.duration,
        query_value(browsed.name())
    );
    let who = viewer.require(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let q = PickerQuery {
        week: f.week.clone(),
        duration: Some(f.duration),
        tz: f.picked_zone(),
        reviews: None,
    };
    let typed = Typed {
        start: f.start.clone().unwrap_or_default(),
        topic: f.topic.clone(),
        paper_id: f.paper_id.clone().unwrap_or_default(),
        ..Typed::default()
    };
    let mut errors = FormErrors::new("book");
    let start = f
        .start
        .as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    if start.is_none() {
        errors.add("start", "Pick one of the free times first.");
    }
    let paper_id = match f.paper_id.as_deref().filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => p
            .parse::<i64>()
            .map(PaperId)
            .map_err(|_| {
                errors.add(
                    "paper_id",
                    "The paper is not one of this researcher's papers.",
                )
            })
            .ok(),
    };
    let Some(start) = start.filter(|_| !errors.failed()) else {
        if let Err(e) = booking::check_topic(&f.topic) {
            errors.absorb(e, BOOK_LABELS)?;
        }
        return failed(&state, &viewer, id, &q, typed, errors).await;
    };
    let start = start.with_timezone(&Utc);
    let req = BookRequest {
        researcher_id: id,
        start,
        duration_minutes: f.duration,
        topic: f.topic,
        paper_id,
        query_id: None,
    };
    match booking::book(&state, &who, req, None).await {
        Ok(b) => {
            let picked = zone::local_named(start, browsed);
            Ok(super::outcome::mail_outcome(
            &state,
            &format!("/sessions/{}", b.session.id),
            crate::services::mail::delivery(&state),
            false,
            &format!(
                "Your request is on its way. You will get an e-mail when the researcher answers. You picked {picked}."
            ),
            &format!(
                "Your request is made. E-mail is held on this server until an admin sends it, so watch this page for the researcher's answer. You picked {picked}."
            ),
        ))
        }
        Err(e) => {
            errors.absorb(e, BOOK_LABELS)?;
            failed(&state, &viewer, id, &q, typed, errors).await
        }
    }
}

impl BookForm {
    /// The zone the picker showed, if it names one.
    fn picked_zone(&self) -> Option<String> {
        self.tz.clone().filter(|z| !z.trim().is_empty())
    }
}
