//! Researcher profiles, the provenance of each field, paper links and
//! merges. The e-mail is encrypted with a blind index for de-duplication.
//! A profile erased at its person's request (`erasure`) is a row without
//! personal fields that every look-up here treats as gone.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::Value;

use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::researcher::{Field, FieldValue, Provenance};
use crate::domain::{Email, PaperId, ResearcherId, UserId};
use crate::error::{AppError, AppResult};

mod claims;
pub mod erasure;
mod listing;
mod merge;

pub use claims::*;
pub use listing::{
    author_profiles, bookable_among, names, paper_has_bookable_author, papers_with_bookable_author,
    BOOKABLE,
};
pub use merge::{merge, resolve, MergeError};

pub const EMAIL_AAD: &str = "researchers.email";
pub const EMAIL_INDEX: &str = "email";

type Time = chrono::DateTime<chrono::Utc>;

#[derive(Debug, Clone)]
pub struct ResearcherRow {
    pub id: ResearcherId,
    pub name: String,
    pub affiliation: Option<String>,
    pub orcid: Option<String>,
    pub openalex_id: Option<String>,
    pub email: Option<String>,
    pub email_quality: Option<String>,
    pub bio: Option<String>,
    pub homepage: Option<String>,
    pub works_count: Option<i64>,
    pub cited_by_count: Option<i64>,
    pub h_index: Option<i64>,
    pub topics: Value,
    pub recent_works: Value,
    pub publications: Value,
    pub achievements: Value,
    pub edited_fields: Vec<String>,
    pub user_id: Option<UserId>,
    pub collected_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, name, affiliation, orcid, openalex_id, email_enc, email_quality, bio, homepage, works_count, \
                       cited_by_count, h_index, topics, recent_works, publications, achievements, edited_fields, user_id, \
                       collected_at, created_at, updated_at";

/// `COLUMNS` without the address: what anyone but an admin may see, so
/// their reads decrypt nothing.
const PUBLIC_COLUMNS: &str = "id, name, affiliation, orcid, openalex_id, NULL, email_quality, bio, homepage, works_count, \
                       cited_by_count, h_index, topics, recent_works, publications, achievements, edited_fields, user_id, \
                       collected_at, created_at, updated_at";

fn json_col(r: &Row<'_>, i: usize) -> rusqlite::Result<Value> {
    let s: String = r.get(i)?;
    Ok(serde_json::from_str(&s).unwrap_or(Value::Array(vec![])))
}

fn from_row(keys: &Keyring, r: &Row<'_>) -> AppResult<ResearcherRow> {
    from_row_at(keys, r, 0)
}

/// A row whose `COLUMNS` start at column `at`.
fn from_row_at(keys: &Keyring, r: &Row<'_>, at: usize) -> AppResult<ResearcherRow> {
    let email_enc: Option<String> = r.get(at + 5)?;
    let edited: Value = json_col(r, at + 16)?;
    Ok(ResearcherRow {
        id: r.get(at)?,
        name: r.get(at + 1)?,
        affiliation: r.get(at + 2)?,
        orcid: r.get(at + 3)?,
        openalex_id: r.get(at + 4)?,
        email: email_enc
            .map(|c| super::decrypt(keys, EMAIL_AAD, &c))
            .transpose()?,
        email_quality: r.get(at + 6)?,
        bio: r.get(at + 7)?,
        homepage: r.get(at + 8)?,
        works_count: r.get(at + 9)?,
        cited_by_count: r.get(at + 10)?,
        h_index: r.get(at + 11)?,
        topics: json_col(r, at + 12)?,
        recent_works: json_col(r, at + 13)?,
        publications: json_col(r, at + 14)?,
        achievements: json_col(r, at + 15)?,
        edited_fields: serde_json::from_value(edited).unwrap_or_default(),
        user_id: r.get(at + 17)?,
        collected_at: r.get(at + 18)?,
        created_at: r.get(at + 19)?,
        updated_at: r.get(at + 20)?,
    })
}

fn collect(keys: &Keyring, mut rows: rusqlite::Rows<'_>) -> AppResult<Vec<ResearcherRow>> {
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(keys, r)?);
    }
    Ok(out)
}

pub fn email_index(keys: &Keyring, email: &Email) -> String {
    keys.blind_index(EMAIL_INDEX, email.as_str())
}

pub fn insert(
    conn: &Connection,
    name: &str,
    affiliation: Option<&str>,
    orcid: Option<&str>,
    now: Time,
) -> AppResult<ResearcherId> {
    let now = ts(now);
    conn.execute(
        "INSERT INTO researchers (name, affiliation, orcid, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![name, affiliation, orcid, now],
    )?;
    let id = ResearcherId(conn.last_insert_rowid());
    let p = Provenance {
        provider: "paper".into(),
        source_url: None,
    };
    record_source(conn, id, Field::Name, &p, &now)?;
    if affiliation.is_some() {
        record_source(conn, id, Field::Affiliation, &p, &now)?;
    }
    if orcid.is_some() {
        record_source(conn, id, Field::Orcid, &p, &now)?;
    }
    Ok(id)
}

