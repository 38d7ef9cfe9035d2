//! The stored rating of each researcher (`researcher_ratings`), a fresh
//! count to check it against, and the sums lists and sessions show.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::domain::{PaperId, ResearcherId, UserId};
use crate::error::AppResult;

/// The stored rating of one researcher: (count, total, [r1..r5]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: i64,
    pub total: i64,
    pub by_stars: [i64; 5],
}

impl Tally {
    pub(super) fn from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            count: r.get(at)?,
            total: r.get(at + 1)?,
            by_stars: [
                r.get(at + 2)?,
                r.get(at + 3)?,
                r.get(at + 4)?,
                r.get(at + 5)?,
                r.get(at + 6)?,
            ],
        })
    }
}

/// The stored tally (zero when the researcher has no published review).
pub fn tally(conn: &Connection, researcher: ResearcherId) -> AppResult<Tally> {
    Ok(conn
        .prepare_cached(
            "SELECT count, total, r1, r2, r3, r4, r5 FROM researcher_ratings WHERE researcher_id = ?1",
        )?
        .query_row([researcher], |r| Tally::from_row(r, 0))
        .optional()?
        .unwrap_or_default())
}

/// The stored tallies of several researchers (those with reviews only).
pub fn tallies(conn: &Connection, ids: &[ResearcherId]) -> AppResult<Vec<(ResearcherId, Tally)>> {
    let json = crate::db::repos::id_array(ids.iter().map(|i| i.0));
    let mut stmt = conn.prepare_cached(
        "SELECT researcher_id, count, total, r1, r2, r3, r4, r5 FROM researcher_ratings
          WHERE researcher_id IN (SELECT value FROM json_each(?1)) AND count > 0",
    )?;
    let rows = stmt
        .query_map([json], |r| Ok((r.get(0)?, Tally::from_row(r, 1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Adds (`sign` 1) or takes away (`sign` -1) one published rating.
pub fn count_rating(
    conn: &Connection,
    researcher: ResearcherId,
    stars: u8,
    sign: i64,
) -> AppResult<()> {
    let col = match stars {
        1 => "r1",
        2 => "r2",
        3 => "r3",
        4 => "r4",
        _ => "r5",
    };
    conn.prepare_cached(&format!(
        "INSERT INTO researcher_ratings (researcher_id, count, total, {col}) VALUES (?1, ?2, ?3, ?2)
         ON CONFLICT (researcher_id) DO UPDATE SET count = count + ?2, total = total + ?3, {col} = {col} + ?2"
    ))?
    .execute(params![researcher, sign, sign * i64::from(stars)])?;
    Ok(())
}

/// The tally counted afresh from the reviews themselves (for the check
/// that the stored one is right).
pub fn fresh_tally(conn: &Connection, researcher: ResearcherId) -> AppResult<Tally> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(rating), 0),
                    count(*) FILTER (WHERE rating = 1), count(*) FILTER (WHERE rating = 2),
                    count(*) FILTER (WHERE rating = 3), count(*) FILTER (WHERE rating = 4),
                    count(*) FILTER (WHERE rating = 5)
               FROM reviews WHERE researcher_id = ?1 AND side = 'reader' AND status = 'published'",
        )?
        .query_row([researcher], |r| Tally::from_row(r, 0))?)
}

/// A reader's published ratings from researchers (two-way reviews):
/// (count, sum of stars).
pub fn reader_tally(conn: &Connection, reader: UserId) -> AppResult<(i64, i64)> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(rating), 0) FROM reviews
              WHERE reader_id = ?1 AND side = 'researcher' AND status = 'published'",
        )?
        .query_row([reader], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// The published reader reviews of each paper's researchers, added up:
/// (paper, count, sum of stars), for papers with at least one.
pub fn paper_tallies(conn: &Connection, papers: &[PaperId]) -> AppResult<Vec<(PaperId, i64, i64)>> {
    let json = crate::db::repos::id_array(papers.iter().map(|p| p.0));
    let mut stmt = conn.prepare_cached(
        "SELECT pr.paper_id, sum(t.count), sum(t.total)
           FROM (SELECT DISTINCT paper_id, researcher_id FROM paper_researchers
                  WHERE paper_id IN (SELECT value FROM json_each(?1))) pr
           JOIN researcher_ratings t ON t.researcher_id = pr.researcher_id AND t.count > 0
          GROUP BY pr.paper_id",
    )?;
    let rows = stmt
        .query_map([json], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
