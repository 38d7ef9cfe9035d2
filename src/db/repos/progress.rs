//! A reader's progress on a paper and whether they want to consult its authors.

use rusqlite::{params, Connection, OptionalExtension};

use crate::db::ts;
use crate::domain::{PaperId, UserId};
use crate::error::AppResult;

#[derive(Debug, Clone)]
pub struct ProgressRow {
    pub paper_id: PaperId,
    pub percent: u8,
    pub wants_consultation: bool,
    pub updated_at: String,
}

pub fn upsert(
    conn: &Connection,
    user: UserId,
    paper: PaperId,
    percent: u8,
    wants: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<ProgressRow> {
    let now = ts(now);
    conn.execute(
        "INSERT INTO reading_progress (user_id, paper_id, percent, wants_consultation, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (user_id, paper_id) DO UPDATE SET percent = excluded.percent,
             wants_consultation = excluded.wants_consultation, updated_at = excluded.updated_at",
        params![user, paper, percent, wants, now],
    )?;
    Ok(ProgressRow {
        paper_id: paper,
        percent,
        wants_consultation: wants,
        updated_at: now,
    })
}

pub fn find(conn: &Connection, user: UserId, paper: PaperId) -> AppResult<Option<ProgressRow>> {
    Ok(conn
        .query_row(
            "SELECT percent, wants_consultation, updated_at FROM reading_progress WHERE user_id = ?1 AND paper_id = ?2",
            params![user, paper],
            |r| Ok(ProgressRow { paper_id: paper, percent: r.get(0)?, wants_consultation: r.get(1)?, updated_at: r.get(2)? }),
        )
        .optional()?)
}

/// Readers who said they want to consult this paper's authors.
pub fn interested_count(conn: &Connection, paper: PaperId) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM reading_progress WHERE paper_id = ?1 AND wants_consultation = 1",
        [paper],
        |r| r.get(0),
    )?)
}
