//! What the `sessions` job finds due: requests to expire, reminders to
//! send (each once per offset and start) and sessions to complete.

use rusqlite::{params, Connection};

use super::Time;
use crate::db::ts;
use crate::domain::{ConsultingSessionId, ResearcherId};
use crate::error::AppResult;

/// Requests whose answer time ran out.
pub fn due_expiry(conn: &Connection, now: Time) -> AppResult<Vec<ConsultingSessionId>> {
    ids(
        conn,
        "SELECT id FROM consulting_sessions WHERE status = 'requested' AND expires_at <= ?1 ORDER BY id",
        params![ts(now)],
    )
}

/// One researcher's requests whose answer or payment time ran out
/// (expired lazily when someone books, so their slot is free before the
/// job runs). A held card must be let go at Stripe first, so those are
/// left to the job; an unpaid one holds no money (its intent, if any, is
/// cancelled by the job afterwards).
pub fn due_expiry_for(
    conn: &Connection,
    researcher: ResearcherId,
    now: Time,
) -> AppResult<Vec<ConsultingSessionId>> {
    ids(
        conn,
        "SELECT id FROM consulting_sessions
          WHERE researcher_id = ?1 AND status = 'requested' AND expires_at <= ?2
            AND NOT EXISTS (SELECT 1 FROM session_payments p WHERE p.session_id = consulting_sessions.id
                            AND p.status = 'authorized')
          ORDER BY id",
        params![researcher, ts(now)],
    )
}

/// An open no-show claim on the session: it is decided by the claim (or
/// an admin), never completed meanwhile.
const NO_CLAIM: &str = "NOT EXISTS (SELECT 1 FROM disputes d WHERE d.session_id = consulting_sessions.id
                         AND d.kind = 'no_show' AND d.status IN ('open', 'awaiting_response', 'under_review'))";

/// Accepted sessions that ended before `cutoff`, unless a no-show claim
/// on them is open.
pub fn due_completion(conn: &Connection, cutoff: Time) -> AppResult<Vec<ConsultingSessionId>> {
    ids(
        conn,
        &format!(
            "SELECT id FROM consulting_sessions WHERE status = 'accepted' AND end_at <= ?1 AND {NO_CLAIM} ORDER BY id"
        ),
        params![ts(cutoff)],
    )
}

/// Whether a no-show claim on the session is open.
pub fn no_show_claim_open(conn: &Connection, id: ConsultingSessionId) -> AppResult<bool> {
    let free: bool = conn
        .prepare_cached(&format!(
            "SELECT {NO_CLAIM} FROM consulting_sessions WHERE id = ?1"
        ))?
        .query_row([id], |r| r.get(0))?;
    Ok(!free)
}

/// Accepted sessions starting within `offset_minutes` that have not had
/// this reminder for their current start.
pub fn due_reminders(
    conn: &Connection,
    now: Time,
    offset_minutes: i64,
) -> AppResult<Vec<ConsultingSessionId>> {
    let until = now + chrono::Duration::minutes(offset_minutes);
    ids(
        conn,
        "SELECT s.id FROM consulting_sessions s
          WHERE s.status = 'accepted' AND s.start_at > ?1 AND s.start_at <= ?2
            AND NOT EXISTS (SELECT 1 FROM session_reminders m WHERE m.session_id = s.id
                            AND m.offset_minutes = ?3 AND m.start_at = s.start_at)
          ORDER BY s.id",
        params![ts(now), ts(until), offset_minutes],
    )
}

/// Records a reminder; false when it was already sent.
pub fn mark_reminded(
    conn: &Connection,
    id: ConsultingSessionId,
    offset_minutes: i64,
    start: Time,
    now: Time,
) -> AppResult<bool> {
    let n = conn.prepare_cached("INSERT OR IGNORE INTO session_reminders (session_id, offset_minutes, start_at, sent_at)
         VALUES (?1, ?2, ?3, ?4)")?.execute(
        params![id, offset_minutes, ts(start), ts(now)],
    )?;
    Ok(n == 1)
}

fn ids(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> AppResult<Vec<ConsultingSessionId>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(p, |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
