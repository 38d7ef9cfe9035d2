//! The sessions an export writes: the columns of its rows and nothing
//! more. `list` decrypts the meeting link, its password and the
//! cancellation reason of every row; an export never writes them, and on
//! real data (accepted sessions have links) they cost a quarter of its time.

use rusqlite::{Connection, Row};

use super::{filtered, ListFilter, TOPIC_AAD};
use crate::crypto::Keyring;
use crate::domain::{ConsultingSessionId, PaperId, ResearcherId, SessionStatus, UserId};
use crate::error::AppResult;

/// One session as exports write it; times as stored (RFC 3339, UTC).
#[derive(Debug, Clone)]
pub struct ExportedSession {
    pub id: ConsultingSessionId,
    pub status: SessionStatus,
    pub start_at: String,
    pub end_at: String,
    pub duration_minutes: i64,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub reader_id: UserId,
    pub reader_name: String,
    pub paper_id: Option<PaperId>,
    pub paper_title: Option<String>,
    pub topic: String,
    pub price_minor: i64,
    pub currency: String,
    pub created_at: String,
}

const SELECT: &str = "SELECT s.id, s.status, s.start_at, s.end_at, s.duration_minutes, s.researcher_id, r.name,
        s.reader_id, u.name, s.paper_id, p.title, s.topic_enc, s.price_minor, s.currency, s.created_at
    FROM consulting_sessions s
    JOIN researchers r ON r.id = s.researcher_id
    JOIN users u ON u.id = s.reader_id
    LEFT JOIN papers p ON p.id = s.paper_id";

fn exported(keys: &Keyring, r: &Row<'_>) -> AppResult<ExportedSession> {
    Ok(ExportedSession {
        id: r.get(0)?,
        status: r.get(1)?,
        start_at: r.get(2)?,
        end_at: r.get(3)?,
        duration_minutes: r.get(4)?,
        researcher_id: r.get(5)?,
        researcher_name: r.get(6)?,
        reader_id: r.get(7)?,
        reader_name: r.get(8)?,
        paper_id: r.get(9)?,
        paper_title: r.get(10)?,
        topic: super::super::decrypt(keys, TOPIC_AAD, &r.get::<_, String>(11)?)?,
        price_minor: r.get(12)?,
        currency: r.get(13)?,
        created_at: r.get(14)?,
    })
}

/// The sessions `list` would give for `f`, with the exported columns only.
pub fn list_for_export(
    conn: &Connection,
    keys: &Keyring,
    f: &ListFilter,
) -> AppResult<Vec<ExportedSession>> {
    filtered(conn, SELECT, f, |r| exported(keys, r))
}
