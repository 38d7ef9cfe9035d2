//! E-mail verification links: single use, expiring, bound to the address
//! (blind index) they were sent to. Only the token's SHA-256 is stored.

use rusqlite::{params, Connection, OptionalExtension};

use crate::db::ts;
use crate::domain::UserId;
use crate::error::AppResult;

type Time = chrono::DateTime<chrono::Utc>;

/// A new link; `kind` is `register` or `resend`.
pub fn insert(
    conn: &Connection,
    token_hash: &str,
    user: UserId,
    email_bidx: &str,
    kind: &str,
    now: Time,
    expires: Time,
) -> AppResult<()> {
    conn.execute(
        "INSERT INTO email_verifications (token_hash, user_id, email_bidx, kind, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![token_hash, user, email_bidx, kind, ts(now), ts(expires)],
    )?;
    Ok(())
}

/// A link that still works: (account, address it was sent to).
pub fn find_valid(
    conn: &Connection,
    token_hash: &str,
    now: Time,
) -> AppResult<Option<(UserId, String)>> {
    Ok(conn
        .query_row(
            "SELECT user_id, email_bidx FROM email_verifications
              WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
            params![token_hash, ts(now)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Marks a link used; false if it was used (or ended) before.
pub fn consume(conn: &Connection, token_hash: &str, now: Time) -> AppResult<bool> {
    let n = conn.execute(
        "UPDATE email_verifications SET used_at = ?2
          WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        params![token_hash, ts(now)],
    )?;
    Ok(n == 1)
}

/// Ends every open link of an account (a new registration replaced it,
/// or it was verified).
pub fn end_all(conn: &Connection, user: UserId, now: Time) -> AppResult<()> {
    conn.execute(
        "UPDATE email_verifications SET used_at = ?2 WHERE user_id = ?1 AND used_at IS NULL",
        params![user, ts(now)],
    )?;
    Ok(())
}

/// Links an account asked for again since `since`, and when the oldest of
/// them went out (the resend limit and its `Retry-After`).
pub fn resends_since(
    conn: &Connection,
    user: UserId,
    since: Time,
) -> AppResult<(i64, Option<String>)> {
    Ok(conn.query_row(
        "SELECT COUNT(*), MIN(created_at) FROM email_verifications
          WHERE user_id = ?1 AND kind = 'resend' AND created_at > ?2",
        params![user, ts(since)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}
