//! Per-session payments (the PaymentIntent behind a priced session).

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::db::ts;
use crate::domain::money::{Currency, Money, Rate};
use crate::domain::{ConsultingSessionId, PaymentStatus, UserId};
use crate::error::AppResult;

type Time = chrono::DateTime<chrono::Utc>;

#[derive(Debug, Clone, Serialize)]
pub struct SessionPayment {
    pub session_id: ConsultingSessionId,
    pub user_id: UserId,
    pub intent_id: Option<String>,
    pub checkout_session_id: Option<String>,
    pub status: PaymentStatus,
    pub amount_minor: i64,
    pub tax_minor: i64,
    pub discount_minor: i64,
    pub currency: Currency,
    pub tax_name: Option<String>,
    pub tax_basis_points: Option<i64>,
    pub refunded_minor: i64,
    /// The attempt the live intent belongs to (1, 2, …).
    pub attempt: i64,
    /// When an authorised hold lapsed before its capture (the request then
    /// waits for a new payment).
    pub lapsed_at: Option<String>,
    /// A card was held for it at some point (the ledger has an
    /// `authorization`): the researcher has seen the request.
    pub ever_held: bool,
}

impl SessionPayment {
    /// Not (or no longer) held: the reader still has to pay.
    pub fn unpaid(&self) -> bool {
        matches!(self.status, PaymentStatus::Pending | PaymentStatus::Failed)
    }

    /// The idempotency key of `what` (`intent`, `capture`, `cancel`, …)
    /// for this attempt: the first attempt keeps the keys it always had.
    pub fn key(&self, what: &str) -> String {
        attempt_key(self.session_id, self.attempt, what)
    }

    /// The gross amount charged.
    pub fn amount(&self) -> Money {
        Money::new(self.amount_minor, self.currency)
    }

    /// The tax in it.
    pub fn tax(&self) -> Money {
        Money::new(self.tax_minor, self.currency)
    }

    pub fn refunded(&self) -> Money {
        Money::new(self.refunded_minor, self.currency)
    }

    /// The tax rate charged, if any.
    pub fn rate(&self) -> Option<Rate> {
        self.tax_name.clone().map(|name| Rate {
            name,
            basis_points: self.tax_basis_points.unwrap_or(0),
        })
    }

    /// The ledger entry of `kind` for the whole payment (an authorisation,
    /// its capture or release, a declined attempt), about `stripe_ref`.
    pub fn entry<'a>(
        &self,
        kind: &'a str,
        fee_minor: i64,
        stripe_ref: Option<&'a str>,
    ) -> super::ledger::NewEntry<'a> {
        super::ledger::NewEntry {
            kind,
            user_id: Some(self.user_id),
            session_id: Some(self.session_id),
            subscription_id: None,
            amount: self.amount(),
            tax_minor: self.tax_minor,
            fee_minor,
            stripe_ref,
        }
    }

    /// What can still be refunded.
    pub fn left(&self) -> Money {
        Money::new(self.amount_minor - self.refunded_minor, self.currency)
    }
}

/// `colloquy-session-{id}-{what}`, with `-attempt-{n}` from the second
/// attempt on.
pub fn attempt_key(session: ConsultingSessionId, attempt: i64, what: &str) -> String {
    if attempt <= 1 {
        format!("colloquy-session-{session}-{what}")
    } else {
        format!("colloquy-session-{session}-attempt-{attempt}-{what}")
    }
}

const COLUMNS: &str =
    "session_id, user_id, intent_id, checkout_session_id, status, amount_minor, tax_minor, \
                       discount_minor, currency, tax_name, tax_basis_points, refunded_minor, \
                       attempt, lapsed_at, \
                       EXISTS (SELECT 1 FROM ledger l WHERE l.session_id = session_payments.session_id \
                                  AND l.kind = 'authorization')";

fn payment(r: &Row<'_>) -> rusqlite::Result<SessionPayment> {
    Ok(SessionPayment {
        session_id: r.get(0)?,
        user_id: r.get(1)?,
        intent_id: r.get(2)?,
        checkout_session_id: r.get(3)?,
        status: r.get(4)?,
        amount_minor: r.get(5)?,
        tax_minor: r.get(6)?,
        discount_minor: r.get(7)?,
        currency: r.get(8)?,
        tax_name: r.get(9)?,
        tax_basis_points: r.get(10)?,
        refunded_minor: r.get(11)?,
        attempt: r.get(12)?,
        lapsed_at: r.get(13)?,
        ever_held: r.get(14)?,
    })
}

