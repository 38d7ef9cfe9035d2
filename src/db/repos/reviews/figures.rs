//! Raw review figures for the analytics.

use rusqlite::Connection;

use super::Tally;
use crate::domain::ResearcherId;
use crate::error::AppResult;

/// Raw review figures of one researcher, or of all when `None`.
pub struct Figures {
    pub tally: Tally,
    /// (month `YYYY-MM`, sum of stars, count) of published reader reviews.
    pub by_month: Vec<(String, i64, i64)>,
    /// Published reader reviews with a published answer.
    pub answered: i64,
    /// Reader reviews written, whatever their status.
    pub written: i64,
    /// (rule, reviews it held), from `held_rule` of reviews and answers
    /// as first held.
    pub held_by_rule: Vec<(String, i64)>,
}

pub fn figures(conn: &Connection, researcher: Option<ResearcherId>) -> AppResult<Figures> {
    let id = researcher.map(|r| r.0);
    let scope = "side = 'reader' AND (?1 IS NULL OR researcher_id = ?1)";
    let tally = conn
        .prepare_cached(&format!(
            "SELECT count(*), coalesce(sum(rating), 0),
                    count(*) FILTER (WHERE rating = 1), count(*) FILTER (WHERE rating = 2),
                    count(*) FILTER (WHERE rating = 3), count(*) FILTER (WHERE rating = 4),
                    count(*) FILTER (WHERE rating = 5)
               FROM reviews WHERE {scope} AND status = 'published'"
        ))?
        .query_row([id], |r| Tally::from_row(r, 0))?;
    let by_month = conn
        .prepare_cached(&format!(
            "SELECT substr(created_at, 1, 7) AS m, sum(rating), count(*) FROM reviews
              WHERE {scope} AND status = 'published' GROUP BY m ORDER BY m"
        ))?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let (answered, written) = conn
        .prepare_cached(&format!(
            "SELECT count(*) FILTER (WHERE status = 'published' AND reply_status = 'published'), count(*)
               FROM reviews WHERE {scope}"
        ))?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let held_by_rule = conn
        .prepare_cached(&format!(
            "SELECT held_rule, count(*) FROM reviews WHERE {scope} AND held_rule IS NOT NULL GROUP BY held_rule"
        ))?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(Figures {
        tally,
        by_month,
        answered,
        written,
        held_by_rule,
    })
}
