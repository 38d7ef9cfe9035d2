//! One author through the pipeline: identify (find or create the
//! researcher), OpenAlex, Firecrawl, RocketReach (only without an e-mail),
//! Tavily. Every step's outcome is saved as it finishes, so a job resumes
//! where it stopped and a failed step never loses the steps before it.

use std::collections::HashMap;
use std::time::Instant;

use super::calls::{self, Gate, Provider};
use super::screen::{self, Stop};
use super::steps::{firecrawl_step, openalex_step, rocketreach_step, tavily_step, StepEnd};
use crate::db::repos::{collection_jobs, researchers};
use crate::domain::researcher::{Field, FieldValue};
use crate::domain::{Email, JobId, PaperId, ResearcherId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// An author to collect, as the paper (or the request) names them.
#[derive(Debug, Clone)]
pub struct AuthorInput {
    pub index: i64,
    pub name: String,
    pub affiliation: Option<String>,
    pub orcid: Option<String>,
}

/// Saved outcomes of a job's steps: (author index, step) → outcome.
pub type DoneSteps = HashMap<(i64, String), (String, Option<ResearcherId>)>;

/// The outcomes that count as done on resume.
fn is_final(outcome: &str) -> bool {
    matches!(outcome, "ok" | "empty" | "skipped" | "not_needed")
}

/// What became of one author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorEnd {
    /// Collected into this profile, with this many failed steps.
    Collected(ResearcherId, usize),
    /// On the do-not-collect list: nothing was written but the step.
    Skipped,
    /// The do-not-collect list could not be checked (OpenAlex could not
    /// be asked): nothing was written; a retry screens again.
    Unchecked,
}

/// Runs the pipeline for one author.
pub async fn collect_author(
    state: &AppState,
    job: JobId,
    paper: Option<PaperId>,
    author: &AuthorInput,
    done: &DoneSteps,
) -> AppResult<AuthorEnd> {
    let mut researcher = match identify(state, job, paper, author, done).await? {
        Ok(id) => id,
        Err(Stop::Listed) => return Ok(AuthorEnd::Skipped),
        Err(Stop::Unchecked) => return Ok(AuthorEnd::Unchecked),
    };
    let mut failures = 0;
    for provider in Provider::ALL {
        if let Some((outcome, _)) = done.get(&(author.index, provider.as_str().to_string())) {
            if is_final(outcome) {
                continue;
            }
        }
        let start = Instant::now();
        let end = match gate_step(state, provider).await? {
            Some(end) => end,
            None => run_step(state, provider, researcher).await?,
        };
        if end.outcome == "failed" || end.outcome == "unavailable" {
            failures += 1;
        }
        let (id, listed) = save(
            state,
            job,
            author.index,
            provider.as_str(),
            researcher,
            end,
            start,
        )
        .await?;
        researcher = id;
        if listed {
            // The profile turned out to be someone on the do-not-collect
            // list: nothing more is looked up for it.
            break;
        }
    }
    let now = state.now();
    state
        .db
        .write(move |tx| {
            let id = researchers::resolve(tx, researcher)?.unwrap_or(researcher);
            researchers::mark_collected(tx, id, now)
        })
        .await?;
    Ok(AuthorEnd::Collected(researcher, failures))
}

/// Skips a step whose provider has no key, is unavailable or over budget.
async fn gate_step(state: &AppState, provider: Provider) -> AppResult<Option<StepEnd>> {
    Ok(match calls::gate(state, provider).await? {
        Gate::Open => None,
        Gate::NoKey => Some(StepEnd::new(
            "skipped",
            Some("no API key configured".to_string()),
        )),
        Gate::Unavailable(reason) => Some(StepEnd::new(
            "unavailable",
            Some(format!("provider unavailable: {reason}")),
        )),
        Gate::OverBudget(n) => Some(StepEnd::new(
            "unavailable",
            Some(format!("monthly budget of {n} credits is spent")),
        )),
    })
}

