//! What the retention run removes, one pair of queries per kind: `*_due`
//! counts what would go (and its oldest date) and the other removes at most
//! `limit` rows of it, so a run holds the writer for one batch at a time.
//! The condition of each kind is written once and used by both.

use rusqlite::{params, Connection};

use crate::db::ts;
use crate::error::AppResult;

type Time = chrono::DateTime<chrono::Utc>;

/// How many rows a kind would remove, and the oldest date among them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Due {
    pub rows: u64,
    pub oldest: Option<String>,
}

impl Due {
    /// Adds another table's rows to this kind's.
    pub fn add(&mut self, other: Due) {
        self.rows += other.rows;
        self.oldest = match (self.oldest.take(), other.oldest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

fn due(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> AppResult<Due> {
    Ok(conn.prepare_cached(sql)?.query_row(params, |r| {
        Ok(Due {
            rows: r.get::<_, i64>(0)?.unsigned_abs(),
            oldest: r.get(1)?,
        })
    })?)
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

// ---- mail bodies ---------------------------------------------------------

/// Messages out of the sender's hands (sent, failed, held) older than ?1
/// whose content is still there.
const MAIL: &str = "FROM mail_outbox WHERE content_removed_at IS NULL AND created_at < ?1
     AND status IN ('sent', 'failed', 'held')";

pub fn mail_bodies_due(conn: &Connection, before: Time) -> AppResult<Due> {
    due(
        conn,
        &format!("SELECT COUNT(*), MIN(created_at) {MAIL}"),
        [ts(before)],
    )
}

/// Replaces the content of up to `limit` such messages with `empty_enc`
/// (an encrypted empty message) and marks them; answers how many.
pub fn remove_mail_bodies(
    conn: &Connection,
    before: Time,
    empty_enc: &str,
    now: Time,
    limit_rows: usize,
) -> AppResult<usize> {
    Ok(conn
        .prepare_cached(&format!(
            "UPDATE mail_outbox SET content_enc = ?2, content_removed_at = ?3, updated_at = ?3
              WHERE id IN (SELECT id {MAIL} ORDER BY created_at LIMIT ?4)"
        ))?
        .execute(params![ts(before), empty_enc, ts(now), limit(limit_rows)])?)
}

// ---- provider payloads ---------------------------------------------------

/// Collection steps of finished jobs, last written before ?1, that still
/// hold what the provider said.
const STEPS: &str = "FROM collection_steps WHERE detail IS NOT NULL AND updated_at < ?1
     AND NOT EXISTS (SELECT 1 FROM collection_jobs j
                      WHERE j.id = collection_steps.job_id AND j.status IN ('queued', 'running'))";

pub fn provider_payloads_due(conn: &Connection, before: Time) -> AppResult<Due> {
    due(
        conn,
        &format!("SELECT COUNT(*), MIN(updated_at) {STEPS}"),
        [ts(before)],
    )
}

pub fn clear_provider_payloads(
    conn: &Connection,
    before: Time,
    limit_rows: usize,
) -> AppResult<usize> {
    Ok(conn
        .prepare_cached(&format!(
            "UPDATE collection_steps SET detail = NULL
              WHERE rowid IN (SELECT rowid {STEPS} ORDER BY updated_at LIMIT ?2)"
        ))?
        .execute(params![ts(before), limit(limit_rows)])?)
}

// ---- unclaimed profiles --------------------------------------------------

/// Profiles no account owns, not refreshed (or, never collected, not
/// created) since ?1.
const UNCLAIMED: &str = "FROM researchers r WHERE r.user_id IS NULL
     AND COALESCE(r.collected_at, r.created_at) < ?1";
/// Deleting the profile would delete its sessions (and with them payments,
/// reviews and disputes): `consulting_sessions.researcher_id` cascades.
const HAS_SESSIONS: &str =
    "(EXISTS (SELECT 1 FROM consulting_sessions s WHERE s.researcher_id = r.id)
     OR EXISTS (SELECT 1 FROM reviews v WHERE v.researcher_id = r.id))";
/// Someone asked to own it, or an admin has yet to decide a merge with it.
const CLAIM_OR_MERGE_OPEN: &str = "(EXISTS (SELECT 1 FROM claim_requests c
                  WHERE c.researcher_id = r.id AND c.status = 'open')
     OR EXISTS (SELECT 1 FROM merge_reviews m
                 WHERE m.status = 'open' AND (m.first_id = r.id OR m.second_id = r.id)))";

/// Unclaimed profiles past the window: those that may go, and how many are
/// kept because they have sessions or an open claim or merge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfilesDue {
    pub due: Due,
    pub kept_with_sessions: u64,
    pub kept_claim_or_merge_open: u64,
}

pub fn unclaimed_profiles_due(conn: &Connection, before: Time) -> AppResult<ProfilesDue> {
    let sql = format!(
        "SELECT
           COALESCE(SUM(NOT {HAS_SESSIONS} AND NOT {CLAIM_OR_MERGE_OPEN}), 0),
           MIN(CASE WHEN NOT {HAS_SESSIONS} AND NOT {CLAIM_OR_MERGE_OPEN}
                    THEN COALESCE(r.collected_at, r.created_at) END),
           COALESCE(SUM({HAS_SESSIONS}), 0),
           COALESCE(SUM(NOT {HAS_SESSIONS} AND {CLAIM_OR_MERGE_OPEN}), 0)
         {UNCLAIMED}"
    );
    Ok(conn.prepare_cached(&sql)?.query_row([ts(before)], |r| {
        Ok(ProfilesDue {
            due: Due {
                rows: r.get::<_, i64>(0)?.unsigned_abs(),
                oldest: r.get(1)?,
            },
            kept_with_sessions: r.get::<_, i64>(2)?.unsigned_abs(),
            kept_claim_or_merge_open: r.get::<_, i64>(3)?.unsigned_abs(),
        })
    })?)
}

/// Deletes up to `limit` unclaimed profiles past the window that have no
/// sessions, reviews, open claim or open merge; answers how many.
pub fn delete_unclaimed_profiles(
    conn: &Connection,
    before: Time,
    limit_rows: usize,
) -> AppResult<usize> {
    Ok(conn
        .prepare_cached(&format!(
            "DELETE FROM researchers WHERE id IN (
               SELECT r.id {UNCLAIMED} AND NOT {HAS_SESSIONS} AND NOT {CLAIM_OR_MERGE_OPEN}
                ORDER BY r.id LIMIT ?2)"
        ))?
        .execute(params![ts(before), limit(limit_rows)])?)
}

