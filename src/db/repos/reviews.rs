//! Reviews of sessions, their answers and reports, and the stored rating
//! of each researcher (`researcher_ratings`), which the callers keep in
//! step inside the transaction that changes what it counts.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::{ConsultingSessionId, ResearcherId, ReviewId, ReviewStatus, UserId};
use crate::error::{is_unique_violation, AppError, AppResult};

pub const COMMENT_AAD: &str = "reviews.comment";
pub const REPLY_AAD: &str = "reviews.reply";
pub const NOTE_AAD: &str = "reviews.moderation_note";
pub const REPORT_AAD: &str = "review_reports.reason";

type Time = chrono::DateTime<chrono::Utc>;

/// Who wrote a review: the reader (of the researcher) or the researcher
/// (of the reader, with `[reviews] two_way`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Reader,
    Researcher,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Reader => "reader",
            Side::Researcher => "researcher",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "researcher" {
            Side::Researcher
        } else {
            Side::Reader
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub id: ReviewId,
    pub session_id: ConsultingSessionId,
    pub side: Side,
    pub author_id: UserId,
    pub author_name: String,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub reader_id: UserId,
    pub rating: u8,
    pub comment: Option<String>,
    pub status: ReviewStatus,
    pub held_rule: Option<String>,
    pub reply: Option<String>,
    pub reply_status: Option<ReviewStatus>,
    pub reply_held_rule: Option<String>,
    pub replied_at: Option<String>,
    pub moderation_note: Option<String>,
    pub moderated_at: Option<String>,
    /// Open reports (not yet seen by a moderator).
    pub open_reports: i64,
    pub created_at: String,
    pub updated_at: String,
}

const SELECT: &str = "SELECT v.id, v.session_id, v.side, v.author_id, u.name, v.researcher_id, v.reader_id,
        v.rating, v.comment_enc, v.status, v.held_rule, v.reply_enc, v.reply_status, v.reply_held_rule,
        v.replied_at, v.moderation_note_enc, v.moderated_at,
        (SELECT count(*) FROM review_reports p WHERE p.review_id = v.id AND p.resolved_at IS NULL),
        v.created_at, v.updated_at, p.name
   FROM reviews v JOIN users u ON u.id = v.author_id JOIN researchers p ON p.id = v.researcher_id";

fn opt_decrypt(keys: &Keyring, aad: &str, v: Option<String>) -> AppResult<Option<String>> {
    v.map(|s| super::decrypt(keys, aad, &s)).transpose()
}

fn row(keys: &Keyring, r: &Row<'_>) -> AppResult<ReviewRow> {
    let side: String = r.get(2)?;
    Ok(ReviewRow {
        id: r.get(0)?,
        session_id: r.get(1)?,
        side: Side::parse(&side),
        author_id: r.get(3)?,
        author_name: r.get(4)?,
        researcher_id: r.get(5)?,
        researcher_name: r.get(20)?,
        reader_id: r.get(6)?,
        rating: r.get(7)?,
        comment: opt_decrypt(keys, COMMENT_AAD, r.get(8)?)?,
        status: r.get(9)?,
        held_rule: r.get(10)?,
        reply: opt_decrypt(keys, REPLY_AAD, r.get(11)?)?,
        reply_status: r.get(12)?,
        reply_held_rule: r.get(13)?,
        replied_at: r.get(14)?,
        moderation_note: opt_decrypt(keys, NOTE_AAD, r.get(15)?)?,
        moderated_at: r.get(16)?,
        open_reports: r.get(17)?,
        created_at: r.get(18)?,
        updated_at: r.get(19)?,
    })
}

fn many(
    conn: &Connection,
    keys: &Keyring,
    sql: &str,
    p: impl rusqlite::Params,
) -> AppResult<Vec<ReviewRow>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(p)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(row(keys, r)?);
    }
    Ok(out)
}

pub struct NewReview<'a> {
    pub session_id: ConsultingSessionId,
    pub side: Side,
    pub author_id: UserId,
    pub researcher_id: ResearcherId,
    pub reader_id: UserId,
    pub rating: u8,
    pub comment: Option<&'a str>,
    pub status: ReviewStatus,
    pub held_rule: Option<&'a str>,
}

