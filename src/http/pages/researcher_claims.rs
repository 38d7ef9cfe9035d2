//! "This is me" and "Ask to claim this profile" on a researcher's page; a
//! failure shows the page again with what was typed.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::booking::{failed, PickerQuery, Typed};
use super::context::{redirect_with_flash, Viewer};
use super::form::PageForm;
use super::form_errors::FormErrors;
use super::PageError;
use crate::domain::ResearcherId;
use crate::http::extractors::{AppPath, ClientIp};
use crate::state::AppState;

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
    let accepted = f.accept_terms.is_some();
    match crate::services::claims::self_claim(&state, &who, id, accepted, ip).await {
        Ok(()) => Ok(redirect_with_flash(
            &state,
            &format!("/researchers/{id}/availability"),
            "success",
            "The profile is yours. Publish the times readers may book you.",
        )),
        Err(e) => {
            let errors = FormErrors::from_error("claim", e, &[("accept_terms", "Terms")])?;
            let typed = Typed {
                accepted,
                ..Typed::default()
            };
            failed(&state, &viewer, id, &PickerQuery::default(), typed, errors).await
        }
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
    let message = Some(f.message.clone()).filter(|m| !m.trim().is_empty());
    match crate::services::claims::request_claim(&state, &who, id, message, ip).await {
        Ok(_) => Ok(redirect_with_flash(
            &state,
            &back,
            "success",
            "Your request is with the admins; they will decide.",
        )),
        Err(e) => {
            let labels = &[("message", "The message")];
            let errors = FormErrors::from_error("claim_request", e, labels)?;
            let typed = Typed {
                claim_message: f.message,
                ..Typed::default()
            };
            failed(&state, &viewer, id, &PickerQuery::default(), typed, errors).await
        }
    }
}
