//! Review e-mail settings of an account, and the reminders to review.

use rusqlite::{params, Connection, OptionalExtension};

use super::Time;
use crate::db::ts;
use crate::domain::{ConsultingSessionId, UserId};
use crate::error::AppResult;

/// Mail about reviews an account gets: (new published reviews of it,
/// reminders to review its sessions).
pub fn mail_prefs(conn: &Connection, user: UserId) -> AppResult<(bool, bool)> {
    Ok(conn
        .prepare_cached("SELECT review_mail, review_reminders FROM users WHERE id = ?1")?
        .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((false, false)))
}

pub fn set_mail_prefs(
    conn: &Connection,
    user: UserId,
    new_reviews: bool,
    reminders: bool,
) -> AppResult<()> {
    conn.prepare_cached("UPDATE users SET review_mail = ?2, review_reminders = ?3 WHERE id = ?1")?
        .execute(params![user, new_reviews, reminders])?;
    Ok(())
}

/// Turns the reminders to review on or off (the `review_reminders`
/// consent; the caller appends its ledger row).
pub fn set_reminders(conn: &Connection, user: UserId, on: bool) -> AppResult<()> {
    conn.prepare_cached("UPDATE users SET review_reminders = ?2 WHERE id = ?1")?
        .execute(params![user, on])?;
    Ok(())
}

/// Completed sessions to remind the reader of: completed before
/// `completed_before`, ended after `ended_after` (still reviewable), not
/// reviewed, not reminded, the reader wants reminders and can sign in.
pub fn due_reminders(
    conn: &Connection,
    completed_before: Time,
    ended_after: Time,
    limit: usize,
) -> AppResult<Vec<ConsultingSessionId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id FROM consulting_sessions s JOIN users u ON u.id = s.reader_id
          WHERE s.status = 'completed' AND s.review_reminded_at IS NULL
            AND s.updated_at <= ?1 AND s.end_at >= ?2
            AND u.review_reminders = 1 AND u.disabled_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.session_id = s.id AND v.side = 'reader')
          ORDER BY s.id LIMIT ?3",
    )?;
    let ids = stmt
        .query_map(
            params![ts(completed_before), ts(ended_after), limit as i64],
            |r| r.get(0),
        )?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Marks a session's reader as reminded; false when someone did first.
pub fn mark_reminded(
    conn: &Connection,
    session: ConsultingSessionId,
    now: Time,
) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE consulting_sessions SET review_reminded_at = ?2 WHERE id = ?1 AND review_reminded_at IS NULL",
        )?
        .execute(params![session, ts(now)])?
        == 1)
}
