//! My sessions, the session page with its actions and calendar download
//! (the page behind the e-mail's accept/decline links is `session_respond`).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::booking::price_label;
use super::context::{render, Layout, Viewer};
use super::form::PageForm;
use super::form_errors::FormErrors;
use super::session_forms::{action_of, reported};
pub use super::session_forms::{ActionForm, ACTION_LABELS};
use super::PageError;
use crate::domain::dispute::DisputeKind;
use crate::domain::zone;
use crate::domain::{ConsultingSessionId, PaymentStatus, SessionStatus};
use crate::http::downloads::calendar_response;
use crate::http::extractors::AppPath;
use crate::pagination::PageParams;
use crate::services::disputes::{self, no_show, SessionDisputes};
use crate::services::sessions::actions;
use crate::services::sessions::{self, settings, HistoryEntry, ListQuery, Party, SessionView};
use crate::state::AppState;

/// A session as a row in a list, times in the viewer's zone.
pub struct SessionLine {
    pub id: ConsultingSessionId,
    pub with: String,
    pub when: String,
    pub status: SessionStatus,
    pub topic: String,
    pub actions: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/sessions.html")]
pub struct SessionsPage {
    pub layout: Layout,
    pub upcoming: Vec<SessionLine>,
    pub past: Vec<SessionLine>,
    pub zone: String,
}

#[derive(Template)]
#[template(path = "pages/session.html")]
pub struct SessionPage {
    pub layout: Layout,
    pub s: SessionView,
    pub with: String,
    /// Start to end in the viewer's zone.
    pub when: String,
    /// The same in each other participant's zone that differs.
    pub also: Vec<String>,
    pub expires: String,
    pub proposed: Option<String>,
    pub price: String,
    pub zone: String,
    pub events: Vec<(String, String, String)>,
    /// Free times for a reschedule: (value, label).
    pub reschedule_slots: Vec<(String, String)>,
    /// The payment, for the reader (priced sessions with payments on).
    pub payment: Option<crate::services::payments::PaymentSummary>,
    /// The action forms as typed; `errors.form` names the action that failed.
    pub typed: ActionForm,
    pub errors: FormErrors,
    /// The reader's review of a completed session, and whether the viewer
    /// may write or edit it ("Rate this session").
    pub review: super::review_sections::SessionReview,
    /// Two-way reviews: the reader's rating by researchers, for the
    /// researcher asked to accept (and admins).
    pub reader_rating: Option<crate::domain::rating::RatingView>,
    /// The session's disputes, and which the viewer may open.
    pub disputes: SessionDisputes,
    /// Until when a dispute may be opened, in the viewer's zone.
    pub dispute_until: Option<String>,
}

impl SessionPage {
    /// Whether the viewer may do `action` now (for the template); no
    /// second no-show report while a dispute is open.
    pub fn can(&self, action: &str) -> bool {
        can(&self.s, action) && !(action == "no_show" && self.disputes.open.is_some())
    }

    /// Whether `kind` is the kind typed into the dispute form.
    pub fn kind_typed(&self, kind: &DisputeKind) -> bool {
        self.typed.kind.as_deref() == Some(kind.as_str())
    }
}

fn can(s: &SessionView, action: &str) -> bool {
    s.actions.iter().any(|a| a == action)
}

fn other_party(s: &SessionView) -> String {
    match s.your_role {
        Party::Reader => s.researcher_name.clone(),
        Party::Researcher => s.reader_name.clone(),
        Party::Admin => format!("{} and {}", s.researcher_name, s.reader_name),
    }
}

/// The session's time for each other participant whose zone is not the
/// viewer's, so a booking never silently shows another time than the
/// researcher agreed to: "For Grace Hopper: Mon 7 December 2026,
/// 18:00–19:00 CET (Europe/Berlin)".
pub(super) fn also(s: &SessionView, viewer_zone: Tz) -> Vec<String> {
    let mut shown = vec![viewer_zone];
    let parties = [
        (
            Party::Researcher,
            &s.researcher_name,
            &s.researcher_timezone,
        ),
        (Party::Reader, &s.reader_name, &s.reader_timezone),
    ];
    parties
        .into_iter()
        .filter(|(party, ..)| *party != s.your_role)
        .filter_map(|(_, name, tz)| {
            let tz: Tz = tz.parse().ok()?;
            if shown.contains(&tz) {
                return None;
            }
            shown.push(tz);
            Some(format!(
                "For {name}: {}",
                zone::span_named(s.start, s.end, tz)
            ))
        })
        .collect()
}

fn line(s: SessionView, zone: Tz) -> SessionLine {
    SessionLine {
        id: s.id,
        with: other_party(&s),
        when: zone::local(s.start, zone),
        status: s.status,
        topic: crate::services::mail::templates::clip(&s.topic, 80),
        actions: s.actions,
    }
}

pub async fn sessions_get(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    let who = viewer.require("/sessions")?;
    let zone = viewer.zone(None);
    let page = PageParams {
        limit: Some(100),
        cursor: None,
    };
    let all = sessions::list(&state, &who, ListQuery::default(), &page).await?;
    let now = state.now();
    let (mut upcoming, past): (Vec<_>, Vec<_>) = all
        .items
        .into_iter()
        .partition(|s| s.end > now && s.status.is_live());
    upcoming.sort_by_key(|s| s.start);
    Ok(render(&SessionsPage {
        layout: viewer.layout("My sessions"),
        upcoming: upcoming.into_iter().map(|s| line(s, zone)).collect(),
        past: past.into_iter().map(|s| line(s, zone)).collect(),
        zone: zone.name().to_string(),
    }))
}

async fn reschedule_slots(state: &AppState, s: &SessionView, zone: Tz) -> Vec<(String, String)> {
    if !can(s, "reschedule") {
        return Vec::new();
    }
    let from = state.now();
    let to = from + Duration::days(28);
    match settings::slots(state, s.researcher_id, from, to, Some(s.duration_minutes)).await {
        Ok(slots) => slots
            .into_iter()
            .filter(|x| x.start != s.start)
            .take(200)
            .map(|x| (x.start.to_rfc3339(), zone::local(x.start, zone)))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "no reschedule slots");
            Vec::new()
        }
    }
}