pub struct NewPayment<'a> {
    pub session_id: ConsultingSessionId,
    pub user_id: UserId,
    pub amount: Money,
    pub tax: Money,
    pub discount: Money,
    pub tax_name: Option<&'a str>,
    pub tax_basis_points: Option<i64>,
}

pub fn insert(conn: &Connection, p: &NewPayment<'_>, now: Time) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO session_payments (session_id, user_id, status, amount_minor, tax_minor, discount_minor,
             currency, tax_name, tax_basis_points, created_at, updated_at)
         VALUES (?1, ?2, ?10, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    )?
    .execute(params![
        p.session_id,
        p.user_id,
        p.amount.minor,
        p.tax.minor,
        p.discount.minor,
        p.amount.currency,
        p.tax_name,
        p.tax_basis_points,
        ts(now),
        PaymentStatus::Pending
    ])?;
    Ok(())
}

pub fn find(
    conn: &Connection,
    session_id: ConsultingSessionId,
) -> AppResult<Option<SessionPayment>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM session_payments WHERE session_id = ?1"
        ))?
        .query_row([session_id], payment)
        .optional()?)
}

pub fn find_by_intent(conn: &Connection, intent: &str) -> AppResult<Option<SessionPayment>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM session_payments WHERE intent_id = ?1"
        ))?
        .query_row([intent], payment)
        .optional()?)
}

/// The payment a Checkout Session was made for.
pub fn find_by_checkout_session(
    conn: &Connection,
    checkout: &str,
) -> AppResult<Option<SessionPayment>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM session_payments WHERE checkout_session_id = ?1"
        ))?
        .query_row([checkout], payment)
        .optional()?)
}

pub fn set_intent(
    conn: &Connection,
    session_id: ConsultingSessionId,
    intent: &str,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE session_payments SET intent_id = ?2, updated_at = ?3 WHERE session_id = ?1",
    )?
    .execute(params![session_id, intent, ts(now)])?;
    Ok(())
}

pub fn set_checkout(
    conn: &Connection,
    session_id: ConsultingSessionId,
    checkout: &str,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE session_payments SET checkout_session_id = ?2, updated_at = ?3 WHERE session_id = ?1",
    )?
    .execute(params![session_id, checkout, ts(now)])?;
    Ok(())
}

/// Moves the payment from one of `from` to `to`; false if it was elsewhere.
pub fn transition(
    conn: &Connection,
    session_id: ConsultingSessionId,
    from: &[PaymentStatus],
    to: PaymentStatus,
    now: Time,
) -> AppResult<bool> {
    super::guarded_status_change(
        conn,
        "session_payments",
        "session_id",
        session_id,
        from,
        to,
        now,
    )
}

/// The reader's requests still waiting for their payment (pending or
/// failed, inside their payment window).
pub fn unpaid_requests(conn: &Connection, reader: UserId, now: Time) -> AppResult<Vec<Time>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.expires_at FROM consulting_sessions s
           JOIN session_payments p ON p.session_id = s.id
          WHERE s.reader_id = ?1 AND s.status = 'requested' AND s.expires_at > ?2
            AND p.status IN ('pending', 'failed')
          ORDER BY s.expires_at",
    )?;
    let rows = stmt.query_map(params![reader, ts(now)], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(crate::db::parse_ts(&r?)?);
    }
    Ok(out)
}

/// A declined card's next attempt: `intent` (made under the next
/// attempt's keys, the old one cancelled at Stripe) becomes the payment's
/// only live intent. False when another request moved the attempt on.
pub fn next_attempt(
    conn: &Connection,
    session_id: ConsultingSessionId,
    from_attempt: i64,
    intent: Option<&str>,
    now: Time,
) -> AppResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE session_payments
                SET intent_id = ?3, checkout_session_id = NULL, attempt = ?2 + 1,
                    status = ?4, updated_at = ?5
              WHERE session_id = ?1 AND attempt = ?2 AND status IN (?4, ?6)",
        )?
        .execute(params![
            session_id,
            from_attempt,
            intent,
            PaymentStatus::Pending,
            ts(now),
            PaymentStatus::Failed
        ])?;
    Ok(n == 1)
}

/// The hold lapsed before the capture: the payment waits for a new
/// attempt (the lapsed intent is cancelled at Stripe already).
pub fn mark_lapsed(
    conn: &Connection,
    session_id: ConsultingSessionId,
    now: Time,
) -> AppResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE session_payments
                SET lapsed_at = ?3, intent_id = NULL, checkout_session_id = NULL,
                    attempt = attempt + 1, status = ?4, updated_at = ?3
              WHERE session_id = ?1 AND status = ?2",
        )?
        .execute(params![
            session_id,
            PaymentStatus::Authorized,
            ts(now),
            PaymentStatus::Pending
        ])?;
    Ok(n == 1)
}

