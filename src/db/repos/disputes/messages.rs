//! A dispute's messages, encrypted (`MESSAGE_AAD`), oldest first.

use rusqlite::{params, Connection};

use super::{Time, MESSAGE_AAD};
use crate::crypto::Keyring;
use crate::db::{parse_ts, ts};
use crate::domain::dispute::MessageAuthor;
use crate::domain::{DisputeId, DisputeMessageId, UserId};
use crate::error::AppResult;

/// A message with its author's name.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: DisputeMessageId,
    pub author_id: Option<UserId>,
    pub author_role: MessageAuthor,
    pub author_name: Option<String>,
    pub text: String,
    pub created_at: Time,
}

pub fn insert_message(
    conn: &Connection,
    keys: &Keyring,
    dispute: DisputeId,
    author: Option<UserId>,
    role: MessageAuthor,
    text: &str,
    now: Time,
) -> AppResult<DisputeMessageId> {
    conn.prepare_cached(
        "INSERT INTO dispute_messages (dispute_id, author_id, author_role, text_enc, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        dispute,
        author,
        role,
        super::super::seal(keys, author.map(Into::into), MESSAGE_AAD, text),
        ts(now)
    ])?;
    Ok(DisputeMessageId(conn.last_insert_rowid()))
}

/// A dispute's messages, oldest first.
pub fn messages(conn: &Connection, keys: &Keyring, id: DisputeId) -> AppResult<Vec<MessageRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.author_id, m.author_role, u.name, m.text_enc, m.created_at
           FROM dispute_messages m LEFT JOIN users u ON u.id = m.author_id
          WHERE m.dispute_id = ?1 ORDER BY m.id",
    )?;
    let mut rows = stmt.query([id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(MessageRow {
            id: r.get(0)?,
            author_id: r.get(1)?,
            author_role: r.get(2)?,
            author_name: r.get(3)?,
            text: crate::db::repos::decrypt(keys, MESSAGE_AAD, &r.get::<_, String>(4)?)?,
            created_at: parse_ts(&r.get::<_, String>(5)?)?,
        });
    }
    Ok(out)
}