fn events(list: Vec<HistoryEntry>, zone: Tz) -> Vec<(String, String, String)> {
    list.into_iter()
        .map(|e| {
            let at = DateTime::parse_from_rfc3339(&e.at)
                .map(|t| zone::local(t.with_timezone(&Utc), zone))
                .unwrap_or(e.at);
            (at, e.event.replace('_', " "), e.actor)
        })
        .collect()
}

pub async fn session_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ConsultingSessionId>,
) -> Result<Response, PageError> {
    let page = session_page(
        &state,
        &viewer,
        id,
        ActionForm::default(),
        FormErrors::default(),
    );
    Ok(render(&page.await?))
}

pub(super) async fn session_page(
    state: &AppState,
    viewer: &Viewer,
    id: ConsultingSessionId,
    typed: ActionForm,
    errors: FormErrors,
) -> Result<SessionPage, PageError> {
    let who = viewer.require(&format!("/sessions/{id}"))?;
    let zone = viewer.zone(None);
    let detail = sessions::get(state, &who, id).await?;
    let s = detail.session;
    let reader_rating = detail.reader_rating;
    let reschedule_slots = reschedule_slots(state, &s, zone).await;
    let payment = sessions::pay::payment_summary(state, s.your_role, s.id, s.status).await?;
    let typed_review = (typed.action == "review").then(|| {
        let rating = typed.rating.as_deref().unwrap_or_default();
        (rating, typed.comment.as_deref().unwrap_or_default())
    });
    let review = super::review_sections::SessionReview::of(state, &who, &s, typed_review).await?;
    let disputes = disputes::open::for_session(state, &who, id).await?;
    let mut errors = errors;
    let action = if errors.form == "reschedule" && reschedule_slots.is_empty() {
        ""
    } else {
        errors.form
    };
    let offered = match action {
        "dispute" => !disputes.kinds.is_empty(),
        "review" => review.can_write,
        _ => can(&s, action),
    };
    if !offered {
        // The form that failed is not on the page now: say it above.
        errors.unplace_all();
        errors.form = "";
    }
    Ok(SessionPage {
        payment,
        layout: viewer.layout(format!("Session with {}", other_party(&s))),
        with: other_party(&s),
        when: zone::span(s.start, s.end, zone),
        also: also(&s, zone),
        expires: zone::local(s.expires_at, zone),
        proposed: s.proposed_start.map(|t| zone::local(t, zone)),
        price: price_label(s.price_minor, &s.currency),
        zone: zone.name().to_string(),
        events: events(detail.events, zone),
        reschedule_slots,
        dispute_until: disputes.until.map(|t| zone::local(t, zone)),
        disputes,
        s,
        typed,
        errors,
        review,
        reader_rating,
    })
}

pub async fn action_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ConsultingSessionId>,
    PageForm(f): PageForm<ActionForm>,
) -> Result<Response, PageError> {
    let back = format!("/sessions/{id}");
    let who = viewer.require(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    // A participant's no-show report is a claim (`disputes::no_show`).
    let result = if f.action == "no_show" {
        no_show::report(&state, &who, id, None)
            .await
            .map(|a| reported(&state, a.dispute_id.is_some()))
    } else {
        match action_of(&f) {
            Ok((action, done)) => actions::act(&state, &who, id, action)
                .await
                .map(|_| done.to_string()),
            Err(e) => Err(e),
        }
    };
    // Forms with something typed come back with it; buttons get a flash.
    let form: &'static str = match f.action.as_str() {
        "decline" => "decline",
        "cancel" => "cancel",
        "reschedule" => "reschedule",
        _ => return super::outcome::flash_outcome(&state, &back, result),
    };
    match result {
        Ok(done) => super::outcome::flash_outcome(&state, &back, Ok(done)),
        Err(e) => {
            let errors = FormErrors::from_error(form, e, ACTION_LABELS)?;
            let page = session_page(&state, &viewer, id, f, errors).await?;
            Ok(page.errors.respond(&page))
        }
    }
}

pub async fn ics_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ConsultingSessionId>,
) -> Result<Response, PageError> {
    let who = viewer.require(&format!("/sessions/{id}"))?;
    let body = sessions::ics(&state, &who, id).await?;
    Ok(calendar_response(id, body))
}
