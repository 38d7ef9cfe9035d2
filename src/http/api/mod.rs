//! The JSON API under `/api/v1`. Routes are registered through utoipa-axum,
//! so the OpenAPI document is generated from the same list the router uses.

pub mod admin_accounts;
pub mod admin_disputes;
pub mod admin_sessions;
pub mod auth;
pub mod availability;
pub mod claims;
pub mod consents;
pub mod consulting;
pub mod dashboards;
pub mod data_requests;
pub mod data_rights;
pub mod disputes;
pub mod error;
pub mod exports;
pub mod health;
mod implied_responses;
mod operation_ids;
pub mod outreach;
mod page_schemas;
pub mod papers;
pub mod payments;
pub mod reviews;
pub mod sessions;
pub mod users;

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::json_bytes::JsonBytes;
use crate::state::AppState;
use error::{ErrorBody, ErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(title = "Colloquy API", description = "Book consulting sessions with the authors of research papers."),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "users"), (name = "papers"), (name = "consulting"), (name = "payments"), (name = "reviews"), (name = "admin"), (name = "operations"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = api.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
        }
    }
}

/// The API routes and their OpenAPI document.
pub fn router() -> Router<AppState> {
    let (router, mut api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::change_password))
        .routes(routes!(auth::reauth))
        .routes(routes!(auth::verify_email))
        .routes(routes!(auth::verify_email_resend))
        .routes(routes!(users::me))
        .routes(routes!(data_rights::export_me))
        .routes(routes!(data_rights::erase_me))
        .routes(routes!(data_rights::find_subjects))
        .routes(routes!(data_rights::export_subject))
        .routes(routes!(data_rights::erase_researcher))
        .routes(routes!(data_requests::create))
        .routes(routes!(users::timezone_put))
        .routes(routes!(users::terms_get))
        .routes(routes!(users::privacy_get))
        .routes(routes!(consents::list))
        .routes(routes!(consents::grant))
        .routes(routes!(consents::withdraw))
        .routes(routes!(consents::accept))
        .routes(routes!(users::users_list))
        .routes(routes!(users::role_put))
        .routes(routes!(admin_accounts::disable))
        .routes(routes!(admin_accounts::enable))
        .routes(routes!(admin_accounts::delete))
        .routes(routes!(users::audit_list))
        .routes(routes!(papers::create, papers::search))
        .routes(routes!(papers::get))
        .routes(routes!(papers::import))
        .routes(routes!(papers::progress_get, papers::progress_put))
        .routes(routes!(papers::queries_post, papers::queries_get))
        .routes(routes!(papers::query_get))
        .routes(routes!(outreach::outreach_post))
        .routes(routes!(outreach::register_researcher))
        .routes(routes!(outreach::link_researcher))
        .routes(routes!(consulting::collect))
        .routes(routes!(consulting::job_get))
        .routes(routes!(consulting::paper_researchers))
        .routes(routes!(consulting::researcher_get))
        .routes(routes!(consulting::jobs_list))
        .routes(routes!(consulting::job_retry))
        .routes(routes!(consulting::providers_list))
        .routes(routes!(consulting::provider_enable))
        .routes(routes!(consulting::researchers_search))
        .routes(routes!(claims::admin_researcher_patch))
        .routes(routes!(claims::admin_researcher_link))
        .routes(routes!(claims::admin_researcher_merge))
        .routes(routes!(claims::merge_reviews))
        .routes(routes!(claims::merge_review_dismiss))
        .routes(routes!(claims::claim))
        .routes(routes!(claims::claim_request))
        .routes(routes!(claims::claim_requests))
        .routes(routes!(claims::claim_request_approve))
        .routes(routes!(claims::claim_request_refuse))
        .routes(routes!(
            availability::settings_get,
            availability::settings_put
        ))
        .routes(routes!(
            availability::availability_get,
            availability::availability_put
        ))
        .routes(routes!(availability::rules_get))
        .routes(routes!(sessions::book, sessions::list))
        .routes(routes!(sessions::get))
        .routes(routes!(sessions::ics))
        .routes(routes!(sessions::accept))
        .routes(routes!(sessions::decline))
        .routes(routes!(sessions::cancel))
        .routes(routes!(sessions::reschedule))
        .routes(routes!(sessions::reschedule_accept))
        .routes(routes!(sessions::reschedule_reject))
        .routes(routes!(sessions::no_show))
        .routes(routes!(disputes::open_post, disputes::list))
        .routes(routes!(disputes::get))
        .routes(routes!(disputes::message_post))
        .routes(routes!(disputes::withdraw))
        .routes(routes!(disputes::contest))
        .routes(routes!(admin_disputes::list))
        .routes(routes!(admin_sessions::list))
        .routes(routes!(admin_disputes::review))
        .routes(routes!(admin_disputes::resolve_post))
        .routes(routes!(payments::intent))
        .routes(routes!(payments::ledger))
        .routes(routes!(payments::invoice))
        .routes(routes!(payments::billing_put))
        .routes(routes!(payments::plans))
        .routes(routes!(payments::subscribe))
        .routes(routes!(payments::subscription_me))
        .routes(routes!(payments::subscription_cancel))
        .routes(routes!(payments::stripe_webhook))
        .routes(routes!(payments::admin_refund))
        .routes(routes!(reviews::create))
        .routes(routes!(reviews::get, reviews::edit))
        .routes(routes!(reviews::reply))
        .routes(routes!(reviews::report))
        .routes(routes!(reviews::researcher_reviews))
        .routes(routes!(reviews::researcher_analytics))
        .routes(routes!(reviews::queue))
        .routes(routes!(reviews::moderate))
        .routes(routes!(reviews::admin_analytics))
        .routes(routes!(reviews::mail_get, reviews::mail_put))
        .routes(routes!(exports::export))
        .routes(routes!(dashboards::user))
        .routes(routes!(dashboards::researcher))
        .routes(routes!(dashboards::admin))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .split_for_parts();
    api.info.version = env!("CARGO_PKG_VERSION").into();
    api.paths
        .paths
        .insert("/api/v1/openapi.json".into(), openapi_path_item());
    operation_ids::make_unique(&mut api);
    implied_responses::add(&mut api);
    page_schemas::reference_items(&mut api);
    // Serialized once: the document is about 200 kB of JSON, and building
    // it per request (a deep clone, then serialization) cost ~20 MB of
    // allocator pages on the first fetch. `Bytes` clones are a counter.
    let doc = Bytes::from(serde_json::to_vec(&api).unwrap_or_default());
    drop(api);
    router.route(
        "/api/v1/openapi.json",
        get(move || std::future::ready(JsonBytes(doc.clone()))),
    )
}

fn openapi_path_item() -> utoipa::openapi::PathItem {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder};
    use utoipa::openapi::response::ResponseBuilder;
    utoipa::openapi::PathItem::new(
        HttpMethod::Get,
        OperationBuilder::new()
            .summary(Some("This OpenAPI document."))
            .tag("operations")
            .response(
                "200",
                ResponseBuilder::new()
                    .description("OpenAPI 3 document")
                    .build(),
            )
            .build(),
    )
}
