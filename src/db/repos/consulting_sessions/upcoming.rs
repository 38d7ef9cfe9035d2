//! What is coming up for one person, soonest first: the dashboards'
//! lists. A researcher sees a priced session only once it is paid for, as
//! everywhere else.

use rusqlite::{params, Connection};

use super::{from_row, SessionRow, Time, PAID, SELECT};
use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::{ResearcherId, SessionStatus, UserId};
use crate::error::AppResult;

/// Whose sessions.
#[derive(Debug, Clone, Copy)]
pub enum Party {
    Reader(UserId),
    Researcher(ResearcherId),
}

/// Sessions in `status` that have not ended by `now`, soonest first.
pub fn upcoming(
    conn: &Connection,
    keys: &Keyring,
    party: Party,
    status: SessionStatus,
    now: Time,
    limit: usize,
) -> AppResult<Vec<SessionRow>> {
    // One statement per side, so each uses its own index.
    let (who, id) = match party {
        Party::Reader(u) => ("s.reader_id = ?1", u.0),
        Party::Researcher(r) => ("s.researcher_id = ?1 AND {PAID}", r.0),
    };
    let mut stmt = conn.prepare_cached(&format!(
        // `+s.status`: walk the person's own (…, start_at) index in order,
        // not every session of that status.
        "{SELECT} WHERE {} AND +s.status = ?2 AND s.end_at > ?3 ORDER BY s.start_at LIMIT ?4",
        who.replace("{PAID}", PAID)
    ))?;
    let mut rows = stmt.query(params![id, status, ts(now), limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(keys, r)?);
    }
    Ok(out)
}
