//! Held payments for priced sessions: authorised when the reader pays
//! (a PaymentIntent with `capture_method=manual`), captured when the
//! researcher accepts, released on decline, expiry or an early cancel, and
//! refunded by the policy tiers after accept. Each Stripe call happens
//! before the transaction that records it, so a failed call changes
//! nothing here; the session, the payment and the ledger then change in
//! one transaction.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use super::invoices::{self, Charge};
use super::pricing;
use crate::config::PaymentsMode;
use crate::db::repos::consulting_sessions::SessionRow;
use crate::db::repos::ledger::{self, NewEntry};
use crate::db::repos::payments::{self as repo, NewPayment, SessionPayment};
use crate::db::repos::{billing, users};
use crate::domain::money::{percent_of, refund_percent, Rate};
use crate::domain::money::{Currency, Money};
use crate::domain::{ConsultingSessionId, UserId};
use crate::error::{AppError, AppResult};
use crate::providers::stripe::{CheckoutFor, PaymentIntentStatus, StripeClient};
use crate::providers::ProviderError;
use crate::state::AppState;

/// Whether priced sessions are paid through Stripe.
pub fn enabled(state: &AppState) -> bool {
    state.config.payments.mode == PaymentsMode::Stripe && state.providers.stripe.is_some()
}

fn stripe(state: &AppState) -> AppResult<&StripeClient> {
    state.providers.stripe.as_ref().ok_or(AppError::NotFound)
}

/// A stored amount in its stored currency.
pub(super) fn money(minor: i64, currency: &str) -> AppResult<Money> {
    let currency = Currency::parse(currency).map_err(AppError::internal)?;
    Ok(Money::new(minor, currency))
}

pub fn upstream(e: ProviderError) -> AppError {
    AppError::Upstream {
        code: "payment_provider_failed",
        message: format!(
            "The payment could not be processed: {e}. Nothing was changed; try again."
        ),
    }
}

/// At booking, inside its transaction: a priced session gets a pending
/// payment and stays hidden from the researcher until it is authorised.
/// Returns whether the researcher should be told now.
pub fn on_book(
    conn: &Connection,
    state: &AppState,
    s: &SessionRow,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if !enabled(state) || s.price_minor == 0 {
        return Ok(true);
    }
    let q = pricing::quote(conn, state, s.reader_id, s.price_minor, now)?;
    if let Some(sub) = q.included_by {
        repo::use_included_session(conn, sub)?;
        return Ok(true);
    }
    if q.breakdown.gross_minor == 0 {
        return Ok(true);
    }
    let rate = q.breakdown.rate.as_ref();
    repo::insert(
        conn,
        &NewPayment {
            session_id: s.id.0,
            user_id: s.reader_id.0,
            amount_minor: q.breakdown.gross_minor,
            tax_minor: q.breakdown.tax_minor,
            discount_minor: q.discount_minor,
            currency: &s.currency,
            tax_name: rate.map(|r| r.name.as_str()),
            tax_basis_points: rate.map(|r| r.basis_points),
        },
        now,
    )?;
    Ok(false)
}

/// Whether the researcher may see the session: free, or paid for.
/// Matches the researcher's list (`consulting_sessions::PAID`).
pub fn visible_to_researcher(p: Option<&SessionPayment>) -> bool {
    p.is_none_or(|p| {
        let unpaid = matches!(p.status.as_str(), "pending" | "failed");
        let dropped_unpaid = p.status == "canceled" && p.intent_id.is_none();
        !(unpaid || dropped_unpaid)
    })
}

/// What a client needs to confirm the payment with Stripe.js.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntentView {
    pub payment_intent_id: String,
    pub client_secret: String,
    /// Gross, in minor units.
    pub amount: i64,
    pub tax: i64,
    pub currency: String,
}

/// The pending payment of a reader's session (the sessions layer checked
/// that the caller is its reader).
async fn payable(state: &AppState, row: &SessionRow) -> AppResult<SessionPayment> {
    let id = row.id;
    let payment = state
        .db
        .read(move |c| repo::find(c, id.0))
        .await?
        .ok_or_else(|| AppError::conflict("nothing_to_pay", "This session costs nothing."))?;
    if row.status != "requested" || payment.status != "pending" {
        return Err(AppError::conflict(
            "not_payable",
            format!(
                "The payment is {}; there is nothing to pay now.",
                payment.status
            ),
        ));
    }
    Ok(payment)
}

