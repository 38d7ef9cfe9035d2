//! The web UI: askama pages with a cookie session, a CSRF token on every
//! form, flash messages and error pages. Progressive enhancement with htmx.

pub mod account;
pub mod admin;
pub mod admin_accounts;
pub mod admin_claims;
pub mod admin_collection;
pub mod admin_data_subjects;
pub mod admin_disputes;
pub mod admin_mail;
pub mod admin_outreach;
pub mod admin_sessions;
pub mod admin_settings;
pub mod auth;
pub mod availability;
mod availability_lines;
pub mod billing;
pub mod booking;
pub(crate) mod charts;
pub mod collection;
pub mod consents;
pub mod context;
mod dashboard_charts;
pub mod dashboards;
pub mod data_requests;
pub mod disputes;
pub mod errors;
pub mod exports;
pub mod form;
pub mod form_errors;
pub mod layout;
pub mod legal;
pub mod outcome;
pub mod outreach;
pub mod papers;
pub mod picker;
pub mod reauth;
pub mod researcher_claims;
pub mod review_sections;
pub mod reviews;
pub mod session_forms;
pub mod session_respond;
pub mod sessions;
pub mod verify;
pub mod zones;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub use context::{Layout, Viewer};
pub use errors::PageError;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(dashboards::home))
        .route("/dashboard", get(dashboards::dashboard_get))
        .route("/login", get(auth::login_get).post(auth::login_post))
        .route(
            "/register",
            get(auth::register_get).post(auth::register_post),
        )
        .route("/logout", post(auth::logout_post))
        .route("/terms", get(legal::terms_get))
        .route(
            "/terms/accept",
            get(legal::accept_get).post(legal::accept_post),
        )
        .route("/terms/{version}", get(legal::terms_version_get))
        .route("/privacy", get(legal::privacy_get))
        .route(
            "/privacy/request",
            get(data_requests::request_get).post(data_requests::request_post),
        )
        .route("/privacy/{version}", get(legal::privacy_version_get))
        .route("/account/consents/{kind}/grant", post(consents::grant_post))
        .route(
            "/account/consents/{kind}/withdraw",
            post(consents::withdraw_post),
        )
        .route(
            "/verify-email/{token}",
            get(verify::verify_get).post(verify::verify_post),
        )
        .route("/account/verify-email/resend", post(verify::resend_post))
        .route(
            "/setup/{token}",
            get(auth::setup_get).post(auth::setup_post),
        )
        .route("/papers", get(papers::search_get))
        .route("/papers/new", get(papers::new_get).post(papers::new_post))
        .route("/papers/import", post(papers::import_post))
        .route("/papers/{id}", get(papers::paper_get))
        .route("/papers/{id}/progress", post(papers::progress_post))
        .route("/papers/{id}/collection", get(collection::collection_get))
        .route("/papers/{id}/collect", post(collection::collect_post))
        .route("/account", get(account::account_get))
        .route("/account/export", get(exports::my_data_get))
        .route("/account/password", post(account::password_post))
        .route("/account/erase", post(account::erase_post))
        .route("/account/timezone", post(account::timezone_post))
        .route("/account/billing", post(account::billing_post))
        .route("/account/subscribe", post(billing::subscribe_post))
        .route("/account/card", post(billing::card_post))
        .route(
            "/account/subscription/cancel",
            post(billing::subscription_cancel_post),
        )
        .route("/sessions/{id}/pay", post(billing::pay_post))
        .route("/invoices/{id}", get(billing::invoice_get))
        .route("/admin", get(admin::admin_get))
        .route("/admin/users/{id}/role", post(admin::role_post))
        .route("/admin/users/{id}", get(admin_accounts::account_get))
        .route(
            "/admin/users/{id}/disable",
            post(admin_accounts::disable_post),
        )
        .route(
            "/admin/users/{id}/enable",
            post(admin_accounts::enable_post),
        )
        .route(
            "/admin/users/{id}/delete",
            post(admin_accounts::delete_post),
        )
        .route("/admin/settings", get(admin_settings::settings_get))
        .route("/admin/mail", get(admin_mail::mailbox_get))
        .route("/admin/mail/test", post(admin_mail::test_post))
        .route("/admin/mail/{id}", get(admin_mail::message_get))
        .route("/admin/mail/{id}/retry", post(admin_mail::retry_post))
        .route("/invite/renew", post(outreach::renew_post))
        .route(
            "/invite/{token}",
            get(outreach::invite_get).post(outreach::invite_post),
        )
        .route("/invite/{token}/link", post(outreach::invite_link_post))
        .route(
            "/opt-out/{token}",
            get(outreach::opt_out_get).post(outreach::opt_out_post),
        )
        .route("/researchers/{id}", get(booking::researcher_get))
        .route("/researchers/{id}/book", post(booking::book_post))
        .route(
            "/researchers/{id}/claim",
            post(researcher_claims::claim_post),
        )
        .route(
            "/researchers/{id}/claim-request",
            post(researcher_claims::claim_request_post),
        )
        .route(
            "/researchers/{id}/availability",
            get(availability::availability_get).post(availability::availability_post),
        )
        .route("/sessions", get(sessions::sessions_get))
        .route("/sessions/{id}", get(sessions::session_get))
        .route("/sessions/{id}/action", post(sessions::action_post))
        .route("/sessions/{id}/invite.ics", get(sessions::ics_get))
        .route("/sessions/{id}/dispute", post(disputes::dispute_post))
        .route("/disputes", get(disputes::disputes_get))
        .route("/disputes/{id}", get(disputes::dispute_get))
        .route("/disputes/{id}/messages", post(disputes::message_post))
        .route("/disputes/{id}/withdraw", post(disputes::withdraw_post))
        .route("/disputes/{id}/contest", post(disputes::contest_post))
        .route("/admin/sessions", get(admin_sessions::admin_sessions_get))
        .route(
            "/admin/data-subjects",
            get(admin_data_subjects::subjects_get),
        )
        .route(
            "/admin/data-subjects/{kind}/{id}/export",
            get(admin_data_subjects::export_get),
        )
        .route(
            "/admin/data-subjects/researcher/{id}/erase",
            get(admin_data_subjects::erase_get).post(admin_data_subjects::erase_post),
        )
        .route("/admin/analytics", get(dashboards::analytics_get))
        .route("/admin/disputes", get(admin_disputes::admin_disputes_get))
        .route(
            "/admin/disputes/{id}/resolve",
            post(admin_disputes::resolve_post),
        )
        .route(
            "/admin/disputes/{id}/review",
            post(admin_disputes::review_post),
        )
        .route(
            "/sessions/{id}/respond",
            get(session_respond::respond_get).post(session_respond::respond_post),
        )
        .route(
            "/researchers/{id}/invite",
            post(outreach::invite_author_post),
        )
        .route("/admin/outreach", get(admin_outreach::admin_outreach_get))
        .route(
            "/admin/outreach/paper",
            post(admin_outreach::admin_invite_paper_post),
        )
        .route("/admin/jobs", get(admin_collection::jobs_get))
        .route(
            "/admin/jobs/{id}/retry",
            post(admin_collection::job_retry_post),
        )
        .route("/admin/providers", get(admin_collection::providers_get))
        .route(
            "/admin/providers/{name}/enable",
            post(admin_collection::provider_enable_post),
        )
        .route("/admin/researchers", get(admin_collection::researchers_get))
        .route(
            "/admin/researchers/{id}",
            get(admin_collection::researcher_get),
        )
        .route(
            "/admin/researchers/{id}/email",
            post(admin_claims::researcher_email_post),
        )
        .route(
            "/admin/researchers/{id}/invite-by-email",
            post(admin_claims::invite_by_email_post),
        )
        .route(
            "/admin/researchers/{id}/link",
            post(admin_claims::researcher_link_post),
        )
        .route(
            "/admin/researchers/{id}/merge",
            post(admin_claims::researcher_merge_post),
        )
        .route("/admin/claims", get(admin_claims::claims_get))
        .route("/admin/reviews", get(reviews::admin_reviews_get))
        .route("/exports/{dataset}", get(exports::export_get))
        .route(
            "/admin/reviews/{id}/moderate",
            post(reviews::admin_moderate_post),
        )
        .route("/sessions/{id}/review", post(reviews::session_review_post))
        .route("/reviews/{id}/reply", post(reviews::reply_post))
        .route("/reviews/{id}/report", post(reviews::report_post))
        .route("/account/review-mail", post(reviews::review_mail_post))
        .route("/admin/claims/{id}", post(admin_claims::claim_decide_post))
        .route(
            "/admin/merge-reviews/{id}",
            post(admin_claims::merge_review_post),
        )
        .fallback(errors::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            errors::admin_allowlist,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            context::page_context,
        ))
}
