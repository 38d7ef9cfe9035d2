//! `[security] admin_allowed_ips`: the admin pages (`/admin`, `/admin/*`)
//! and the admin API (`/api/v1/admin/*`) answer 403 to any client address
//! outside the list. The address is the one `client_ip` finds, so
//! `X-Forwarded-For` counts only from `trusted_proxies`. An empty list
//! restricts nothing.
//!
//! The check runs before any handler, for known and unknown paths alike, so
//! a refused address learns nothing about which admin routes exist.

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::client_ip::client_ip;
use crate::error::AppError;
use crate::state::AppState;

/// Whether `path` is an admin page or an admin API route.
pub fn is_admin_path(path: &str) -> bool {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    under("/admin") || under("/api/v1/admin")
}

fn refusal() -> AppError {
    AppError::refused(
        "admin_address_not_allowed",
        "The admin area cannot be reached from this network address. Connect from an address the instance allows (ask whoever runs it), then try again.",
    )
}

/// The refusal for an admin path from an address outside
/// `admin_allowed_ips`; None when the request may go on.
pub fn refusal_for(state: &AppState, parts: &Parts) -> Option<AppError> {
    let allowed = &state.admin_allowed_ips;
    if allowed.is_empty() || !is_admin_path(parts.uri.path()) {
        return None;
    }
    let ip = client_ip(parts, &state.trusted_proxies);
    if ip.is_some_and(|ip| allowed.iter().any(|net| net.contains(&ip))) {
        return None;
    }
    tracing::warn!(route = %parts.uri.path(), "admin request from an address outside admin_allowed_ips refused");
    Some(refusal())
}

/// The API's layer: the refusal in the API's error shape. The pages have
/// their own (`pages::errors::admin_allowlist`), which renders the error
/// page; unknown `/api/` paths fall through to it and get JSON there too.
pub async fn admin_allowlist(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.admin_allowed_ips.is_empty() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match refusal_for(&state, &parts) {
        Some(refused) => refused.into_response(),
        None => next.run(Request::from_parts(parts, body)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::is_admin_path;

    #[test]
    fn admin_paths_are_the_admin_area_and_nothing_that_only_starts_alike() {
        for p in [
            "/admin",
            "/admin/",
            "/admin/users/3",
            "/api/v1/admin",
            "/api/v1/admin/users",
        ] {
            assert!(is_admin_path(p), "{p}");
        }
        for p in ["/administrators", "/api/v1/adminx", "/api/v1/users/me", "/"] {
            assert!(!is_admin_path(p), "{p}");
        }
    }
}
