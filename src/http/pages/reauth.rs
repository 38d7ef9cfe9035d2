//! The password prompt of sensitive admin forms
//! (`[security] admin_require_reauth_minutes`). A sensitive form is read
//! with `ReauthForm<T>`, which keeps every submitted field. When the
//! service answers `reauth_required`, the handler shows `prompt`: a page
//! that posts the same fields, plus `reauth_password`, back to the same
//! address. On that second post the password is checked (and counted like
//! a log-in) before the action runs again, so nothing typed is lost.

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{Form, FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::de::DeserializeOwned;

use super::layout::render_status;
use super::{Layout, PageError, Viewer};
use crate::error::{AppError, AppResult};
use crate::http::api::error::HttpError;
use crate::services::accounts::{self, reauth, Principal};
use crate::state::AppState;

/// The field the prompt adds; never passed on to the form itself.
const PASSWORD_FIELD: &str = "reauth_password";

#[derive(Template)]
#[template(path = "pages/reauth.html")]
struct ReauthPage {
    layout: Layout,
    what: String,
    minutes: u32,
    action: String,
    fields: Vec<(String, String)>,
    problem: Option<String>,
    back: String,
}

/// A sensitive form: the parsed form, and what the prompt needs to post it
/// again.
pub struct ReauthForm<T> {
    pub form: T,
    pub reauth: Reauth,
}

/// The submitted fields (without the password), where they were posted,
/// and the password the prompt sent, if it did.
pub struct Reauth {
    action: String,
    fields: Vec<(String, String)>,
    password: Option<String>,
}

impl<S, T> FromRequest<S> for ReauthForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        let action = req.uri().path().to_string();
        let bytes =
            Bytes::from_request(req, state)
                .await
                .map_err(|e| match e.status().as_u16() {
                    413 => AppError::PayloadTooLarge,
                    _ => bad_form(),
                })?;
        let mut password = None;
        let mut fields = Vec::new();
        for (name, value) in url::form_urlencoded::parse(&bytes).into_owned() {
            if name == PASSWORD_FIELD {
                password = Some(value);
            } else {
                fields.push((name, value));
            }
        }
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        // POST, so `Form` reads the body (for GET it reads the query).
        let mut inner = Request::new(Body::from(body));
        *inner.method_mut() = axum::http::Method::POST;
        inner.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let Form(form) = Form::<T>::from_request(inner, &())
            .await
            .map_err(|_| bad_form())?;
        Ok(Self {
            form,
            reauth: Reauth {
                action,
                fields,
                password,
            },
        })
    }
}

fn bad_form() -> AppError {
    AppError::bad_request(
        "bad_form",
        "The form was incomplete or malformed. Go back and try again.",
    )
}

impl Reauth {
    /// Checks the password the prompt sent, if it sent one. `Ok(Some(_))`
    /// is the prompt again (wrong password, 422; too many tries, 429);
    /// `Ok(None)`: go on with the action.
    pub async fn confirm(
        &self,
        state: &AppState,
        viewer: &Viewer,
        who: &Principal,
        ip: Option<std::net::IpAddr>,
        what: &str,
        back: &str,
    ) -> Result<Option<Response>, PageError> {
        let Some(password) = &self.password else {
            return Ok(None);
        };
        match accounts::reauth::confirm(state, who, password, ip).await {
            Ok(()) => Ok(None),
            Err(e @ (AppError::Validation { .. } | AppError::RateLimited { .. })) => {
                let status = e.status();
                let problem = match &e {
                    AppError::Validation { .. } => {
                        "That is not your password. Enter your current password.".to_string()
                    }
                    other => other.public_message(),
                };
                let mut res = self.page(state, viewer, what, back, status, Some(problem));
                e.add_retry_after(&mut res);
                Ok(Some(res))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// For an irreversible action confirmed with a box: back to `back` with
    /// `untick` as the error when the box was not ticked, else `confirm`.
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_ticked(
        &self,
        state: &AppState,
        viewer: &Viewer,
        who: &Principal,
        ip: Option<std::net::IpAddr>,
        ticked: bool,
        untick: &str,
        what: &str,
        back: &str,
    ) -> Result<Option<Response>, PageError> {
        if !ticked {
            return Ok(Some(super::context::redirect_with_flash(
                state, back, "error", untick,
            )));
        }
        self.confirm(state, viewer, who, ip, what, back).await
    }

    /// The prompt (403) when the action was refused for want of a recent
    /// password; `None` for any other outcome.
    pub fn prompt_on<T>(
        &self,
        state: &AppState,
        viewer: &Viewer,
        outcome: &AppResult<T>,
        what: &str,
        back: &str,
    ) -> Option<Response> {
        match outcome {
            Err(e) if reauth::is_required(e) => {
                Some(self.page(state, viewer, what, back, StatusCode::FORBIDDEN, None))
            }
            _ => None,
        }
    }

    fn page(
        &self,
        state: &AppState,
        viewer: &Viewer,
        what: &str,
        back: &str,
        status: StatusCode,
        problem: Option<String>,
    ) -> Response {
        let page = ReauthPage {
            layout: viewer.layout("Confirm your password"),
            what: what.to_string(),
            minutes: state.config.security.admin_require_reauth_minutes,
            action: self.action.clone(),
            fields: self.fields.clone(),
            problem,
            back: back.to_string(),
        };
        render_status(status, &page)
    }
}
