//! `/privacy/request`: "Is Colloquy holding data about me?", the public
//! form of `services::data_rights::requests`. The page after sending says
//! the same whether or not anything is held.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::context::{render, Layout, Viewer};
use super::form::PageForm;
use super::form_errors::{FormErrors, Labels};
use super::PageError;
use crate::http::extractors::ClientIp;
use crate::services::data_rights::requests;
use crate::services::mail;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/privacy_request.html")]
pub struct DataRequestPage {
    pub layout: Layout,
    pub email: String,
    pub errors: FormErrors,
    /// The request went out: the page says so instead of showing the form.
    pub sent: bool,
    /// No mail server is set up: answers wait for an admin.
    pub held: bool,
    pub contact_email: String,
}

#[derive(Deserialize)]
pub struct DataRequestForm {
    pub csrf_token: String,
    #[serde(default)]
    pub email: String,
}

const LABELS: Labels = &[("email", "E-mail address")];

fn page(state: &AppState, viewer: &Viewer) -> DataRequestPage {
    DataRequestPage {
        layout: viewer.layout("Is Colloquy holding data about me?"),
        email: String::new(),
        errors: FormErrors::default(),
        sent: false,
        held: mail::delivery(state).is_held(),
        contact_email: state.config.institution.contact_email.clone(),
    }
}

pub async fn request_get(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, PageError> {
    Ok(render(&page(&state, &viewer)))
}

pub async fn request_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<DataRequestForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&f.csrf_token)?;
    let mut p = page(&state, &viewer);
    match requests::request(&state, &f.email, ip).await {
        Ok(_) => {
            p.sent = true;
            Ok(render(&p))
        }
        Err(e) => {
            p.email = f.email;
            p.errors = FormErrors::from_error("", e, LABELS)?;
            Ok(p.errors.respond(&p))
        }
    }
}
