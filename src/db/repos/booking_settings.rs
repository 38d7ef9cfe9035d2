//! A researcher's booking settings and availability (rules and exceptions
//! stored as JSON, replaced as a whole).

use rusqlite::{params, Connection, OptionalExtension};

use crate::db::ts;
use crate::domain::availability::{BookingSettings, Exception, Rule};
use crate::domain::{ResearcherId, UserId};
use crate::error::{AppError, AppResult};

type Time = chrono::DateTime<chrono::Utc>;

/// The researcher's zone (`researchers.timezone`), if set.
pub fn timezone(conn: &Connection, id: ResearcherId) -> AppResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT timezone FROM researchers WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// The saved settings, if the researcher saved any; `timezone` is empty
/// when the researcher has none.
pub fn find(conn: &Connection, id: ResearcherId) -> AppResult<Option<BookingSettings>> {
    let tz = timezone(conn, id)?.unwrap_or_default();
    Ok(conn
        .prepare_cached("SELECT durations, price_minor, currency, min_notice_hours, buffer_minutes, max_per_day,
                    horizon_days, request_ttl_hours, cancel_window_hours
             FROM researcher_settings WHERE researcher_id = ?1")?
        .query_row(
            [id],
            |r| {
                let durations: String = r.get(0)?;
                Ok(BookingSettings {
                    timezone: tz.clone(),
                    durations: serde_json::from_str(&durations).unwrap_or_default(),
                    price_minor: r.get(1)?,
                    currency: r.get(2)?,
                    min_notice_hours: r.get(3)?,
                    buffer_minutes: r.get(4)?,
                    max_per_day: r.get(5)?,
                    horizon_days: r.get(6)?,
                    request_ttl_hours: r.get(7)?,
                    cancel_window_hours: r.get(8)?,
                })
            },
        )
        .optional()?)
}

/// Saves the settings and the researcher's zone.
pub fn save(conn: &Connection, id: ResearcherId, s: &BookingSettings, now: Time) -> AppResult<()> {
    let durations = serde_json::to_string(&s.durations)
        .map_err(|e| AppError::internal(format!("durations: {e}")))?;
    conn.prepare_cached("INSERT INTO researcher_settings (researcher_id, durations, price_minor, currency, min_notice_hours,
             buffer_minutes, max_per_day, horizon_days, request_ttl_hours, cancel_window_hours, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (researcher_id) DO UPDATE SET durations = excluded.durations,
             price_minor = excluded.price_minor, currency = excluded.currency,
             min_notice_hours = excluded.min_notice_hours, buffer_minutes = excluded.buffer_minutes,
             max_per_day = excluded.max_per_day, horizon_days = excluded.horizon_days,
             request_ttl_hours = excluded.request_ttl_hours,
             cancel_window_hours = excluded.cancel_window_hours, updated_at = excluded.updated_at")?.execute(
        params![
            id,
            durations,
            s.price_minor,
            s.currency,
            s.min_notice_hours,
            s.buffer_minutes,
            s.max_per_day,
            s.horizon_days,
            s.request_ttl_hours,
            s.cancel_window_hours,
            ts(now)
        ],
    )?;
    set_timezone(conn, id, &s.timezone, now)
}

/// Sets the profile's zone, and its owner's: a person has one zone, used
/// for their weekly times, their pages and their e-mails.
pub fn set_timezone(conn: &Connection, id: ResearcherId, tz: &str, now: Time) -> AppResult<()> {
    conn.prepare_cached("UPDATE researchers SET timezone = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, tz, ts(now)])?;
    conn.prepare_cached(
        "UPDATE users SET timezone = ?2, updated_at = ?3
          WHERE id = (SELECT user_id FROM researchers WHERE id = ?1)",
    )?
    .execute(params![id, tz, ts(now)])?;
    Ok(())
}

/// Sets the zone of every profile `user` owns (the account's zone changed).
pub fn set_timezone_of_owner(
    conn: &Connection,
    user: UserId,
    tz: &str,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE researchers SET timezone = ?2, updated_at = ?3 WHERE user_id = ?1",
    )?
    .execute(params![user, tz, ts(now)])?;
    Ok(())
}

/// Rules and exceptions as saved; `None` when never published.
pub fn availability(
    conn: &Connection,
    id: ResearcherId,
) -> AppResult<Option<(Vec<Rule>, Vec<Exception>)>> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT rules, exceptions FROM availability WHERE researcher_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(r, x)| {
        let rules = serde_json::from_str(&r)
            .map_err(|e| AppError::internal(format!("stored rules: {e}")))?;
        let exceptions = serde_json::from_str(&x)
            .map_err(|e| AppError::internal(format!("stored exceptions: {e}")))?;
        Ok((rules, exceptions))
    })
    .transpose()
}

pub fn save_availability(
    conn: &Connection,
    id: ResearcherId,
    rules: &[Rule],
    exceptions: &[Exception],
    now: Time,
) -> AppResult<()> {
    let enc = |v: serde_json::Result<String>| {
        v.map_err(|e| AppError::internal(format!("availability: {e}")))
    };
    conn.prepare_cached("INSERT INTO availability (researcher_id, rules, exceptions, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (researcher_id) DO UPDATE SET rules = excluded.rules,
             exceptions = excluded.exceptions, updated_at = excluded.updated_at")?.execute(
        params![
            id,
            enc(serde_json::to_string(rules))?,
            enc(serde_json::to_string(exceptions))?,
            ts(now)
        ],
    )?;
    Ok(())
}

/// How many researchers saved a request lifetime longer than `hours`
/// (0 on a database older than the settings table).
pub fn count_request_ttl_over(conn: &Connection, hours: i64) -> AppResult<i64> {
    if !crate::db::has_table(conn, "researcher_settings")? {
        return Ok(0);
    }
    Ok(conn
        .prepare_cached("SELECT count(*) FROM researcher_settings WHERE request_ttl_hours > ?1")?
        .query_row([hours], |r| r.get(0))?)
}
