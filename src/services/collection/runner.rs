//! Runs queued collection jobs: claims them in order, collects their
//! authors in parallel (bounded across all jobs), saves every step, and
//! finishes each job as `completed`, `partial` or `failed`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

use super::pipeline::{self, AuthorEnd, AuthorInput, DoneSteps};
use crate::db::repos::{collection_jobs, papers};
use crate::domain::{CollectionStatus, JobId, JobStatus, PaperId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Shared by all jobs of a process: how many authors run at once, and
/// whether a run is already draining the queue.
pub struct RunnerState {
    pub authors: Arc<Semaphore>,
    busy: AtomicBool,
}

impl RunnerState {
    pub fn new(max_parallel_authors: usize) -> Self {
        Self {
            authors: Arc::new(Semaphore::new(max_parallel_authors.max(1))),
            busy: AtomicBool::new(false),
        }
    }
}

/// Puts jobs interrupted by a stop back in the queue (called at start).
pub async fn recover(state: &AppState) -> AppResult<usize> {
    let n = state
        .db
        .write(|tx| collection_jobs::requeue_interrupted(tx))
        .await?;
    if n > 0 {
        tracing::info!(
            jobs = n,
            "resuming collection jobs interrupted by a restart"
        );
    }
    Ok(n)
}

/// Runs every queued job to its end; returns how many ran. A call while
/// another is draining the queue returns at once.
pub async fn run_due(state: &AppState) -> AppResult<usize> {
    let runner = &state.collection_runner;
    if runner.busy.swap(true, Ordering::AcqRel) {
        return Ok(0);
    }
    let result = drain(state).await;
    runner.busy.store(false, Ordering::Release);
    result
}

async fn drain(state: &AppState) -> AppResult<usize> {
    let mut ran = 0;
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let now = state.now();
        let next = state
            .db
            .write(move |tx| collection_jobs::claim_next(tx, now))
            .await?;
        match next {
            Some(id) => {
                let st = state.clone();
                tasks.spawn(async move { (id, run_job(&st, id).await) });
                ran += 1;
            }
            None => {
                // Wait for running jobs; they may be followed by new ones.
                match tasks.join_next().await {
                    Some(Ok((id, Err(e)))) => {
                        tracing::error!(job_id = %id, error = %e, "collection job failed to run");
                        fail_job(state, id).await;
                    }
                    Some(_) => {}
                    None => break,
                }
            }
        }
    }
    Ok(ran)
}

/// Ends a job that could not run, so it does not stay `running` (and keep
/// its de-duplication key) until the next restart.
async fn fail_job(state: &AppState, id: JobId) {
    let now = state.now();
    let message = "the job stopped on an internal error; it is in the server log".to_string();
    let result = state
        .db
        .write(move |tx| collection_jobs::finish(tx, id, JobStatus::Failed, Some(&message), now))
        .await;
    if let Err(e) = result {
        tracing::error!(job_id = %id, error = %e, "could not mark the job failed");
    }
}

