//! One-time links that create the first admin.

use rusqlite::{params, Connection};

use crate::db::ts;
use crate::error::AppResult;

type Time = chrono::DateTime<chrono::Utc>;

pub fn create(conn: &Connection, token_hash: &str, now: Time, expires: Time) -> AppResult<()> {
    conn.execute(
        "INSERT INTO setup_links (token_hash, created_at, expires_at) VALUES (?1, ?2, ?3)",
        params![token_hash, ts(now), ts(expires)],
    )?;
    Ok(())
}

pub fn is_valid(conn: &Connection, token_hash: &str, now: Time) -> AppResult<bool> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM setup_links WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        params![token_hash, ts(now)],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// Marks the link used; false if it was unknown, used or expired.
pub fn consume(conn: &Connection, token_hash: &str, now: Time) -> AppResult<bool> {
    let n = conn.execute(
        "UPDATE setup_links SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        params![token_hash, ts(now)],
    )?;
    Ok(n == 1)
}
