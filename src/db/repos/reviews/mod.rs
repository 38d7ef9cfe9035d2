//! Reviews of sessions and their answers (this file), reports
//! (`reports.rs`), the public list and the moderation queue (`lists.rs`),
//! the stored rating of each researcher (`tallies.rs`, kept in step by the
//! callers inside the transaction that changes what it counts), review
//! e-mail settings and reminders (`reminders.rs`) and figures
//! (`figures.rs`).

mod figures;
mod lists;
mod reminders;
mod reports;
mod tallies;

pub use figures::*;
pub use lists::*;
pub use reminders::*;
pub use reports::*;
pub use tallies::*;

use rusqlite::{params, Connection, Row};

use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::{ConsultingSessionId, ResearcherId, ReviewId, ReviewStatus, UserId};
use crate::error::{is_unique_violation, AppError, AppResult};

pub const COMMENT_AAD: &str = "reviews.comment";
pub const REPLY_AAD: &str = "reviews.reply";
pub const NOTE_AAD: &str = "reviews.moderation_note";
pub const REPORT_AAD: &str = "review_reports.reason";

pub(super) type Time = chrono::DateTime<chrono::Utc>;

/// Who wrote a review: the reader (of the researcher) or the researcher
/// (of the reader, with `[reviews] two_way`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Reader,
    Researcher,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Reader => "reader",
            Side::Researcher => "researcher",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "researcher" {
            Side::Researcher
        } else {
            Side::Reader
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub id: ReviewId,
    pub session_id: ConsultingSessionId,
    pub side: Side,
    pub author_id: UserId,
    pub author_name: String,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub reader_id: UserId,
    pub rating: u8,
    pub comment: Option<String>,
    pub status: ReviewStatus,
    pub held_rule: Option<String>,
    pub reply: Option<String>,
    pub reply_status: Option<ReviewStatus>,
    pub reply_held_rule: Option<String>,
    pub replied_at: Option<String>,
    pub moderation_note: Option<String>,
    pub moderated_at: Option<String>,
    /// Open reports (not yet seen by a moderator).
    pub open_reports: i64,
    pub created_at: String,
    pub updated_at: String,
}

pub(super) const SELECT: &str = "SELECT v.id, v.session_id, v.side, v.author_id,
        CASE WHEN u.deleted_at IS NULL THEN u.name ELSE 'Former user' END, v.researcher_id, v.reader_id,
        v.rating, v.comment_enc, v.status, v.held_rule, v.reply_enc, v.reply_status, v.reply_held_rule,
        v.replied_at, v.moderation_note_enc, v.moderated_at,
        (SELECT count(*) FROM review_reports p WHERE p.review_id = v.id AND p.resolved_at IS NULL),
        v.created_at, v.updated_at, p.name
   FROM reviews v JOIN users u ON u.id = v.author_id JOIN researchers p ON p.id = v.researcher_id";

fn opt_decrypt(keys: &Keyring, aad: &str, v: Option<String>) -> AppResult<Option<String>> {
    v.map(|s| super::decrypt(keys, aad, &s)).transpose()
}

fn row(keys: &Keyring, r: &Row<'_>) -> AppResult<ReviewRow> {
    let side: String = r.get(2)?;
    Ok(ReviewRow {
        id: r.get(0)?,
        session_id: r.get(1)?,
        side: Side::parse(&side),
        author_id: r.get(3)?,
        author_name: r.get(4)?,
        researcher_id: r.get(5)?,
        researcher_name: r.get(20)?,
        reader_id: r.get(6)?,
        rating: r.get(7)?,
        comment: opt_decrypt(keys, COMMENT_AAD, r.get(8)?)?,
        status: r.get(9)?,
        held_rule: r.get(10)?,
        reply: opt_decrypt(keys, REPLY_AAD, r.get(11)?)?,
        reply_status: r.get(12)?,
        reply_held_rule: r.get(13)?,
        replied_at: r.get(14)?,
        moderation_note: opt_decrypt(keys, NOTE_AAD, r.get(15)?)?,
        moderated_at: r.get(16)?,
        open_reports: r.get(17)?,
        created_at: r.get(18)?,
        updated_at: r.get(19)?,
    })
}

pub(super) fn many(
    conn: &Connection,
    keys: &Keyring,
    sql: &str,
    p: impl rusqlite::Params,
) -> AppResult<Vec<ReviewRow>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(p)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(row(keys, r)?);
    }
    Ok(out)
}

pub struct NewReview<'a> {
    pub session_id: ConsultingSessionId,
    pub side: Side,
    pub author_id: UserId,
    pub researcher_id: ResearcherId,
    pub reader_id: UserId,
    pub rating: u8,
    pub comment: Option<&'a str>,
    pub status: ReviewStatus,
    pub held_rule: Option<&'a str>,
}

