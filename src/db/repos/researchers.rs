//! Researcher profiles, the provenance of each field, paper links and
//! merges. The e-mail is encrypted with a blind index for de-duplication.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::Value;

use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::researcher::{Field, FieldValue, Provenance};
use crate::domain::{Email, PaperId, ResearcherId};
use crate::error::{AppError, AppResult};

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
    pub user_id: Option<i64>,
    pub collected_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, name, affiliation, orcid, openalex_id, email_enc, email_quality, bio, homepage, works_count, \
                       cited_by_count, h_index, topics, recent_works, publications, achievements, edited_fields, user_id, \
                       collected_at, created_at, updated_at";

fn json_col(r: &Row<'_>, i: usize) -> rusqlite::Result<Value> {
    let s: String = r.get(i)?;
    Ok(serde_json::from_str(&s).unwrap_or(Value::Array(vec![])))
}

fn from_row(keys: &Keyring, r: &Row<'_>) -> AppResult<ResearcherRow> {
    let email_enc: Option<String> = r.get(5)?;
    let edited: Value = json_col(r, 16)?;
    Ok(ResearcherRow {
        id: r.get(0)?,
        name: r.get(1)?,
        affiliation: r.get(2)?,
        orcid: r.get(3)?,
        openalex_id: r.get(4)?,
        email: email_enc
            .map(|c| super::decrypt(keys, EMAIL_AAD, &c))
            .transpose()?,
        email_quality: r.get(6)?,
        bio: r.get(7)?,
        homepage: r.get(8)?,
        works_count: r.get(9)?,
        cited_by_count: r.get(10)?,
        h_index: r.get(11)?,
        topics: json_col(r, 12)?,
        recent_works: json_col(r, 13)?,
        publications: json_col(r, 14)?,
        achievements: json_col(r, 15)?,
        edited_fields: serde_json::from_value(edited).unwrap_or_default(),
        user_id: r.get(17)?,
        collected_at: r.get(18)?,
        created_at: r.get(19)?,
        updated_at: r.get(20)?,
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
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM researchers WHERE id = ?1"))?;
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

/// A researcher with exactly this name and affiliation (case-insensitive).
pub fn find_by_name(
    conn: &Connection,
    name: &str,
    affiliation: Option<&str>,
) -> AppResult<Option<ResearcherId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM researchers WHERE name = ?1 COLLATE NOCASE AND IFNULL(affiliation, '') = IFNULL(?2, '') COLLATE NOCASE
             ORDER BY id LIMIT 1",
            params![name, affiliation],
            |r| r.get(0),
        )
        .optional()?)
}

