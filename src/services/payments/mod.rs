//! Payments with Stripe: held payments captured on accept, refunds by
//! policy, subscriptions, signed webhooks, the ledger, invoices and tax.

mod chargebacks;
pub(crate) mod client;
pub mod held;
mod held_refunds;
pub mod in_flight;
pub mod invoices;
pub mod plan_check;
pub mod pricing;
pub mod refunds;
pub mod release_held;
mod subscription_events;
pub mod subscriptions;
mod views;
mod webhook_events;
pub mod webhooks;

pub use views::{InvoiceView, LedgerView};

use crate::db::repos::billing;
use crate::db::repos::ledger::{self, LedgerFilter};
use crate::domain::billing::BillingDetails;
use crate::domain::{ConsultingSessionId, InvoiceId, PaymentStatus, SessionStatus};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::pagination::{Page, PageParams};
use crate::services::accounts::Principal;
use crate::state::AppState;

/// Filters of `GET /payments`.
#[derive(Debug, Clone, Default)]
pub struct LedgerQuery {
    pub kind: Option<String>,
    pub session_id: Option<ConsultingSessionId>,
    /// Admins: everyone's entries.
    pub all: bool,
}

const KINDS: &[&str] = &[
    "authorization",
    "release",
    "capture",
    "refund",
    "subscription_charge",
    "dispute",
    "payment_failed",
];

/// The ledger: mine, or everyone's for an admin with `all`.
pub async fn list(
    state: &AppState,
    who: &Principal,
    q: LedgerQuery,
    page: &PageParams,
) -> AppResult<Page<LedgerView>> {
    if q.all && !who.is_admin() {
        return Err(AppError::Forbidden);
    }
    if let Some(k) = &q.kind {
        if !KINDS.contains(&k.as_str()) {
            return Err(AppError::field(
                "kind",
                format!("must be one of {}", KINDS.join(", ")),
            ));
        }
    }
    let limit = page.limit()?;
    let filter = LedgerFilter {
        user_id: (!q.all).then_some(who.user_id),
        kind: q.kind,
        session_id: q.session_id,
        before_id: page.after_id()?,
        limit: limit + 1,
    };
    let rows = state.db.read(move |c| ledger::list(c, &filter)).await?;
    let rows: Vec<LedgerView> = rows.into_iter().map(LedgerView::from).collect();
    Ok(Page::from_rows(rows, limit, |e| e.id))
}

/// Whether the user's subscription is in force: the one answer behind
/// every `is_subscribed` (`/users/me`, the admin list, a registration, the
/// reader's dashboard).
pub async fn is_subscribed(state: &AppState, user: crate::domain::UserId) -> AppResult<bool> {
    let (config, now) = (state.config.clone(), state.now());
    state
        .db
        .read(move |c| pricing::is_subscribed(c, &config, user, now))
        .await
}

/// Which of `users` are subscribed ([`is_subscribed`] for each), in one
/// read: a page of accounts.
pub async fn subscribed_among(
    state: &AppState,
    users: Vec<crate::domain::UserId>,
) -> AppResult<std::collections::HashSet<crate::domain::UserId>> {
    let (config, now) = (state.config.clone(), state.now());
    state
        .db
        .read(move |c| {
            let mut yes = std::collections::HashSet::new();
            for user in users {
                if pricing::is_subscribed(c, &config, user, now)? {
                    yes.insert(user);
                }
            }
            Ok(yes)
        })
        .await
}

/// The caller's billing country, region and invoice details (empty until
/// saved).
pub async fn billing_of(
    state: &AppState,
    who: &Principal,
) -> AppResult<(String, Option<String>, BillingDetails)> {
    let (user, keys) = (who.user_id, state.keys.clone());
    let profile = state
        .db
        .read(move |c| billing::find(c, &keys, user))
        .await?;
    Ok(match profile {
        Some(p) => (p.country, p.region, p.details),
        None => (String::new(), None, BillingDetails::default()),
    })
}

/// Sets the caller's billing country and invoice details.
pub async fn set_billing(
    state: &AppState,
    who: &Principal,
    country: &str,
    region: Option<&str>,
    details: BillingDetails,
) -> AppResult<()> {
    let mut errs = FieldErrors::new();
    let country = country.trim().to_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        errs.add("country", "must be a two-letter country code such as DE");
    }
    for (field, value, max) in [
        ("name", &details.name, 200),
        ("address", &details.address, 500),
        ("tax_id", &details.tax_id, 50),
    ] {
        errs.check(field, crate::domain::text::optional_block(Some(value), max));
    }
    // An ISO 3166-2 subdivision such as `BY` or `CA-ON` (the API
    // documents exactly this: `BillingBody::region`).
    let region = region
        .map(|r| {
            r.trim_matches(|c: char| c.is_ascii_whitespace())
                .to_ascii_uppercase()
        })
        .filter(|r| !r.is_empty());
    if region
        .as_ref()
        .is_some_and(|r| r.len() > 10 || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        errs.add(
            "region",
            "must be a region code such as BY or CA-ON (at most 10 letters, digits or -)",
        );
    }
    errs.into_result()?;
    let details = BillingDetails {
        name: details.name.trim().to_string(),
        address: details.address.trim().to_string(),
        tax_id: details.tax_id.trim().to_string(),
    };
    let (user, now, keys) = (who.user_id, state.now(), state.keys.clone());
    state
        .db
        .write(move |tx| billing::save(tx, &keys, user, &country, region.as_deref(), &details, now))
        .await
}

/// The money side of a session, as its page shows it to the reader.
#[derive(Debug, Clone)]
pub struct PaymentSummary {
    pub status: PaymentStatus,
    pub amount: String,
    pub tax: String,
    pub refunded: Option<String>,
    /// The reader can pay now (Checkout).
    pub payable: bool,
    /// Invoices and credit notes: (id, number).
    pub invoices: Vec<(InvoiceId, String)>,
}

/// Tells sessions that a priced session's card is now held (the researcher
/// may be asked), inside the webhook's transaction. Registered through
/// `AppState::hooks`, so payments never imports sessions.
pub type AuthorizedHook = fn(
    &rusqlite::Connection,
    &AppState,
    &crate::db::repos::consulting_sessions::SessionRow,
    chrono::DateTime<chrono::Utc>,
) -> AppResult<()>;

/// A session's payment as its reader (`for_reader`: may pay) or an admin
/// sees it; `None` when the session is free.
pub async fn summary(
    state: &AppState,
    for_reader: bool,
    id: ConsultingSessionId,
    session_status: SessionStatus,
) -> AppResult<Option<PaymentSummary>> {
    let (payment, entries) = state
        .db
        .read(move |c| {
            let filter = LedgerFilter {
                user_id: None,
                kind: None,
                session_id: Some(id),
                before_id: None,
                limit: 50,
            };
            Ok((
                crate::db::repos::payments::find(c, id)?,
                ledger::list(c, &filter)?,
            ))
        })
        .await?;
    Ok(payment.map(|p| PaymentSummary {
        payable: for_reader
            && matches!(p.status, PaymentStatus::Pending | PaymentStatus::Failed)
            && session_status == SessionStatus::Requested,
        amount: p.amount().to_string(),
        tax: p.tax().to_string(),
        refunded: (p.refunded_minor > 0).then(|| p.refunded().to_string()),
        status: p.status,
        invoices: entries
            .into_iter()
            .rev()
            .filter_map(|e| e.invoice_id.zip(e.invoice_number))
            .collect(),
    }))
}