/// Stores a review; 409 `already_reviewed` when the session has one from
/// that side.
pub fn insert(
    conn: &Connection,
    keys: &Keyring,
    n: &NewReview<'_>,
    now: Time,
) -> AppResult<ReviewId> {
    conn.prepare_cached(
        "INSERT INTO reviews (session_id, side, author_id, researcher_id, reader_id, rating, comment_enc,
                              status, held_rule, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
    )?
    .execute(params![
        n.session_id,
        n.side.as_str(),
        n.author_id,
        n.researcher_id,
        n.reader_id,
        n.rating,
        n.comment.map(|c| keys.encrypt(COMMENT_AAD, c)),
        n.status,
        n.held_rule,
        ts(now)
    ])
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::conflict("already_reviewed", "This session is reviewed already.")
        } else {
            e.into()
        }
    })?;
    Ok(ReviewId(conn.last_insert_rowid()))
}

pub fn find(conn: &Connection, keys: &Keyring, id: ReviewId) -> AppResult<Option<ReviewRow>> {
    Ok(many(conn, keys, &format!("{SELECT} WHERE v.id = ?1"), [id])?.pop())
}

/// The review of a session from one side, if any.
pub fn of_session(
    conn: &Connection,
    keys: &Keyring,
    session: ConsultingSessionId,
    side: Side,
) -> AppResult<Option<ReviewRow>> {
    Ok(many(
        conn,
        keys,
        &format!("{SELECT} WHERE v.session_id = ?1 AND v.side = ?2"),
        params![session, side.as_str()],
    )?
    .pop())
}

/// A review's stars and words after an edit, with what the rules made of
/// them.
pub struct Edited<'a> {
    pub rating: u8,
    pub comment: Option<&'a str>,
    pub status: ReviewStatus,
    pub held_rule: Option<&'a str>,
}

/// A new rating and comment, with the status the rules gave them.
pub fn update(
    conn: &Connection,
    keys: &Keyring,
    id: ReviewId,
    e: &Edited<'_>,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE reviews SET rating = ?2, comment_enc = ?3, status = ?4, held_rule = ?5, updated_at = ?6
          WHERE id = ?1",
    )?
    .execute(params![
        id,
        e.rating,
        e.comment.map(|c| keys.encrypt(COMMENT_AAD, c)),
        e.status,
        e.held_rule,
        ts(now)
    ])?;
    Ok(())
}

/// Moves a review to `status` (and records why, when a moderator did).
pub fn set_status(
    conn: &Connection,
    keys: &Keyring,
    id: ReviewId,
    status: ReviewStatus,
    held_rule: Option<&str>,
    moderation: Option<(UserId, &str)>,
    now: Time,
) -> AppResult<()> {
    let (by, note) = match moderation {
        Some((by, note)) => (Some(by), Some(keys.encrypt(NOTE_AAD, note))),
        None => (None, None),
    };
    conn.prepare_cached(
        "UPDATE reviews SET status = ?2, held_rule = coalesce(?3, held_rule), updated_at = ?4,
                moderated_by = coalesce(?5, moderated_by),
                moderation_note_enc = coalesce(?6, moderation_note_enc),
                moderated_at = CASE WHEN ?5 IS NULL THEN moderated_at ELSE ?4 END
          WHERE id = ?1",
    )?
    .execute(params![id, status, held_rule, ts(now), by, note])?;
    Ok(())
}

/// Stores the researcher's answer; false when there is one already.
pub fn set_reply(
    conn: &Connection,
    keys: &Keyring,
    id: ReviewId,
    text: &str,
    status: ReviewStatus,
    held_rule: Option<&str>,
    now: Time,
) -> AppResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE reviews SET reply_enc = ?2, reply_status = ?3, reply_held_rule = ?4, replied_at = ?5,
                    updated_at = ?5
              WHERE id = ?1 AND reply_enc IS NULL",
        )?
        .execute(params![
            id,
            keys.encrypt(REPLY_AAD, text),
            status,
            held_rule,
            ts(now)
        ])?;
    Ok(n == 1)
}

/// Moves the answer to `status` (a moderator's decision).
pub fn set_reply_status(
    conn: &Connection,
    id: ReviewId,
    status: ReviewStatus,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached("UPDATE reviews SET reply_status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, status, ts(now)])?;
    Ok(())
}

/// Records a report; false when this reporter reported the review before.
pub fn add_report(
    conn: &Connection,
    keys: &Keyring,
    id: ReviewId,
    reporter: UserId,
    reason: &str,
    now: Time,
) -> AppResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO review_reports (review_id, reporter_id, reason_enc, created_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            id,
            reporter,
            keys.encrypt(REPORT_AAD, reason),
            ts(now)
        ])?;
    Ok(n == 1)
}

/// The open reports' reasons, oldest first.
pub fn open_reports(conn: &Connection, keys: &Keyring, id: ReviewId) -> AppResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT reason_enc FROM review_reports WHERE review_id = ?1 AND resolved_at IS NULL ORDER BY created_at",
    )?;
    let stored: Vec<String> = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    stored
        .iter()
        .map(|s| super::decrypt(keys, REPORT_AAD, s))
        .collect()
}