/// Leaves the payment's intent for the sessions job to cancel at Stripe
/// (the payment itself was let go inside a write).
pub fn cancel_intent_later(conn: &Connection, session_id: ConsultingSessionId) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE session_payments SET cancel_intent_id = intent_id
          WHERE session_id = ?1 AND intent_id IS NOT NULL AND cancel_intent_id IS NULL",
    )?
    .execute([session_id])?;
    Ok(())
}

/// Intents Stripe must still cancel: (session, intent, attempt key base).
pub fn intents_to_cancel(conn: &Connection) -> AppResult<Vec<(ConsultingSessionId, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT session_id, cancel_intent_id FROM session_payments
          WHERE cancel_intent_id IS NOT NULL ORDER BY session_id LIMIT 500",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Stripe cancelled `intent`: nothing is left to do for it.
pub fn intent_cancelled(
    conn: &Connection,
    session_id: ConsultingSessionId,
    intent: &str,
) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE session_payments SET cancel_intent_id = NULL
          WHERE session_id = ?1 AND cancel_intent_id = ?2",
    )?
    .execute(params![session_id, intent])?;
    Ok(())
}

/// Adds a refund; the status becomes refunded or partially_refunded.
pub fn add_refund(
    conn: &Connection,
    session_id: ConsultingSessionId,
    amount: Money,
    now: Time,
) -> AppResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE session_payments SET refunded_minor = refunded_minor + ?2,
             status = CASE WHEN refunded_minor + ?2 >= amount_minor THEN ?4 ELSE ?5 END,
             updated_at = ?3
          WHERE session_id = ?1 AND currency = ?6",
        )?
        .execute(params![
            session_id,
            amount.minor,
            ts(now),
            PaymentStatus::Refunded,
            PaymentStatus::PartiallyRefunded,
            amount.currency
        ])?;
    if n != 1 {
        return Err(crate::error::AppError::internal(format!(
            "a refund of {amount} does not match session {session_id}'s payment"
        )));
    }
    Ok(())
}

/// A payment whose money is held, or taken and still able to move back.
/// Only columns every schema since payments began has: `config check`
/// reads a database this version may not have migrated yet.
#[derive(Debug, Clone)]
pub struct InFlightPayment {
    pub session_id: ConsultingSessionId,
    pub user_id: UserId,
    pub status: PaymentStatus,
    pub amount: Money,
    pub refunded: Money,
    /// The session's end (a dispute may be opened for a while after it).
    pub session_end: Time,
    /// A dispute of the session is open.
    pub dispute_open: bool,
}

/// Held (`authorized`) payments, and captured or partly refunded ones whose
/// session ended after `disputable_after` or has an open dispute, by
/// session. Works on a database older than the disputes table too.
pub fn in_flight(conn: &Connection, disputable_after: Time) -> AppResult<Vec<InFlightPayment>> {
    let open = if crate::db::has_table(conn, "disputes")? {
        format!(
            "EXISTS (SELECT 1 FROM disputes d WHERE d.session_id = p.session_id AND d.status IN {})",
            super::disputes::OPEN
        )
    } else {
        "0".to_string()
    };
    let sql = format!(
        "SELECT p.session_id, p.user_id, p.status, p.amount_minor, p.refunded_minor, p.currency,
                s.end_at, {open}
           FROM session_payments p JOIN consulting_sessions s ON s.id = p.session_id
          WHERE p.status = ?2 OR (p.status IN (?3, ?4) AND (s.end_at > ?1 OR {open}))
          ORDER BY p.session_id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(
        params![
            ts(disputable_after),
            PaymentStatus::Authorized,
            PaymentStatus::Captured,
            PaymentStatus::PartiallyRefunded
        ],
        |r| {
            let currency: Currency = r.get(5)?;
            let end: String = r.get(6)?;
            let session_end = crate::db::parse_ts(&end).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    6,
                    rusqlite::types::Type::Text,
                    e.to_string().into(),
                )
            })?;
            Ok(InFlightPayment {
                session_id: r.get(0)?,
                user_id: r.get(1)?,
                status: r.get(2)?,
                amount: Money::new(r.get(3)?, currency),
                refunded: Money::new(r.get(4)?, currency),
                session_end,
                dispute_open: r.get(7)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The payments whose card is held now, by session.
pub fn held(conn: &Connection) -> AppResult<Vec<SessionPayment>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM session_payments WHERE status = ?1 ORDER BY session_id"
    ))?;
    let rows = stmt.query_map([PaymentStatus::Authorized], payment)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
