//! Paying for a session (Stripe Checkout), invoices as pages, and the
//! account's billing profile, subscription and payments.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::context::{redirect_with_flash, render, Layout, Viewer};
use super::form::{CsrfOnly, PageForm};
use super::PageError;
use crate::domain::billing::BillingDetails;
use crate::domain::{ConsultingSessionId, InvoiceId};
use crate::error::AppError;
use crate::http::extractors::{AppPath, AppQuery};
use crate::pagination::PageParams;
use crate::services::accounts::Principal;
use crate::services::payments::subscriptions::{self, PlanView, SubscriptionView};
use crate::services::payments::{self, held, invoices, LedgerQuery};
use crate::services::payments::{InvoiceView, LedgerView};
use crate::state::AppState;

/// One payment line on the account page.
pub struct EntryLine {
    /// When it was entered (RFC 3339); the page shows its date in the viewer's zone.
    pub date: String,
    pub kind: String,
    pub amount: String,
    pub invoice_id: Option<InvoiceId>,
    pub invoice_number: Option<String>,
}

/// The account page's billing part.
pub struct BillingSection {
    pub enabled: bool,
    pub country: String,
    pub region: String,
    pub details: BillingDetails,
    pub plans: Vec<PlanView>,
    pub subscription: Option<SubscriptionView>,
    pub entries: Vec<EntryLine>,
}

impl BillingSection {
    pub fn money(minor: i64, currency: &str) -> String {
        crate::domain::money::format(minor, currency)
    }
}

/// A ledger entry's kind in words.
fn ledger_kind(kind: &str) -> &str {
    match kind {
        "authorization" => "card held",
        "release" => "hold released",
        "capture" => "payment",
        "refund" => "refund",
        "subscription_charge" => "subscription payment",
        "dispute" => "disputed payment",
        "payment_failed" => "card declined (nothing charged)",
        other => other,
    }
}

fn entry_line(e: LedgerView) -> EntryLine {
    EntryLine {
        kind: ledger_kind(&e.kind).to_string(),
        amount: e.amount().to_string(),
        date: e.created_at,
        invoice_id: e.invoice_id,
        invoice_number: e.invoice_number,
    }
}

pub async fn section(state: &AppState, who: &Principal) -> Result<BillingSection, PageError> {
    let enabled = held::enabled(state);
    let (country, region, details) = payments::billing_of(state, who).await?;
    let entries = payments::list(
        state,
        who,
        LedgerQuery::default(),
        &PageParams {
            limit: Some(50),
            cursor: None,
        },
    )
    .await?
    .items;
    Ok(BillingSection {
        enabled,
        country,
        region: region.unwrap_or_default(),
        details,
        plans: subscriptions::plans(state),
        subscription: subscriptions::mine(state, who).await?,
        entries: entries.into_iter().map(entry_line).collect(),
    })
}

fn problem(state: &AppState, back: &str, e: AppError) -> Result<Response, PageError> {
    super::outcome::flash_failure(state, back, e)
}

/// Sends the browser to a Stripe page, or back with the problem.
fn to_stripe(
    state: &AppState,
    back: &str,
    url: Result<String, AppError>,
) -> Result<Response, PageError> {
    match url {
        Ok(url) => Ok(Redirect::to(&url).into_response()),
        Err(e) => problem(state, back, e),
    }
}

/// "Pay": off to Stripe Checkout, back to the session page afterwards.
pub async fn pay_post(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<i64>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let back = format!("/sessions/{id}");
    let who = viewer.require(&back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let url = crate::services::sessions::pay::checkout(&state, &who, ConsultingSessionId(id)).await;
    to_stripe(&state, &back, url)
}

#[derive(Template)]
#[template(path = "pages/invoice.html")]
pub struct InvoicePage {
    pub layout: Layout,
    pub i: InvoiceView,
}

impl InvoicePage {
    pub fn money(&self, minor: &i64) -> String {
        self.i.money(*minor).to_string()
    }
    pub fn percent(&self, bp: &i64) -> String {
        format!("{}.{:02} %", bp / 100, bp % 100)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceQuery {
    pub download: Option<u8>,
}

/// An invoice as a page; `?download=1` sends it as a file.
pub async fn invoice_get(
    State(state): State<AppState>,
    viewer: Viewer,
    AppPath(id): AppPath<InvoiceId>,
    AppQuery(q): AppQuery<InvoiceQuery>,
) -> Result<Response, PageError> {
    let who = viewer.require(&format!("/invoices/{id}"))?;
    let i = invoices::get(&state, &who, id).await?;
    let number = i.number.clone();
    let mut resp = render(&InvoicePage {
        layout: viewer.layout(format!("Invoice {number}")),
        i,
    });
    if q.download == Some(1) {
        if let Ok(v) = format!("attachment; filename=\"{number}.html\"").parse() {
            resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub struct BillingForm {
    pub csrf_token: String,
    pub country: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub tax_id: String,
}

#[derive(Deserialize)]
pub struct SubscribeForm {
    pub csrf_token: String,
    pub plan_id: String,
}

pub async fn subscribe_post(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(f): PageForm<SubscribeForm>,
) -> Result<Response, PageError> {
    let back = "/account#subscription";
    let who = viewer.require(back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let url = subscriptions::start(&state, &who, &f.plan_id)
        .await
        .map(|s| s.checkout_url);
    to_stripe(&state, back, url)
}

pub async fn subscription_cancel_post(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let back = "/account#subscription";
    let who = viewer.require(back)?;
    viewer.check_csrf(&f.csrf_token)?;
    match subscriptions::cancel(&state, &who).await {
        Ok(_) => Ok(redirect_with_flash(
            &state,
            back,
            "success",
            "Your subscription ends at the end of the current period.",
        )),
        Err(e) => problem(&state, back, e),
    }
}

/// "Update your card": off to the Stripe Billing Portal and back.
pub async fn card_post(
    State(state): State<AppState>,
    viewer: Viewer,
    PageForm(f): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let back = "/account#subscription";
    let who = viewer.require(back)?;
    viewer.check_csrf(&f.csrf_token)?;
    let url = subscriptions::card_portal(&state, &who).await;
    to_stripe(&state, back, url)
}
