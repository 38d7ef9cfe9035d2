//! Error pages (403, 404, 500 without internals) and the page error type.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::layout::Layout;
use crate::error::AppError;
use crate::http::api::error::HttpError;

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
                    413 => "Too much to send",
                    429 => "Too many requests",
                    s if s >= 500 => "Something went wrong",
                    _ => "That did not work",
                };
                let message = match &e {
                    AppError::NotFound => "There is nothing at this address. It may have been removed, or the link may be wrong.".to_string(),
                    AppError::PayloadTooLarge => "What you sent is larger than this site accepts. Go back, shorten the longest text, and send it again.".to_string(),
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

/// The error page for `err`, in place of `res` (whose cookies and
/// `Retry-After` it keeps). Called by the page middleware, which knows the
/// viewer.
pub fn error_page(
    res: Response,
    err: RenderError,
    institution: String,
    user: Option<super::layout::NavUser>,
    csrf: String,
) -> Response {
    let layout = Layout {
        institution,
        title: err.title.clone(),
        user,
        csrf,
        flash: None,
        unverified: false,
        zone: crate::domain::zone::DEFAULT,
    };
    let page = ErrorPage {
        layout,
        status: err.status.as_u16(),
        heading: err.title,
        message: err.message,
    };
    let mut rendered = super::layout::render_status(err.status, &page);
    for v in res.headers().get_all(axum::http::header::SET_COOKIE) {
        rendered
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, v.clone());
    }
    if let Some(v) = res.headers().get(axum::http::header::RETRY_AFTER) {
        rendered
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, v.clone());
    }
    rendered
}

/// Unknown paths: JSON under `/api/`, the HTML 404 page elsewhere.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return crate::http::middleware::api_not_found().await;
    }
    PageError::App(AppError::NotFound).into_response()
}

/// What a failed form shows, decided in one place for every page: the
/// person filling the form can act on it (bad or conflicting input, a
/// refusal, a limit, a provider that failed), so the form (or its page)
/// says so, through `form_errors::FormErrors` or a flash; anything else
/// becomes the error page.
pub struct FormProblem {
    pub status: StatusCode,
    /// The whole message (for a flash on the next page).
    pub message: String,
    /// Per-field messages, as the service named the fields.
    pub fields: std::collections::BTreeMap<String, String>,
    /// `Retry-After`, for a limit.
    pub retry_after: Option<u64>,
}

pub fn on_form(e: AppError) -> Result<FormProblem, PageError> {
    match e {
        AppError::NotFound
        | AppError::Internal(_)
        | AppError::Busy
        | AppError::PayloadTooLarge
        | AppError::UnsupportedMediaType => Err(e.into()),
        e => Ok(FormProblem {
            status: e.status(),
            message: e.public_message(),
            fields: e.fields(),
            retry_after: e.retry_after(),
        }),
    }
}

/// The pages' side of `[security] admin_allowed_ips`
/// (`http::admin_access`): the error page, or the API's error shape for
/// unknown `/api/` paths that fell through to the pages' fallback. Sits
/// inside the page context, which renders the page.
pub async fn admin_allowlist(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if state.admin_allowed_ips.is_empty() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match crate::http::admin_access::refusal_for(&state, &parts) {
        Some(refused) if parts.uri.path().starts_with("/api/") => refused.into_response(),
        Some(refused) => PageError::App(refused).into_response(),
        None => {
            next.run(axum::extract::Request::from_parts(parts, body))
                .await
        }
    }
}
