//! A session's history (`session_events`): what happened, who did it,
//! when.

use rusqlite::{params, Connection};

use super::Time;
use crate::db::ts;
use crate::domain::ConsultingSessionId;
use crate::error::AppResult;

pub fn record_event(
    conn: &Connection,
    id: ConsultingSessionId,
    event: &str,
    actor: &str,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO session_events (session_id, event, actor, at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, event, actor, ts(now)])?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct SessionEvent {
    pub event: String,
    pub actor: String,
    pub at: String,
}

pub fn events(conn: &Connection, id: ConsultingSessionId) -> AppResult<Vec<SessionEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT event, actor, at FROM session_events WHERE session_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(SessionEvent {
            event: r.get(0)?,
            actor: r.get(1)?,
            at: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