// ---- expired tokens ------------------------------------------------------

/// Which cut-off a token table's rows are measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cutoff {
    /// Rows that stopped working before it.
    Ended,
    /// Used opt-out links, which live for years.
    OptOutLinkUsed,
    /// Other used single-use links.
    LinkUsed,
}

/// A table of tokens that end: which rows ended before ?1, and the date
/// its rows are known by.
pub struct TokenTable {
    pub table: &'static str,
    pub cutoff: Cutoff,
    condition: &'static str,
    dated_by: &'static str,
}

/// Every kind of token that ends: log-in sessions (expired or revoked),
/// setup links and e-mail verification links (used or expired), booking
/// idempotency keys (past their window) and used invitation links (past
/// the longest life such a link can have; opt-out links live longer).
pub static TOKEN_TABLES: [TokenTable; 6] = [
    TokenTable {
        table: "auth_sessions",
        cutoff: Cutoff::Ended,
        condition: "expires_at < ?1 OR revoked_at < ?1",
        dated_by: "created_at",
    },
    TokenTable {
        table: "setup_links",
        cutoff: Cutoff::Ended,
        condition: "expires_at < ?1 OR used_at < ?1",
        dated_by: "created_at",
    },
    TokenTable {
        table: "email_verifications",
        cutoff: Cutoff::Ended,
        condition: "expires_at < ?1 OR used_at < ?1",
        dated_by: "created_at",
    },
    TokenTable {
        table: "idempotency_keys",
        cutoff: Cutoff::Ended,
        condition: "created_at < ?1",
        dated_by: "created_at",
    },
    TokenTable {
        table: "used_tokens",
        cutoff: Cutoff::OptOutLinkUsed,
        condition: "purpose = 'opt_out' AND used_at < ?1",
        dated_by: "used_at",
    },
    TokenTable {
        table: "used_tokens",
        cutoff: Cutoff::LinkUsed,
        condition: "purpose != 'opt_out' AND used_at < ?1",
        dated_by: "used_at",
    },
];

impl TokenTable {
    pub fn due(&self, conn: &Connection, before: Time) -> AppResult<Due> {
        let sql = format!(
            "SELECT COUNT(*), MIN({}) FROM {} WHERE {}",
            self.dated_by, self.table, self.condition
        );
        due(conn, &sql, [ts(before)])
    }

    /// Deletes up to `limit` ended rows; answers how many.
    pub fn delete(&self, conn: &Connection, before: Time, limit_rows: usize) -> AppResult<usize> {
        let sql = format!(
            "DELETE FROM {t} WHERE rowid IN (SELECT rowid FROM {t} WHERE {cond} LIMIT ?2)",
            t = self.table,
            cond = self.condition
        );
        Ok(conn
            .prepare_cached(&sql)?
            .execute(params![ts(before), limit(limit_rows)])?)
    }
}

// ---- analytics counters --------------------------------------------------

/// Engagement counters of days before ?1 (`YYYY-MM-DD`).
const COUNTERS: &str = "FROM analytics_counters WHERE day < ?1";

pub fn counters_due(conn: &Connection, before_day: &str) -> AppResult<Due> {
    due(
        conn,
        &format!("SELECT COUNT(*), MIN(day) {COUNTERS}"),
        [before_day],
    )
}

pub fn delete_counters(conn: &Connection, before_day: &str, limit_rows: usize) -> AppResult<usize> {
    Ok(conn
        .prepare_cached(&format!(
            "DELETE FROM analytics_counters WHERE (day, kind, subject) IN (
               SELECT day, kind, subject {COUNTERS} ORDER BY day LIMIT ?2)"
        ))?
        .execute(params![before_day, limit(limit_rows)])?)
}
