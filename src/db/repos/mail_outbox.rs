//! The mail outbox. A message is a row first; the sender delivers due
//! rows. Recipient and content are encrypted.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::{Email, MailId, MailStatus};
use crate::error::{AppError, AppResult};

pub const RECIPIENT_AAD: &str = "mail_outbox.recipient";
pub const CONTENT_AAD: &str = "mail_outbox.content";

type Time = chrono::DateTime<chrono::Utc>;

/// What a message says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Extra headers, e.g. `List-Unsubscribe`.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Files sent with the message, e.g. a calendar invite.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    /// For example `text/calendar; method=REQUEST; charset=UTF-8`.
    pub content_type: String,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct MailRow {
    pub id: MailId,
    pub template: String,
    pub recipient: String,
    pub content: Content,
    pub status: MailStatus,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// When retention removed the content (it is then empty).
    pub content_removed_at: Option<String>,
}

const COLUMNS: &str = "id, template, recipient_enc, content_enc, status, attempts, next_attempt_at, last_error, created_at, sent_at, content_removed_at";

fn from_row(keys: &Keyring, r: &Row<'_>) -> AppResult<MailRow> {
    let recipient: String = r.get(2)?;
    let content: String = r.get(3)?;
    let content = super::decrypt(keys, CONTENT_AAD, &content)?;
    Ok(MailRow {
        id: r.get(0)?,
        template: r.get(1)?,
        recipient: super::decrypt(keys, RECIPIENT_AAD, &recipient)?,
        content: serde_json::from_str(&content)
            .map_err(|e| AppError::internal(format!("mail content: {e}")))?,
        status: r.get(4)?,
        attempts: r.get(5)?,
        next_attempt_at: r.get(6)?,
        last_error: r.get(7)?,
        created_at: r.get(8)?,
        sent_at: r.get(9)?,
        content_removed_at: r.get(10)?,
    })
}

/// Puts a message in the outbox (`queued`, or `held` without SMTP).
pub fn insert(
    conn: &Connection,
    keys: &Keyring,
    template: &str,
    to: &Email,
    content: &Content,
    status: MailStatus,
    now: Time,
) -> AppResult<MailId> {
    let json = serde_json::to_string(content).map_err(|e| AppError::internal(e.to_string()))?;
    let now = ts(now);
    conn.prepare_cached("INSERT INTO mail_outbox (template, recipient_enc, recipient_bidx, content_enc, status, next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6)")?.execute(
        params![
            template,
            keys.encrypt(RECIPIENT_AAD, to.as_str()),
            keys.blind_index("email", to.as_str()),
            keys.encrypt(CONTENT_AAD, &json),
            status,
            now
        ],
    )?;
    Ok(MailId(conn.last_insert_rowid()))
}

pub fn find(conn: &Connection, keys: &Keyring, id: MailId) -> AppResult<Option<MailRow>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM mail_outbox WHERE id = ?1"))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(|r| from_row(keys, r)).transpose()
}

/// Newest first, filtered by status and template.
pub fn list(
    conn: &Connection,
    keys: &Keyring,
    status: Option<MailStatus>,
    template: Option<&str>,
    before: Option<MailId>,
    limit: usize,
) -> AppResult<Vec<MailRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM mail_outbox WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR template = ?2) AND id < ?3
         ORDER BY id DESC LIMIT ?4"
    ))?;
    let mut rows = stmt.query(params![
        status,
        template,
        before.map_or(i64::MAX, |b| b.0),
        limit as i64
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(keys, r)?);
    }
    Ok(out)
}

/// Queued messages whose time has come, oldest first.
pub fn due(conn: &Connection, now: Time, limit: usize) -> AppResult<Vec<MailId>> {
    let ids = conn
        .prepare_cached("SELECT id FROM mail_outbox WHERE status = 'queued' AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2")?
        .query_map(params![ts(now), limit as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

pub fn mark_sent(conn: &Connection, id: MailId, now: Time) -> AppResult<()> {
    conn.execute(
        "UPDATE mail_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?2, last_error = NULL, updated_at = ?2 WHERE id = ?1",
        params![id, ts(now)],
    )?;
    Ok(())
}

/// Records a failed attempt: `retry_at` queues it again, `None` fails it.
pub fn mark_attempt_failed(
    conn: &Connection,
    id: MailId,
    error: &str,
    retry_at: Option<Time>,
    now: Time,
) -> AppResult<()> {
    let (status, next) = match retry_at {
        Some(t) => (MailStatus::Queued, ts(t)),
        None => (MailStatus::Failed, ts(now)),
    };
    conn.execute(
        "UPDATE mail_outbox SET status = ?2, attempts = attempts + 1, next_attempt_at = ?3, last_error = ?4, updated_at = ?5 WHERE id = ?1",
        params![id, status, next, error, ts(now)],
    )?;
    Ok(())
}

/// Queues a failed or held message again, with its attempts reset (not
/// one whose content retention removed).
pub fn requeue(conn: &Connection, id: MailId, now: Time) -> AppResult<bool> {
    let n = conn.execute(
        "UPDATE mail_outbox SET status = 'queued', attempts = 0, next_attempt_at = ?2, last_error = NULL, updated_at = ?2
         WHERE id = ?1 AND status IN ('failed', 'held') AND content_removed_at IS NULL",
        params![id, ts(now)],
    )?;
    Ok(n == 1)
}

/// Messages by status, for the mailbox summary.
pub fn counts(conn: &Connection) -> AppResult<Vec<(MailStatus, i64)>> {
    let rows = conn
        .prepare_cached("SELECT status, COUNT(*) FROM mail_outbox GROUP BY status ORDER BY status")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The distinct templates used so far (for the mailbox filter).
pub fn templates(conn: &Connection) -> AppResult<Vec<String>> {
    let rows = conn
        .prepare_cached("SELECT DISTINCT template FROM mail_outbox ORDER BY template")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn exists(conn: &Connection, id: MailId) -> AppResult<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM mail_outbox WHERE id = ?1", [id], |_| Ok(()))
        .optional()?
        .is_some())
}
