//! Stripe chargebacks (`charge.dispute.*`) as `billing` disputes of their
//! session, so admins see them in the same queue as the participants'
//! disputes. Payments sits below the disputes service, so the row is
//! written through `db::repos::disputes`, inside the webhook's
//! transaction: opened (or tied to the session's open dispute) on first
//! sight, Stripe's status kept in step, resolved when Stripe closes it.
//!
//! A closed chargeback resolves the dispute as the bank decided: `won`
//! (and an inquiry closed without a chargeback) is `no_refund`; `lost`
//! means the bank already returned the disputed amount to the cardholder,
//! recorded as `refund_full` (or `refund_partial` when less than was paid)
//! with that amount: a record of money that moved at Stripe, not a refund
//! Colloquy makes, so no ledger refund or credit note follows (the ledger
//! has the `dispute` entry since `charge.dispute.created`).

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde_json::json;
use stripe_shared::Dispute;

use crate::db::repos::disputes::{self, Chargeback, Resolution, Upserted};
use crate::db::repos::{audit, payments as repo};
use crate::domain::dispute::{DisputeOutcome, MessageAuthor};
use crate::domain::money;
use crate::domain::DisputeId;
use crate::error::AppResult;
use crate::state::AppState;

/// Follows one chargeback event; `closed` for `charge.dispute.closed`.
/// A chargeback of a payment Colloquy does not know stays in the ledger
/// and the audit trail only.
pub fn follow(
    conn: &Connection,
    st: &AppState,
    d: &Dispute,
    closed: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(intent) = &d.payment_intent else {
        return Ok(());
    };
    let Some(payment) = repo::find_by_intent(conn, intent.id().as_str())? else {
        return Ok(());
    };
    // Stripe spells currencies in lower case; an unknown one gets two decimals.
    let shown = money::format(d.amount, &d.currency.to_string().to_uppercase());
    let reason = d.reason.replace('_', " ");
    let description = format!("Chargeback at the card's bank, reason: {reason} ({shown}).");
    let status = d.status.as_str();
    let c = Chargeback {
        stripe_dispute_id: d.id.as_str(),
        session_id: payment.session_id,
        stripe_status: status,
        description: &description,
    };
    let id = match disputes::upsert_chargeback(conn, &st.keys, &c, now)? {
        None => {
            tracing::warn!(stripe_dispute = %d.id, session = %payment.session_id, "the session's open dispute already has another chargeback");
            return Ok(());
        }
        Some(Upserted::Created(id)) => {
            log(
                conn,
                st,
                id,
                "dispute.chargeback_opened",
                json!({"stripe_status": status}),
                now,
            )?;
            id
        }
        Some(Upserted::Linked(id)) => {
            disputes::insert_message(
                conn,
                &st.keys,
                id,
                None,
                MessageAuthor::System,
                &description,
                now,
            )?;
            log(
                conn,
                st,
                id,
                "dispute.chargeback_linked",
                json!({"stripe_status": status}),
                now,
            )?;
            id
        }
        Some(Upserted::Updated(id)) => id,
    };
    if !closed {
        return Ok(());
    }
    let (outcome, refund_minor, note) = if status == "lost" {
        let outcome = if d.amount >= payment.amount_minor {
            DisputeOutcome::RefundFull
        } else {
            DisputeOutcome::RefundPartial
        };
        let note = format!(
            "Stripe closed the chargeback as lost: the bank returned {shown} to the cardholder."
        );
        (outcome, Some(d.amount), note)
    } else {
        let note = format!(
            "Stripe closed the chargeback ({}): the payment stands.",
            status.replace('_', " ")
        );
        (DisputeOutcome::NoRefund, None, note)
    };
    let r = Resolution {
        outcome,
        refund_minor,
        note: &note,
        by: None,
    };
    if disputes::resolve(conn, &st.keys, id, &r, now)? {
        let detail =
            json!({"outcome": outcome, "refund_minor": refund_minor, "stripe_status": status});
        log(conn, st, id, "dispute.resolved", detail, now)?;
    }
    Ok(())
}

fn log(
    conn: &Connection,
    st: &AppState,
    id: DisputeId,
    action: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    audit::append(
        conn,
        &st.keys,
        audit::NewEvent {
            actor: None,
            action,
            target: Some(format!("dispute:{id}")),
            detail,
            ip: None,
        },
        now,
    )?;
    Ok(())
}