/// Runs one claimed job: every author through the pipeline, then the
/// job's final status. Steps already saved (a resumed job) are skipped.
pub async fn run_job(state: &AppState, id: JobId) -> AppResult<JobStatus> {
    let started = Instant::now();
    let job = state
        .db
        .read(move |c| collection_jobs::find(c, id))
        .await?
        .ok_or(AppError::NotFound)?;
    let (authors, link_paper) = authors_of(state, &job).await?;
    // Only a paper job speaks for the whole paper's collection status.
    let paper_job = if job.kind == "paper" {
        job.paper_id
    } else {
        None
    };
    let done: DoneSteps = state
        .db
        .read(move |c| collection_jobs::steps(c, id))
        .await?
        .into_iter()
        .map(|s| ((s.author_index, s.provider), (s.outcome, s.researcher_id)))
        .collect();
    if let Some(paper) = paper_job {
        set_paper_status(state, paper, CollectionStatus::Running, false).await?;
    }
    let done = Arc::new(done);
    let mut tasks = tokio::task::JoinSet::new();
    for author in authors.clone() {
        let (st, done, permits) = (
            state.clone(),
            done.clone(),
            state.collection_runner.authors.clone(),
        );
        let paper = link_paper;
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            pipeline::collect_author(&st, id, paper, &author, &done).await
        });
    }
    let (mut researchers, mut failed_steps, mut errors) = (Vec::new(), 0usize, Vec::new());
    // Authors on the do-not-collect list, and those it could not be checked for.
    let (mut skipped, mut unchecked) = (0usize, 0usize);
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(AuthorEnd::Collected(rid, failures))) => {
                researchers.push(rid);
                failed_steps += failures;
            }
            Ok(Ok(AuthorEnd::Skipped)) => skipped += 1,
            Ok(Ok(AuthorEnd::Unchecked)) => {
                unchecked += 1;
                failed_steps += 1;
            }
            Ok(Err(e)) => {
                tracing::error!(job_id = %id, error = %e, "an author could not be collected");
                errors.push(e);
            }
            Err(e) => tracing::error!(job_id = %id, error = %e, "an author's task stopped"),
        }
    }
    let stopped = authors.len() - researchers.len() - skipped - unchecked;
    let status = if researchers.is_empty() && skipped == 0 && !authors.is_empty() {
        JobStatus::Failed
    } else if failed_steps > 0 || stopped > 0 {
        JobStatus::Partial
    } else {
        JobStatus::Completed
    };
    // Details stay in the log: the requester sees the job, not internals.
    let error = (stopped > 0).then(|| {
        format!(
            "{stopped} of {} authors could not be collected",
            authors.len()
        )
    });
    let now = state.now();
    state
        .db
        .write(move |tx| collection_jobs::finish(tx, id, status, error.as_deref(), now))
        .await?;
    if let Some(paper) = paper_job {
        set_paper_status(state, paper, status.into(), true).await?;
    }
    tracing::info!(
        job_id = %id,
        status = status.as_str(),
        authors = authors.len(),
        researchers = researchers.len(),
        skipped,
        failed_steps,
        duration_ms = started.elapsed().as_millis() as u64,
        "collection job finished"
    );
    Ok(status)
}

/// The authors a job collects, and the paper to link them to (a person job
/// is linked only when their name matches one of the paper's authors).
async fn authors_of(
    state: &AppState,
    job: &collection_jobs::JobRow,
) -> AppResult<(Vec<AuthorInput>, Option<PaperId>)> {
    match (job.kind.as_str(), job.paper_id) {
        ("paper", Some(paper)) => {
            let row = state
                .db
                .read(move |c| papers::find(c, paper))
                .await?
                .ok_or(AppError::NotFound)?;
            // An author removed at their request is never collected again.
            let authors = row
                .authors
                .into_iter()
                .filter(|a| !a.removed)
                .map(|a| AuthorInput {
                    index: a.position,
                    name: a.name,
                    affiliation: a.affiliation,
                    orcid: a.orcid,
                })
                .collect();
            Ok((authors, Some(paper)))
        }
        _ => {
            // A person job: one author. With a paper, link them at the
            // matching author position when the name matches one.
            // A job whose person was erased at their request has no name.
            let Some(name) = job.name.clone().filter(|n| !n.is_empty()) else {
                return Ok((Vec::new(), None));
            };
            let (mut index, mut linked) = (0, None);
            if let Some(paper) = job.paper_id {
                if let Some(row) = state.db.read(move |c| papers::find(c, paper)).await? {
                    if let Some(a) = row
                        .authors
                        .iter()
                        .find(|a| !a.removed && a.name.eq_ignore_ascii_case(&name))
                    {
                        (index, linked) = (a.position, Some(paper));
                    }
                }
            }
            let author = AuthorInput {
                index,
                name,
                affiliation: job.affiliation.clone(),
                orcid: None,
            };
            Ok((vec![author], linked))
        }
    }
}

async fn set_paper_status(
    state: &AppState,
    paper: PaperId,
    status: CollectionStatus,
    finished: bool,
) -> AppResult<()> {
    let now = state.now();
    state
        .db
        .write(move |tx| papers::set_collection_status(tx, paper, status, finished.then_some(now)))
        .await?;
    state.cache.papers.invalidate(&paper).await;
    Ok(())
}

/// Waits for wake-ups (a job was queued) and drains the queue each time.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_due(&state).await {
                tracing::error!(error = %e, "collection runner failed");
            }
            state.collection_wake.notified().await;
        }
    })
}
