//! Error pages (403, 404, 500 without internals) and the page error type.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::layout::Layout;
use crate::error::AppError;

#[derive(Template)]
#[template(path = "pages/error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub heading: String,
    pub message: String,
}

/// Marker the page middleware turns into a rendered error page.
#[derive(Clone)]
pub struct RenderError {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
}

pub enum PageError {
    /// Not signed in: go to the log-in page, then back to this path.
    Login(String),
    App(AppError),
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login(next) => {
                let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
                Redirect::to(&format!("/login?next={next}")).into_response()
            }
            PageError::App(e) => {
                e.log();
                let status = e.status();
                let title = match status.as_u16() {
                    403 => "Not allowed",
                    404 => "Page not found",
                    429 => "Too many requests",
                    s if s >= 500 => "Something went wrong",
                    _ => "That did not work",
                };
                let message = match &e {
                    AppError::NotFound => "There is nothing at this address. It may have been removed, or the link may be wrong.".to_string(),
                    other => other.public_message(),
                };
                let mut res = status.into_response();
                e.add_retry_after(&mut res);
                res.extensions_mut().insert(RenderError {
                    status,
                    title: title.into(),
                    message,
                });
                res
            }
        }
    }
}

/// Unknown paths: JSON under `/api/`, the HTML 404 page elsewhere.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return crate::http::middleware::api_not_found().await;
    }
    PageError::App(AppError::NotFound).into_response()
}
