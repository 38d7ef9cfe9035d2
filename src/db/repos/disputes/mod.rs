//! Disputes of a session and their messages. The description, the
//! resolution note and every message are free text, so they are
//! encrypted; a session has at most one open dispute (`disputes_one_open`).
//! Stripe chargebacks are written here too (`upsert_chargeback`), by the
//! payments webhook, which sits below the disputes service.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::crypto::Keyring;
use crate::db::{parse_ts, ts};
use crate::domain::dispute::{DisputeKind, DisputeOutcome, DisputeSide};
use crate::domain::{ConsultingSessionId, DisputeId, DisputeStatus, ReviewId, UserId};
use crate::error::AppResult;

pub const DESCRIPTION_AAD: &str = "disputes.description";
pub const NOTE_AAD: &str = "disputes.resolution_note";
pub const MESSAGE_AAD: &str = "dispute_messages.text";

/// The statuses of `disputes_one_open`, for SQL.
pub(crate) const OPEN: &str = "('open', 'awaiting_response', 'under_review')";

type Time = chrono::DateTime<chrono::Utc>;

mod chargebacks;
mod messages;

pub use chargebacks::*;
pub use messages::*;

/// A dispute with what its pages and e-mails need of its session.
#[derive(Debug, Clone)]
pub struct DisputeRow {
    pub id: DisputeId,
    pub session_id: ConsultingSessionId,
    pub kind: DisputeKind,
    pub review_id: Option<ReviewId>,
    pub opened_by: DisputeSide,
    pub opener_id: Option<UserId>,
    pub description: String,
    pub status: DisputeStatus,
    pub respond_by: Option<Time>,
    pub outcome: Option<DisputeOutcome>,
    pub refund_minor: Option<i64>,
    pub note: Option<String>,
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<Time>,
    pub stripe_dispute_id: Option<String>,
    pub stripe_status: Option<String>,
    pub created_at: Time,
    pub updated_at: Time,
    /// The session's reader and the researcher's account.
    pub reader_id: UserId,
    pub researcher_user: Option<UserId>,
    pub reader_name: String,
    pub researcher_name: String,
    pub session_start: Time,
    pub currency: String,
}

const SELECT: &str = "SELECT d.id, d.session_id, d.kind, d.review_id, d.opened_by, d.opener_id,
        d.description_enc, d.status, d.respond_by, d.outcome, d.refund_minor, d.resolution_note_enc,
        d.resolved_by, d.resolved_at, d.stripe_dispute_id, d.stripe_status, d.created_at, d.updated_at,
        s.reader_id, r.user_id, u.name, r.name, s.start_at, s.currency
    FROM disputes d
    JOIN consulting_sessions s ON s.id = d.session_id
    JOIN researchers r ON r.id = s.researcher_id
    JOIN users u ON u.id = s.reader_id";

fn opt_time(r: &Row<'_>, i: usize) -> AppResult<Option<Time>> {
    r.get::<_, Option<String>>(i)?
        .map(|s| parse_ts(&s))
        .transpose()
}

fn from_row(keys: &Keyring, r: &Row<'_>) -> AppResult<DisputeRow> {
    let note: Option<String> = r.get(11)?;
    Ok(DisputeRow {
        id: r.get(0)?,
        session_id: r.get(1)?,
        kind: r.get(2)?,
        review_id: r.get(3)?,
        opened_by: r.get(4)?,
        opener_id: r.get(5)?,
        description: super::decrypt(keys, DESCRIPTION_AAD, &r.get::<_, String>(6)?)?,
        status: r.get(7)?,
        respond_by: opt_time(r, 8)?,
        outcome: r.get(9)?,
        refund_minor: r.get(10)?,
        note: note
            .map(|n| super::decrypt(keys, NOTE_AAD, &n))
            .transpose()?,
        resolved_by: r.get(12)?,
        resolved_at: opt_time(r, 13)?,
        stripe_dispute_id: r.get(14)?,
        stripe_status: r.get(15)?,
        created_at: parse_ts(&r.get::<_, String>(16)?)?,
        updated_at: parse_ts(&r.get::<_, String>(17)?)?,
        reader_id: r.get(18)?,
        researcher_user: r.get(19)?,
        reader_name: r.get(20)?,
        researcher_name: r.get(21)?,
        session_start: parse_ts(&r.get::<_, String>(22)?)?,
        currency: r.get(23)?,
    })
}

pub struct NewDispute<'a> {
    pub session_id: ConsultingSessionId,
    pub kind: DisputeKind,
    pub review_id: Option<ReviewId>,
    pub opened_by: DisputeSide,
    pub opener_id: Option<UserId>,
    pub description: &'a str,
    pub status: DisputeStatus,
}

/// Inserts a dispute; `None` when the session already has an open one.
pub fn insert(
    conn: &Connection,
    keys: &Keyring,
    d: &NewDispute<'_>,
    now: Time,
) -> AppResult<Option<DisputeId>> {
    let n = conn
        .prepare_cached(
            "INSERT INTO disputes (session_id, kind, review_id, opened_by, opener_id, description_enc,
                 status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            d.session_id,
            d.kind,
            d.review_id,
            d.opened_by,
            d.opener_id,
            super::seal(keys, d.opener_id.map(Into::into), DESCRIPTION_AAD, d.description),
            d.status,
            ts(now)
        ])?;
    Ok((n == 1).then(|| DisputeId(conn.last_insert_rowid())))
}

