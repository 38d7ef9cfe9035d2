//! Booking idempotency: the session an `Idempotency-Key` already booked,
//! with the hash of the request that booked it.

use rusqlite::{params, Connection, OptionalExtension};

use super::Time;
use crate::db::ts;
use crate::domain::{ConsultingSessionId, UserId};
use crate::error::AppResult;

/// The session an `Idempotency-Key` already booked, with its request hash.
pub fn idempotent(
    conn: &Connection,
    user: UserId,
    key: &str,
) -> AppResult<Option<(String, ConsultingSessionId)>> {
    Ok(conn
        .query_row(
            "SELECT request_hash, session_id FROM idempotency_keys WHERE user_id = ?1 AND key = ?2",
            params![user, key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

pub fn save_idempotent(
    conn: &Connection,
    user: UserId,
    key: &str,
    hash: &str,
    session: ConsultingSessionId,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, session_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![user, key, hash, session, ts(now)])?;
    Ok(())
}
