//! One author through the pipeline: identify (find or create the
//! researcher), OpenAlex, Firecrawl, RocketReach (only without an e-mail),
//! Tavily. Every step's outcome is saved as it finishes, so a job resumes
//! where it stopped and a failed step never loses the steps before it.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::json;

use super::calls::{self, Called, Gate, Provider};
use crate::db::repos::{collection_jobs, researchers};
use crate::domain::researcher::{Field, FieldValue, Provenance};
use crate::domain::{Email, JobId, PaperId, ResearcherId};
use crate::error::{AppError, AppResult};
use crate::providers::openalex::Author;
use crate::providers::ProviderError;
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

/// What one step ended with.
struct StepEnd {
    outcome: &'static str,
    detail: Option<String>,
    values: Vec<(Field, FieldValue)>,
    provenance: Option<Provenance>,
}

impl StepEnd {
    fn new(outcome: &'static str, detail: impl Into<Option<String>>) -> Self {
        Self {
            outcome,
            detail: detail.into(),
            values: Vec::new(),
            provenance: None,
        }
    }

    fn ok(
        values: Vec<(Field, FieldValue)>,
        provider: &str,
        url: Option<String>,
        cached: bool,
    ) -> Self {
        let outcome = if values.iter().all(|(_, v)| v.is_empty()) {
            "empty"
        } else {
            "ok"
        };
        Self {
            outcome,
            detail: cached.then(|| "answered from cache".to_string()),
            values,
            provenance: Some(Provenance {
                provider: provider.into(),
                source_url: url,
            }),
        }
    }

    fn from_error(e: &ProviderError) -> Self {
        match e {
            ProviderError::NotFound { .. } => Self::new("empty", Some("no match".to_string())),
            ProviderError::BudgetSpent { .. } => Self::new("unavailable", Some(e.to_string())),
            other => Self::new("failed", Some(other.to_string())),
        }
    }
}

/// The outcomes that count as done on resume.
fn is_final(outcome: &str) -> bool {
    matches!(outcome, "ok" | "empty" | "skipped" | "not_needed")
}

/// Runs the pipeline for one author; returns the researcher and how many
/// steps failed.
pub async fn collect_author(
    state: &AppState,
    job: JobId,
    paper: Option<PaperId>,
    author: &AuthorInput,
    done: &DoneSteps,
) -> AppResult<(ResearcherId, usize)> {
    let mut researcher = identify(state, job, paper, author, done).await?;
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
        researcher = save(
            state,
            job,
            author.index,
            provider.as_str(),
            researcher,
            end,
            start,
        )
        .await?;
    }
    let now = state.now();
    state
        .db
        .write(move |tx| {
            let id = researchers::resolve(tx, researcher)?.unwrap_or(researcher);
            researchers::mark_collected(tx, id, now)
        })
        .await?;
    Ok((researcher, failures))
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
/// paper, and saves the `identify` step.
async fn identify(
    state: &AppState,
    job: JobId,
    paper: Option<PaperId>,
    author: &AuthorInput,
    done: &DoneSteps,
) -> AppResult<ResearcherId> {
    if let Some((_, Some(id))) = done.get(&(author.index, "identify".to_string())) {
        let id = *id;
        if state.db.read(move |c| researchers::exists(c, id)).await? {
            return Ok(id);
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
            Ok(id)
        })
        .await
}

/// Writes a step's values (merging duplicates first) and its outcome in
/// one transaction; returns the researcher, which a merge may change.
async fn save(
    state: &AppState,
    job: JobId,
    index: i64,
    step: &'static str,
    researcher: ResearcherId,
    end: StepEnd,
    start: Instant,
) -> AppResult<ResearcherId> {
    let keys = state.keys.clone();
    let now = state.now();
    let ms = start.elapsed().as_millis() as i64;
    let (outcome, detail) = (end.outcome, end.detail.clone());
    let id = state
        .db
        .write(move |tx| {
            // Another author of the job may have merged this researcher
            // into theirs while this step ran: write to the one kept.
            let mut id = researchers::resolve(tx, researcher)?.ok_or(AppError::NotFound)?;
            for (field, value) in &end.values {
                let key = match (field, value) {
                    (Field::Orcid | Field::OpenalexId, FieldValue::Text(t)) => Some(t.clone()),
                    (Field::Email, FieldValue::Email { address, .. }) => {
                        Email::parse(address).ok().map(|e| researchers::email_index(&keys, &e))
                    }
                    _ => None,
                };
                let Some(key) = key else { continue };
                if let Some(other) = researchers::find_by_identity(tx, *field, &key)? {
                    if other != id {
                        let (keep, drop) = if other.0 < id.0 { (other, id) } else { (id, other) };
                        researchers::merge(tx, keep, drop, &format!("same {}", field.as_str()), now)?;
                        tracing::info!(kept = %keep, merged = %drop, reason = field.as_str(), "merged duplicate researchers");
                        id = keep;
                    }
                }
            }
            if let Some(p) = &end.provenance {
                researchers::apply(tx, &keys, id, &end.values, p, now)?;
            }
            collection_jobs::save_step(tx, job, index, step, Some(id), outcome, detail.as_deref(), 1, ms, now)?;
            Ok(id)
        })
        .await?;
    Ok(id)
}

