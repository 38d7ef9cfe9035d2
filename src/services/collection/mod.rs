//! Researcher data collection: requests become durable jobs; the runner
//! takes every author through OpenAlex → Firecrawl → RocketReach → Tavily.

mod author_lookup;
pub mod calls;
mod jobs;
pub mod pipeline;
mod providers;
pub mod runner;
mod screen;
mod steps;

use std::net::IpAddr;

use serde_json::json;

use crate::db::repos::{audit, collection_jobs, papers, researchers};
use crate::domain::{text, CollectionStatus, JobId, PaperId};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::services::accounts::Principal;
use crate::state::AppState;

pub use calls::Provider;
pub use jobs::*;
pub use providers::*;

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
        (CollectRequest::Paper { .. }, Some(p)) => {
            p.authors.iter().filter(|a| !a.removed).count() as i64
        }
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