/// Finds or creates the researcher for this author, links them to the
/// paper, and saves the `identify` step. An author not linked to a
/// profile yet is screened against the do-not-collect list first.
async fn identify(
    state: &AppState,
    job: JobId,
    paper: Option<PaperId>,
    author: &AuthorInput,
    done: &DoneSteps,
) -> AppResult<Result<ResearcherId, Stop>> {
    if let Some((_, Some(id))) = done.get(&(author.index, "identify".to_string())) {
        let id = *id;
        if state.db.read(move |c| researchers::exists(c, id)).await? {
            return Ok(Ok(id));
        }
    }
    let index = author.index;
    let linked = match paper {
        Some(p) => {
            state
                .db
                .read(move |c| researchers::paper_link(c, p, index))
                .await?
        }
        None => None,
    };
    if linked.is_none() {
        if let Some(stop) = screen::before_identify(state, job, author).await? {
            return Ok(Err(stop));
        }
    }
    let a = author.clone();
    let now = state.now();
    state
        .db
        .write(move |tx| {
            let linked = match paper {
                Some(p) => researchers::paper_link(tx, p, a.index)?,
                None => None,
            };
            let by_orcid = match &a.orcid {
                Some(o) if linked.is_none() => researchers::find_by_identity(tx, Field::Orcid, o)?,
                _ => None,
            };
            let found = match linked.or(by_orcid) {
                Some(id) => Some(id),
                None => researchers::find_by_name(tx, &a.name, a.affiliation.as_deref())?,
            };
            let id = match found {
                Some(id) => id,
                None => researchers::insert(
                    tx,
                    &a.name,
                    a.affiliation.as_deref(),
                    a.orcid.as_deref(),
                    now,
                )?,
            };
            if let Some(p) = paper {
                researchers::link_paper(tx, p, a.index, id)?;
            }
            collection_jobs::save_step(
                tx,
                job,
                a.index,
                "identify",
                Some(id),
                "ok",
                None,
                1,
                0,
                now,
            )?;
            Ok(Ok(id))
        })
        .await
}

/// Writes a step's values (merging duplicates first) and its outcome in
/// one transaction; returns the researcher, which a merge may change, and
/// whether the values named someone on the do-not-collect list (then
/// none is written and the step is saved as skipped).
async fn save(
    state: &AppState,
    job: JobId,
    index: i64,
    step: &'static str,
    researcher: ResearcherId,
    end: StepEnd,
    start: Instant,
) -> AppResult<(ResearcherId, bool)> {
    let keys = state.keys.clone();
    let now = state.now();
    let ms = start.elapsed().as_millis() as i64;
    state
        .db
        .write(move |tx| {
            // Another author of the job may have merged this researcher
            // into theirs while this step ran: write to the one kept.
            let mut id = researchers::resolve(tx, researcher)?.ok_or(AppError::NotFound)?;
            if screen::names_listed(tx, &keys, &end.values)? {
                screen::skip_rest(tx, job, index, step, id, ms, now)?;
                return Ok((id, true));
            }
            let (outcome, detail) = (end.outcome, end.detail.clone());
            let mut values = Vec::with_capacity(end.values.len());
            for (field, value) in &end.values {
                let key = match (field, value) {
                    (Field::Orcid | Field::OpenalexId, FieldValue::Text(t)) => Some(t.clone()),
                    (Field::Email, FieldValue::Email { address, .. }) => Email::parse(address)
                        .ok()
                        .map(|e| researchers::email_index(&keys, &e)),
                    _ => None,
                };
                if let Some(key) = key {
                    match merge_duplicate(tx, &keys, id, *field, &key, now)? {
                        Duplicate::None => {}
                        Duplicate::Merged(kept) => id = kept,
                        // Left for an admin: the value stays where it is.
                        Duplicate::Held => continue,
                    }
                }
                values.push((*field, value.clone()));
            }
            if let Some(p) = &end.provenance {
                researchers::apply(tx, &keys, id, &values, p, now)?;
            }
            collection_jobs::save_step(
                tx,
                job,
                index,
                step,
                Some(id),
                outcome,
                detail.as_deref(),
                1,
                ms,
                now,
            )?;
            Ok((id, false))
        })
        .await
}

