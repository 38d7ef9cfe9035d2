//! Reviews in lists: a researcher's public ones, the moderators' queue,
//! and a reader's own.

use rusqlite::{params, Connection};

use super::{many, ReviewRow, SELECT};
use crate::crypto::Keyring;
use crate::domain::{ResearcherId, ReviewId, ReviewStatus, UserId};
use crate::error::AppResult;

/// A researcher's published reader reviews, newest first, after `before`.
pub fn published_of(
    conn: &Connection,
    keys: &Keyring,
    researcher: ResearcherId,
    before: Option<ReviewId>,
    limit: usize,
) -> AppResult<Vec<ReviewRow>> {
    many(
        conn,
        keys,
        &format!(
            "{SELECT} WHERE v.researcher_id = ?1 AND v.status = 'published' AND v.side = 'reader'
                 AND v.id < ?2 ORDER BY v.id DESC LIMIT ?3"
        ),
        params![researcher, before.map_or(i64::MAX, |b| b.0), limit as i64],
    )
}

/// What the moderation queue lists: `reported` means published with open
/// reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueFilter {
    /// Reviews in this status; `held` also lists reviews whose answer is
    /// held.
    Status(ReviewStatus),
    Reported,
    /// Every review.
    All,
}

/// Reviews for the moderators, newest first, after `before`.
pub fn queue(
    conn: &Connection,
    keys: &Keyring,
    filter: QueueFilter,
    before: Option<ReviewId>,
    limit: usize,
) -> AppResult<Vec<ReviewRow>> {
    let cond = match filter {
        QueueFilter::Status(ReviewStatus::Held) => "(v.status = ?1 OR v.reply_status = ?1)",
        QueueFilter::Status(_) => "v.status = ?1",
        QueueFilter::Reported => {
            "?1 = 'published' AND v.status = 'published' AND EXISTS (SELECT 1 FROM review_reports p
                WHERE p.review_id = v.id AND p.resolved_at IS NULL)"
        }
        QueueFilter::All => "?1 = ?1",
    };
    let status = match filter {
        QueueFilter::Status(s) => s,
        QueueFilter::Reported => ReviewStatus::Published,
        QueueFilter::All => ReviewStatus::Held,
    };
    many(
        conn,
        keys,
        &format!("{SELECT} WHERE {cond} AND v.id < ?2 ORDER BY v.id DESC LIMIT ?3"),
        params![status, before.map_or(i64::MAX, |b| b.0), limit as i64],
    )
}

/// Reviews `user` wrote or received as a reader, for their own pages.
pub fn by_reader(conn: &Connection, keys: &Keyring, reader: UserId) -> AppResult<Vec<ReviewRow>> {
    many(
        conn,
        keys,
        &format!("{SELECT} WHERE v.reader_id = ?1 ORDER BY v.id DESC"),
        [reader],
    )
}
