//! The HTTP layer: JSON API, HTML pages, static files, and the middleware
//! stack around them.

pub mod admin_access;
pub mod api;
pub mod client_ip;
pub mod downloads;
pub mod extractors;
pub mod json_bytes;
pub mod middleware;
pub mod pages;
mod request_id;
pub mod static_files;
pub mod terms_gate;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::routing::get;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;

use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn cors(state: &AppState) -> CorsLayer {
    let origins: Vec<HeaderValue> = state
        .config
        .security
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .max_age(Duration::from_secs(600))
}

/// The route template a request matched (`/invite/{token}`), never the raw
/// path: paths carry link tokens, and logs must not.
fn route_of<B>(req: &axum::http::Request<B>) -> &str {
    req.extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("(no route)", |m| m.as_str())
}

pub fn router(state: AppState) -> Router {
    let api_routes = api::router();
    // Unknown paths fall through to the pages' fallback, which answers
    // JSON under /api/ and an HTML page elsewhere.
    let api = api_routes.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        admin_access::admin_allowlist,
    ));
    // axum clones a route's whole layer stack for every request, and a
    // CorsLayer clones its lists with it: with no origin allowed (the
    // default) there is nothing for it to do, so it is left out. A
    // preflight then gets the API's 405, which browsers read as a refusal.
    let api = if state.config.security.cors_origins.is_empty() {
        api
    } else {
        api.layer(cors(&state))
    };
    let timeout = Duration::from_secs(state.config.server.request_timeout_secs);
    Router::new()
        .merge(api)
        .merge(pages::router(state.clone()))
        .route("/static/{name}", get(static_files::static_file))
        .layer(DefaultBodyLimit::max(state.config.server.body_limit_bytes))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        // Rate limit, security headers, metrics and the API's error shape
        // (for 408, 413 and panics too), in one pass.
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::envelope))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            // The request log: one line at INFO when each answer is sent,
            // with the span's method, route template and request id, the
            // status and the latency. Nothing is logged when it starts.
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), route = %route_of(req), request_id = %id)
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, request_id::CountedIds::default()))
        .with_state(state)
}
