//! Merging duplicate researchers (same ORCID, OpenAlex id or e-mail), and
//! resolving a merged id to the researcher it became.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::mark_edited;
use crate::db::ts;
use crate::domain::researcher::Field;
use crate::domain::{ResearcherId, UserId};
use crate::error::{AppError, AppResult};

type Time = chrono::DateTime<chrono::Utc>;

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

/// A merge that did not happen, or why: refused as things are (409
/// `merge_conflict` where it reaches a caller), or a storage error.
#[derive(Debug)]
pub enum MergeError {
    /// Why `drop` cannot be merged into `keep`; nothing was written.
    Blocked(&'static str),
    Failed(AppError),
}

impl From<AppError> for MergeError {
    fn from(e: AppError) -> Self {
        Self::Failed(e)
    }
}

impl From<rusqlite::Error> for MergeError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Failed(e.into())
    }
}

impl From<MergeError> for AppError {
    fn from(e: MergeError) -> Self {
        match e {
            MergeError::Blocked(why) => AppError::conflict(
                "merge_conflict",
                format!("These profiles cannot be merged: {why}."),
            ),
            MergeError::Failed(e) => e,
        }
    }
}

/// Why `drop` cannot be merged into `keep` as things are, if it cannot:
/// both have owners (an admin decides, and unlinks one first), `drop` has
/// the owner (the claimed profile is always the one kept), or both have a
/// live session starting at the same time.
fn blocker(
    conn: &Connection,
    keep: ResearcherId,
    drop: ResearcherId,
) -> AppResult<Option<&'static str>> {
    let owner = |id| -> AppResult<Option<UserId>> { Ok(super::owner(conn, id)?.flatten()) };
    match (owner(keep)?, owner(drop)?) {
        (Some(_), Some(_)) => return Ok(Some("both profiles have an owner")),
        (None, Some(_)) => {
            return Ok(Some(
                "the profile with an owner must be the one kept (merge the other way round)",
            ))
        }
        _ => {}
    }
    let clash: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM consulting_sessions a JOIN consulting_sessions b ON a.start_at = b.start_at
           WHERE a.researcher_id = ?1 AND b.researcher_id = ?2
             AND a.status IN ('requested', 'accepted') AND b.status IN ('requested', 'accepted'))",
        params![keep, drop],
        |r| r.get(0),
    )?;
    Ok(clash.then_some("both profiles have a live session at the same time"))
}

/// Merges `drop` into `keep`, losing nothing: paper links, collection
/// steps, sessions (with their payments), booking settings and
/// availability (when `keep` has none), outreach, readers' interest and
/// claim requests move over; `keep`'s empty fields are filled from `drop`
/// (with their provenance); the merge and `drop`'s provenance are recorded,
/// and `drop` is deleted. `MergeError::Blocked`, before anything is
/// written, when the two cannot be merged as things are.
pub fn merge(
    conn: &Connection,
    keep: ResearcherId,
    drop: ResearcherId,
    reason: &str,
    now: Time,
) -> Result<(), MergeError> {
    if keep == drop {
        return Ok(());
    }
    if let Some(why) = blocker(conn, keep, drop)? {
        return Err(MergeError::Blocked(why));
    }
    let now_s = ts(now);
    let dropped_sources: Vec<Value> = conn
        .prepare("SELECT field, provider, source_url, recorded_at, set_by FROM researcher_field_sources WHERE researcher_id = ?1")?
        .query_map([drop], |r| {
            Ok(serde_json::json!({"field": r.get::<_, String>(0)?, "provider": r.get::<_, String>(1)?,
                "source_url": r.get::<_, Option<String>>(2)?, "recorded_at": r.get::<_, String>(3)?,
                "set_by": r.get::<_, Option<i64>>(4)?}))
        })?
        .collect::<Result<_, _>>()?;
    conn.execute(
        "INSERT INTO researcher_merges (kept_id, merged_id, reason, merged_sources, merged_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![keep, drop, reason, Value::Array(dropped_sources.clone()).to_string(), now_s],
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
    // Values someone set by hand on `drop` (the researcher, or an admin)
    // beat collected ones on `keep`; `keep`'s own edits stay.
    let edited_of = |id: ResearcherId| -> AppResult<Vec<Field>> {
        let raw: String = conn.query_row(
            "SELECT edited_fields FROM researchers WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        Ok(serde_json::from_str::<Vec<String>>(&raw)
            .unwrap_or_default()
            .iter()
            .filter_map(|f| Field::parse(f))
            .collect())
    };
    let keep_edited = edited_of(keep)?;
    let drop_edited = edited_of(drop)?;
    let overriding = drop_edited
        .iter()
        .filter(|f| **f != Field::Name && !keep_edited.contains(f))
        .map(|f| f.as_str().to_string());
    let mut filled: Vec<String> = Field::ALL
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
    for f in overriding {
        if !filled.contains(&f) {
            filled.push(f);
        }
    }
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
        "UPDATE OR IGNORE claim_requests SET researcher_id = ?1 WHERE researcher_id = ?2",
        params![keep, drop],
    )?;
    // Open merge reviews about `drop` are settled by this merge (an admin's
    // own decision was recorded by the caller first).
    conn.execute(
        "UPDATE merge_reviews SET status = 'merged', decided_at = ?2
          WHERE status = 'open' AND (first_id = ?1 OR second_id = ?1)",
        params![drop, now_s],
    )?;
    // Sessions keep their payments, history and reminders (keyed by the
    // session); settings and availability move when the keeper has none.
    conn.execute(
        "UPDATE consulting_sessions SET researcher_id = ?1 WHERE researcher_id = ?2",
        params![keep, drop],
    )?;
    conn.execute(
        "UPDATE OR IGNORE researcher_settings SET researcher_id = ?1 WHERE researcher_id = ?2",
        params![keep, drop],
    )?;
    conn.execute(
        "UPDATE OR IGNORE availability SET researcher_id = ?1 WHERE researcher_id = ?2",
        params![keep, drop],
    )?;
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
    mark_edited(conn, keep, &drop_edited)?;
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
    // Provenance of the filled fields comes over with them (who set a
    // value by hand included).
    for s in &dropped_sources {
        let field = s["field"].as_str().unwrap_or_default();
        if filled.iter().any(|f| f == field) {
            conn.execute(
                "INSERT OR REPLACE INTO researcher_field_sources (researcher_id, field, provider, source_url, recorded_at, set_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![keep, field, s["provider"].as_str(), s["source_url"].as_str(), s["recorded_at"].as_str(), s["set_by"].as_i64()],
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