/// Marks every open report of a review as seen by a moderator.
pub fn resolve_reports(conn: &Connection, id: ReviewId, now: Time) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE review_reports SET resolved_at = ?2 WHERE review_id = ?1 AND resolved_at IS NULL",
    )?
    .execute(params![id, ts(now)])?;
    Ok(())
}

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
    Status(ReviewStatus),
    Reported,
    /// Published reviews whose answer is held.
    HeldAnswers,
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
        QueueFilter::Status(_) => "v.status = ?1",
        QueueFilter::Reported => {
            "?1 = 'published' AND v.status = 'published' AND EXISTS (SELECT 1 FROM review_reports p
                WHERE p.review_id = v.id AND p.resolved_at IS NULL)"
        }
        QueueFilter::HeldAnswers => "?1 = 'held' AND v.reply_status = 'held'",
        QueueFilter::All => "?1 = ?1",
    };
    let status = match filter {
        QueueFilter::Status(s) => s,
        QueueFilter::Reported => ReviewStatus::Published,
        QueueFilter::HeldAnswers | QueueFilter::All => ReviewStatus::Held,
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

/// Completed sessions whose reader has not reviewed them, for the reader.
pub fn unreviewed_sessions(
    conn: &Connection,
    reader: UserId,
    since: Time,
) -> AppResult<Vec<ConsultingSessionId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id FROM consulting_sessions s
          WHERE s.reader_id = ?1 AND s.status = 'completed' AND s.end_at >= ?2
            AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.session_id = s.id AND v.side = 'reader')
          ORDER BY s.end_at DESC",
    )?;
    let ids = stmt
        .query_map(params![reader, ts(since)], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// The stored rating of one researcher: (count, total, [r1..r5]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: i64,
    pub total: i64,
    pub by_stars: [i64; 5],
}

impl Tally {
    fn from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
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
    let json = serde_json::to_string(&ids.iter().map(|i| i.0).collect::<Vec<_>>())
        .map_err(|e| AppError::internal(format!("ids: {e}")))?;
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

/// Mail about reviews an account gets: (new published reviews of it,
/// reminders to review its sessions).
pub fn mail_prefs(conn: &Connection, user: UserId) -> AppResult<(bool, bool)> {
    Ok(conn
        .prepare_cached("SELECT review_mail, review_reminders FROM users WHERE id = ?1")?
        .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((false, false)))
}

pub fn set_mail_prefs(
    conn: &Connection,
    user: UserId,
    new_reviews: bool,
    reminders: bool,
) -> AppResult<()> {
    conn.prepare_cached("UPDATE users SET review_mail = ?2, review_reminders = ?3 WHERE id = ?1")?
        .execute(params![user, new_reviews, reminders])?;
    Ok(())
}

/// Completed sessions to remind the reader of: completed before
/// `completed_before`, ended after `ended_after` (still reviewable), not
/// reviewed, not reminded, the reader wants reminders and can sign in.
pub fn due_reminders(
    conn: &Connection,
    completed_before: Time,
    ended_after: Time,
    limit: usize,
) -> AppResult<Vec<ConsultingSessionId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id FROM consulting_sessions s JOIN users u ON u.id = s.reader_id
          WHERE s.status = 'completed' AND s.review_reminded_at IS NULL
            AND s.updated_at <= ?1 AND s.end_at >= ?2
            AND u.review_reminders = 1 AND u.disabled_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.session_id = s.id AND v.side = 'reader')
          ORDER BY s.id LIMIT ?3",
    )?;
    let ids = stmt
        .query_map(
            params![ts(completed_before), ts(ended_after), limit as i64],
            |r| r.get(0),
        )?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Marks a session's reader as reminded; false when someone did first.
pub fn mark_reminded(
    conn: &Connection,
    session: ConsultingSessionId,
    now: Time,
) -> AppResult<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE consulting_sessions SET review_reminded_at = ?2 WHERE id = ?1 AND review_reminded_at IS NULL",
        )?
        .execute(params![session, ts(now)])?
        == 1)
}

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

/// The published reader reviews of each paper's researchers, added up:
/// (paper, count, sum of stars), for papers with at least one.
pub fn paper_tallies(
    conn: &Connection,
    papers: &[crate::domain::PaperId],
) -> AppResult<Vec<(crate::domain::PaperId, i64, i64)>> {
    let json = serde_json::to_string(&papers.iter().map(|p| p.0).collect::<Vec<_>>())
        .map_err(|e| AppError::internal(format!("ids: {e}")))?;
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
