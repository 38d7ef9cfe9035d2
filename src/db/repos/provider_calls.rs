//! The provider-call log (monthly budgets) and provider availability.

use rusqlite::{params, Connection, OptionalExtension};

use crate::db::ts;
use crate::domain::ProviderCallId;
use crate::error::AppResult;

type Time = chrono::DateTime<chrono::Utc>;

pub struct Call<'a> {
    pub provider: &'a str,
    pub operation: &'a str,
    pub outcome: &'a str,
    pub status_code: Option<u16>,
    pub attempts: u32,
    pub paid: bool,
    pub duration_ms: u64,
}

pub fn record(conn: &Connection, c: &Call<'_>, now: Time) -> AppResult<()> {
    conn.execute(
        "INSERT INTO provider_calls (provider, operation, outcome, status_code, attempts, paid, duration_ms, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![c.provider, c.operation, c.outcome, c.status_code, c.attempts, c.paid, c.duration_ms as i64, ts(now)],
    )?;
    Ok(())
}

/// Reserves one paid call unless `budget` calls were already paid for
/// since `since`; returns the reserved row, settled by `settle`. A row left
/// `reserved` by a crash keeps counting, which errs on the side of the budget.
pub fn reserve(
    conn: &Connection,
    provider: &str,
    operation: &str,
    budget: u32,
    since: Time,
    now: Time,
) -> AppResult<Option<ProviderCallId>> {
    if paid_since(conn, provider, since)? >= i64::from(budget) {
        return Ok(None);
    }
    conn.execute(
        "INSERT INTO provider_calls (provider, operation, outcome, attempts, paid, duration_ms, at)
         VALUES (?1, ?2, 'reserved', 1, 1, 0, ?3)",
        params![provider, operation, ts(now)],
    )?;
    Ok(Some(ProviderCallId(conn.last_insert_rowid())))
}

/// Records how a reserved call ended; a call that failed costs nothing.
pub fn settle(
    conn: &Connection,
    id: ProviderCallId,
    outcome: &str,
    paid: bool,
    duration_ms: u64,
) -> AppResult<()> {
    conn.execute(
        "UPDATE provider_calls SET outcome = ?2, paid = ?3, duration_ms = ?4 WHERE id = ?1",
        params![id, outcome, paid, duration_ms as i64],
    )?;
    Ok(())
}

/// Paid calls since `since` (the start of the month).
pub fn paid_since(conn: &Connection, provider: &str, since: Time) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM provider_calls WHERE provider = ?1 AND paid = 1 AND at >= ?2",
        params![provider, ts(since)],
        |r| r.get(0),
    )?)
}

/// Calls by outcome since `since`: (outcome, count).
pub fn counts_since(
    conn: &Connection,
    provider: &str,
    since: Time,
) -> AppResult<Vec<(String, i64)>> {
    let rows = conn
        .prepare_cached("SELECT outcome, COUNT(*) FROM provider_calls WHERE provider = ?1 AND at >= ?2 GROUP BY outcome ORDER BY outcome")?
        .query_map(params![provider, ts(since)], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

#[derive(Debug, Clone, Default)]
pub struct Status {
    pub unavailable_since: Option<String>,
    pub unavailable_reason: Option<String>,
    pub key_fingerprint: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
}

pub fn status(conn: &Connection, provider: &str) -> AppResult<Status> {
    Ok(conn
        .query_row(
            "SELECT unavailable_since, unavailable_reason, key_fingerprint, last_error, last_error_at FROM provider_status WHERE provider = ?1",
            [provider],
            |r| {
                Ok(Status {
                    unavailable_since: r.get(0)?,
                    unavailable_reason: r.get(1)?,
                    key_fingerprint: r.get(2)?,
                    last_error: r.get(3)?,
                    last_error_at: r.get(4)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

pub fn mark_unavailable(
    conn: &Connection,
    provider: &str,
    reason: &str,
    fingerprint: &str,
    now: Time,
) -> AppResult<()> {
    let now = ts(now);
    conn.execute(
        "INSERT INTO provider_status (provider, unavailable_since, unavailable_reason, key_fingerprint, last_error, last_error_at)
         VALUES (?1, ?2, ?3, ?4, ?3, ?2)
         ON CONFLICT (provider) DO UPDATE SET unavailable_since = excluded.unavailable_since,
             unavailable_reason = excluded.unavailable_reason, key_fingerprint = excluded.key_fingerprint,
             last_error = excluded.last_error, last_error_at = excluded.last_error_at",
        params![provider, now, reason, fingerprint],
    )?;
    Ok(())
}

pub fn record_error(conn: &Connection, provider: &str, error: &str, now: Time) -> AppResult<()> {
    conn.execute(
        "INSERT INTO provider_status (provider, last_error, last_error_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (provider) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at",
        params![provider, error, ts(now)],
    )?;
    Ok(())
}

/// Makes a provider available again (admin action).
pub fn clear_unavailable(conn: &Connection, provider: &str) -> AppResult<bool> {
    let n = conn.execute(
        "UPDATE provider_status SET unavailable_since = NULL, unavailable_reason = NULL WHERE provider = ?1 AND unavailable_since IS NOT NULL",
        [provider],
    )?;
    Ok(n == 1)
}