pub fn find(
    conn: &Connection,
    keys: &Keyring,
    id: ResearcherId,
) -> AppResult<Option<ResearcherRow>> {
    find_with(conn, keys, id, true)
}

/// `find`, with the address (decrypted) only when `with_email`.
pub fn find_with(
    conn: &Connection,
    keys: &Keyring,
    id: ResearcherId,
    with_email: bool,
) -> AppResult<Option<ResearcherRow>> {
    let columns = if with_email { COLUMNS } else { PUBLIC_COLUMNS };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {columns} FROM researchers WHERE id = ?1 AND erased_at IS NULL"
    ))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(|r| from_row(keys, r)).transpose()
}

/// The researcher with this ORCID, OpenAlex id or e-mail blind index.
pub fn find_by_identity(
    conn: &Connection,
    field: Field,
    value: &str,
) -> AppResult<Option<ResearcherId>> {
    let column = match field {
        Field::Orcid => "orcid",
        Field::OpenalexId => "openalex_id",
        Field::Email => "email_bidx",
        _ => return Ok(None),
    };
    Ok(conn
        .query_row(
            &format!("SELECT id FROM researchers WHERE {column} = ?1"),
            [value],
            |r| r.get(0),
        )
        .optional()?)
}

/// A researcher with exactly this name and affiliation (case-insensitive),
/// never an erased one.
pub fn find_by_name(
    conn: &Connection,
    name: &str,
    affiliation: Option<&str>,
) -> AppResult<Option<ResearcherId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM researchers WHERE name = ?1 COLLATE NOCASE AND IFNULL(affiliation, '') = IFNULL(?2, '') COLLATE NOCASE
               AND erased_at IS NULL
             ORDER BY id LIMIT 1",
            params![name, affiliation],
            |r| r.get(0),
        )
        .optional()?)
}

/// Writes the non-empty values of an update, except fields the researcher
/// edited, and records their provenance; nothing on an erased profile.
/// Returns the fields written.
pub fn apply(
    conn: &Connection,
    keys: &Keyring,
    id: ResearcherId,
    values: &[(Field, FieldValue)],
    p: &Provenance,
    now: Time,
) -> AppResult<Vec<Field>> {
    let edited: Vec<String> = conn
        .query_row(
            "SELECT edited_fields FROM researchers WHERE id = ?1",
            [id],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let (opted_out, claimed, erased) = conn
        .query_row(
            "SELECT status = 'opted_out', user_id IS NOT NULL, erased_at IS NOT NULL FROM researchers WHERE id = ?1",
            [id],
            |r| Ok((r.get::<_, bool>(0)?, r.get::<_, bool>(1)?, r.get::<_, bool>(2)?)),
        )
        .optional()?
        .unwrap_or((false, false, false));
    if erased {
        return Ok(Vec::new());
    }
    let now_s = ts(now);
    let mut written = Vec::new();
    for (field, value) in values {
        if value.is_empty() || edited.iter().any(|e| e == field.as_str()) {
            continue;
        }
        // An opted-out researcher's address is never stored again, and a
        // claimed profile's address is its owner's business, not collection's.
        if (opted_out || claimed) && *field == Field::Email {
            continue;
        }
        match (field, value) {
            (Field::Email, FieldValue::Email { address, quality }) => {
                let email = Email::parse(address)
                    .map_err(|m| AppError::internal(format!("collected e-mail {m}")))?;
                conn.execute(
                    "UPDATE researchers SET email_enc = ?2, email_bidx = ?3, email_quality = ?4 WHERE id = ?1",
                    params![id, keys.encrypt_for(id, EMAIL_AAD, email.as_str()), email_index(keys, &email), quality],
                )?;
            }
            (f, FieldValue::Text(t)) => {
                conn.execute(
                    &format!("UPDATE researchers SET {} = ?2 WHERE id = ?1", f.column()),
                    params![id, t],
                )?;
            }
            (f, FieldValue::Int(n)) => {
                conn.execute(
                    &format!("UPDATE researchers SET {} = ?2 WHERE id = ?1", f.column()),
                    params![id, n],
                )?;
            }
            (f, FieldValue::Json(v)) => {
                conn.execute(
                    &format!("UPDATE researchers SET {} = ?2 WHERE id = ?1", f.column()),
                    params![id, v.to_string()],
                )?;
            }
            _ => continue,
        }
        record_source(conn, id, *field, p, &now_s)?;
        written.push(*field);
    }
    conn.execute(
        "UPDATE researchers SET updated_at = ?2 WHERE id = ?1",
        params![id, now_s],
    )?;
    Ok(written)
}

pub(super) fn record_source(
    conn: &Connection,
    id: ResearcherId,
    field: Field,
    p: &Provenance,
    now: &str,
) -> AppResult<()> {
    record_source_by(conn, id, field, p, now, None)
}

/// `record_source`, naming the account that set the value by hand.
pub(super) fn record_source_by(
    conn: &Connection,
    id: ResearcherId,
    field: Field,
    p: &Provenance,
    now: &str,
    set_by: Option<UserId>,
) -> AppResult<()> {
    conn.execute(
        "INSERT INTO researcher_field_sources (researcher_id, field, provider, source_url, recorded_at, set_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (researcher_id, field) DO UPDATE SET provider = excluded.provider, source_url = excluded.source_url,
             recorded_at = excluded.recorded_at, set_by = excluded.set_by",
        params![id, field.as_str(), p.provider, p.source_url, now, set_by],
    )?;
    Ok(())
}

/// Where one field's current value came from.
#[derive(Debug, Clone)]
pub struct FieldSource {
    pub field: String,
    pub provider: String,
    pub source_url: Option<String>,
    pub recorded_at: String,
    /// The admin who set it by hand (provider `admin`).
    pub set_by: Option<UserId>,
}

pub fn sources(conn: &Connection, id: ResearcherId) -> AppResult<Vec<FieldSource>> {
    let mut stmt = conn.prepare_cached(
        "SELECT field, provider, source_url, recorded_at, set_by FROM researcher_field_sources WHERE researcher_id = ?1 ORDER BY field",
    )?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(FieldSource {
                field: r.get(0)?,
                provider: r.get(1)?,
                source_url: r.get(2)?,
                recorded_at: r.get(3)?,
                set_by: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Whether the profile exists (an erased one does not).
pub fn exists(conn: &Connection, id: ResearcherId) -> AppResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM researchers WHERE id = ?1 AND erased_at IS NULL)",
        [id],
        |r| r.get(0),
    )?)
}

