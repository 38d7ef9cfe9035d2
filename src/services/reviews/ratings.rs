//! The stored rating of each researcher, kept in step with the reviews it
//! counts, and what it adds up to for readers.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::repos::reviews::{self as repo, ReviewRow, Side, Tally};
use crate::domain::{ResearcherId, ReviewStatus};
use crate::error::AppResult;

pub use crate::domain::rating::RatingView;

/// A researcher's published reviews at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    /// Null until the first published review.
    pub average: Option<f64>,
    pub count: i64,
    /// How many reviews gave each number of stars: `{"1": n, …, "5": n}`.
    pub distribution: BTreeMap<String, i64>,
}

impl From<Tally> for Summary {
    fn from(t: Tally) -> Self {
        Self {
            average: RatingView::new(t.count, t.total).map(|r| r.average),
            count: t.count,
            distribution: (1..=5)
                .map(|s| (s.to_string(), t.by_stars[s - 1]))
                .collect(),
        }
    }
}

/// Whether a review counts toward its researcher's public rating.
fn counted(side: Side, status: ReviewStatus) -> bool {
    side == Side::Reader && status == ReviewStatus::Published
}

/// Keeps the stored rating in step when a review moves from `before`
/// (stars, status) to `after`; call it in the transaction of the move.
pub fn moved(
    conn: &Connection,
    r: &ReviewRow,
    before: Option<(u8, ReviewStatus)>,
    after: (u8, ReviewStatus),
) -> AppResult<()> {
    if let Some((stars, status)) = before {
        if counted(r.side, status) {
            repo::count_rating(conn, r.researcher_id, stars, -1)?;
        }
    }
    if counted(r.side, after.1) {
        repo::count_rating(conn, r.researcher_id, after.0, 1)?;
    }
    Ok(())
}

/// Whether the stored tally of `researcher` equals a fresh count (a check
/// for tests and `colloquy audit`-style verification).
pub fn in_step(conn: &Connection, researcher: ResearcherId) -> AppResult<bool> {
    Ok(repo::tally(conn, researcher)? == repo::fresh_tally(conn, researcher)?)
}