/// Writes the non-empty values of an update, except fields the researcher
/// edited, and records their provenance. Returns the fields written.
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
    let opted_out = conn
        .query_row(
            "SELECT status = 'opted_out' FROM researchers WHERE id = ?1",
            [id],
            |r| r.get::<_, bool>(0),
        )
        .optional()?
        .unwrap_or(false);
    let now_s = ts(now);
    let mut written = Vec::new();
    for (field, value) in values {
        if value.is_empty() || edited.iter().any(|e| e == field.as_str()) {
            continue;
        }
        // An opted-out researcher's address is never stored again.
        if opted_out && *field == Field::Email {
            continue;
        }
        match (field, value) {
            (Field::Email, FieldValue::Email { address, quality }) => {
                let email = Email::parse(address)
                    .map_err(|m| AppError::internal(format!("collected e-mail {m}")))?;
                conn.execute(
                    "UPDATE researchers SET email_enc = ?2, email_bidx = ?3, email_quality = ?4 WHERE id = ?1",
                    params![id, keys.encrypt(EMAIL_AAD, email.as_str()), email_index(keys, &email), quality],
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

fn record_source(
    conn: &Connection,
    id: ResearcherId,
    field: Field,
    p: &Provenance,
    now: &str,
) -> AppResult<()> {
    conn.execute(
        "INSERT INTO researcher_field_sources (researcher_id, field, provider, source_url, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (researcher_id, field) DO UPDATE SET provider = excluded.provider, source_url = excluded.source_url,
             recorded_at = excluded.recorded_at",
        params![id, field.as_str(), p.provider, p.source_url, now],
    )?;
    Ok(())
}

/// Each field's provenance: (field, provider, source URL, when).
/// Where one field's current value came from.
#[derive(Debug, Clone)]
pub struct FieldSource {
    pub field: String,
    pub provider: String,
    pub source_url: Option<String>,
    pub recorded_at: String,
}

pub fn sources(conn: &Connection, id: ResearcherId) -> AppResult<Vec<FieldSource>> {
    let mut stmt = conn.prepare_cached(
        "SELECT field, provider, source_url, recorded_at FROM researcher_field_sources WHERE researcher_id = ?1 ORDER BY field",
    )?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(FieldSource {
                field: r.get(0)?,
                provider: r.get(1)?,
                source_url: r.get(2)?,
                recorded_at: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn exists(conn: &Connection, id: ResearcherId) -> AppResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM researchers WHERE id = ?1)",
        [id],
        |r| r.get(0),
    )?)
}

/// The researcher `id` stands for now: itself while it exists, else the
/// one it was merged into (`None` when it is gone without a merge).
pub fn resolve(conn: &Connection, id: ResearcherId) -> AppResult<Option<ResearcherId>> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM researchers WHERE id = ?1)",
        [id],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(Some(id));
    }
    // `merge` re-points older merge records at the new keeper, so one hop
    // is enough.
    Ok(conn
        .query_row(
            "SELECT m.kept_id FROM researcher_merges m JOIN researchers r ON r.id = m.kept_id
             WHERE m.merged_id = ?1 ORDER BY m.id DESC LIMIT 1",
            [id],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn mark_collected(conn: &Connection, id: ResearcherId, now: Time) -> AppResult<()> {
    conn.execute(
        "UPDATE researchers SET collected_at = ?2 WHERE id = ?1",
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
) -> AppResult<Vec<(i64, ResearcherRow)>> {
    let links: Vec<(i64, ResearcherId)> = conn
        .prepare_cached(
            "SELECT position, researcher_id FROM paper_researchers WHERE paper_id = ?1 AND position > ?2
             ORDER BY position LIMIT ?3",
        )?
        .query_map(params![paper, after.unwrap_or(-1), limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(links.len());
    for (position, id) in links {
        if let Some(row) = find(conn, keys, id)? {
            out.push((position, row));
        }
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
        "SELECT {COLUMNS} FROM researchers WHERE (?1 IS NULL OR name LIKE ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3"
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

/// Merges `drop` into `keep`: links and steps move over, `keep`'s empty
/// fields are filled from `drop` (with their provenance), the merge and
/// `drop`'s provenance are recorded, and `drop` is deleted.
pub fn merge(
    conn: &Connection,
    keep: ResearcherId,
    drop: ResearcherId,
    reason: &str,
    now: Time,
) -> AppResult<()> {
    if keep == drop {
        return Ok(());
    }
    let now_s = ts(now);
    let dropped_sources: Vec<Value> = conn
        .prepare("SELECT field, provider, source_url, recorded_at FROM researcher_field_sources WHERE researcher_id = ?1")?
        .query_map([drop], |r| {
            Ok(serde_json::json!({"field": r.get::<_, String>(0)?, "provider": r.get::<_, String>(1)?,
                "source_url": r.get::<_, Option<String>>(2)?, "recorded_at": r.get::<_, String>(3)?}))
        })?
        .collect::<Result<_, _>>()?;
    conn.execute(
        "INSERT INTO researcher_merges (kept_id, merged_id, reason, merged_sources, merged_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![keep, drop, reason, Value::Array(dropped_sources).to_string(), now_s],
    )?;
    conn.execute(
        "UPDATE OR IGNORE paper_researchers SET researcher_id = ?1 WHERE researcher_id = ?2",
        params![keep, drop],
    )?;
    conn.execute(
        "UPDATE collection_steps SET researcher_id = ?1 WHERE researcher_id = ?2",
        params![keep, drop],
    )?;
    // Earlier merges into `drop` now belong to `keep` (deleting `drop`
    // would otherwise cascade their records away).
    conn.execute(
        "UPDATE researcher_merges SET kept_id = ?1 WHERE kept_id = ?2",
        params![keep, drop],
    )?;
    // Copy what `keep` lacks; unique columns are taken off `drop` first.
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS merge_src AS SELECT * FROM researchers WHERE 0",
        [],
    )?;
    conn.execute("DELETE FROM temp.merge_src", [])?;
    conn.execute(
        "INSERT INTO temp.merge_src SELECT * FROM researchers WHERE id = ?1",
        [drop],
    )?;
    let filled: Vec<String> = Field::ALL
        .iter()
        .filter(|f| !matches!(f, Field::Name))
        .filter_map(|f| {
            let col = f.column();
            let empty = if f.is_list() { format!("{col} = '[]'") } else { format!("{col} IS NULL") };
            conn.query_row(
                &format!(
                    "SELECT (SELECT {empty} FROM researchers WHERE id = ?1) AND (SELECT NOT ({empty}) FROM temp.merge_src)"
                ),
                [keep],
                |r| r.get::<_, Option<bool>>(0),
            )
            .ok()
            .flatten()
            .filter(|b| *b)
            .map(|_| f.as_str().to_string())
        })
        .collect();
    // Outreach state moves too: invitations with their history, readers'
    // interest and pending claims (rows the keeper already has stay its own).
    conn.execute(
        "UPDATE outreach SET researcher_id = ?1 WHERE researcher_id = ?2",
        params![keep, drop],
    )?;
    conn.execute(
        "UPDATE OR IGNORE reader_interest SET researcher_id = ?1 WHERE researcher_id = ?2",
        params![keep, drop],
    )?;
    conn.execute(
        "UPDATE OR IGNORE pending_claims SET researcher_id = ?1 WHERE researcher_id = ?2",
        params![keep, drop],
    )?;
    let edited_drop: String =
        conn.query_row("SELECT edited_fields FROM temp.merge_src", [], |r| r.get(0))?;
    conn.execute("DELETE FROM researchers WHERE id = ?1", [drop])?;
    // The account link, consent and time zone carry over when the keeper
    // has none; the status keeps the strongest (an opt-out always wins).
    conn.execute(
        "UPDATE researchers SET
             user_id = COALESCE(user_id, (SELECT user_id FROM temp.merge_src)),
             claimed_at = COALESCE(claimed_at, (SELECT claimed_at FROM temp.merge_src)),
             timezone = COALESCE(timezone, (SELECT timezone FROM temp.merge_src)),
             listing_consent_at = COALESCE(listing_consent_at, (SELECT listing_consent_at FROM temp.merge_src)),
             listing_terms_version = COALESCE(listing_terms_version, (SELECT listing_terms_version FROM temp.merge_src)),
             status = CASE
                 WHEN 'opted_out' IN (status, (SELECT status FROM temp.merge_src)) THEN 'opted_out'
                 WHEN 'registered' IN (status, (SELECT status FROM temp.merge_src)) THEN 'registered'
                 WHEN 'invited' IN (status, (SELECT status FROM temp.merge_src)) THEN 'invited'
                 ELSE status END
         WHERE id = ?1",
        [keep],
    )?;
    let edited: Vec<Field> = serde_json::from_str::<Vec<String>>(&edited_drop)
        .unwrap_or_default()
        .iter()
        .filter_map(|f| Field::parse(f))
        .collect();
    mark_edited(conn, keep, &edited)?;
    for field in &filled {
        let Some(f) = Field::parse(field) else {
            continue;
        };
        let cols: Vec<&str> = match f {
            Field::Email => vec!["email_enc", "email_bidx", "email_quality"],
            other => vec![other.column()],
        };
        for col in cols {
            conn.execute(&format!("UPDATE researchers SET {col} = (SELECT {col} FROM temp.merge_src) WHERE id = ?1"), [keep])?;
        }
    }
    // Provenance of the filled fields comes over from the merge record.
    let record: String = conn.query_row(
        "SELECT merged_sources FROM researcher_merges WHERE kept_id = ?1 AND merged_id = ?2 ORDER BY id DESC LIMIT 1",
        params![keep, drop],
        |r| r.get(0),
    )?;
    let sources: Vec<Value> = serde_json::from_str(&record).unwrap_or_default();
    for s in sources {
        let field = s["field"].as_str().unwrap_or_default();
        if filled.iter().any(|f| f == field) {
            conn.execute(
                "INSERT OR REPLACE INTO researcher_field_sources (researcher_id, field, provider, source_url, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![keep, field, s["provider"].as_str(), s["source_url"].as_str(), s["recorded_at"].as_str()],
            )?;
        }
    }
    conn.execute("DELETE FROM temp.merge_src", [])?;
    conn.execute(
        "UPDATE researchers SET updated_at = ?2 WHERE id = ?1",
        params![keep, now_s],
    )?;
    Ok(())
}

pub fn count(conn: &Connection) -> AppResult<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM researchers", [], |r| r.get(0))?)
}

/// The outreach state of a researcher: (`status`, linked user).
pub fn status_of(conn: &Connection, id: ResearcherId) -> AppResult<Option<(String, Option<i64>)>> {
    Ok(conn
        .query_row(
            "SELECT status, user_id FROM researchers WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// `collected`, `invited`, `registered` or `opted_out`.
pub fn set_status(conn: &Connection, id: ResearcherId, status: &str, now: Time) -> AppResult<()> {
    conn.execute(
        "UPDATE researchers SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, status, ts(now)],
    )?;
    Ok(())
}

/// The e-mail's blind index, if one is stored.
pub fn email_bidx(conn: &Connection, id: ResearcherId) -> AppResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT email_bidx FROM researchers WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// Erases the collected e-mail and its provenance (opt-out).
pub fn erase_email(conn: &Connection, id: ResearcherId, now: Time) -> AppResult<()> {
    conn.execute(
        "UPDATE researchers SET email_enc = NULL, email_bidx = NULL, email_quality = NULL, updated_at = ?2 WHERE id = ?1",
        params![id, ts(now)],
    )?;
    conn.execute(
        "DELETE FROM researcher_field_sources WHERE researcher_id = ?1 AND field = 'email'",
        [id],
    )?;
    Ok(())
}

/// Links the profile to its owner's account.
pub fn claim(conn: &Connection, id: ResearcherId, user: i64, now: Time) -> AppResult<()> {
    let now = ts(now);
    conn.execute(
        "UPDATE researchers SET user_id = ?2, claimed_at = COALESCE(claimed_at, ?3), status = 'registered', updated_at = ?3 WHERE id = ?1",
        params![id, user, now],
    )?;
    Ok(())
}

/// Records the consent to be listed as bookable, under a terms version.
pub fn set_listing_consent(
    conn: &Connection,
    id: ResearcherId,
    terms_version: &str,
    timezone: Option<&str>,
    now: Time,
) -> AppResult<()> {
    conn.execute(
        "UPDATE researchers SET listing_consent_at = ?2, listing_terms_version = ?3, timezone = COALESCE(?4, timezone) WHERE id = ?1",
        params![id, ts(now), terms_version, timezone],
    )?;
    Ok(())
}

/// Adds fields to `edited_fields`: collection will never write them again.
pub fn mark_edited(conn: &Connection, id: ResearcherId, fields: &[Field]) -> AppResult<()> {
    let current: String = conn.query_row(
        "SELECT edited_fields FROM researchers WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let mut edited: Vec<String> = serde_json::from_str(&current).unwrap_or_default();
    for f in fields {
        if !edited.iter().any(|e| e == f.as_str()) {
            edited.push(f.as_str().to_string());
        }
    }
    conn.execute(
        "UPDATE researchers SET edited_fields = ?2 WHERE id = ?1",
        params![id, serde_json::json!(edited).to_string()],
    )?;
    Ok(())
}

/// Clears a field the researcher removed (an empty value never comes from
/// collection, so `apply` cannot do this).
pub fn clear_field(conn: &Connection, id: ResearcherId, field: Field, now: Time) -> AppResult<()> {
    let value = if field.is_list() { "'[]'" } else { "NULL" };
    if matches!(field, Field::Name | Field::Email) {
        return Ok(());
    }
    conn.execute(
        &format!(
            "UPDATE researchers SET {} = {value}, updated_at = ?2 WHERE id = ?1",
            field.column()
        ),
        params![id, ts(now)],
    )?;
    record_source(
        conn,
        id,
        field,
        &Provenance {
            provider: "researcher".into(),
            source_url: None,
        },
        &ts(now),
    )?;
    Ok(())
}

/// The profile an account claimed, if any.
pub fn by_user(conn: &Connection, user: i64) -> AppResult<Option<ResearcherId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM researchers WHERE user_id = ?1",
            [user],
            |r| r.get(0),
        )
        .optional()?)
}

/// Whether the researcher is linked to the paper as one of its authors.
pub fn is_author_of(
    conn: &Connection,
    id: ResearcherId,
    paper: crate::domain::PaperId,
) -> AppResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM paper_researchers WHERE researcher_id = ?1 AND paper_id = ?2)",
        params![id, paper],
        |r| r.get(0),
    )?)
}