pub fn find(conn: &Connection, keys: &Keyring, id: DisputeId) -> AppResult<Option<DisputeRow>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE d.id = ?1"))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(|r| from_row(keys, r)).transpose()
}

/// The session's open dispute, if any.
pub fn open_of_session(
    conn: &Connection,
    session: ConsultingSessionId,
) -> AppResult<Option<DisputeId>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT id FROM disputes WHERE session_id = ?1 AND status IN {OPEN}"
        ))?
        .query_row([session], |r| r.get(0))
        .optional()?)
}

/// Every dispute of a session, newest first: (id, kind, status).
pub fn of_session(
    conn: &Connection,
    session: ConsultingSessionId,
) -> AppResult<Vec<(DisputeId, DisputeKind, DisputeStatus)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, status FROM disputes WHERE session_id = ?1 ORDER BY id DESC",
    )?;
    let rows = stmt.query_map([session], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub struct ListFilter {
    /// Disputes of sessions this account takes part in; `None`: all (admins).
    pub party: Option<UserId>,
    pub status: Option<DisputeStatus>,
    /// Only open ones (`open`, `awaiting_response`, `under_review`).
    pub open_only: bool,
    pub before_id: Option<DisputeId>,
    pub limit: usize,
}

/// Disputes newest first.
pub fn list(conn: &Connection, keys: &Keyring, f: &ListFilter) -> AppResult<Vec<DisputeRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE (?1 IS NULL OR s.reader_id = ?1 OR r.user_id = ?1)
           AND (?2 IS NULL OR d.status = ?2)
           AND (NOT ?3 OR d.status IN {OPEN})
           AND d.id < ?4
         ORDER BY d.id DESC LIMIT ?5"
    ))?;
    let mut rows = stmt.query(params![
        f.party,
        f.status,
        f.open_only,
        f.before_id.map_or(i64::MAX, |b| b.0),
        f.limit as i64
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(keys, r)?);
    }
    Ok(out)
}

/// Moves a dispute from one of `from` to `to`; false when it was elsewhere.
pub fn transition(
    conn: &Connection,
    id: DisputeId,
    from: &[DisputeStatus],
    to: DisputeStatus,
    now: Time,
) -> AppResult<bool> {
    super::guarded_status_change(conn, "disputes", "id", id, from, to, now)
}

/// The other party has been told: the dispute waits for them until
/// `respond_by`. False when it was no longer `open`.
pub fn mark_told(conn: &Connection, id: DisputeId, respond_by: Time, now: Time) -> AppResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE disputes SET status = 'awaiting_response', respond_by = ?2, updated_at = ?3
              WHERE id = ?1 AND status = 'open'",
        )?
        .execute(params![id, ts(respond_by), ts(now)])?;
    Ok(n == 1)
}

/// How a dispute ended.
pub struct Resolution<'a> {
    pub outcome: DisputeOutcome,
    /// Refunded, in the payment's minor units.
    pub refund_minor: Option<i64>,
    pub note: &'a str,
    /// The admin; `None` when Stripe or the deadline decided.
    pub by: Option<UserId>,
}

/// Resolves a dispute that is still open; false when it was not.
pub fn resolve(
    conn: &Connection,
    keys: &Keyring,
    id: DisputeId,
    r: &Resolution<'_>,
    now: Time,
) -> AppResult<bool> {
    let n = conn
        .prepare_cached(&format!(
            "UPDATE disputes SET status = 'resolved', outcome = ?2, refund_minor = ?3,
                 resolution_note_enc = ?4, resolved_by = ?5, resolved_at = ?6, updated_at = ?6
              WHERE id = ?1 AND status IN {OPEN}"
        ))?
        .execute(params![
            id,
            r.outcome,
            r.refund_minor,
            keys.encrypt(NOTE_AAD, r.note),
            r.by,
            ts(now)
        ])?;
    Ok(n == 1)
}

/// Open disputes whose other party has not been told yet (a chargeback
/// has no other party).
pub fn due_to_tell(conn: &Connection) -> AppResult<Vec<DisputeId>> {
    ids(
        conn,
        "SELECT id FROM disputes WHERE status = 'open' AND opened_by != 'stripe' ORDER BY id",
        params![],
    )
}

/// Disputes whose answer time ran out unanswered.
pub fn due_lapsed(conn: &Connection, now: Time) -> AppResult<Vec<DisputeId>> {
    ids(
        conn,
        "SELECT id FROM disputes WHERE status = 'awaiting_response' AND respond_by <= ?1 ORDER BY id",
        params![ts(now)],
    )
}

fn ids(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> AppResult<Vec<DisputeId>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(p, |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether `review` is a review of `session` (the `reviews` table).
pub fn is_review_of(
    conn: &Connection,
    review: ReviewId,
    session: ConsultingSessionId,
) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM reviews WHERE id = ?1 AND session_id = ?2")?
        .query_row(params![review, session], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The reviews of a session a party may dispute: (id, side, rating),
/// for the session page's form.
pub fn reviews_of(
    conn: &Connection,
    session: ConsultingSessionId,
) -> AppResult<Vec<(ReviewId, String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, side, rating FROM reviews WHERE session_id = ?1 AND status != 'removed' ORDER BY id",
    )?;
    let rows = stmt.query_map([session], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