/// The user's Stripe customer, made on first use.
pub async fn customer(state: &AppState, user: UserId) -> AppResult<String> {
    let keys = state.keys.clone();
    let (profile, account) = state
        .db
        .read(move |c| Ok((billing::find(c, &keys, user)?, users::find(c, &keys, user)?)))
        .await?;
    if let Some(id) = profile.and_then(|p| p.stripe_customer_id) {
        return Ok(id);
    }
    let account = account.ok_or(AppError::NotFound)?;
    let created = stripe(state)?
        .create_customer(&account.email, &account.name, user)
        .await
        .map_err(upstream)?;
    let (id, now) = (created.id.to_string(), state.now());
    let stored = id.clone();
    state
        .db
        .write(move |tx| billing::set_customer(tx, user, &stored, now))
        .await?;
    Ok(id)
}

/// `POST /consulting/payments/intent`: a manual-capture PaymentIntent for
/// the session of `reader`.
pub async fn create_intent(
    state: &AppState,
    reader: UserId,
    row: &SessionRow,
) -> AppResult<IntentView> {
    let payment = payable(state, row).await?;
    let id = row.id;
    let client = stripe(state)?;
    let intent = match &payment.intent_id {
        Some(existing) => client.retrieve_payment_intent(existing).await,
        None => {
            let customer = customer(state, reader).await?;
            client
                .create_payment_intent(
                    money(payment.amount_minor, &payment.currency)?,
                    &customer,
                    id,
                    &format!("colloquy-session-{id}-intent"),
                )
                .await
        }
    }
    .map_err(upstream)?;
    let (intent_id, now) = (intent.id.to_string(), state.now());
    state
        .db
        .write(move |tx| repo::set_intent(tx, id.0, &intent_id, now))
        .await?;
    Ok(IntentView {
        payment_intent_id: intent.id.to_string(),
        client_secret: intent.client_secret.unwrap_or_default(),
        amount: payment.amount_minor,
        tax: payment.tax_minor,
        currency: payment.currency,
    })
}

/// A hosted Checkout page with the same manual capture; returns its URL.
pub async fn checkout(state: &AppState, reader: UserId, row: &SessionRow) -> AppResult<String> {
    let payment = payable(state, row).await?;
    let id = row.id;
    let customer = customer(state, reader).await?;
    let back = format!("{}/sessions/{id}", state.config.public_url());
    let what = CheckoutFor::Session {
        id,
        amount: money(payment.amount_minor, &payment.currency)?,
        product: format!("Consulting session with {}", row.researcher_name),
    };
    let session = stripe(state)?
        .create_checkout_session(&customer, what, format!("{back}?paid=1"), back)
        .await
        .map_err(upstream)?;
    let (cs, now) = (session.id.to_string(), state.now());
    state
        .db
        .write(move |tx| repo::set_checkout(tx, id.0, &cs, now))
        .await?;
    session
        .url
        .ok_or_else(|| AppError::internal("Stripe Checkout answered without a URL"))
}

/// A payment and where it stands, read before a lifecycle change.
pub async fn of_session(
    state: &AppState,
    id: ConsultingSessionId,
) -> AppResult<Option<SessionPayment>> {
    state.db.read(move |c| repo::find(c, id.0)).await
}

/// Before accept: captures the held payment (`None` for a free session).
pub async fn capture(state: &AppState, s: &SessionRow) -> AppResult<Option<SessionPayment>> {
    let Some(p) = of_session(state, s.id).await? else {
        return Ok(None);
    };
    let intent = match (p.status.as_str(), &p.intent_id) {
        ("authorized", Some(i)) => i.clone(),
        _ => {
            return Err(AppError::conflict(
                "payment_not_authorized",
                "The reader's payment is not authorised yet.",
            ))
        }
    };
    let done = stripe(state)?
        .capture(&intent, &format!("colloquy-session-{}-capture", s.id))
        .await
        .map_err(upstream)?;
    if done.status != PaymentIntentStatus::Succeeded {
        return Err(AppError::Upstream {
            code: "payment_not_captured",
            message: format!("Stripe reports the payment as {}.", done.status),
        });
    }
    Ok(Some(p))
}