async fn run_step(state: &AppState, provider: Provider, id: ResearcherId) -> AppResult<StepEnd> {
    let keys = state.keys.clone();
    let r = state
        .db
        .read(move |c| {
            // One snapshot, so a merge cannot land between the two reads.
            let tx = c.unchecked_transaction()?;
            match researchers::resolve(&tx, id)? {
                Some(id) => researchers::find(&tx, &keys, id),
                None => Ok(None),
            }
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

/// Word overlap between two affiliation strings, for picking the right
/// person among namesakes.
fn affinity(a: &str, b: &str) -> usize {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(str::to_lowercase)
            .collect()
    };
    let (wa, wb) = (words(a), words(b));
    wa.iter().filter(|w| wb.contains(w)).count()
}

async fn openalex_step(state: &AppState, r: &researchers::ResearcherRow) -> AppResult<StepEnd> {
    let client = &state.providers.openalex;
    let affiliation = r.affiliation.clone().unwrap_or_default();
    let found: Result<Called<Option<Author>>, ProviderError> = match (&r.openalex_id, &r.orcid) {
        (Some(id), _) => {
            calls::call(
                state,
                Provider::OpenAlex,
                "author",
                id.clone(),
                false,
                || async { client.author(id).await.map(Some) },
            )
            .await?
        }
        (None, Some(orcid)) => {
            let key = format!("orcid:{orcid}");
            calls::call(
                state,
                Provider::OpenAlex,
                "author",
                key.clone(),
                false,
                || async { client.author(&key).await.map(Some) },
            )
            .await?
        }
        (None, None) => {
            let name = r.name.clone();
            calls::call(
                state,
                Provider::OpenAlex,
                "search",
                // The best hit depends on the affiliation, so it is part of the key.
                format!("{}|{}", name.to_lowercase(), affiliation.to_lowercase()),
                false,
                || async {
                    let hits = client.search_authors(&name).await?;
                    let best = hits
                        .into_iter()
                        .enumerate()
                        .max_by_key(|(i, a)| {
                            (
                                affinity(a.institution.as_deref().unwrap_or(""), &affiliation),
                                usize::MAX - i,
                            )
                        })
                        .map(|(_, a)| a);
                    Ok(best)
                },
            )
            .await?
        }
    };
    let (author, cached) = match found {
        Ok(Called {
            value: Some(a),
            cached,
        }) => {
            // Later runs look the author up by id: answer those from the
            // cache too.
            if let Ok(json) = serde_json::to_value(Some(&a)) {
                let key = format!("openalex:author:{}", a.id);
                state
                    .provider_cache
                    .0
                    .insert(key, std::sync::Arc::new(json))
                    .await;
            }
            (a, cached)
        }
        Ok(Called { value: None, .. }) => {
            return Ok(StepEnd::new(
                "empty",
                Some("no matching author".to_string()),
            ))
        }
        Err(e) => return Ok(StepEnd::from_error(&e)),
    };
    let works = calls::call(
        state,
        Provider::OpenAlex,
        "works",
        author.id.clone(),
        false,
        || async { client.recent_works(&author.id).await },
    )
    .await?;
    let mut detail = None;
    let works = match works {
        Ok(w) => w.value,
        Err(e) => {
            detail = Some(format!("recent works not loaded: {e}"));
            Vec::new()
        }
    };
    let values = vec![
        (Field::OpenalexId, FieldValue::Text(author.id.clone())),
        (
            Field::Orcid,
            FieldValue::text(author.orcid.clone()).unwrap_or(FieldValue::Text(String::new())),
        ),
        (
            Field::Affiliation,
            FieldValue::text(author.institution.clone()).unwrap_or(FieldValue::Text(String::new())),
        ),
        (
            Field::Homepage,
            FieldValue::text(author.homepage.clone()).unwrap_or(FieldValue::Text(String::new())),
        ),
        (
            Field::WorksCount,
            author
                .works_count
                .map_or(FieldValue::Text(String::new()), FieldValue::Int),
        ),
        (
            Field::CitedByCount,
            author
                .cited_by_count
                .map_or(FieldValue::Text(String::new()), FieldValue::Int),
        ),
        (
            Field::HIndex,
            author
                .h_index
                .map_or(FieldValue::Text(String::new()), FieldValue::Int),
        ),
        (Field::Topics, FieldValue::Json(json!(author.topics))),
        (Field::RecentWorks, FieldValue::Json(json!(works))),
    ];
    let mut end = StepEnd::ok(
        values,
        "openalex",
        Some(format!("https://openalex.org/{}", author.id)),
        cached,
    );
    if detail.is_some() {
        end.detail = detail;
    }
    Ok(end)
}

async fn firecrawl_step(
    state: &AppState,
    name: &str,
    affiliation: &str,
    homepage: Option<&str>,
) -> AppResult<StepEnd> {
    let Some(client) = &state.providers.firecrawl else {
        return Ok(StepEnd::new(
            "skipped",
            Some("no API key configured".to_string()),
        ));
    };
    // One cache entry per person, however the page was reached, so a
    // repeat within the TTL never pays again.
    let key = format!("{}|{}", name.to_lowercase(), affiliation.to_lowercase());
    let result = calls::call(state, Provider::Firecrawl, "profile", key, true, || async {
        match homepage {
            Some(url) => client.scrape_profile(url).await.map(Some),
            None => client.find_profile(name, affiliation).await,
        }
    })
    .await?;
    let (page, cached) = match result {
        Ok(Called {
            value: Some(p),
            cached,
        }) => (p, cached),
        Ok(Called { value: None, .. }) => {
            return Ok(StepEnd::new(
                "empty",
                Some("no profile page found".to_string()),
            ))
        }
        Err(e) => return Ok(StepEnd::from_error(&e)),
    };
    let email = page.email.as_deref().and_then(|e| Email::parse(e).ok());
    let values = vec![
        (
            Field::Bio,
            FieldValue::text(page.bio.clone()).unwrap_or(FieldValue::Text(String::new())),
        ),
        (
            Field::Publications,
            FieldValue::Json(json!(page.publications)),
        ),
        (
            Field::Email,
            FieldValue::Email {
                address: email.map(|e| e.as_str().to_string()).unwrap_or_default(),
                quality: Some("shown on the profile page".into()),
            },
        ),
        (
            Field::Homepage,
            FieldValue::text(page.url.clone()).unwrap_or(FieldValue::Text(String::new())),
        ),
    ];
    Ok(StepEnd::ok(values, "firecrawl", page.url.clone(), cached))
}

async fn rocketreach_step(state: &AppState, name: &str, affiliation: &str) -> AppResult<StepEnd> {
    let Some(client) = &state.providers.rocketreach else {
        return Ok(StepEnd::new(
            "skipped",
            Some("no API key configured".to_string()),
        ));
    };
    let key = format!("{}|{}", name.to_lowercase(), affiliation.to_lowercase());
    let cfg = &state.config.collection;
    let wait = std::time::Duration::from_secs(cfg.rocketreach_max_wait_secs);
    let interval = std::time::Duration::from_millis(cfg.rocketreach_poll_interval_ms);
    let result = calls::call(
        state,
        Provider::RocketReach,
        "lookup",
        key,
        true,
        || async {
            let started = Instant::now();
            let mut lookup = client.lookup(name, affiliation).await?;
            while !lookup.is_complete() && !lookup.has_failed() {
                if started.elapsed() + interval > wait {
                    return Err(ProviderError::StillSearching {
                        provider: "RocketReach",
                        waited_secs: wait.as_secs(),
                    });
                }
                tokio::time::sleep(interval).await;
                lookup = client.check_status(lookup.id).await?;
            }
            if lookup.has_failed() {
                return Err(ProviderError::NotFound {
                    provider: "RocketReach",
                });
            }
            Ok(lookup)
        },
    )
    .await?;
    let (lookup, cached) = match result {
        Ok(c) => (c.value, c.cached),
        Err(e) => return Ok(StepEnd::from_error(&e)),
    };
    let Some(found) = lookup.email else {
        return Ok(StepEnd::new(
            "empty",
            Some("no professional e-mail".to_string()),
        ));
    };
    let values = vec![(
        Field::Email,
        FieldValue::Email {
            address: found.address,
            quality: Some(found.quality),
        },
    )];
    Ok(StepEnd::ok(values, "rocketreach", None, cached))
}

async fn tavily_step(state: &AppState, name: &str, affiliation: &str) -> AppResult<StepEnd> {
    let Some(client) = &state.providers.tavily else {
        return Ok(StepEnd::new(
            "skipped",
            Some("no API key configured".to_string()),
        ));
    };
    let key = format!("{}|{}", name.to_lowercase(), affiliation.to_lowercase());
    let result = calls::call(
        state,
        Provider::Tavily,
        "achievements",
        key,
        true,
        || async { client.achievements(name, affiliation).await },
    )
    .await?;
    let (items, cached) = match result {
        Ok(c) => (c.value, c.cached),
        Err(e) => return Ok(StepEnd::from_error(&e)),
    };
    let values = vec![(Field::Achievements, FieldValue::Json(json!(items)))];
    Ok(StepEnd::ok(values, "tavily", None, cached))
}

#[cfg(test)]
mod tests {
    use super::affinity;

    #[test]
    fn affiliations_are_compared_by_shared_words() {
        assert_eq!(
            affinity(
                "University of Toronto",
                "Dept. of CS, University of Toronto"
            ),
            2
        );
        assert_eq!(affinity("Google Brain", "University of Toronto"), 0);
    }
}
