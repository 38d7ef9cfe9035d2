//! Which requests an account may make before it accepted the current
//! terms of use and privacy notice. Everything else answers 403
//! `terms_not_accepted` on the API (`extractors::AuthUser`) and shows the
//! acceptance page on pages (`pages::Viewer`). Routes without a signed-in
//! caller (log-in, registration, token refresh, health, static files,
//! webhooks) never reach the gate.

use axum::extract::MatchedPath;
use axum::http::request::Parts;
use axum::http::Method;

/// Routes (method, template) that work without accepting: reading and
/// accepting the documents, the consent ledger, the account's data-rights
/// requests, and log-out. `None` matches every method.
pub const EXEMPT: &[(Option<Method>, &str)] = &[
    (None, "/api/v1/users/me/terms"),
    (None, "/api/v1/users/me/consents"),
    (None, "/api/v1/users/me/consents/{kind}/grant"),
    (None, "/api/v1/users/me/consents/{kind}/withdraw"),
    (None, "/api/v1/users/me/export"),
    (None, "/account/export"),
    (Some(Method::DELETE), "/api/v1/users/me"),
    (None, "/api/v1/auth/logout"),
    (None, "/logout"),
    (None, "/login"),
    (None, "/register"),
    (None, "/terms"),
    (None, "/terms/{version}"),
    (None, "/privacy"),
    (None, "/privacy/{version}"),
    // Asking what is held about an address is everyone's right.
    (None, "/privacy/request"),
    (None, "/terms/accept"),
    (None, "/account/consents/{kind}/grant"),
    (None, "/account/consents/{kind}/withdraw"),
    // An objection through a signed link, always honoured.
    (None, "/opt-out/{token}"),
];

/// Whether this request may skip the terms check.
pub fn exempt(parts: &Parts) -> bool {
    let Some(path) = parts.extensions.get::<MatchedPath>() else {
        // The fallback (not found): nothing there to protect.
        return true;
    };
    EXEMPT.iter().any(|(method, template)| {
        *template == path.as_str() && method.as_ref().is_none_or(|m| *m == parts.method)
    })
}
