//! Outreach: invitations and interest notices with their history, readers'
//! interest, single-use link ids, the suppression list and pending claims.

use rusqlite::{params, Connection, OptionalExtension};

use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::{
    MailId, OutreachId, OutreachStatus, PaperId, ResearcherId, ResearcherStatus, UserId,
};
use crate::error::AppResult;

pub const MESSAGE_AAD: &str = "outreach.message";

type Time = chrono::DateTime<chrono::Utc>;

#[derive(Debug, Clone)]
pub struct OutreachRow {
    pub id: OutreachId,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub paper_id: Option<PaperId>,
    pub requested_by: Option<UserId>,
    pub kind: String,
    pub status: OutreachStatus,
    pub mail_id: Option<MailId>,
    pub created_at: String,
    /// (status reached, at), oldest first.
    pub events: Vec<(OutreachStatus, String)>,
}

pub struct NewOutreach<'a> {
    pub researcher: ResearcherId,
    pub paper: Option<PaperId>,
    pub requested_by: Option<UserId>,
    pub kind: &'a str,
    pub message: Option<&'a str>,
}

pub fn insert(
    conn: &Connection,
    keys: &Keyring,
    o: &NewOutreach<'_>,
    now: Time,
) -> AppResult<OutreachId> {
    let now_s = ts(now);
    conn.execute(
        "INSERT INTO outreach (researcher_id, paper_id, requested_by, kind, status, message_enc, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?6)",
        params![o.researcher, o.paper, o.requested_by, o.kind, o.message.map(|m| super::seal(keys, o.requested_by.map(Into::into), MESSAGE_AAD, m)), now_s],
    )?;
    let id = OutreachId(conn.last_insert_rowid());
    add_event(conn, id, OutreachStatus::Queued, now)?;
    Ok(id)
}

pub fn set_mail(conn: &Connection, id: OutreachId, mail: MailId) -> AppResult<()> {
    conn.execute(
        "UPDATE outreach SET mail_id = ?2 WHERE id = ?1",
        params![id, mail],
    )?;
    Ok(())
}

/// Records a status reached in the history; it also becomes the status,
/// except that an invitation never goes back (e.g. a late `sent` after
/// `opened`).
pub fn add_event(
    conn: &Connection,
    id: OutreachId,
    event: OutreachStatus,
    now: Time,
) -> AppResult<()> {
    let now = ts(now);
    conn.execute(
        // An outreach removed with its researcher has no history to add to.
        "INSERT INTO outreach_events (outreach_id, event, at)
         SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM outreach WHERE id = ?1)",
        params![id, event, now],
    )?;
    conn.execute(
        "UPDATE outreach SET status = ?2, updated_at = ?3 WHERE id = ?1 AND
           (CASE status WHEN 'queued' THEN 0 WHEN 'failed' THEN 0 WHEN 'sent' THEN 1 WHEN 'opened' THEN 2 ELSE 3 END) <
           (CASE ?2 WHEN 'queued' THEN 0 WHEN 'failed' THEN 1 WHEN 'sent' THEN 1 WHEN 'opened' THEN 2 ELSE 3 END)",
        params![id, event, now],
    )?;
    Ok(())
}

/// The outreach behind a mail, when its mail was sent or failed.
pub fn by_mail(conn: &Connection, mail: MailId) -> AppResult<Option<OutreachId>> {
    Ok(conn
        .query_row("SELECT id FROM outreach WHERE mail_id = ?1", [mail], |r| {
            r.get(0)
        })
        .optional()?)
}

/// When the researcher was last sent an invitation (not counting failures).
pub fn last_invitation(conn: &Connection, researcher: ResearcherId) -> AppResult<Option<String>> {
    last_of_kind(conn, researcher, "invitation")
}

/// When the researcher was last sent outreach of this kind (not counting failures).
pub fn last_of_kind(
    conn: &Connection,
    researcher: ResearcherId,
    kind: &str,
) -> AppResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT MAX(created_at) FROM outreach WHERE researcher_id = ?1 AND kind = ?2 AND status != 'failed'",
            params![researcher, kind],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

pub fn find(conn: &Connection, id: OutreachId) -> AppResult<Option<OutreachRow>> {
    Ok(list(conn, None, Some(id), None, 1)?.into_iter().next())
}

