//! Included sessions of a plan, as an append-only ledger: a booking that
//! uses one writes a `spend` (-1); a decline, an expiry or a cancellation
//! that refunds in full writes its `give_back` (+1). What a period has
//! left is the plan's allowance plus the sum of that period's rows.

use rusqlite::{params, Connection, OptionalExtension};

use crate::db::ts;
use crate::domain::{ConsultingSessionId, SubscriptionId, UserId};
use crate::error::AppResult;

type Time = chrono::DateTime<chrono::Utc>;

/// A booking takes one included session of the period ending `period_end`.
pub fn spend(
    conn: &Connection,
    sub: SubscriptionId,
    user: UserId,
    session: ConsultingSessionId,
    period_end: &str,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO plan_credits (subscription_id, user_id, session_id, period_end, kind, delta, created_at)
         VALUES (?1, ?2, ?3, ?4, 'spend', -1, ?5)",
    )?
    .execute(params![sub, user, session, period_end, ts(now)])?;
    Ok(())
}

/// Gives the session's included session back to the period it was taken
/// from; false when it took none or had it back already.
pub fn give_back(conn: &Connection, session: ConsultingSessionId, now: Time) -> AppResult<bool> {
    let spent: Option<(i64, Option<i64>, String)> = conn
        .prepare_cached(
            "SELECT subscription_id, user_id, period_end FROM plan_credits
              WHERE session_id = ?1 AND kind = 'spend'",
        )?
        .query_row([session], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((sub, user, period_end)) = spent else {
        return Ok(false);
    };
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO plan_credits (subscription_id, user_id, session_id, period_end, kind, delta, created_at)
             VALUES (?1, ?2, ?3, ?4, 'give_back', 1, ?5)",
        )?
        .execute(params![sub, user, session, period_end, ts(now)])?;
    Ok(n == 1)
}

/// One row, as `GET /subscriptions/me` lists the period's.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CreditEntry {
    pub session_id: ConsultingSessionId,
    /// `spend` or `give_back`.
    pub kind: String,
    /// -1 or +1.
    pub delta: i64,
    pub at: String,
}

/// A period's rows, oldest first.
pub fn period_rows(
    conn: &Connection,
    sub: SubscriptionId,
    period_end: &str,
) -> AppResult<Vec<CreditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT session_id, kind, delta, created_at FROM plan_credits
          WHERE subscription_id = ?1 AND period_end = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![sub, period_end], |r| {
        Ok(CreditEntry {
            session_id: r.get(0)?,
            kind: r.get(1)?,
            delta: r.get(2)?,
            at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