pub fn mark_collected(conn: &Connection, id: ResearcherId, now: Time) -> AppResult<()> {
    conn.execute(
        "UPDATE researchers SET collected_at = ?2 WHERE id = ?1 AND erased_at IS NULL",
        params![id, ts(now)],
    )?;
    Ok(())
}

pub fn link_paper(
    conn: &Connection,
    paper: PaperId,
    position: i64,
    id: ResearcherId,
) -> AppResult<()> {
    conn.execute(
        "INSERT INTO paper_researchers (paper_id, position, researcher_id) VALUES (?1, ?2, ?3)
         ON CONFLICT (paper_id, position) DO UPDATE SET researcher_id = excluded.researcher_id",
        params![paper, position, id],
    )?;
    Ok(())
}

pub fn paper_link(
    conn: &Connection,
    paper: PaperId,
    position: i64,
) -> AppResult<Option<ResearcherId>> {
    Ok(conn
        .query_row(
            "SELECT researcher_id FROM paper_researchers WHERE paper_id = ?1 AND position = ?2",
            params![paper, position],
            |r| r.get(0),
        )
        .optional()?)
}

/// A paper's researchers in author order (distinct), after `after` position.
pub fn for_paper(
    conn: &Connection,
    keys: &Keyring,
    paper: PaperId,
    after: Option<i64>,
    limit: usize,
    with_email: bool,
) -> AppResult<Vec<(i64, ResearcherRow)>> {
    let columns = if with_email { COLUMNS } else { PUBLIC_COLUMNS };
    // One statement for the page (the researchers' columns need no table
    // name: `paper_researchers` has none of theirs).
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT pr.position, {columns} FROM paper_researchers pr
           CROSS JOIN researchers r ON r.id = pr.researcher_id
          WHERE pr.paper_id = ?1 AND pr.position > ?2 AND r.erased_at IS NULL
          ORDER BY pr.position LIMIT ?3"
    ))?;
    let mut rows = stmt.query(params![paper, after.unwrap_or(-1), limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push((r.get(0)?, from_row_at(keys, r, 1)?));
    }
    Ok(out)
}

/// Researchers whose name matches, newest first (admin search).
pub fn search(
    conn: &Connection,
    keys: &Keyring,
    name: Option<&str>,
    before: Option<ResearcherId>,
    limit: usize,
) -> AppResult<Vec<ResearcherRow>> {
    let pattern = name.map(|n| format!("%{}%", n.replace(['%', '_'], "")));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM researchers WHERE (?1 IS NULL OR name LIKE ?1) AND id < ?2 AND erased_at IS NULL
          ORDER BY id DESC LIMIT ?3"
    ))?;
    let rows = stmt.query(params![
        pattern,
        before.map_or(i64::MAX, |b| b.0),
        limit as i64
    ])?;
    collect(keys, rows)
}

/// Researchers last collected before `cutoff` (or never), oldest first.
pub fn stale(
    conn: &Connection,
    cutoff: Time,
    limit: usize,
) -> AppResult<Vec<(ResearcherId, String, Option<String>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, affiliation FROM researchers WHERE collected_at IS NOT NULL AND collected_at < ?1
         ORDER BY collected_at LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![ts(cutoff), limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
