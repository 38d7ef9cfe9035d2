//! What every page needs: the CSRF token (double-submit cookie), the flash
//! message, the signed-in user, and the error page rendering.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};

use super::errors::RenderError;
pub use super::layout::{render, render_status, Flash, Layout, NavUser};
use crate::crypto::{constant_time_eq, random_token};
use crate::error::AppError;
use crate::services::accounts::{self, Principal};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "colloquy_session";
pub const CSRF_COOKIE: &str = "colloquy_csrf";
pub const FLASH_COOKIE: &str = "colloquy_flash";
/// The browser's time zone, written by `static/js/app.js`.
pub const TZ_COOKIE: &str = "colloquy_tz";

/// Per-request page state, put in the request by `page_context`.
#[derive(Clone)]
pub struct PageCtx {
    pub csrf: String,
    pub flash: Option<Flash>,
}

pub fn cookie_value(parts_headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    parts_headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse_encoded(v.to_string()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

pub fn set_cookie(res: &mut Response, c: Cookie<'_>) {
    if let Ok(v) = HeaderValue::from_str(&c.encoded().to_string()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub fn build_cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    max_age_secs: Option<i64>,
) -> Cookie<'static> {
    let mut c = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookies_secure())
        .build();
    if let Some(secs) = max_age_secs {
        c.set_max_age(cookie::time::Duration::seconds(secs));
    }
    c
}

/// Sets up the CSRF cookie and takes the flash message; renders error pages
/// for handlers that returned a `PageError`.
pub async fn page_context(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing = cookie_value(req.headers(), CSRF_COOKIE).filter(|c| c.len() >= 32);
    let csrf = existing.clone().unwrap_or_else(|| random_token(32));
    let flash = cookie_value(req.headers(), FLASH_COOKIE).and_then(|v| parse_flash(&v));
    let had_flash = flash.is_some();
    req.extensions_mut().insert(PageCtx {
        csrf: csrf.clone(),
        flash,
    });
    let session = cookie_value(req.headers(), SESSION_COOKIE);
    let mut res = next.run(req).await;
    if let Some(err) = res.extensions_mut().remove::<RenderError>() {
        let user = match session {
            Some(token) => nav_user(&state, &token).await,
            None => None,
        };
        let institution = institution_name(&state);
        res = super::errors::error_page(res, err, institution, user, csrf.clone());
    }
    if existing.is_none() {
        set_cookie(&mut res, build_cookie(&state, CSRF_COOKIE, csrf, None));
    }
    if had_flash {
        set_cookie(
            &mut res,
            build_cookie(&state, FLASH_COOKIE, String::new(), Some(0)),
        );
    }
    res
}

/// The institution's name as the layout shows it ("" when unset).
fn institution_name(state: &AppState) -> String {
    state
        .config
        .institution
        .display_name()
        .unwrap_or_default()
        .to_string()
}

async fn nav_user(state: &AppState, token: &str) -> Option<NavUser> {
    let session = accounts::authenticate_cookie(state, token).await.ok()??;
    let user = accounts::get_user(state, session.user_id).await.ok()?;
    Some(NavUser {
        name: user.name,
        role: user.role,
        email_verified: user.email_verified,
    })
}

/// Reads the flash cookie: `kind:message`, or `kind|path|text:message`
/// with a link. Only a path on this site becomes a link.
fn parse_flash(value: &str) -> Option<Flash> {
    let (head, message) = value.split_once(':')?;
    let mut head = head.split('|');
    let kind = if head.next() == Some("success") {
        "success"
    } else {
        "error"
    };
    let link = match (head.next(), head.next()) {
        (Some(path), Some(text)) if path.starts_with('/') && !path.starts_with("//") => {
            Some((path.to_string(), text.chars().take(60).collect()))
        }
        _ => None,
    };
    Some(Flash {
        kind: kind.into(),
        message: message.chars().take(300).collect(),
        link,
    })
}

/// The acceptance page, coming back to this page (a GET) or to the page
/// a form was sent from.
fn to_acceptance(parts: &Parts) -> Response {
    let back = if parts.method == axum::http::Method::GET {
        parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string()
    } else {
        super::form::back_to(&parts.headers)
    };
    let next = super::form::safe_next(Some(&back));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", &next)
        .finish();
    Redirect::to(&format!("/terms/accept?{query}")).into_response()
}

/// A redirect that shows `message` on the next page.
pub fn redirect_with_flash(state: &AppState, to: &str, kind: &str, message: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    set_cookie(
        &mut res,
        build_cookie(state, FLASH_COOKIE, format!("{kind}:{message}"), Some(60)),
    );
    res
}

/// Like `redirect_with_flash`, with a link after the message (`path`, a
/// path on this site without `|` or `:`, and its `text`).
pub fn redirect_with_flash_link(
    state: &AppState,
    to: &str,
    kind: &str,
    message: &str,
    (path, text): (&str, &str),
) -> Response {
    let mut res = Redirect::to(to).into_response();
    let value = format!("{kind}|{path}|{text}:{message}");
    set_cookie(&mut res, build_cookie(state, FLASH_COOKIE, value, Some(60)));
    res
}

/// The viewer of a page: maybe signed in.
pub struct Viewer {
    pub ctx: PageCtx,
    /// The signed-in principal (cookie session), if any.
    pub session: Option<Principal>,
    pub user: Option<NavUser>,
    /// The signed-in user's chosen time zone.
    pub timezone: Option<String>,
    /// The zone the browser reported (`colloquy_tz` cookie, set by app.js).
    pub browser_timezone: Option<String>,
    institution: String,
    verification_on: bool,
}

impl Viewer {
    pub fn layout(&self, title: impl Into<String>) -> Layout {
        Layout {
            institution: self.institution.clone(),
            title: title.into(),
            user: self.user.clone(),
            csrf: self.ctx.csrf.clone(),
            flash: self.ctx.flash.clone(),
            unverified: self.verification_on
                && self.user.as_ref().is_some_and(|u| !u.email_verified),
            zone: self.zone(None),
        }
    }

    /// The signed-in principal, or a redirect to the log-in page.
    pub fn require(&self, next: &str) -> Result<Principal, super::PageError> {
        self.session
            .ok_or_else(|| super::PageError::Login(next.to_string()))
    }

    /// The signed-in admin; others get 403, visitors the log-in page.
    pub fn require_admin(&self, next: &str) -> Result<Principal, super::PageError> {
        let who = self.require(next)?;
        if !who.is_admin() {
            return Err(super::PageError::App(AppError::Forbidden));
        }
        Ok(who)
    }

    /// The zone to show times in: an explicit choice on the page, then the
    /// user's saved zone, then the browser's, then UTC.
    pub fn zone(&self, requested: Option<&str>) -> chrono_tz::Tz {
        crate::domain::zone::first_of(
            [
                requested,
                self.timezone.as_deref(),
                self.browser_timezone.as_deref(),
            ],
            crate::domain::zone::DEFAULT,
        )
    }

    /// Checks a submitted CSRF token against the cookie.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), super::PageError> {
        if constant_time_eq(submitted.as_bytes(), self.ctx.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(super::PageError::App(AppError::bad_request(
                "csrf",
                "This form has expired or did not come from this site. Reload the page and try again.",
            )))
        }
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ctx = parts
            .extensions
            .get::<PageCtx>()
            .cloned()
            .unwrap_or_else(|| PageCtx {
                csrf: String::new(),
                flash: None,
            });
        let mut session = None;
        let mut user = None;
        let mut timezone = None;
        if let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE) {
            if let Ok(Some(r)) = accounts::resolve_cookie(state, &token).await {
                if !r.pending.is_empty() && !crate::http::terms_gate::exempt(parts) {
                    return Err(to_acceptance(parts));
                }
                let s = r.principal;
                if let Ok(u) = accounts::get_user(state, s.user_id).await {
                    user = Some(NavUser {
                        name: u.name,
                        role: u.role,
                        email_verified: u.email_verified,
                    });
                    timezone = u.timezone;
                    session = Some(s);
                }
            }
        }
        Ok(Self {
            ctx,
            session,
            user,
            timezone,
            browser_timezone: cookie_value(&parts.headers, TZ_COOKIE)
                .map(|z| z.replace("%2F", "/").replace("%2B", "+")),
            institution: institution_name(state),
            verification_on: state.config.email_verification_on(),
        })
    }
}
