//! The append-only consent ledger (`consents`, V16) and the published
//! legal texts (`legal_texts`). Triggers refuse every UPDATE and DELETE.

use rusqlite::{params, Connection, OptionalExtension};

use crate::db::{parse_ts, ts};
use crate::domain::{ConsentAction, ConsentKind, ConsentSource, LegalDocument, UserId};
use crate::error::{AppError, AppResult};

type Time = chrono::DateTime<chrono::Utc>;

/// One ledger row.
#[derive(Debug, Clone)]
pub struct ConsentRow {
    pub kind: ConsentKind,
    pub action: ConsentAction,
    pub version: Option<String>,
    pub at: Time,
    pub source: ConsentSource,
}

pub fn append(
    conn: &Connection,
    user: UserId,
    kind: ConsentKind,
    action: ConsentAction,
    version: Option<&str>,
    source: ConsentSource,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO consents (user_id, kind, action, version, at, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![user, kind, action, version, ts(now), source])?;
    Ok(())
}

fn row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(
    ConsentKind,
    ConsentAction,
    Option<String>,
    String,
    ConsentSource,
)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_row(
    (kind, action, version, at, source): (
        ConsentKind,
        ConsentAction,
        Option<String>,
        String,
        ConsentSource,
    ),
) -> AppResult<ConsentRow> {
    Ok(ConsentRow {
        kind,
        action,
        version,
        at: parse_ts(&at)?,
        source,
    })
}

/// Every row of an account, oldest first.
pub fn list(conn: &Connection, user: UserId) -> AppResult<Vec<ConsentRow>> {
    let rows = conn
        .prepare_cached(
            "SELECT kind, action, version, at, source FROM consents WHERE user_id = ?1 ORDER BY id",
        )?
        .query_map([user], row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(to_row).collect()
}

/// The latest row of one kind, if any.
pub fn latest(conn: &Connection, user: UserId, kind: ConsentKind) -> AppResult<Option<ConsentRow>> {
    conn.prepare_cached(
        "SELECT kind, action, version, at, source FROM consents
          WHERE user_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1",
    )?
    .query_row(params![user, kind], row)
    .optional()?
    .map(to_row)
    .transpose()
}

/// A listing given by `user` under a terms version (registration through
/// an invitation, a claim, demo data).
pub fn grant_listing(
    conn: &Connection,
    user: UserId,
    terms_version: &str,
    source: ConsentSource,
    now: Time,
) -> AppResult<()> {
    append(
        conn,
        user,
        ConsentKind::ResearcherListing,
        ConsentAction::Grant,
        Some(terms_version),
        source,
        now,
    )
}

/// The versions of the terms and the privacy notice someone accepted, and
/// where.
#[derive(Debug, Clone, Copy)]
pub struct Accepted<'a> {
    pub terms: &'a str,
    pub privacy: &'a str,
    pub source: ConsentSource,
}

/// Records that an account accepted both documents: the columns the
/// terms check reads and the two ledger rows.
pub fn record_acceptance(
    conn: &Connection,
    id: UserId,
    a: &Accepted<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    set_document(conn, id, LegalDocument::Terms, Some(a.terms), now)?;
    set_document(conn, id, LegalDocument::PrivacyNotice, Some(a.privacy), now)?;
    for (kind, version) in [
        (ConsentKind::Terms, a.terms),
        (ConsentKind::PrivacyNotice, a.privacy),
    ] {
        super::consents::append(
            conn,
            id,
            kind,
            ConsentAction::Grant,
            Some(version),
            a.source,
            now,
        )?;
    }
    Ok(())
}

/// Sets the version of a document the account accepted (`None`: the
/// acceptance was withdrawn). Only the columns; the caller writes the
/// ledger row.
pub fn set_document(
    conn: &Connection,
    id: UserId,
    document: LegalDocument,
    version: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let sql = match document {
        LegalDocument::Terms => {
            "UPDATE users SET terms_version = ?2, terms_accepted_at = ?3 WHERE id = ?1"
        }
        LegalDocument::PrivacyNotice => {
            "UPDATE users SET privacy_version = ?2, privacy_accepted_at = ?3 WHERE id = ?1"
        }
    };
    let at = version.map(|_| ts(now));
    conn.prepare_cached(sql)?
        .execute(params![id, version, at])?;
    Ok(())
}

/// Whether a kind is given now: its latest row, else its default.
pub fn is_granted(conn: &Connection, user: UserId, kind: ConsentKind) -> AppResult<bool> {
    Ok(match latest(conn, user, kind)? {
        Some(r) => r.action == ConsentAction::Grant,
        None => kind.granted_by_default(),
    })
}

/// Stores a document's text under its version unless that version is
/// stored already (the first text published under a version stays).
/// True when it was stored now.
pub fn publish_text(
    conn: &Connection,
    document: LegalDocument,
    version: &str,
    paragraphs: &[String],
    now: Time,
) -> AppResult<bool> {
    let json = serde_json::to_string(paragraphs).map_err(AppError::internal)?;
    let n = conn
        .prepare_cached(
            "INSERT INTO legal_texts (document, version, paragraphs, first_current_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (document, version) DO NOTHING",
        )?
        .execute(params![document, version, json, ts(now)])?;
    Ok(n == 1)
}

/// A published version's paragraphs and when it first became current.
pub fn find_text(
    conn: &Connection,
    document: LegalDocument,
    version: &str,
) -> AppResult<Option<(Vec<String>, Time)>> {
    let found: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT paragraphs, first_current_at FROM legal_texts WHERE document = ?1 AND version = ?2",
        )?
        .query_row(params![document, version], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    found
        .map(|(p, at)| {
            let paragraphs = serde_json::from_str(&p).map_err(AppError::internal)?;
            Ok((paragraphs, parse_ts(&at)?))
        })
        .transpose()
}

/// Every published version of a document, newest first.
pub fn versions(conn: &Connection, document: LegalDocument) -> AppResult<Vec<(String, Time)>> {
    let rows: Vec<(String, String)> = conn
        .prepare_cached(
            "SELECT version, first_current_at FROM legal_texts WHERE document = ?1
              ORDER BY first_current_at DESC, version DESC",
        )?
        .query_map([document], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(v, at)| Ok((v, parse_ts(&at)?)))
        .collect()
}
