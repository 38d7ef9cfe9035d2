//! Readers' questions about papers; the text is encrypted (free text may
//! hold personal data).

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::{ConsultingSessionId, PaperId, QueryId, UserId};
use crate::error::AppResult;

pub const QUESTION_AAD: &str = "paper_queries.question";

#[derive(Debug, Clone)]
pub struct QueryRow {
    pub id: QueryId,
    pub paper_id: PaperId,
    pub user_id: UserId,
    pub question: String,
    pub session_id: Option<ConsultingSessionId>,
    pub created_at: String,
}

const COLUMNS: &str = "id, paper_id, user_id, question_enc, session_id, created_at";

fn from_row(keys: &Keyring, r: &Row<'_>) -> AppResult<QueryRow> {
    let enc: String = r.get(3)?;
    Ok(QueryRow {
        id: r.get(0)?,
        paper_id: r.get(1)?,
        user_id: r.get(2)?,
        question: super::decrypt(keys, QUESTION_AAD, &enc)?,
        session_id: r.get(4)?,
        created_at: r.get(5)?,
    })
}

pub fn insert(
    conn: &Connection,
    keys: &Keyring,
    paper: PaperId,
    user: UserId,
    question: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<QueryRow> {
    let created_at = ts(now);
    conn.execute(
        "INSERT INTO paper_queries (paper_id, user_id, question_enc, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![paper, user, keys.encrypt_for(user, QUESTION_AAD, question), created_at],
    )?;
    Ok(QueryRow {
        id: QueryId(conn.last_insert_rowid()),
        paper_id: paper,
        user_id: user,
        question: question.to_string(),
        session_id: None,
        created_at,
    })
}

pub fn find(conn: &Connection, keys: &Keyring, id: QueryId) -> AppResult<Option<QueryRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM paper_queries WHERE id = ?1"
    ))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(|r| from_row(keys, r)).transpose()
}

/// A paper's queries, newest first: one user's, or everyone's when `user` is None.
pub fn list(
    conn: &Connection,
    keys: &Keyring,
    paper: PaperId,
    user: Option<UserId>,
    before: Option<QueryId>,
    limit: usize,
) -> AppResult<Vec<QueryRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM paper_queries WHERE paper_id = ?1 AND (?2 IS NULL OR user_id = ?2) AND id < ?3 ORDER BY id DESC LIMIT ?4"
    ))?;
    let mut rows = stmt.query(params![
        paper,
        user,
        before.map_or(i64::MAX, |b| b.0),
        limit as i64
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(keys, r)?);
    }
    Ok(out)
}

pub fn exists(conn: &Connection, id: QueryId) -> AppResult<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM paper_queries WHERE id = ?1",
            [id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Whether the question is the user's own (so a session may answer it).
pub fn is_owned_by(conn: &Connection, id: QueryId, user: crate::domain::UserId) -> AppResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM paper_queries WHERE id = ?1 AND user_id = ?2)",
        rusqlite::params![id, user],
        |r| r.get(0),
    )?)
}

/// Links the question to the session booked to answer it.
pub fn set_session(
    conn: &Connection,
    id: QueryId,
    session: crate::domain::ConsultingSessionId,
) -> AppResult<()> {
    conn.execute(
        "UPDATE paper_queries SET session_id = ?2 WHERE id = ?1",
        rusqlite::params![id, session],
    )?;
    Ok(())
}
