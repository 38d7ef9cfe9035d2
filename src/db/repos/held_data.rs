//! What is held under an e-mail address, found through its blind index
//! only: the account with that address, the researcher profiles with it
//! (or owned by that account), whether it is on the suppression list, and
//! how many messages to it are kept. The answer to a person's "what do
//! you hold about me?" (`services::data_rights::requests`).

use rusqlite::{params, Connection, OptionalExtension};

use super::{outreach, papers};
use crate::domain::{ResearcherId, UserId};
use crate::error::AppResult;

/// At most this many papers are named per profile.
const PAPERS: usize = 20;

#[derive(Debug, Clone)]
pub struct HeldAccount {
    pub id: UserId,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct HeldProfile {
    pub id: ResearcherId,
    pub name: String,
    pub owner: Option<UserId>,
    /// (field, provider) of each field it holds, from its provenance.
    pub sources: Vec<(String, String)>,
    /// Titles of the papers it is an author of.
    pub papers: Vec<String>,
    pub invitations: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Held {
    pub account: Option<HeldAccount>,
    pub profiles: Vec<HeldProfile>,
    pub suppressed: bool,
    /// Messages to the address still in the outbox.
    pub mails: i64,
}

/// Everything held under the address with blind index `email_bidx`.
pub fn held_at(conn: &Connection, email_bidx: &str) -> AppResult<Held> {
    let account = conn
        .prepare_cached(
            "SELECT id, created_at FROM users WHERE email_bidx = ?1 AND deleted_at IS NULL",
        )?
        .query_row([email_bidx], |r| {
            Ok(HeldAccount {
                id: r.get(0)?,
                created_at: r.get(1)?,
            })
        })
        .optional()?;
    let owner = account.as_ref().map(|a| a.id);
    let found: Vec<(ResearcherId, String, Option<UserId>)> = conn
        .prepare_cached(
            "SELECT id, name, user_id FROM researchers
              WHERE erased_at IS NULL AND (email_bidx = ?1 OR (?2 IS NOT NULL AND user_id = ?2))
              ORDER BY id",
        )?
        .query_map(params![email_bidx, owner], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut profiles = Vec::with_capacity(found.len());
    for (id, name, owner) in found {
        let sources = conn
            .prepare_cached(
                "SELECT field, provider FROM researcher_field_sources WHERE researcher_id = ?1 ORDER BY field",
            )?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let papers = papers::for_researcher(conn, id, PAPERS)?
            .into_iter()
            .map(|(_, title, _)| title)
            .collect();
        let invitations = conn.query_row(
            "SELECT COUNT(*) FROM outreach WHERE researcher_id = ?1 AND kind = 'invitation'",
            [id],
            |r| r.get(0),
        )?;
        profiles.push(HeldProfile {
            id,
            name,
            owner,
            sources,
            papers,
            invitations,
        });
    }
    Ok(Held {
        account,
        profiles,
        suppressed: outreach::is_suppressed(conn, email_bidx)?,
        mails: conn.query_row(
            "SELECT COUNT(*) FROM mail_outbox WHERE recipient_bidx = ?1",
            [email_bidx],
            |r| r.get(0),
        )?,
    })
}