/// Newest first; one researcher's or all.
pub fn list(
    conn: &Connection,
    researcher: Option<ResearcherId>,
    id: Option<OutreachId>,
    before: Option<OutreachId>,
    limit: usize,
) -> AppResult<Vec<OutreachRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.researcher_id, r.name, o.paper_id, o.requested_by, o.kind, o.status, o.mail_id, o.created_at
         FROM outreach o JOIN researchers r ON r.id = o.researcher_id
         WHERE (?1 IS NULL OR o.researcher_id = ?1) AND (?2 IS NULL OR o.id = ?2) AND o.id < ?3
         ORDER BY o.id DESC LIMIT ?4",
    )?;
    let mut rows: Vec<OutreachRow> = stmt
        .query_map(
            params![
                researcher,
                id,
                before.map_or(i64::MAX, |b| b.0),
                limit as i64
            ],
            |r| {
                Ok(OutreachRow {
                    id: r.get(0)?,
                    researcher_id: r.get(1)?,
                    researcher_name: r.get(2)?,
                    paper_id: r.get(3)?,
                    requested_by: r.get(4)?,
                    kind: r.get(5)?,
                    status: r.get(6)?,
                    mail_id: r.get(7)?,
                    created_at: r.get(8)?,
                    events: Vec::new(),
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    let mut events = conn.prepare_cached(
        "SELECT event, at FROM outreach_events WHERE outreach_id = ?1 ORDER BY id",
    )?;
    for row in &mut rows {
        row.events = events
            .query_map([row.id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
    }
    Ok(rows)
}

/// Marks every invitation of a researcher as opted out.
pub fn opted_out(conn: &Connection, researcher: ResearcherId, now: Time) -> AppResult<()> {
    let ids: Vec<OutreachId> = conn
        .prepare("SELECT id FROM outreach WHERE researcher_id = ?1")?
        .query_map([researcher], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in ids {
        add_event(conn, id, OutreachStatus::OptedOut, now)?;
    }
    Ok(())
}

/// Records (once) that a reader wants to consult a researcher.
pub fn record_interest(
    conn: &Connection,
    researcher: ResearcherId,
    user: UserId,
    paper: Option<PaperId>,
    now: Time,
) -> AppResult<()> {
    conn.execute(
        "INSERT INTO reader_interest (researcher_id, user_id, paper_id, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (researcher_id, user_id) DO NOTHING",
        params![researcher, user, paper, ts(now)],
    )?;
    Ok(())
}

pub fn interest_count(conn: &Connection, researcher: ResearcherId) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM reader_interest WHERE researcher_id = ?1",
        [researcher],
        |r| r.get(0),
    )?)
}

/// One line of the demand view.
#[derive(Debug, Clone)]
pub struct Demand {
    pub researcher_id: ResearcherId,
    pub name: String,
    pub affiliation: Option<String>,
    pub status: ResearcherStatus,
    pub has_email: bool,
    pub waiting: i64,
    pub last_invited: Option<String>,
}

/// Researchers by the number of readers waiting, most first.
pub fn demand(conn: &Connection, limit: usize) -> AppResult<Vec<Demand>> {
    let rows = conn
        .prepare_cached(
            "SELECT r.id, r.name, r.affiliation, r.status, r.email_bidx IS NOT NULL, COUNT(i.user_id) AS waiting,
                    (SELECT MAX(created_at) FROM outreach o WHERE o.researcher_id = r.id AND o.kind = 'invitation')
             FROM reader_interest i JOIN researchers r ON r.id = i.researcher_id
             GROUP BY r.id ORDER BY waiting DESC, r.id LIMIT ?1",
        )?
        .query_map([limit as i64], |r| {
            Ok(Demand {
                researcher_id: r.get(0)?,
                name: r.get(1)?,
                affiliation: r.get(2)?,
                status: r.get(3)?,
                has_email: r.get(4)?,
                waiting: r.get(5)?,
                last_invited: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Records a link id as used; false if it was used before.
pub fn use_token(conn: &Connection, jti: &str, purpose: &str, now: Time) -> AppResult<bool> {
    let n = conn.execute(
        "INSERT INTO used_tokens (jti, purpose, used_at) VALUES (?1, ?2, ?3) ON CONFLICT (jti) DO NOTHING",
        params![jti, purpose, ts(now)],
    )?;
    Ok(n == 1)
}

pub fn token_used(conn: &Connection, jti: &str) -> AppResult<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM used_tokens WHERE jti = ?1",
            [jti],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

pub fn suppress(conn: &Connection, email_bidx: &str, reason: &str, now: Time) -> AppResult<()> {
    conn.execute(
        "INSERT INTO suppressions (email_bidx, reason, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (email_bidx) DO NOTHING",
        params![email_bidx, reason, ts(now)],
    )?;
    Ok(())
}

pub fn is_suppressed(conn: &Connection, email_bidx: &str) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM suppressions WHERE email_bidx = ?1")?
        .query_row([email_bidx], |_| Ok(()))
        .optional()?
        .is_some())
}

pub fn suppression_count(conn: &Connection) -> AppResult<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM suppressions", [], |r| r.get(0))?)
}
