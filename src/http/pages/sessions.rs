//! My sessions, the session page with its actions and calendar download,
//! and the page behind the e-mail's accept/decline links.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::booking::price_label;
use super::context::{render, Layout, Viewer};
use super::form::PageForm;
use super::PageError;
use crate::domain::{ConsultingSessionId, SessionStatus};
use crate::error::AppError;
use crate::http::downloads::calendar_response;
use crate::http::extractors::{AppPath, AppQuery};
use crate::pagination::PageParams;
use crate::services::sessions::actions::{self, Action};
use crate::services::sessions::notify::local as local_label;
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
    pub when: String,
    pub ends: String,
    pub expires: String,
    pub proposed: Option<String>,
    pub price: String,
    pub zone: String,
    pub events: Vec<(String, String, String)>,
    /// Free times for a reschedule: (value, label).
    pub reschedule_slots: Vec<(String, String)>,
    /// The payment, for the reader (priced sessions with payments on).
    pub payment: Option<crate::services::payments::PaymentSummary>,
}

impl SessionPage {
    /// Whether the viewer may do `action` now (for the template).
    pub fn can(&self, action: &str) -> bool {
        can(&self.s, action)
    }
}

#[derive(Template)]
#[template(path = "pages/session_respond.html")]
pub struct RespondPage {
    pub layout: Layout,
    pub id: ConsultingSessionId,
    pub token: String,
    pub action: String,
    pub reader: String,
    pub topic: String,
    pub when: String,
    pub status: SessionStatus,
}

#[derive(Deserialize)]
pub struct ActionForm {
    pub csrf_token: String,
    pub action: String,
    pub reason: Option<String>,
    pub start: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RespondQuery {
    pub token: String,
    pub action: String,
}

#[derive(Deserialize)]
pub struct RespondForm {
    pub token: String,
    pub action: String,
    pub reason: Option<String>,
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

fn line(s: SessionView, zone: Tz) -> SessionLine {
    SessionLine {
        id: s.id,
        with: other_party(&s),
        when: local_label(s.start, zone),
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
            .map(|x| (x.start.to_rfc3339(), local_label(x.start, zone)))
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
                .map(|t| local_label(t.with_timezone(&Utc), zone))
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
    let who = viewer.require(&format!("/sessions/{id}"))?;
    let zone = viewer.zone(None);
    let detail = sessions::get(&state, &who, id).await?;
    let s = detail.session;
    let reschedule_slots = reschedule_slots(&state, &s, zone).await;
    let payment = sessions::pay::payment_summary(&state, s.your_role, s.id, s.status).await?;
    Ok(render(&SessionPage {
        payment,
        layout: viewer.layout(format!("Session with {}", other_party(&s))),
        with: other_party(&s),
        when: local_label(s.start, zone),
        ends: s.end.with_timezone(&zone).format("%H:%M").to_string(),
        expires: local_label(s.expires_at, zone),
        proposed: s.proposed_start.map(|t| local_label(t, zone)),
        price: price_label(s.price_minor, &s.currency),
        zone: zone.name().to_string(),
        events: events(detail.events, zone),
        reschedule_slots,
        s,
    }))
}

/// The action a button asks for, and what the page says when it worked.
fn action_of(f: &ActionForm) -> Result<(Action, &'static str), AppError> {
    let reason = f.reason.clone().filter(|r| !r.trim().is_empty());
    Ok(match f.action.as_str() {
        "accept" => (
            Action::Accept,
            "Accepted. Both of you have the meeting link and a calendar invite.",
        ),
        "decline" => (
            Action::Decline { reason },
            "Declined. The reader has been told.",
        ),
        "cancel" => (
            Action::Cancel {
                reason: reason.unwrap_or_default(),
            },
            "The session is cancelled.",
        ),
        "reschedule" => {
            let start = f
                .start
                .as_deref()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .ok_or_else(|| AppError::field("start", "pick one of the free times"))?;
            (
                Action::Propose {
                    start: start.with_timezone(&Utc),
                    duration_minutes: None,
                },
                "New time proposed. The other participant will answer.",
            )
        }
        "accept_reschedule" => (
            Action::AnswerProposal(true),
            "The session has moved to the new time.",
        ),
        "reject_reschedule" => (
            Action::AnswerProposal(false),
            "The session stays at its current time.",
        ),
        "no_show" => (Action::NoShow { absent: None }, "The no-show is recorded."),
        _ => return Err(AppError::bad_request("bad_action", "Unknown action.")),
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
    let result = match action_of(&f) {
        Ok((action, done)) => actions::act(&state, &who, id, action).await.map(|_| done),
        Err(e) => Err(e),
    };
    super::outcome::flash_outcome(&state, &back, result)
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

/// The e-mail link: shows the request and asks to confirm (links are
/// opened by mail scanners, so a GET never changes anything).
pub async fn respond_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ConsultingSessionId>,
    AppQuery(q): AppQuery<RespondQuery>,
) -> Result<Response, PageError> {
    let linked = actions::by_link(&state, id, &q.token).await?;
    let zone = viewer.zone(linked.researcher_timezone.as_deref());
    let row = linked.session;
    let action = if q.action == "decline" {
        "decline"
    } else {
        "accept"
    };
    Ok(render(&RespondPage {
        layout: viewer.layout("Answer a session request"),
        id,
        token: q.token,
        action: action.into(),
        reader: row.reader_name.clone(),
        topic: row.topic.clone(),
        when: format!("{} ({})", local_label(row.start, zone), zone.name()),
        status: row.status,
    }))
}

pub async fn respond_post(
    State(state): State<AppState>,
    AppPath(id): AppPath<ConsultingSessionId>,
    PageForm(f): PageForm<RespondForm>,
) -> Result<Response, PageError> {
    // Back to the link's own page, which needs no log-in: the session
    // page would send a researcher answering from a mail to the log-in
    // form and lose the outcome on the way.
    let action = if f.action == "decline" {
        "decline"
    } else {
        "accept"
    };
    let token: String = url::form_urlencoded::byte_serialize(f.token.as_bytes()).collect();
    let back = format!("/sessions/{id}/respond?token={token}&action={action}");
    // A link that does not work is an error page, not a flash on a page
    // its holder may not see.
    let linked = actions::by_link(&state, id, &f.token).await?;
    let result = match f.action.as_str() {
        "accept" => actions::answer(&state, linked, true, None)
            .await
            .map(|_| "Accepted. Both of you have the meeting link and a calendar invite."),
        "decline" => actions::answer(&state, linked, false, f.reason)
            .await
            .map(|_| "Declined. The reader has been told."),
        _ => Err(AppError::bad_request("bad_action", "Unknown action.")),
    };
    super::outcome::flash_outcome(&state, &back, result)
}
