//! Researcher data collection: requests become durable jobs; the runner
//! takes every author through OpenAlex → Firecrawl → RocketReach → Tavily.

pub mod calls;
pub mod pipeline;
pub mod runner;
mod steps;

use std::net::IpAddr;

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::db::repos::{audit, collection_jobs, papers, provider_calls, researchers};
use crate::domain::{text, CollectionStatus, JobId, JobStatus, PaperId, ResearcherId};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::pagination::{Page, PageParams};
use crate::services::accounts::Principal;
use crate::state::AppState;

pub use calls::Provider;

/// What to collect.
#[derive(Debug, Clone)]
pub enum CollectRequest {
    /// Every author of a paper.
    Paper { paper_id: PaperId },
    /// One person, optionally in the context of a paper.
    Person {
        name: String,
        affiliation: String,
        paper_id: Option<PaperId>,
    },
}

/// The answer to a collection request.
#[derive(Debug, Clone, Copy)]
pub struct Queued {
    pub job_id: JobId,
    /// False when an identical job was already queued or running.
    pub created: bool,
}

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

fn validate(req: &CollectRequest) -> AppResult<CollectRequest> {
    match req {
        CollectRequest::Paper { .. } => Ok(req.clone()),
        CollectRequest::Person {
            name,
            affiliation,
            paper_id,
        } => {
            let mut errs = FieldErrors::new();
            let name = errs.check("name", text::line(name, 200));
            let affiliation = errs.check("affiliation", text::line(affiliation, 300));
            errs.into_result()?;
            Ok(CollectRequest::Person {
                name: name.unwrap_or_default(),
                affiliation: affiliation.unwrap_or_default(),
                paper_id: *paper_id,
            })
        }
    }
}

fn dedupe_key(req: &CollectRequest) -> String {
    match req {
        CollectRequest::Paper { paper_id } => format!("paper:{paper_id}"),
        CollectRequest::Person {
            name,
            affiliation,
            paper_id,
        } => {
            format!(
                "person:{}|{}|{}",
                name.to_lowercase(),
                affiliation.to_lowercase(),
                paper_id.map_or(0, |p| p.0)
            )
        }
    }
}

