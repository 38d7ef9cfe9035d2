//! Reports of published reviews: one per account, open until a moderator
//! decides on the review.

use rusqlite::{params, Connection};

use super::{Time, REPORT_AAD};
use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::{ReviewId, UserId};
use crate::error::AppResult;

/// Records a report; false when this reporter reported the review before.
pub fn add_report(
    conn: &Connection,
    keys: &Keyring,
    id: ReviewId,
    reporter: UserId,
    reason: &str,
    now: Time,
) -> AppResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO review_reports (review_id, reporter_id, reason_enc, created_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            id,
            reporter,
            keys.encrypt(REPORT_AAD, reason),
            ts(now)
        ])?;
    Ok(n == 1)
}

/// The open reports' reasons, oldest first.
pub fn open_reports(conn: &Connection, keys: &Keyring, id: ReviewId) -> AppResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT reason_enc FROM review_reports WHERE review_id = ?1 AND resolved_at IS NULL ORDER BY created_at",
    )?;
    let stored: Vec<String> = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    stored
        .iter()
        .map(|s| crate::db::repos::decrypt(keys, REPORT_AAD, s))
        .collect()
}

/// Marks every open report of a review as seen by a moderator.
pub fn resolve_reports(conn: &Connection, id: ReviewId, now: Time) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE review_reports SET resolved_at = ?2 WHERE review_id = ?1 AND resolved_at IS NULL",
    )?
    .execute(params![id, ts(now)])?;
    Ok(())
}
