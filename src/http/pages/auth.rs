//! Log-in, registration, log-out and the first-admin setup.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::context::{
    build_cookie, cookie_value, redirect_with_flash, render, set_cookie, Layout, Viewer,
    SESSION_COOKIE,
};
use super::form::{safe_next, CsrfOnly, PageForm};
use super::form_errors::{FormErrors, Labels};
use super::zones::ZoneField;
use super::PageError;
use crate::error::AppError;
use crate::http::extractors::{AppPath, ClientIp};
use crate::services::accounts::{self, Registration};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/login.html")]
pub struct LoginPage {
    pub layout: Layout,
    pub email: String,
    pub next: String,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "pages/register.html")]
pub struct RegisterPage {
    pub layout: Layout,
    /// Where the form posts: `/register` or a setup link.
    pub action: String,
    pub heading: String,
    pub email: String,
    pub name: String,
    pub errors: FormErrors,
    /// The terms box as the form came back.
    pub accepted: bool,
    pub terms_version: String,
    pub privacy_version: String,
    pub min_len: usize,
    pub zone_field: ZoneField,
}

const LOGIN_LABELS: Labels = &[("email", "E-mail"), ("password", "Password")];

const REGISTER_LABELS: Labels = &[
    ("name", "Name"),
    ("email", "E-mail"),
    ("password", "Password"),
    ("accept_terms", "Terms"),
    ("timezone", "Time zone"),
];

#[derive(Deserialize)]
pub struct NextParam {
    pub next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub csrf_token: String,
    pub email: String,
    pub password: String,
    pub next: Option<String>,
}

#[derive(Deserialize)]
pub struct RegisterForm {
    pub csrf_token: String,
    pub email: String,
    pub name: String,
    pub password: String,
    pub accept_terms: Option<String>,
    pub timezone: Option<String>,
}

pub async fn login_get(viewer: Viewer, Query(p): Query<NextParam>) -> Response {
    let next = safe_next(p.next.as_deref());
    if viewer.user.is_some() {
        return Redirect::to(&next).into_response();
    }
    render(&LoginPage {
        layout: viewer.layout("Log in"),
        email: String::new(),
        next,
        errors: FormErrors::default(),
    })
}

pub(super) fn session_cookie_response(
    state: &AppState,
    to: &str,
    token: String,
    message: &str,
) -> Response {
    let mut res = redirect_with_flash(state, to, "success", message);
    set_cookie(
        &mut res,
        build_cookie(
            state,
            SESSION_COOKIE,
            token,
            Some(state.config.auth.web_session_ttl_secs),
        ),
    );
    res
}

pub async fn login_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<LoginForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&f.csrf_token)?;
    let next = safe_next(f.next.as_deref());
    match accounts::login_web(&state, &f.email, &f.password, ip).await {
        Ok(login) => Ok(session_cookie_response(
            &state,
            &next,
            login.cookie_token,
            &format!("Welcome back, {}.", login.user.name),
        )),
        Err(e) => {
            let page = LoginPage {
                layout: viewer.layout("Log in"),
                email: f.email,
                next,
                errors: FormErrors::from_error("", e, LOGIN_LABELS)?,
            };
            Ok(page.errors.respond(&page))
        }
    }
}

fn register_page(state: &AppState, viewer: &Viewer, action: String, heading: &str) -> RegisterPage {
    RegisterPage {
        layout: viewer.layout(heading),
        action,
        heading: heading.into(),
        email: String::new(),
        name: String::new(),
        errors: FormErrors::default(),
        accepted: false,
        terms_version: state.config.institution.terms_version.clone(),
        privacy_version: state.config.institution.privacy_version.clone(),
        min_len: state.config.auth.password_min_length,
        zone_field: ZoneField::for_viewer("Your time zone", viewer),
    }
}

pub async fn register_get(State(state): State<AppState>, viewer: Viewer) -> Response {
    render(&register_page(
        &state,
        &viewer,
        "/register".into(),
        "Create an account",
    ))
}

/// Re-renders the registration form with the problems, keeping the input.
fn register_failed(
    state: &AppState,
    viewer: &Viewer,
    action: String,
    heading: &str,
    f: RegisterForm,
    e: AppError,
) -> Result<Response, PageError> {
    let mut page = register_page(state, viewer, action, heading);
    page.email = f.email;
    page.name = f.name;
    page.accepted = f.accept_terms.is_some();
    page.errors = FormErrors::from_error("", e, REGISTER_LABELS)?;
    page.zone_field =
        ZoneField::new("Your time zone", f.timezone.unwrap_or_default()).with_errors(&page.errors);
    Ok(page.errors.respond(&page))
}

fn registration(f: &RegisterForm) -> Registration {
    Registration {
        email: f.email.clone(),
        password: f.password.clone(),
        name: f.name.clone(),
        accept_terms: f.accept_terms.is_some(),
        timezone: f.timezone.clone(),
    }
}

pub async fn register_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<RegisterForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&f.csrf_token)?;
    match crate::services::signup::register(&state, registration(&f), ip).await {
        Ok(crate::services::signup::SignUp::VerificationSent(delivery)) => Ok(
            super::verify::check_inbox(&state, &viewer, &f.email, delivery),
        ),
        Ok(crate::services::signup::SignUp::Created(_)) => {
            let login = accounts::login_web(&state, &f.email, &f.password, ip).await?;
            Ok(session_cookie_response(
                &state,
                "/",
                login.cookie_token,
                "Your account is ready. Welcome!",
            ))
        }
        Err(e) => register_failed(
            &state,
            &viewer,
            "/register".into(),
            "Create an account",
            f,
            e,
        ),
    }
}

pub async fn logout_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&f.csrf_token)?;
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        if let Some(session) = accounts::authenticate_cookie(&state, &token).await? {
            accounts::revoke_session(&state, &session, ip).await?;
        }
    }
    let mut res = redirect_with_flash(&state, "/", "success", "You are logged out.");
    set_cookie(
        &mut res,
        build_cookie(&state, SESSION_COOKIE, String::new(), Some(0)),
    );
    Ok(res)
}

pub async fn setup_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(token): AppPath<String>,
) -> Result<Response, PageError> {
    if !accounts::setup_link_valid(&state, &token).await? {
        return Err(AppError::NotFound.into());
    }
    Ok(render(&register_page(
        &state,
        &viewer,
        format!("/setup/{token}"),
        "Create the first admin account",
    )))
}

pub async fn setup_post(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientIp(ip): ClientIp,
    AppPath(token): AppPath<String>,
    PageForm(f): PageForm<RegisterForm>,
) -> Result<Response, PageError> {
    viewer.check_csrf(&f.csrf_token)?;
    match accounts::complete_setup(&state, &token, registration(&f), ip).await {
        Ok(_) => {
            let login = accounts::login_web(&state, &f.email, &f.password, ip).await?;
            Ok(session_cookie_response(
                &state,
                "/admin",
                login.cookie_token,
                "Your admin account is ready.",
            ))
        }
        Err(e) => register_failed(
            &state,
            &viewer,
            format!("/setup/{token}"),
            "Create the first admin account",
            f,
            e,
        ),
    }
}