fn rate_of(p: &SessionPayment) -> Option<Rate> {
    p.tax_name.clone().map(|name| Rate {
        name,
        basis_points: p.tax_basis_points.unwrap_or(0),
    })
}

/// Records a capture (payment, ledger, invoice) in the accept transaction.
pub fn record_capture_in(
    conn: &Connection,
    state: &AppState,
    s: &SessionRow,
    p: &SessionPayment,
    now: DateTime<Utc>,
) -> AppResult<()> {
    repo::transition(conn, s.id.0, &["authorized"], "captured", now)?;
    let fee = percent_of(p.amount_minor, state.config.payments.platform_fee_percent);
    let Some(entry) = ledger::append(
        conn,
        &NewEntry {
            kind: "capture",
            user_id: Some(p.user_id),
            session_id: Some(s.id.0),
            subscription_id: None,
            amount_minor: p.amount_minor,
            tax_minor: p.tax_minor,
            fee_minor: fee,
            currency: &p.currency,
            stripe_ref: p.intent_id.as_deref(),
        },
        now,
    )?
    else {
        return Ok(());
    };
    invoices::issue_in(
        conn,
        state,
        UserId(p.user_id),
        entry,
        &Charge {
            kind: "invoice",
            description: format!(
                "Consulting session with {} on {} ({} minutes)",
                s.researcher_name,
                s.start.format("%-d %B %Y"),
                s.duration_minutes
            ),
            gross_minor: p.amount_minor,
            tax_minor: p.tax_minor,
            rate: rate_of(p),
            currency: &p.currency,
            credits_invoice_id: None,
        },
        now,
    )?;
    Ok(())
}

/// Before decline, expiry or a cancel before accept: lets the hold go.
pub async fn release(state: &AppState, s: &SessionRow) -> AppResult<()> {
    let Some(p) = of_session(state, s.id).await? else {
        return Ok(());
    };
    if let (true, Some(intent)) = (
        matches!(p.status.as_str(), "pending" | "authorized"),
        &p.intent_id,
    ) {
        let client = stripe(state)?;
        match client
            .cancel_intent(intent, &format!("colloquy-session-{}-cancel", s.id))
            .await
        {
            Ok(_) => {}
            // Stripe refuses to cancel an intent that is already cancelled
            // or captured: look which, and never keep money for a session
            // that is being let go.
            Err(ProviderError::Status { status: 400, .. }) => {
                let now = client
                    .retrieve_payment_intent(intent)
                    .await
                    .map_err(upstream)?;
                match now.status.as_str() {
                    "canceled" => {}
                    "succeeded" => {
                        tracing::warn!(session = %s.id, "releasing a captured payment: refunding it in full");
                        client
                            .refund(
                                intent,
                                now.amount_received.max(now.amount),
                                &format!("colloquy-session-{}-release-refund", s.id),
                            )
                            .await
                            .map_err(upstream)?;
                    }
                    other => {
                        return Err(AppError::Upstream {
                            code: "payment_provider_failed",
                            message: format!(
                                "Stripe could not cancel the payment ({other}); try again."
                            ),
                        })
                    }
                }
            }
            Err(e) => return Err(upstream(e)),
        }
    }
    Ok(())
}

/// Records a release in the same transaction as the session's change.
pub fn record_release_in(conn: &Connection, s: &SessionRow, now: DateTime<Utc>) -> AppResult<()> {
    let Some(p) = repo::find(conn, s.id.0)? else {
        return Ok(());
    };
    if repo::transition(
        conn,
        s.id.0,
        &["pending", "authorized", "failed"],
        "canceled",
        now,
    )? && p.status == "authorized"
    {
        ledger::append(
            conn,
            &NewEntry {
                kind: "release",
                user_id: Some(p.user_id),
                session_id: Some(s.id.0),
                subscription_id: None,
                amount_minor: p.amount_minor,
                tax_minor: p.tax_minor,
                fee_minor: 0,
                currency: &p.currency,
                stripe_ref: p.intent_id.as_deref(),
            },
            now,
        )?;
    }
    Ok(())
}