/// What a duplicate identity (same ORCID, OpenAlex id or e-mail) led to.
enum Duplicate {
    None,
    /// Merged; the id kept.
    Merged(ResearcherId),
    /// Both profiles have owners: an admin is asked, nothing is merged.
    Held,
}

/// Merges the profile holding `key` with `id`, keeping the claimed one
/// (else the older); two claimed profiles are never merged here.
fn merge_duplicate(
    tx: &rusqlite::Connection,
    keys: &crate::crypto::Keyring,
    id: ResearcherId,
    field: Field,
    key: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Duplicate> {
    let Some(other) = researchers::find_by_identity(tx, field, key)? else {
        return Ok(Duplicate::None);
    };
    if other == id {
        return Ok(Duplicate::None);
    }
    let reason = format!("same {}", field.as_str());
    let claimed = |r| -> AppResult<bool> { Ok(researchers::owner(tx, r)?.flatten().is_some()) };
    let (keep, drop) = match (claimed(other)?, claimed(id)?) {
        (true, true) => {
            if crate::db::repos::claims::add_merge_review(tx, other, id, &reason, now)? {
                tracing::info!(first = %other, second = %id, reason = field.as_str(), "two claimed profiles look alike; an admin is asked");
            }
            return Ok(Duplicate::Held);
        }
        (true, false) => (other, id),
        (false, true) => (id, other),
        (false, false) if other.0 < id.0 => (other, id),
        (false, false) => (id, other),
    };
    match researchers::merge(tx, keep, drop, &reason, now) {
        Ok(()) => {
            crate::db::encrypted_columns::reseal_merged(tx, keys, drop.into(), keep.into())?;
        }
        // Nothing was written: an admin decides.
        Err(researchers::MergeError::Blocked(_)) => {
            crate::db::repos::claims::add_merge_review(tx, keep, drop, &reason, now)?;
            return Ok(Duplicate::Held);
        }
        Err(researchers::MergeError::Failed(e)) => return Err(e),
    }
    crate::db::repos::audit::append(
        tx,
        keys,
        crate::db::repos::audit::NewEvent {
            actor: None,
            action: "researcher.merged",
            target: Some(format!("researcher:{keep}")),
            detail: serde_json::json!({"kept": keep, "merged": drop, "reason": reason, "by": "collection"}),
            ip: None,
        },
        now,
    )?;
    tracing::info!(kept = %keep, merged = %drop, reason = field.as_str(), "merged duplicate researchers");
    Ok(Duplicate::Merged(keep))
}

async fn run_step(state: &AppState, provider: Provider, id: ResearcherId) -> AppResult<StepEnd> {
    let keys = state.keys.clone();
    let r = state
        .db
        // A read is one snapshot, so a merge cannot land between the two.
        .read(move |c| match researchers::resolve(c, id)? {
            Some(id) => researchers::find(c, &keys, id),
            None => Ok(None),
        })
        .await?
        .ok_or(AppError::NotFound)?;
    let affiliation = r.affiliation.clone().unwrap_or_default();
    match provider {
        Provider::OpenAlex => openalex_step(state, &r).await,
        Provider::Firecrawl => {
            firecrawl_step(state, &r.name, &affiliation, r.homepage.as_deref()).await
        }
        Provider::RocketReach => {
            if r.email.is_some() {
                return Ok(StepEnd::new(
                    "not_needed",
                    Some("an e-mail is already known".to_string()),
                ));
            }
            rocketreach_step(state, &r.name, &affiliation).await
        }
        Provider::Tavily => tavily_step(state, &r.name, &affiliation).await,
    }
}
