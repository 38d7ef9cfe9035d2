//! Stripe chargebacks as `billing` disputes, written by the payments
//! webhook (which sits below the disputes service) in its transaction.

use rusqlite::{params, Connection, OptionalExtension};

use super::{insert, open_of_session, NewDispute, Time};
use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::dispute::{DisputeKind, DisputeSide};
use crate::domain::{ConsultingSessionId, DisputeId, DisputeStatus};
use crate::error::AppResult;

/// A chargeback as Stripe reports it.
pub struct Chargeback<'a> {
    pub stripe_dispute_id: &'a str,
    pub session_id: ConsultingSessionId,
    /// Stripe's own status (`needs_response`, `won`, `lost`, …).
    pub stripe_status: &'a str,
    /// Stripe's reason, in words, as the description.
    pub description: &'a str,
}

/// What `upsert_chargeback` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// A new `billing` dispute opened by Stripe.
    Created(DisputeId),
    /// Tied to the party dispute already open on the session.
    Linked(DisputeId),
    /// Seen before: Stripe's status kept in step.
    Updated(DisputeId),
}

/// Records a chargeback by its Stripe id: updates the dispute it already
/// has, else ties it to the session's open dispute, else opens a `billing`
/// dispute (straight `under_review`: there is no other party to answer
/// it; admins and Stripe decide). `None` when the session's open dispute
/// already carries another chargeback.
pub fn upsert_chargeback(
    conn: &Connection,
    keys: &Keyring,
    c: &Chargeback<'_>,
    now: Time,
) -> AppResult<Option<Upserted>> {
    let known: Option<DisputeId> = conn
        .prepare_cached("SELECT id FROM disputes WHERE stripe_dispute_id = ?1")?
        .query_row([c.stripe_dispute_id], |r| r.get(0))
        .optional()?;
    if let Some(id) = known {
        set_stripe_status(conn, id, c.stripe_status, now)?;
        return Ok(Some(Upserted::Updated(id)));
    }
    if let Some(id) = open_of_session(conn, c.session_id)? {
        let n = conn
            .prepare_cached(
                "UPDATE disputes SET stripe_dispute_id = ?2, stripe_status = ?3, updated_at = ?4
                  WHERE id = ?1 AND stripe_dispute_id IS NULL",
            )?
            .execute(params![id, c.stripe_dispute_id, c.stripe_status, ts(now)])?;
        return Ok((n == 1).then_some(Upserted::Linked(id)));
    }
    let id = insert(
        conn,
        keys,
        &NewDispute {
            session_id: c.session_id,
            kind: DisputeKind::Billing,
            review_id: None,
            opened_by: DisputeSide::Stripe,
            opener_id: None,
            description: c.description,
            status: DisputeStatus::UnderReview,
        },
        now,
    )?;
    let Some(id) = id else {
        return Ok(None);
    };
    set_stripe_status(conn, id, c.stripe_status, now)?;
    conn.prepare_cached("UPDATE disputes SET stripe_dispute_id = ?2 WHERE id = ?1")?
        .execute(params![id, c.stripe_dispute_id])?;
    Ok(Some(Upserted::Created(id)))
}

fn set_stripe_status(conn: &Connection, id: DisputeId, status: &str, now: Time) -> AppResult<()> {
    conn.prepare_cached("UPDATE disputes SET stripe_status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, status, ts(now)])?;
    Ok(())
}
