//! The hourly rollups the triggers of migration V13 keep, and the raw
//! reads for the parts of hours they cannot answer (`HourPlan`).

use rusqlite::{params, Connection};

use super::{money_fact, MoneyFact, Span};
use crate::error::AppResult;

/// Calls `f(event, hour, n)` for each hour's count of each session event
/// in the range (hours as stored times of their start).
pub fn each_event_hour(
    conn: &Connection,
    span: &Span,
    mut f: impl FnMut(&str, &str, i64),
) -> AppResult<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT event, hour, n FROM session_event_hours WHERE hour >= ?1 AND hour < ?2 AND n > 0",
    )?;
    let mut rows = stmt.query(params![span.start, span.end])?;
    while let Some(r) = rows.next()? {
        f(
            r.get_ref(0)?.as_str().unwrap_or_default(),
            r.get_ref(1)?.as_str().unwrap_or_default(),
            r.get(2)?,
        );
    }
    Ok(())
}

/// Calls `f(event, at)` for every session event in the range.
pub fn each_session_event(
    conn: &Connection,
    span: &Span,
    mut f: impl FnMut(&str, &str),
) -> AppResult<()> {
    let mut stmt =
        conn.prepare_cached("SELECT event, at FROM session_events WHERE at >= ?1 AND at < ?2")?;
    let mut rows = stmt.query(params![span.start, span.end])?;
    while let Some(r) = rows.next()? {
        f(
            r.get_ref(0)?.as_str().unwrap_or_default(),
            r.get_ref(1)?.as_str().unwrap_or_default(),
        );
    }
    Ok(())
}

/// Sessions requested in the range by (status now, ever accepted): from
/// the rollup when `hourly` (the span is whole hours), else counted.
pub fn requests_by_status(
    conn: &Connection,
    span: &Span,
    hourly: bool,
) -> AppResult<Vec<(String, bool, i64)>> {
    let sql = if hourly {
        "SELECT status, ever_accepted, sum(n) FROM session_request_hours
          WHERE hour >= ?1 AND hour < ?2 GROUP BY status, ever_accepted"
    } else {
        "SELECT status, ever_accepted, count(*) FROM consulting_sessions
          WHERE created_at >= ?1 AND created_at < ?2 GROUP BY status, ever_accepted"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![span.start, span.end], |r| {
        Ok((r.get(0)?, r.get::<_, i64>(1)? != 0, r.get(2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Seconds each answer (accept or decline) given in the range took after
/// its request (a partial index holds only answers).
pub fn answer_secs(conn: &Connection, span: &Span) -> AppResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT waited_secs FROM session_events
          WHERE at >= ?1 AND at < ?2 AND waited_secs IS NOT NULL",
    )?;
    let rows = stmt.query_map(params![span.start, span.end], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Captures, refunds and plan charges summed per hour, kind and currency
/// (each row a fact dated at its hour's start).
pub fn money_hours(conn: &Connection, span: &Span) -> AppResult<Vec<MoneyFact>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, currency, amount_minor, tax_minor, fee_minor, hour FROM ledger_hours
          WHERE hour >= ?1 AND hour < ?2 AND n > 0",
    )?;
    let rows = stmt.query_map(params![span.start, span.end], money_fact)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
