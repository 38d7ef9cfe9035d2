//! Payments: PaymentIntents for sessions, the ledger, invoices, billing
//! profiles, subscriptions and the Stripe webhook.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::billing::BillingDetails;
use crate::domain::{ConsultingSessionId, InvoiceId};
use crate::error::AppResult;
use crate::http::api::error::ErrorBody;
use crate::http::extractors::{AdminUser, AppJson, AppPath, AppQuery, AuthUser, ClientIp};
use crate::pagination::{Page, PageParams};
use crate::services::payments::held::IntentView;
use crate::services::payments::subscriptions::{self, PlanView, Started, SubscriptionView};
use crate::services::payments::{self, invoices, webhooks, LedgerQuery};
use crate::services::payments::{InvoiceView, LedgerView};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentBody {
    #[schema(value_type = i64)]
    pub session_id: ConsultingSessionId,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerParams {
    /// authorization, release, capture, refund, subscription_charge or dispute.
    #[param(inline, value_type = Option<crate::domain::api_schema::LedgerKind>)]
    pub kind: Option<String>,
    #[param(value_type = Option<i64>)]
    pub session_id: Option<ConsultingSessionId>,
    /// Admins: every user's entries.
    pub all: Option<bool>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingBody {
    /// ISO 3166-1 alpha-2; decides the tax rate.
    #[schema(pattern = "^\\s*[A-Za-z]{2}\\s*$")]
    pub country: String,
    /// ISO 3166-2 subdivision, such as `BY` or `CA-ON`, where tax depends on it.
    #[schema(pattern = "^[\\t\\n\\f\\r ]*[A-Za-z0-9-]{0,10}[\\t\\n\\f\\r ]*$")]
    pub region: Option<String>,
    #[serde(default)]
    #[schema(value_type = crate::domain::api_schema::OptionalTextBlock)]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = crate::domain::api_schema::OptionalTextBlock)]
    pub address: String,
    #[serde(default)]
    #[schema(value_type = crate::domain::api_schema::OptionalTextBlock)]
    pub tax_id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeBody {
    pub plan_id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// Default: all that is left of the payment.
    pub amount_minor: Option<i64>,
    /// Recorded in the audit trail.
    #[schema(value_type = crate::domain::api_schema::TextLine)]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct RefundAnswer {
    pub refunded_minor: i64,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookAnswer {
    pub received: bool,
    /// processed, replayed or ignored.
    pub outcome: String,
}

/// A manual-capture PaymentIntent for a priced session (its reader only),
/// for clients that confirm with Stripe.js.
#[utoipa::path(post, path = "/api/v1/consulting/payments/intent", tag = "payments", request_body = IntentBody,
    security(("bearer" = [])),
    responses((status = 200, body = IntentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "`nothing_to_pay` (free), `not_payable` (not now), `payment_window_over` (the payment window ended)", body = ErrorBody),
              (status = 502, description = "Stripe failed; nothing changed", body = ErrorBody)))]
pub async fn intent(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppJson(body): AppJson<IntentBody>,
) -> AppResult<Json<IntentView>> {
    Ok(Json(
        crate::services::sessions::pay::create_intent(&state, &who, body.session_id).await?,
    ))
}

/// The ledger: my payments, or everyone's for an admin with `all=true`.
#[utoipa::path(get, path = "/api/v1/payments", tag = "payments", params(LedgerParams), security(("bearer" = [])),
    responses((status = 200, body = Page<LedgerView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ledger(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppQuery(p): AppQuery<LedgerParams>,
) -> AppResult<Json<Page<LedgerView>>> {
    let q = LedgerQuery {
        kind: p.kind,
        session_id: p.session_id,
        all: p.all.unwrap_or(false),
    };
    let page = PageParams {
        limit: p.limit,
        cursor: p.cursor,
    };
    Ok(Json(payments::list(&state, &who, q, &page).await?))
}

/// An invoice or credit note (its buyer or an admin).
#[utoipa::path(get, path = "/api/v1/invoices/{invoice_id}", tag = "payments", params(("invoice_id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = InvoiceView), (status = 404, body = ErrorBody)))]
pub async fn invoice(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppPath(id): AppPath<InvoiceId>,
) -> AppResult<Json<InvoiceView>> {
    Ok(Json(invoices::get(&state, &who, id).await?))
}

/// Set my billing country (for tax) and invoice details.
#[utoipa::path(put, path = "/api/v1/users/me/billing", tag = "payments", request_body = BillingBody,
    security(("bearer" = [])), responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn billing_put(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppJson(b): AppJson<BillingBody>,
) -> AppResult<StatusCode> {
    let details = BillingDetails {
        name: b.name,
        address: b.address,
        tax_id: b.tax_id,
    };
    payments::set_billing(&state, &who, &b.country, b.region.as_deref(), details).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The plans on offer (empty while payments are off).
#[utoipa::path(get, path = "/api/v1/plans", tag = "payments", responses((status = 200, body = Vec<PlanView>)))]
pub async fn plans(State(state): State<AppState>) -> Json<Vec<PlanView>> {
    Json(subscriptions::plans(&state))
}

/// Start a subscription: answers the Stripe Checkout page to confirm it on.
#[utoipa::path(post, path = "/api/v1/subscriptions", tag = "payments", request_body = SubscribeBody,
    security(("bearer" = [])),
    responses((status = 201, body = Started), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 502, body = ErrorBody)))]
pub async fn subscribe(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    AppJson(b): AppJson<SubscribeBody>,
) -> AppResult<(StatusCode, Json<Started>)> {
    Ok((
        StatusCode::CREATED,
        Json(subscriptions::start(&state, &who, &b.plan_id).await?),
    ))
}

/// My subscription (404 when I never had one).
#[utoipa::path(get, path = "/api/v1/subscriptions/me", tag = "payments", security(("bearer" = [])),
    responses((status = 200, body = SubscriptionView), (status = 404, body = ErrorBody)))]
