//! Held payments for priced sessions: authorised when the reader pays
//! (a PaymentIntent with `capture_method=manual`), captured when the
//! researcher accepts, released on decline, expiry or an early cancel, and
//! refunded by the policy tiers after accept. Each Stripe call happens
//! before the transaction that records it, so a failed call changes
//! nothing here; the session, the payment and the ledger then change in
//! one transaction.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::client::stripe;
pub use super::client::{enabled, upstream};
use super::invoices::{self, Charge};
use super::pricing;
pub use super::views::IntentView;
use crate::db::repos::consulting_sessions::SessionRow;
use crate::db::repos::ledger::{self, NewEntry};
use crate::db::repos::payments::{self as repo, NewPayment, SessionPayment};
use crate::db::repos::{billing, users};
use crate::domain::money::Currency;
use crate::domain::money::Money;
use crate::domain::{ConsultingSessionId, PaymentStatus, SessionStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::providers::stripe::{CheckoutFor, PaymentIntentStatus};
use crate::providers::ProviderError;
use crate::state::AppState;

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
    let listed = Money::new(
        s.price_minor,
        Currency::parse(&s.currency).map_err(AppError::internal)?,
    );
    let q = pricing::quote(conn, state, s.reader_id, listed, now)?;
    if let Some(sub) = q.included_by {
        crate::db::repos::subscriptions::use_included_session(conn, sub)?;
        return Ok(true);
    }
    if q.price.gross.is_zero() {
        return Ok(true);
    }
    let rate = q.price.rate.as_ref();
    repo::insert(
        conn,
        &NewPayment {
            session_id: s.id,
            user_id: s.reader_id,
            amount: q.price.gross,
            tax: q.price.tax,
            discount: q.discount,
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
        let unpaid = matches!(p.status, PaymentStatus::Pending | PaymentStatus::Failed);
        let dropped_unpaid = p.status == PaymentStatus::Canceled && p.intent_id.is_none();
        !(unpaid || dropped_unpaid)
    })
}

/// The pending payment of a reader's session (the sessions layer checked
/// that the caller is its reader).
async fn payable(state: &AppState, row: &SessionRow) -> AppResult<SessionPayment> {
    let id = row.id;
    let payment = state
        .db
        .read(move |c| repo::find(c, id))
        .await?
        .ok_or_else(|| AppError::conflict("nothing_to_pay", "This session costs nothing."))?;
    if row.status != SessionStatus::Requested || payment.status != PaymentStatus::Pending {
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
                    payment.amount(),
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
        .write(move |tx| repo::set_intent(tx, id, &intent_id, now))
        .await?;
    Ok(IntentView {
        payment_intent_id: intent.id.to_string(),
        client_secret: intent.client_secret.unwrap_or_default(),
        amount: payment.amount_minor,
        tax: payment.tax_minor,
        currency: payment.currency.code().to_string(),
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
        amount: payment.amount(),
        product: format!("Consulting session with {}", row.researcher_name),
    };
    let session = stripe(state)?
        .create_checkout_session(&customer, what, format!("{back}?paid=1"), back)
        .await
        .map_err(upstream)?;
    let (cs, now) = (session.id.to_string(), state.now());
    state
        .db
        .write(move |tx| repo::set_checkout(tx, id, &cs, now))
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
    state.db.read(move |c| repo::find(c, id)).await
}

/// Before accept: captures the held payment (`None` for a free session).
pub async fn capture(state: &AppState, s: &SessionRow) -> AppResult<Option<SessionPayment>> {
    let Some(p) = of_session(state, s.id).await? else {
        return Ok(None);
    };
    let intent = match (p.status, &p.intent_id) {
        (PaymentStatus::Authorized, Some(i)) => i.clone(),
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

/// Records a capture (payment, ledger, invoice) in the accept transaction.
pub fn record_capture_in(
    conn: &Connection,
    state: &AppState,
    s: &SessionRow,
    p: &SessionPayment,
    now: DateTime<Utc>,
) -> AppResult<()> {
    repo::transition(
        conn,
        s.id,
        &[PaymentStatus::Authorized],
        PaymentStatus::Captured,
        now,
    )?;
    let fee = p
        .amount()
        .percent(state.config.payments.platform_fee_percent);
    let Some(entry) = ledger::append(
        conn,
        &NewEntry {
            kind: "capture",
            user_id: Some(p.user_id),
            session_id: Some(s.id),
            subscription_id: None,
            amount: p.amount(),
            tax_minor: p.tax_minor,
            fee_minor: fee.minor,
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
        p.user_id,
        entry,
        &Charge {
            kind: "invoice",
            description: format!(
                "Consulting session with {} on {} ({} minutes)",
                s.researcher_name,
                s.start.format("%-d %B %Y"),
                s.duration_minutes
            ),
            gross: p.amount(),
            tax: p.tax(),
            rate: p.rate(),
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
        matches!(p.status, PaymentStatus::Pending | PaymentStatus::Authorized),
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
                match now.status {
                    PaymentIntentStatus::Canceled => {}
                    PaymentIntentStatus::Succeeded => {
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
    let Some(p) = repo::find(conn, s.id)? else {
        return Ok(());
    };
    let open = [
        PaymentStatus::Pending,
        PaymentStatus::Authorized,
        PaymentStatus::Failed,
    ];
    if repo::transition(conn, s.id, &open, PaymentStatus::Canceled, now)?
        && p.status == PaymentStatus::Authorized
    {
        ledger::append(
            conn,
            &NewEntry {
                kind: "release",
                user_id: Some(p.user_id),
                session_id: Some(s.id),
                subscription_id: None,
                amount: p.amount(),
                tax_minor: p.tax_minor,
                fee_minor: 0,
                stripe_ref: p.intent_id.as_deref(),
            },
            now,
        )?;
    }
    Ok(())
}

pub use super::held_refunds::{
    record_refund_in, refund, refund_amount, refund_uncommitted, Refunded,
};
