//! Refunds of captured session payments: how much a cancellation or
//! no-show refunds by policy, the refund at Stripe, and its record (ledger,
//! payment and credit note) in the caller's transaction.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::client::{stripe, upstream};
use super::invoices::{self, Charge};
use crate::db::repos::consulting_sessions::SessionRow;
use crate::db::repos::ledger::{self, NewEntry};
use crate::db::repos::payments::{self as repo, SessionPayment};
use crate::domain::money::{refund_percent, Money};
use crate::domain::PaymentStatus;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How much of a captured payment a cancellation or no-show refunds:
/// the researcher's side (or an admin) refunds all, the reader's by tiers.
pub fn refund_amount(
    state: &AppState,
    p: &SessionPayment,
    by_reader: bool,
    minutes_left: i64,
) -> Money {
    let left = p.left();
    if !by_reader {
        return left;
    }
    let pct = refund_percent(&state.config.payments.refund_tiers, minutes_left);
    // Both are in the payment's own currency, so `min` cannot refuse.
    p.amount().percent(pct).min(left).unwrap_or(left)
}

/// A refund made at Stripe, to record.
pub struct Refunded {
    pub payment: SessionPayment,
    pub refund_id: String,
    pub amount: Money,
}

/// Refunds `amount` of the session's captured payment `p` at Stripe
/// (`None`: nothing to do).
pub async fn refund(
    state: &AppState,
    s: &SessionRow,
    p: SessionPayment,
    amount: Money,
) -> AppResult<Option<Refunded>> {
    let (true, Some(intent), true) = (
        amount.minor > 0 && amount.currency == p.currency,
        p.intent_id.clone(),
        matches!(
            p.status,
            PaymentStatus::Captured | PaymentStatus::PartiallyRefunded
        ),
    ) else {
        return Ok(None);
    };
    let r = stripe(state)?
        .refund(
            &intent,
            amount.minor,
            &format!("colloquy-session-{}-refund-{}", s.id, p.refunded_minor),
        )
        .await
        .map_err(upstream)?;
    let amount = Money::new(r.amount, p.currency);
    Ok(Some(Refunded {
        payment: p,
        refund_id: r.id.to_string(),
        amount,
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
    // The refund's share of the tax, counted on everything refunded so far
    // (rounded half up like every tax line), so partial refunds never give
    // back more tax than was charged.
    let tax = p
        .tax()
        .share_after(p.refunded(), r.amount, p.amount())
        .map_err(AppError::internal)?;
    let Some(entry) = ledger::append(
        conn,
        &NewEntry {
            kind: "refund",
            user_id: Some(p.user_id),
            session_id: Some(s.id),
            subscription_id: None,
            amount: r.amount,
            tax_minor: tax.minor,
            fee_minor: 0,
            stripe_ref: Some(&r.refund_id),
        },
        now,
    )?
    else {
        return Ok(());
    };
    repo::add_refund(conn, s.id, r.amount, now)?;
    let original = ledger::capture_invoice_of_session(conn, s.id)?;
    invoices::issue_in(
        conn,
        state,
        p.user_id,
        entry,
        &Charge {
            kind: "credit_note",
            description: format!(
                "Refund for the consulting session with {}",
                s.researcher_name
            ),
            gross: Money::new(-r.amount.minor, r.amount.currency),
            tax: Money::new(-tax.minor, tax.currency),
            rate: p.rate(),
            credits_invoice_id: original,
        },
        now,
    )?;
    Ok(())
}

/// Refunds a capture whose accept could not be stored (the session stays
/// requested; the reader must not pay for it). The ledger gets the capture
/// and its refund, so it balances.
pub async fn refund_uncommitted(state: &AppState, p: &SessionPayment) -> AppResult<()> {
    let Some(intent) = &p.intent_id else {
        return Ok(());
    };
    let r = stripe(state)?
        .refund(
            intent,
            p.amount_minor,
            &format!("colloquy-session-{}-accept-undo", p.session_id),
        )
        .await
        .map_err(upstream)?;
    // The hold is spent and returned: this payment cannot accept the session.
    let (id, now, st) = (p.session_id, state.now(), state.clone());
    let refunded = super::held::LetGo::Refunded {
        refund_id: r.id.to_string(),
        amount: Money::new(r.amount, p.currency),
    };
    state
        .db
        .write(move |tx| {
            let Some(s) = crate::db::repos::consulting_sessions::find(tx, &st.keys, id)? else {
                return Ok(());
            };
            let held = [PaymentStatus::Authorized];
            if repo::find(tx, id)?.is_some_and(|p| held.contains(&p.status)) {
                super::held::record_let_go_in(tx, &st, &s, Some(&refunded), now)?;
            }
            Ok(())
        })
        .await
}