pub async fn subscription_me(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> AppResult<Json<SubscriptionView>> {
    subscriptions::mine(&state, &who)
        .await?
        .map(Json)
        .ok_or(crate::error::AppError::NotFound)
}

/// Cancel my subscription at the end of its period.
#[utoipa::path(post, path = "/api/v1/subscriptions/me/cancel", tag = "payments", security(("bearer" = [])),
    responses((status = 200, body = SubscriptionView), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn subscription_cancel(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> AppResult<Json<SubscriptionView>> {
    Ok(Json(subscriptions::cancel(&state, &who).await?))
}

/// Refund a session's captured payment (admins), e.g. after a reader's
/// no-show, which refunds nothing by policy.
#[utoipa::path(post, path = "/api/v1/admin/sessions/{session_id}/refund", tag = "admin",
    params(("session_id" = i64, Path)), request_body = RefundBody, security(("bearer" = [])),
    responses((status = 200, body = RefundAnswer), (status = 403, description = "Not an admin, an address outside `admin_allowed_ips`, or `reauth_required`: the password was entered too long ago (`POST /api/v1/auth/reauth`)", body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn admin_refund(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ClientIp(ip): ClientIp,
    AppPath(id): AppPath<ConsultingSessionId>,
    AppJson(b): AppJson<RefundBody>,
) -> AppResult<Json<RefundAnswer>> {
    let refunded_minor = crate::services::payments::refunds::admin_refund(
        &state,
        &admin,
        id,
        b.amount_minor,
        &b.reason,
        ip,
    )
    .await?
    .minor;
    Ok(Json(RefundAnswer { refunded_minor }))
}

/// Stripe's events, signed with `Stripe-Signature`. A replay is a 200
/// no-op; a bad or stale signature is a 400; a processing failure is a 500
/// so that Stripe retries.
#[utoipa::path(post, path = "/api/v1/webhooks/stripe", tag = "payments",
    request_body(content = String, content_type = "application/json"),
    responses((status = 200, body = WebhookAnswer), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, description = "Payments are off", body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn stripe_webhook(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<WebhookAnswer>> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let outcome = webhooks::handle(&state, ip, signature, &body).await?;
    Ok(Json(WebhookAnswer {
        received: true,
        outcome: format!("{outcome:?}").to_lowercase(),
    }))
}
