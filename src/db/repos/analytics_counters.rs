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

/// Deletes every counter of a day before `day`; answers how many.
pub fn delete_before(conn: &Connection, day: &str) -> AppResult<usize> {
    Ok(conn.execute("DELETE FROM analytics_counters WHERE day < ?1", [day])?)
}

/// The days of `[from_day, to_day_exclusive)` that have a `kind` counter,
/// with its total over all subjects, oldest first. Days without one are
/// absent (read them as 0).
pub fn totals_by_day(
    conn: &Connection,
    kind: CounterKind,
    from_day: &str,
    to_day_exclusive: &str,
) -> AppResult<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT day, SUM(count) FROM analytics_counters
          WHERE kind = ?1 AND day >= ?2 AND day < ?3
          GROUP BY day ORDER BY day",
    )?;
    let rows = stmt.query_map(params![kind, from_day, to_day_exclusive], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The `limit` subjects (papers, for `paper_view`) with the highest `kind`
/// total over `[from_day, to_day_exclusive)`, highest first (ties: lower
/// subject first).
pub fn top_subjects(
    conn: &Connection,
    kind: CounterKind,
    from_day: &str,
    to_day_exclusive: &str,
    limit: usize,
) -> AppResult<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT subject, SUM(count) AS total FROM analytics_counters
          WHERE kind = ?1 AND day >= ?2 AND day < ?3
          GROUP BY subject ORDER BY total DESC, subject LIMIT ?4",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![kind, from_day, to_day_exclusive, limit], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Engagement counters of local days `[from, to)`, summed over subjects:
/// `(day, kind, count)`.
pub fn counters(conn: &Connection, from: &str, to: &str) -> AppResult<Vec<(String, String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT day, kind, sum(count) FROM analytics_counters
          WHERE day >= ?1 AND day < ?2 GROUP BY day, kind",
    )?;
    let rows = stmt.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One counter of one day (0 when absent).
pub fn counter(conn: &Connection, day: &str, kind: CounterKind) -> AppResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(sum(count), 0) FROM analytics_counters WHERE day = ?1 AND kind = ?2",
        )?
        .query_row(params![day, kind], |r| r.get(0))?)
}

/// The most viewed papers of local days `[from, to)`: `(id, title, views)`.
pub fn top_papers(
    conn: &Connection,
    from: &str,
    to: &str,
    limit: usize,
) -> AppResult<Vec<(i64, String, i64)>> {
    let mut stmt = conn.prepare_cached(
        // Sum per paper first, then look up only the titles shown.
        "SELECT t.subject, coalesce(p.title, ''), t.n FROM
            (SELECT subject, sum(count) AS n FROM analytics_counters
              WHERE kind = 'paper_view' AND day >= ?1 AND day < ?2
              GROUP BY subject ORDER BY n DESC, subject LIMIT ?3) t
           LEFT JOIN papers p ON p.id = t.subject
          ORDER BY t.n DESC, t.subject",
    )?;
    let rows = stmt.query_map(params![from, to, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
