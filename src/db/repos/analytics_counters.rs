//! Daily engagement counters: one row per day, kind and subject (the paper
//! of a view, 0 otherwise). Nothing here names a person. Days are
//! `YYYY-MM-DD` in the institution's zone, so they compare as text.

use rusqlite::{params, Connection};

use crate::domain::CounterKind;
use crate::error::AppResult;

/// Adds `n` to each `(day, kind, subject)` counter, creating it at 0 first.
pub fn add(conn: &Connection, rows: &[(String, CounterKind, i64, i64)]) -> AppResult<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO analytics_counters (day, kind, subject, count) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (day, kind, subject) DO UPDATE SET count = count + excluded.count",
    )?;
    for (day, kind, subject, n) in rows {
        stmt.execute(params![day, kind, subject, n])?;
    }
    Ok(())
}

/// Calls `f(day, kind, subject, count)` for every counter of local days
/// `[from, to)`, in key order (one primary-key range scan; the caller sums,
/// which at a year of per-paper views is several times faster than two
/// `GROUP BY`s with a sort).
pub fn each(
    conn: &Connection,
    from: &str,
    to: &str,
    mut f: impl FnMut(&str, &str, i64, i64),
) -> AppResult<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT day, kind, subject, count FROM analytics_counters WHERE day >= ?1 AND day < ?2",
    )?;
    let mut rows = stmt.query(params![from, to])?;
    while let Some(r) = rows.next()? {
        f(
            r.get_ref(0)?.as_str().unwrap_or_default(),
            r.get_ref(1)?.as_str().unwrap_or_default(),
            r.get(2)?,
            r.get(3)?,
        );
    }
    Ok(())
}

/// One counter of one day (0 when absent).
pub fn counter(conn: &Connection, day: &str, kind: CounterKind) -> AppResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(sum(count), 0) FROM analytics_counters WHERE day = ?1 AND kind = ?2",
        )?
        .query_row(params![day, kind], |r| r.get(0))?)
}
