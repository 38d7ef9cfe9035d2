//! Collection jobs as their requester and the admins see them: one job
//! with its steps, a paper's latest, the list, and retrying one.

use std::net::IpAddr;

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::db::repos::{audit, collection_jobs};
use crate::domain::{JobId, JobStatus, PaperId, ResearcherId};
use crate::error::{AppError, AppResult};
use crate::pagination::{Page, PageParams};
use crate::services::accounts::Principal;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StepView {
    /// 0-based author position (in the paper, or 0 for one person).
    pub author_index: i64,
    /// `identify`, `openalex`, `firecrawl`, `rocketreach` or `tavily`.
    pub provider: String,
    /// `ok`, `empty`, `not_needed`, `skipped`, `unavailable` or `failed`.
    pub outcome: String,
    pub detail: Option<String>,
    pub researcher_id: Option<ResearcherId>,
    pub duration_ms: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    pub id: JobId,
    /// `paper` or `person`.
    pub kind: String,
    pub status: JobStatus,
    pub paper_id: Option<PaperId>,
    pub name: Option<String>,
    pub affiliation: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub steps: Vec<StepView>,
    pub researcher_ids: Vec<ResearcherId>,
}

/// A job with its steps: for admins and the user who asked for it.
pub async fn job(state: &AppState, who: &Principal, id: JobId) -> AppResult<JobView> {
    let view = job_view(state, id).await?;
    let owner = state
        .db
        .read(move |c| collection_jobs::find(c, id))
        .await?
        .and_then(|j| j.requested_by);
    if !who.is_admin() && owner != Some(who.user_id) {
        return Err(AppError::NotFound);
    }
    Ok(view)
}

pub async fn job_view(state: &AppState, id: JobId) -> AppResult<JobView> {
    let (job, steps) = state
        .db
        .read(move |c| {
            Ok((
                collection_jobs::find(c, id)?,
                collection_jobs::steps(c, id)?,
            ))
        })
        .await?;
    let job = job.ok_or(AppError::NotFound)?;
    // Steps are in pipeline order, so the last one of each author names
    // their researcher after any merge.
    let mut by_author = std::collections::BTreeMap::new();
    for s in &steps {
        if let Some(r) = s.researcher_id {
            by_author.insert(s.author_index, r);
        }
    }
    let mut researcher_ids: Vec<ResearcherId> = Vec::new();
    for r in by_author.into_values() {
        if !researcher_ids.contains(&r) {
            researcher_ids.push(r);
        }
    }
    Ok(JobView {
        id: job.id,
        kind: job.kind,
        status: job.status,
        paper_id: job.paper_id,
        name: job.name,
        affiliation: job.affiliation,
        error: job.error,
        created_at: job.created_at,
        started_at: job.started_at,
        finished_at: job.finished_at,
        steps: steps
            .into_iter()
            .map(|s| StepView {
                author_index: s.author_index,
                provider: s.provider,
                outcome: s.outcome,
                detail: s.detail,
                researcher_id: s.researcher_id,
                duration_ms: s.duration_ms,
            })
            .collect(),
        researcher_ids,
    })
}

/// The latest collection job of a paper (for the paper page's progress).
pub async fn latest_for_paper(state: &AppState, paper: PaperId) -> AppResult<Option<JobView>> {
    let job = state
        .db
        .read(move |c| collection_jobs::latest_for_paper(c, paper))
        .await?;
    match job {
        Some(j) => Ok(Some(job_view(state, j.id).await?)),
        None => Ok(None),
    }
}

/// Jobs, newest first (admins); `status` as given in the query string.
pub async fn list_jobs(
    state: &AppState,
    who: &Principal,
    status: Option<String>,
    page: &PageParams,
) -> AppResult<Page<JobView>> {
    who.require_admin()?;
    let limit = page.limit()?;
    let before = page.after_id()?;
    // A value that is no status matches no job (an empty page, not an error).
    let Ok(status) = status.as_deref().map(str::parse::<JobStatus>).transpose() else {
        return Ok(Page::empty());
    };
    let rows = state
        .db
        .read(move |c| collection_jobs::list(c, status, before, limit + 1))
        .await?;
    let mut views = Vec::with_capacity(rows.len());
    for r in rows {
        views.push(job_view(state, r.id).await?);
    }
    Ok(Page::from_rows(views, limit, |j| j.id))
}

/// Queues a finished job again; its failed steps run again (admins).
pub async fn retry(
    state: &AppState,
    who: &Principal,
    id: JobId,
    ip: Option<IpAddr>,
) -> AppResult<JobView> {
    who.require_admin()?;
    let (keys, now, actor) = (state.keys.clone(), state.now(), who.user_id);
    let retried = state
        .db
        .write(move |tx| {
            if collection_jobs::find(tx, id)?.is_none() {
                return Err(AppError::NotFound);
            }
            let ok = collection_jobs::retry(tx, id)?;
            if ok {
                let ev = audit::NewEvent {
                    actor: Some(actor),
                    action: "collection.retried",
                    target: Some(format!("job:{id}")),
                    detail: json!({}),
                    ip,
                };
                audit::append(tx, &keys, ev, now)?;
            }
            Ok(ok)
        })
        .await?;
    if !retried {
        return Err(AppError::conflict(
            "job_not_finished",
            "Only a finished job can be retried.",
        ));
    }
    state.collection_wake.notify_one();
    job_view(state, id).await
}
