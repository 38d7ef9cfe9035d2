//! What every page's frame needs (the base layout's data) and rendering a
//! template into a response.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::domain::zone::{self, Tz};
use crate::domain::Role;

#[derive(Clone)]
pub struct Flash {
    /// `success` or `error`.
    pub kind: String,
    pub message: String,
    /// A link after the message: (path on this site, its text).
    pub link: Option<(String, String)>,
}

#[derive(Clone)]
pub struct NavUser {
    pub name: String,
    pub role: Role,
    pub email_verified: bool,
}

impl NavUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// The base layout's data.
#[derive(Clone)]
pub struct Layout {
    /// The institution's name; empty when none is set (`[institution] name`).
    pub institution: String,
    pub title: String,
    pub user: Option<NavUser>,
    pub csrf: String,
    pub flash: Option<Flash>,
    /// A signed-in account that still has to confirm its address: the
    /// banner with "send the link again".
    pub unverified: bool,
    /// The viewer's zone, for times the templates show (`local`).
    pub zone: Tz,
}

impl Layout {
    /// A stored time (RFC 3339) as a table shows it, in the viewer's zone:
    /// "2026-12-07 18:00 CET". Anything else is shown as it is.
    pub fn local(&self, stored: &str) -> String {
        match chrono::DateTime::parse_from_rfc3339(stored) {
            Ok(t) => zone::short(t.with_timezone(&chrono::Utc), self.zone),
            Err(_) => stored.to_string(),
        }
    }

    /// A stored time's calendar date in the viewer's zone: "7 December
    /// 2026". Anything else is shown as it is.
    pub fn local_date(&self, stored: &str) -> String {
        match chrono::DateTime::parse_from_rfc3339(stored) {
            Ok(t) => zone::date(t.with_timezone(&chrono::Utc), self.zone),
            Err(_) => stored.to_string(),
        }
    }
}

impl Layout {
    /// The site's short name for titles and the footer: the institution's,
    /// or "Colloquy" when none is set.
    pub fn site(&self) -> &str {
        if self.institution.is_empty() {
            crate::config::institution::PRODUCT
        } else {
            &self.institution
        }
    }

    /// The service in a sentence: "Uni Bonn's Colloquy service", or
    /// "Colloquy" (`config::Brand::service`).
    pub fn service(&self) -> String {
        crate::config::Brand::new(&self.institution).service()
    }
}

/// Renders a template as a 200 page.
pub fn render<T: Template>(page: &T) -> Response {
    render_status(StatusCode::OK, page)
}

pub fn render_status<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<h1>Something went wrong</h1>".to_string()),
            )
                .into_response()
        }
    }
}