/// How much of a captured payment a cancellation or no-show refunds:
/// the researcher's side (or an admin) refunds all, the reader's by tiers.
pub fn refund_amount(
    state: &AppState,
    p: &SessionPayment,
    by_reader: bool,
    minutes_left: i64,
) -> i64 {
    let remaining = p.amount_minor - p.refunded_minor;
    if !by_reader {
        return remaining;
    }
    let pct = refund_percent(&state.config.payments.refund_tiers, minutes_left);
    percent_of(p.amount_minor, pct).min(remaining)
}

/// A refund made at Stripe, to record.
pub struct Refunded {
    pub payment: SessionPayment,
    pub refund_id: String,
    pub amount: i64,
}

/// Refunds `amount` of the session's captured payment `p` at Stripe
/// (`None`: nothing to do).
pub async fn refund(
    state: &AppState,
    s: &SessionRow,
    p: SessionPayment,
    amount: i64,
) -> AppResult<Option<Refunded>> {
    let (true, Some(intent), true) = (
        amount > 0,
        p.intent_id.clone(),
        matches!(p.status.as_str(), "captured" | "partially_refunded"),
    ) else {
        return Ok(None);
    };
    let r = stripe(state)?
        .refund(
            &intent,
            amount,
            &format!("colloquy-session-{}-refund-{}", s.id, p.refunded_minor),
        )
        .await
        .map_err(upstream)?;
    Ok(Some(Refunded {
        payment: p,
        refund_id: r.id.to_string(),
        amount: r.amount,
    }))
}

/// Records a refund (ledger, payment, credit note) in the session's transaction.
pub fn record_refund_in(
    conn: &Connection,
    state: &AppState,
    s: &SessionRow,
    r: &Refunded,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let p = &r.payment;
    // The refund's share of the tax, rounded half up like every tax line.
    let tax = crate::domain::money::share(p.tax_minor, r.amount, p.amount_minor);
    let Some(entry) = ledger::append(
        conn,
        &NewEntry {
            kind: "refund",
            user_id: Some(p.user_id),
            session_id: Some(s.id.0),
            subscription_id: None,
            amount_minor: r.amount,
            tax_minor: tax,
            fee_minor: 0,
            currency: &p.currency,
            stripe_ref: Some(&r.refund_id),
        },
        now,
    )?
    else {
        return Ok(());
    };
    repo::add_refund(conn, s.id.0, r.amount, now)?;
    let original = ledger::capture_invoice_of_session(conn, s.id.0)?;
    invoices::issue_in(
        conn,
        state,
        UserId(p.user_id),
        entry,
        &Charge {
            kind: "credit_note",
            description: format!(
                "Refund for the consulting session with {}",
                s.researcher_name
            ),
            gross_minor: -r.amount,
            tax_minor: -tax,
            rate: rate_of(p),
            currency: &p.currency,
            credits_invoice_id: original,
        },
        now,
    )?;
    Ok(())
}

/// Refunds a capture whose accept could not be stored (the session stays
/// requested; the reader must not pay for it).
pub async fn refund_uncommitted(state: &AppState, p: &SessionPayment) -> AppResult<()> {
    let Some(intent) = &p.intent_id else {
        return Ok(());
    };
    stripe(state)?
        .refund(
            intent,
            p.amount_minor,
            &format!("colloquy-session-{}-accept-undo", p.session_id),
        )
        .await
        .map_err(upstream)?;
    // The hold is spent and returned: this payment cannot accept the session.
    let (id, amount, now) = (p.session_id, p.amount_minor, state.now());
    state
        .db
        .write(move |tx| {
            if repo::transition(tx, id, &["authorized"], "captured", now)? {
                repo::add_refund(tx, id, amount, now)?;
            }
            Ok(())
        })
        .await
}
