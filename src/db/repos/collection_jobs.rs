//! Collection jobs and their steps: the durable progress of collection.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::db::ts;
use crate::domain::{JobId, JobStatus, PaperId, ResearcherId, UserId};
use crate::error::AppResult;

type Time = chrono::DateTime<chrono::Utc>;

#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: JobId,
    pub kind: String,
    pub paper_id: Option<PaperId>,
    pub name: Option<String>,
    pub affiliation: Option<String>,
    pub requested_by: Option<UserId>,
    pub status: JobStatus,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct StepRow {
    pub author_index: i64,
    pub provider: String,
    pub researcher_id: Option<ResearcherId>,
    pub outcome: String,
    pub detail: Option<String>,
    pub attempts: i64,
    pub duration_ms: i64,
}

const COLUMNS: &str = "id, kind, paper_id, name, affiliation, requested_by, status, error, created_at, started_at, finished_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        paper_id: r.get(2)?,
        name: r.get(3)?,
        affiliation: r.get(4)?,
        requested_by: r.get(5)?,
        status: r.get(6)?,
        error: r.get(7)?,
        created_at: r.get(8)?,
        started_at: r.get(9)?,
        finished_at: r.get(10)?,
    })
}

pub struct NewJob<'a> {
    pub kind: &'a str,
    pub paper_id: Option<PaperId>,
    pub name: Option<&'a str>,
    pub affiliation: Option<&'a str>,
    pub dedupe_key: &'a str,
    pub requested_by: Option<UserId>,
    /// Authors the job covers (readers' daily limit counts these).
    pub author_count: i64,
}

/// The queued or running job for this key, if any.
pub fn active_for(conn: &Connection, dedupe_key: &str) -> AppResult<Option<JobId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM collection_jobs WHERE dedupe_key = ?1 AND status IN ('queued', 'running')",
            [dedupe_key],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn insert(conn: &Connection, job: &NewJob<'_>, now: Time) -> AppResult<JobId> {
    conn.execute(
        "INSERT INTO collection_jobs (kind, paper_id, name, affiliation, dedupe_key, requested_by, author_count, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![job.kind, job.paper_id, job.name, job.affiliation, job.dedupe_key, job.requested_by, job.author_count, ts(now)],
    )?;
    Ok(JobId(conn.last_insert_rowid()))
}

pub fn find(conn: &Connection, id: JobId) -> AppResult<Option<JobRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM collection_jobs WHERE id = ?1"
        ))?
        .query_row([id], from_row)
        .optional()?)
}

/// Newest first, optionally of one status.
pub fn list(
    conn: &Connection,
    status: Option<JobStatus>,
    before: Option<JobId>,
    limit: usize,
) -> AppResult<Vec<JobRow>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM collection_jobs WHERE (?1 IS NULL OR status = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3"
        ))?
        .query_map(params![status, before.map_or(i64::MAX, |b| b.0), limit as i64], from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The latest job for a paper.
pub fn latest_for_paper(conn: &Connection, paper: PaperId) -> AppResult<Option<JobRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM collection_jobs WHERE paper_id = ?1 AND kind = 'paper' ORDER BY id DESC LIMIT 1"))?
        .query_row([paper], from_row)
        .optional()?)
}

/// Claims the oldest queued job for this process.
pub fn claim_next(conn: &Connection, now: Time) -> AppResult<Option<JobId>> {
    let id: Option<JobId> = conn
        .query_row(
            "SELECT id FROM collection_jobs WHERE status = 'queued' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = id {
        conn.execute(
            "UPDATE collection_jobs SET status = 'running', started_at = COALESCE(started_at, ?2) WHERE id = ?1",
            params![id, ts(now)],
        )?;
    }
    Ok(id)
}

/// Puts jobs a previous process was running back in the queue; their
/// finished steps are kept, so they resume where they stopped.
pub fn requeue_interrupted(conn: &Connection) -> AppResult<usize> {
    Ok(conn.execute(
        "UPDATE collection_jobs SET status = 'queued' WHERE status = 'running'",
        [],
    )?)
}

pub fn finish(
    conn: &Connection,
    id: JobId,
    status: JobStatus,
    error: Option<&str>,
    now: Time,
) -> AppResult<()> {
    conn.execute(
        "UPDATE collection_jobs SET status = ?2, error = ?3, finished_at = ?4 WHERE id = ?1",
        params![id, status, error, ts(now)],
    )?;
    Ok(())
}

/// Queues a finished job again; its failed steps will run again.
pub fn retry(conn: &Connection, id: JobId) -> AppResult<bool> {
    let busy: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM collection_jobs a JOIN collection_jobs j ON a.dedupe_key = j.dedupe_key
                        WHERE j.id = ?1 AND a.id != ?1 AND a.status IN ('queued', 'running'))",
        [id],
        |r| r.get(0),
    )?;
    if busy {
        return Err(crate::error::AppError::conflict(
            "job_active",
            "A job for the same work is queued or running; wait for it to finish.",
        ));
    }
    conn.execute(
        "DELETE FROM collection_steps WHERE job_id = ?1 AND outcome IN ('failed', 'unavailable')",
        [id],
    )?;
    let n = conn.execute(
        "UPDATE collection_jobs SET status = 'queued', error = NULL, finished_at = NULL
         WHERE id = ?1 AND status IN ('completed', 'partial', 'failed')",
        [id],
    )?;
    Ok(n == 1)
}

/// Jobs a user requested since `since`, and the authors they cover (the
/// reader's daily budgets).
pub fn requested_since(conn: &Connection, user: UserId, since: Time) -> AppResult<(i64, i64)> {
    Ok(conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(author_count), 0) FROM collection_jobs
          WHERE requested_by = ?1 AND created_at >= ?2",
        params![user, ts(since)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

#[allow(clippy::too_many_arguments)]
pub fn save_step(
    conn: &Connection,
    job: JobId,
    author_index: i64,
    provider: &str,
    researcher: Option<ResearcherId>,
    outcome: &str,
    detail: Option<&str>,
    attempts: i64,
    duration_ms: i64,
    now: Time,
) -> AppResult<()> {
    conn.execute(
        "INSERT INTO collection_steps (job_id, author_index, provider, researcher_id, outcome, detail, attempts, duration_ms, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (job_id, author_index, provider) DO UPDATE SET researcher_id = excluded.researcher_id,
             outcome = excluded.outcome, detail = excluded.detail, attempts = excluded.attempts,
             duration_ms = excluded.duration_ms, updated_at = excluded.updated_at",
        params![job, author_index, provider, researcher, outcome, detail, attempts, duration_ms, ts(now)],
    )?;
    Ok(())
}

pub fn steps(conn: &Connection, job: JobId) -> AppResult<Vec<StepRow>> {
    let rows = conn
        .prepare_cached(
            "SELECT author_index, provider, researcher_id, outcome, detail, attempts, duration_ms FROM collection_steps
             WHERE job_id = ?1 ORDER BY author_index,
               CASE provider WHEN 'identify' THEN 0 WHEN 'openalex' THEN 1 WHEN 'firecrawl' THEN 2
                             WHEN 'rocketreach' THEN 3 WHEN 'tavily' THEN 4 ELSE 5 END",
        )?
        .query_map([job], |r| {
            Ok(StepRow {
                author_index: r.get(0)?,
                provider: r.get(1)?,
                researcher_id: r.get(2)?,
                outcome: r.get(3)?,
                detail: r.get(4)?,
                attempts: r.get(5)?,
                duration_ms: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
