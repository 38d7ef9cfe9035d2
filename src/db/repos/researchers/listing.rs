//! What readers see of profiles: which author of a paper each profile is,
//! and which profiles they can book (owned by an account that is not
//! disabled, listed (its owner has not withdrawn `researcher_listing`),
//! with published availability; the booking checks the same).

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension};

use crate::domain::{PaperId, ResearcherId};
use crate::error::AppResult;

use crate::db::repos::id_array;

/// The condition on a `researchers` row aliased `r`.
pub const BOOKABLE: &str = "r.user_id IS NOT NULL AND r.listing_withdrawn_at IS NULL
    AND EXISTS (SELECT 1 FROM users u WHERE u.id = r.user_id AND u.disabled_at IS NULL)
    AND EXISTS (SELECT 1 FROM availability a WHERE a.researcher_id = r.id)";

/// The bookable ones among `ids`.
pub fn bookable_among(conn: &Connection, ids: &[ResearcherId]) -> AppResult<HashSet<ResearcherId>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = conn
        .prepare_cached(&format!(
            "SELECT r.id FROM researchers r WHERE r.id IN (SELECT value FROM json_each(?1)) AND {BOOKABLE}"
        ))?
        .query_map([id_array(ids.iter().map(|i| i.0))], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The papers among `ids` with at least one bookable author.
pub fn papers_with_bookable_author(
    conn: &Connection,
    ids: &[PaperId],
) -> AppResult<HashSet<PaperId>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = conn
        .prepare_cached(&format!(
            "SELECT DISTINCT pr.paper_id FROM paper_researchers pr JOIN researchers r ON r.id = pr.researcher_id
              WHERE pr.paper_id IN (SELECT value FROM json_each(?1)) AND {BOOKABLE}"
        ))?
        .query_map([id_array(ids.iter().map(|p| p.0))], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Profile names by id (the audit trail's targets).
pub fn names(
    conn: &Connection,
    ids: &[ResearcherId],
) -> AppResult<std::collections::HashMap<ResearcherId, String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM researchers WHERE id = ?1")?;
    let mut out = std::collections::HashMap::new();
    for id in ids {
        if let Some(name) = stmt.query_row([id], |r| r.get(0)).optional()? {
            out.insert(*id, name);
        }
    }
    Ok(out)
}

/// The profile behind each author of a paper: (author position, profile).
pub fn author_profiles(conn: &Connection, paper: PaperId) -> AppResult<Vec<(i64, ResearcherId)>> {
    let rows = conn
        .prepare_cached(
            "SELECT position, researcher_id FROM paper_researchers WHERE paper_id = ?1 ORDER BY position",
        )?
        .query_map([paper], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A paper with a bookable author, as a condition on `papers` aliased `p`.
pub fn paper_has_bookable_author() -> String {
    format!(
        "EXISTS (SELECT 1 FROM paper_researchers pr JOIN researchers r ON r.id = pr.researcher_id
                  WHERE pr.paper_id = p.id AND {BOOKABLE})"
    )
}
