//! The page behind the e-mail's accept and decline links: it shows the
//! request and asks to confirm; the signed link authorises the answer.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::context::{render, Layout, Viewer};
use super::form::PageForm;
use super::form_errors::FormErrors;
use super::sessions::ACTION_LABELS;
use super::PageError;
use crate::domain::zone;
use crate::domain::{ConsultingSessionId, SessionStatus};
use crate::error::AppError;
use crate::http::extractors::{AppPath, AppQuery};
use crate::services::sessions::actions;
use crate::state::AppState;

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
    pub also: Vec<String>,
    pub status: SessionStatus,
    /// The decline note as typed, after a failure.
    pub reason: String,
    pub errors: FormErrors,
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

/// The e-mail link: shows the request and asks to confirm (links are
/// opened by mail scanners, so a GET never changes anything).
pub async fn respond_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<ConsultingSessionId>,
    AppQuery(q): AppQuery<RespondQuery>,
) -> Result<Response, PageError> {
    let page = respond_page(
        &state,
        &viewer,
        id,
        q.token,
        &q.action,
        FormErrors::default(),
    );
    Ok(render(&page.await?))
}

async fn respond_page(
    state: &AppState,
    viewer: &Viewer,
    id: ConsultingSessionId,
    token: String,
    action: &str,
    errors: FormErrors,
) -> Result<RespondPage, PageError> {
    let linked = actions::by_link(state, id, &token).await?;
    let zone = viewer.zone(linked.researcher_timezone.as_deref());
    let row = linked.session;
    let action = if action == "decline" {
        "decline"
    } else {
        "accept"
    };
    Ok(RespondPage {
        layout: viewer.layout("Answer a session request"),
        id,
        token,
        action: action.into(),
        reader: row.reader_name.clone(),
        topic: row.topic.clone(),
        when: zone::span_named(row.start, row.end, zone),
        also: super::sessions::also(&row, zone),
        status: row.status,
        reason: String::new(),
        errors,
    })
}

pub async fn respond_post(
    State(state): State<AppState>,
    viewer: Viewer,
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
        "decline" => actions::answer(&state, linked, false, f.reason.clone())
            .await
            .map(|_| "Declined. The reader has been told."),
        _ => Err(AppError::bad_request("bad_action", "Unknown action.")),
    };
    match result {
        Err(e) if action == "decline" && f.reason.as_deref().is_some_and(|r| !r.is_empty()) => {
            let errors = FormErrors::from_error("decline", e, ACTION_LABELS)?;
            let mut page = respond_page(&state, &viewer, id, f.token, action, errors).await?;
            page.reason = f.reason.unwrap_or_default();
            Ok(page.errors.respond(&page))
        }
        result => super::outcome::flash_outcome(&state, &back, result),
    }
}
