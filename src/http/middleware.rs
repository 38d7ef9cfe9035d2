//! Cross-cutting middleware, in one pass (`envelope`): per-IP rate
//! limiting, security headers, metrics, and JSON error bodies for API
//! answers that axum or tower made (405, 408, 413) rather than a handler.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::api::error::ErrorBody;
use crate::http::api::error::HttpError;
use crate::state::AppState;

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The security headers on every answer, parsed once (`from_static` is
/// `const`): no name or value is parsed per request.
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 6] = [
    (
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    ),
    (
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    ),
    (
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    ),
];

const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000; includeSubDomains");

/// What every request passes through, in one middleware rather than four
/// (each `from_fn` layer boxes the request's future and clones the
/// services inside it, per request):
/// - the per-IP rate limit (static files and health checks are exempt);
/// - after the handler, the security headers;
/// - the request metrics (count by status class, latency);
/// - the API's error shape on API answers that axum or tower made (405,
///   408, 413, 415, a panic's 500) rather than a handler.
pub async fn envelope(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let path = req.uri().path();
    let api = path.starts_with("/api/");
    let exempt =
        path.starts_with("/static/") || matches!(path, "/healthz" | "/readyz" | "/metrics");
    let limited = if exempt {
        None
    } else {
        super::client_ip::client_ip_of(&req, &state.trusted_proxies)
            .and_then(|ip| state.rate_limits.check_ip(ip).err())
    };
    let mut res = match limited {
        Some(e) if api => e.into_response(),
        Some(e) => too_many_requests_page(&e),
        None => next.run(req).await,
    };
    let h = res.headers_mut();
    h.reserve(SECURITY_HEADERS.len() + 1);
    for (name, value) in &SECURITY_HEADERS {
        h.insert(name.clone(), value.clone());
    }
    if state.config.cookies_secure() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    state
        .metrics
        .request(res.status().as_u16(), start.elapsed());
    if api {
        api_error_body(res)
    } else {
        res
    }
}

const TOO_MANY_REQUESTS_HTML: &str =
    "<!doctype html><meta charset=utf-8><title>Too many requests</title>\
    <h1>Too many requests</h1><p>Please wait a minute and try again.</p>";

/// A plain page for browsers that are over the limit (no database work).
fn too_many_requests_page(e: &crate::error::AppError) -> Response {
    let mut res = (
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        axum::response::Html(TOO_MANY_REQUESTS_HTML),
    )
        .into_response();
    e.add_retry_after(&mut res);
    res
}

/// A handler panicked: log it, answer a bare 500 (the API's error shape is
/// added by `api_error_bodies`); no internals reach the client.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        axum::response::Html(INTERNAL_ERROR_HTML),
    )
        .into_response()
}

const INTERNAL_ERROR_HTML: &str =
    "<!doctype html><meta charset=utf-8><title>Something went wrong</title>\
    <h1>Something went wrong</h1><p>It has been logged. Please try again later.</p>";

/// Gives an API error answer that is not JSON yet the error shape.
fn api_error_body(res: Response) -> Response {
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() && !status.is_server_error() || is_json {
        return res;
    }
    let (code, message) = match status.as_u16() {
        404 => ("no_such_route", "No such API route."),
        405 => (
            "method_not_allowed",
            "This method is not allowed on this route.",
        ),
        408 => ("timeout", "The request took too long."),
        413 => ("payload_too_large", "The request body is too large."),
        415 => (
            "unsupported_media_type",
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        s if s >= 500 => (
            "internal",
            "Something went wrong on our side. It has been logged.",
        ),
        _ => ("bad_request", "The request could not be handled."),
    };
    let mut parts = res.into_parts().0;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::to_vec(&ErrorBody::new(code, message)).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

/// JSON 404 for unknown API routes (`no_such_route`, to tell it apart
/// from a missing object).
pub async fn api_not_found() -> Response {
    (
        axum::http::StatusCode::NOT_FOUND,
        axum::Json(ErrorBody::new("no_such_route", "No such API route.")),
    )
        .into_response()
}
