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
            keys.encrypt_for(reporter, REPORT_AAD, reason),
            ts(now)
        ])?;
    Ok(n == 1)
}

/// Marks every open report of a review as seen by a moderator.
pub fn resolve_reports(conn: &Connection, id: ReviewId, now: Time) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE review_reports SET resolved_at = ?2 WHERE review_id = ?1 AND resolved_at IS NULL",
    )?
    .execute(params![id, ts(now)])?;
    Ok(())
}

/// The open reports' reasons of several reviews, each oldest first.
pub fn open_reports_of(
    conn: &Connection,
    keys: &Keyring,
    ids: &[ReviewId],
) -> AppResult<std::collections::HashMap<ReviewId, Vec<String>>> {
    let json = crate::db::repos::id_array(ids.iter().map(|i| i.0));
    let mut stmt = conn.prepare_cached(
        "SELECT review_id, reason_enc FROM review_reports
          WHERE review_id IN (SELECT value FROM json_each(?1)) AND resolved_at IS NULL
          ORDER BY created_at",
    )?;
    let rows: Vec<(ReviewId, String)> = stmt
        .query_map([json], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = std::collections::HashMap::<ReviewId, Vec<String>>::new();
    for (id, stored) in rows {
        out.entry(id)
            .or_default()
            .push(crate::db::repos::decrypt(keys, REPORT_AAD, &stored)?);
    }
    Ok(out)
}