/// Stores a review; 409 `already_reviewed` when the session has one from
/// that side.
pub fn insert(
    conn: &Connection,
    keys: &Keyring,
    n: &NewReview<'_>,
    now: Time,
) -> AppResult<ReviewId> {
    conn.prepare_cached(
        "INSERT INTO reviews (session_id, side, author_id, researcher_id, reader_id, rating, comment_enc,
                              status, held_rule, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
    )?
    .execute(params![
        n.session_id,
        n.side.as_str(),
        n.author_id,
        n.researcher_id,
        n.reader_id,
        n.rating,
        n.comment.map(|c| keys.encrypt_for(n.author_id, COMMENT_AAD, c)),
        n.status,
        n.held_rule,
        ts(now)
    ])
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::conflict("already_reviewed", "This session is reviewed already.")
        } else {
            e.into()
        }
    })?;
    Ok(ReviewId(conn.last_insert_rowid()))
}

pub fn find(conn: &Connection, keys: &Keyring, id: ReviewId) -> AppResult<Option<ReviewRow>> {
    Ok(many(conn, keys, &format!("{SELECT} WHERE v.id = ?1"), [id])?.pop())
}

/// The review of a session from one side, if any.
pub fn of_session(
    conn: &Connection,
    keys: &Keyring,
    session: ConsultingSessionId,
    side: Side,
) -> AppResult<Option<ReviewRow>> {
    Ok(many(
        conn,
        keys,
        &format!("{SELECT} WHERE v.session_id = ?1 AND v.side = ?2"),
        params![session, side.as_str()],
    )?
    .pop())
}

/// A review's stars and words after an edit, with what the rules made of
/// them.
pub struct Edited<'a> {
    pub rating: u8,
    pub comment: Option<&'a str>,
    pub status: ReviewStatus,
    pub held_rule: Option<&'a str>,
}

/// A new rating and comment, with the status the rules gave them.
pub fn update(
    conn: &Connection,
    keys: &Keyring,
    id: ReviewId,
    e: &Edited<'_>,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE reviews SET rating = ?2, comment_enc = ?3, status = ?4, held_rule = ?5, updated_at = ?6
          WHERE id = ?1",
    )?
    .execute(params![
        id,
        e.rating,
        e.comment.map(|c| keys.encrypt(COMMENT_AAD, c)),
        e.status,
        e.held_rule,
        ts(now)
    ])?;
    Ok(())
}

/// Moves a review to `status` (and records why, when a moderator did).
pub fn set_status(
    conn: &Connection,
    keys: &Keyring,
    id: ReviewId,
    status: ReviewStatus,
    held_rule: Option<&str>,
    moderation: Option<(UserId, &str)>,
    now: Time,
) -> AppResult<()> {
    let (by, note) = match moderation {
        Some((by, note)) => (Some(by), Some(keys.encrypt(NOTE_AAD, note))),
        None => (None, None),
    };
    conn.prepare_cached(
        "UPDATE reviews SET status = ?2, held_rule = coalesce(?3, held_rule), updated_at = ?4,
                moderated_by = coalesce(?5, moderated_by),
                moderation_note_enc = coalesce(?6, moderation_note_enc),
                moderated_at = CASE WHEN ?5 IS NULL THEN moderated_at ELSE ?4 END
          WHERE id = ?1",
    )?
    .execute(params![id, status, held_rule, ts(now), by, note])?;
    Ok(())
}

/// Stores the researcher's answer; false when there is one already.
pub fn set_reply(
    conn: &Connection,
    keys: &Keyring,
    id: ReviewId,
    text: &str,
    status: ReviewStatus,
    held_rule: Option<&str>,
    now: Time,
) -> AppResult<bool> {
    let researcher: ResearcherId = conn
        .prepare_cached("SELECT researcher_id FROM reviews WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    let n = conn
        .prepare_cached(
            "UPDATE reviews SET reply_enc = ?2, reply_status = ?3, reply_held_rule = ?4, replied_at = ?5,
                    updated_at = ?5
              WHERE id = ?1 AND reply_enc IS NULL",
        )?
        .execute(params![
            id,
            keys.encrypt_for(researcher, REPLY_AAD, text),
            status,
            held_rule,
            ts(now)
        ])?;
    Ok(n == 1)
}

/// Moves the answer to `status` (a moderator's decision).
pub fn set_reply_status(
    conn: &Connection,
    id: ReviewId,
    status: ReviewStatus,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached("UPDATE reviews SET reply_status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, status, ts(now)])?;
    Ok(())
}