/// Queues a collection job, or returns the identical job already queued or
/// running. Readers may only ask for papers not collected yet, within
/// their daily budget; admins may collect anything.
pub async fn request(
    state: &AppState,
    who: &Principal,
    req: CollectRequest,
    ip: Option<IpAddr>,
) -> AppResult<Queued> {
    crate::services::accounts::require_verified(state, who).await?;
    let req = validate(&req)?;
    let paper_id = match &req {
        CollectRequest::Paper { paper_id } => Some(*paper_id),
        CollectRequest::Person { paper_id, .. } => *paper_id,
    };
    if !who.is_admin() && matches!(req, CollectRequest::Person { .. }) {
        return Err(AppError::Forbidden);
    }
    let key = dedupe_key(&req);
    let k = key.clone();
    let paper = match paper_id {
        Some(p) => Some(
            state
                .db
                .read(move |c| papers::find(c, p))
                .await?
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    if let Some(existing) = state
        .db
        .read(move |c| collection_jobs::active_for(c, &k))
        .await?
    {
        return Ok(Queued {
            job_id: existing,
            created: false,
        });
    }
    let author_count = match (&req, &paper) {
        (CollectRequest::Paper { .. }, Some(p)) => p.authors.len() as i64,
        _ => 1,
    };
    if !who.is_admin() {
        let status = paper
            .as_ref()
            .map_or(CollectionStatus::NotCollected, |p| p.collection_status);
        if !matches!(
            status,
            CollectionStatus::NotCollected | CollectionStatus::Failed
        ) {
            return Err(AppError::conflict(
                "already_collected",
                "This paper's authors have been collected already.",
            ));
        }
        let (user, since) = (who.user_id, state.now() - chrono::Duration::days(1));
        let (jobs, authors) = state
            .db
            .read(move |c| collection_jobs::requested_since(c, user, since))
            .await?;
        if jobs >= i64::from(state.config.collection.reader_daily_jobs) {
            return Err(AppError::RateLimited {
                retry_after_secs: 3600,
            });
        }
        // Paid calls scale with authors, not jobs: a paper with more
        // authors than the reader has left is refused before any call.
        let limit = i64::from(state.config.collection.reader_daily_authors);
        if authors + author_count > limit {
            return Err(AppError::OverQuota {
                code: "quota_exceeded",
                message: format!(
                    "This paper has {author_count} authors; you may have {} more collected today (of {limit} a day). Ask an admin to collect it.",
                    (limit - authors).max(0)
                ),
                retry_after_secs: 3600,
            });
        }
    }
    let (keys, now, actor) = (state.keys.clone(), state.now(), who.user_id);
    let queued = state
        .db
        .write(move |tx| {
            if let Some(existing) = collection_jobs::active_for(tx, &key)? {
                return Ok(Queued {
                    job_id: existing,
                    created: false,
                });
            }
            let (kind, name, affiliation) = match &req {
                CollectRequest::Paper { .. } => ("paper", None, None),
                CollectRequest::Person {
                    name, affiliation, ..
                } => ("person", Some(name.as_str()), Some(affiliation.as_str())),
            };
            let job = collection_jobs::NewJob {
                kind,
                paper_id,
                name,
                affiliation,
                dedupe_key: &key,
                requested_by: Some(actor),
                author_count,
            };
            let id = collection_jobs::insert(tx, &job, now)?;
            if let (Some(p), "paper") = (paper_id, kind) {
                papers::set_collection_status(tx, p, CollectionStatus::Queued, None)?;
            }
            let ev = audit::NewEvent {
                actor: Some(actor),
                action: "collection.requested",
                target: Some(format!("job:{id}")),
                detail: json!({"kind": kind, "paper_id": paper_id}),
                ip,
            };
            audit::append(tx, &keys, ev, now)?;
            Ok(Queued {
                job_id: id,
                created: true,
            })
        })
        .await?;
    if let Some(p) = paper_id {
        state.cache.papers.invalidate(&p).await;
    }
    if queued.created {
        tracing::info!(job_id = %queued.job_id, "collection job queued");
        state.collection_wake.notify_one();
    }
    Ok(queued)
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

/// Queues a refresh for profiles collected more than
/// `collection.refresh_after_days` ago; returns how many were queued.
pub async fn refresh_stale(
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<usize> {
    let cfg = &state.config.collection;
    let cutoff = now - chrono::Duration::days(i64::from(cfg.refresh_after_days));
    let limit = cfg.refresh_batch as usize;
    let stale = state
        .db
        .read(move |c| researchers::stale(c, cutoff, limit))
        .await?;
    let mut queued = 0;
    for (id, name, affiliation) in stale {
        let key = format!("refresh:{id}");
        let created = state
            .db
            .write(move |tx| {
                if collection_jobs::active_for(tx, &key)?.is_some() {
                    return Ok(false);
                }
                let job = collection_jobs::NewJob {
                    kind: "person",
                    paper_id: None,
                    name: Some(&name),
                    affiliation: affiliation.as_deref(),
                    dedupe_key: &key,
                    requested_by: None,
                    author_count: 1,
                };
                collection_jobs::insert(tx, &job, now)?;
                Ok(true)
            })
            .await?;
        queued += usize::from(created);
    }
    if queued > 0 {
        tracing::info!(queued, "stale researcher profiles queued for a refresh");
        state.collection_wake.notify_one();
    }
    Ok(queued)
}

/// A provider's state, for the admin page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderView {
    pub name: String,
    /// Paid providers need an API key; OpenAlex does not.
    pub configured: bool,
    pub available: bool,
    pub unavailable_reason: Option<String>,
    pub unavailable_since: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    /// Paid calls this calendar month (UTC).
    pub credits_used_this_month: i64,
    /// 0 means no limit.
    pub monthly_credit_budget: u32,
    /// Calls this month by outcome (`ok`, `cached`, `error`, `not_found`).
    pub calls_this_month: std::collections::BTreeMap<String, i64>,
}

pub async fn providers(state: &AppState, who: &Principal) -> AppResult<Vec<ProviderView>> {
    who.require_admin()?;
    let since = calls::month_start(state.now());
    let mut out = Vec::new();
    for p in Provider::ALL {
        let name = p.as_str();
        let (status, used, counts) = state
            .db
            .read(move |c| {
                Ok((
                    provider_calls::status(c, name)?,
                    provider_calls::paid_since(c, name, since)?,
                    provider_calls::counts_since(c, name, since)?,
                ))
            })
            .await?;
        let same_key = status.key_fingerprint.as_deref() == Some(p.key_fingerprint(state).as_str());
        let unavailable = status.unavailable_reason.is_some() && same_key;
        let budget = p.monthly_budget(state);
        let spent = budget > 0 && used >= i64::from(budget);
        out.push(ProviderView {
            name: name.into(),
            configured: p.configured(state),
            available: p.configured(state) && !unavailable && !spent,
            unavailable_reason: if unavailable {
                status.unavailable_reason
            } else {
                None
            },
            unavailable_since: if unavailable {
                status.unavailable_since
            } else {
                None
            },
            last_error: status.last_error,
            last_error_at: status.last_error_at,
            credits_used_this_month: used,
            monthly_credit_budget: p.monthly_budget(state),
            calls_this_month: counts.into_iter().collect(),
        });
    }
    Ok(out)
}

/// Makes a provider marked unavailable usable again (admins).
pub async fn enable_provider(
    state: &AppState,
    who: &Principal,
    name: &str,
    ip: Option<IpAddr>,
) -> AppResult<()> {
    who.require_admin()?;
    let provider = Provider::parse(name).ok_or(AppError::NotFound)?;
    let (keys, now, actor) = (state.keys.clone(), state.now(), who.user_id);
    let name = provider.as_str();
    state
        .db
        .write(move |tx| {
            provider_calls::clear_unavailable(tx, name)?;
            let ev = audit::NewEvent {
                actor: Some(actor),
                action: "provider.enabled",
                target: Some(format!("provider:{name}")),
                detail: json!({}),
                ip,
            };
            audit::append(tx, &keys, ev, now)?;
            Ok(())
        })
        .await
}
