//! E-mail verification pages: "check your inbox" after registering, the
//! link's confirmation page (a GET changes nothing; the button confirms),
//! and "send the link again" from the banner.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::context::{redirect_with_flash, render, render_status, Layout, Viewer};
use super::form::{CsrfOnly, PageForm};
use super::PageError;
use crate::error::AppError;
use crate::http::extractors::{AppPath, ClientIp};
use crate::services::mail::Delivery;
use crate::services::signup;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/verify_email.html")]
pub struct VerifyEmailPage {
    pub layout: Layout,
    /// `sent`, `held` (mail is held on the server), `confirm` or `problem`.
    pub mode: &'static str,
    pub email: String,
    pub valid_hours: i64,
    pub token: String,
    pub problem: String,
}

impl VerifyEmailPage {
    fn new(viewer: &Viewer, state: &AppState, mode: &'static str, title: &str) -> Self {
        Self {
            layout: viewer.layout(title),
            mode,
            email: String::new(),
            valid_hours: state.config.accounts.verification_ttl_hours,
            token: String::new(),
            problem: String::new(),
        }
    }
}

/// After a registration while verification is on: the same page whether
/// or not the address had an account. While mail is held on the server it
/// says so instead of sending the person to an empty inbox.
pub fn check_inbox(state: &AppState, viewer: &Viewer, email: &str, delivery: Delivery) -> Response {
    let mut page = match delivery {
        Delivery::Sending => VerifyEmailPage::new(viewer, state, "sent", "Check your inbox"),
        Delivery::Held => {
            VerifyEmailPage::new(viewer, state, "held", "Your confirmation link is held")
        }
    };
    page.email = email.trim().to_lowercase();
    render_status(StatusCode::ACCEPTED, &page)
}

fn problem(state: &AppState, viewer: &Viewer, e: &AppError) -> Response {
    let mut page = VerifyEmailPage::new(viewer, state, "problem", "Link problem");
    page.problem = e.public_message();
    render_status(StatusCode::GONE, &page)
}

pub async fn verify_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(token): AppPath<String>,
) -> Result<Response, PageError> {
    match signup::verification_link_valid(&state, &token).await {
        Ok(()) => {
            let mut page = VerifyEmailPage::new(&viewer, &state, "confirm", "Confirm your address");
            page.token = token;
            Ok(render(&page))
        }
        Err(e @ AppError::Validation { .. }) => Ok(problem(&state, &viewer, &e)),
        Err(e) => Err(e.into()),
    }
}

pub async fn verify_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(token): AppPath<String>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&f.csrf_token)?;
    match signup::verify_email(&state, &token, ip).await {
        Ok(_) => {
            let (to, message) = if viewer.user.is_some() {
                ("/account", "Your e-mail address is confirmed.")
            } else {
                (
                    "/login",
                    "Your e-mail address is confirmed. Log in to continue.",
                )
            };
            Ok(redirect_with_flash(&state, to, "success", message))
        }
        Err(e @ AppError::Validation { .. }) => Ok(problem(&state, &viewer, &e)),
        Err(e) => Err(e.into()),
    }
}

pub async fn resend_post(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let who = viewer.require("/account")?;
    viewer.check_csrf(&f.csrf_token)?;
    let back = super::form::back_to(&headers);
    match signup::resend_verification(&state, &who).await {
        Ok(delivery) => Ok(super::outcome::mail_outcome(
            &state,
            &back,
            delivery,
            false,
            "A new confirmation link is on its way to your inbox.",
            "A new confirmation link is made, but e-mail is held on this server: an admin must send it to you.",
        )),
        Err(AppError::RateLimited { retry_after_secs }) => {
            let message = format!(
                "You asked for several links already; wait {} minutes and try again.",
                retry_after_secs.div_ceil(60)
            );
            Ok(redirect_with_flash(&state, &back, "error", &message))
        }
        Err(e) => super::outcome::flash_failure(&state, &back, e),
    }
}
