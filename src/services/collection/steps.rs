//! The provider steps of the pipeline: each calls one provider (through
//! `calls::call`) and turns its answer into field values with provenance.

use std::time::Instant;

use serde_json::json;

use super::author_lookup::{find_author, Wanted};
use super::calls::{self, Called, Provider};
use crate::db::repos::researchers;
use crate::domain::researcher::{Field, FieldValue, Provenance};
use crate::domain::Email;
use crate::error::AppResult;
use crate::providers::ProviderError;
use crate::state::AppState;

/// What one step ended with.
pub(super) struct StepEnd {
    pub(super) outcome: &'static str,
    pub(super) detail: Option<String>,
    pub(super) values: Vec<(Field, FieldValue)>,
    pub(super) provenance: Option<Provenance>,
}

impl StepEnd {
    pub(super) fn new(outcome: &'static str, detail: impl Into<Option<String>>) -> Self {
        Self {
            outcome,
            detail: detail.into(),
            values: Vec::new(),
            provenance: None,
        }
    }

    pub(super) fn ok(
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

    pub(super) fn from_error(e: &ProviderError) -> Self {
        match e {
            ProviderError::NotFound { .. } => Self::new("empty", Some("no match".to_string())),
            ProviderError::BudgetSpent { .. } => Self::new("unavailable", Some(e.to_string())),
            other => Self::new("failed", Some(other.to_string())),
        }
    }
}

pub(super) async fn openalex_step(
    state: &AppState,
    r: &researchers::ResearcherRow,
) -> AppResult<StepEnd> {
    let client = &state.providers.openalex;
    let affiliation = r.affiliation.clone().unwrap_or_default();
    let wanted = Wanted {
        openalex_id: r.openalex_id.as_deref(),
        orcid: r.orcid.as_deref(),
        name: &r.name,
        affiliation: &affiliation,
    };
    let found = find_author(state, &wanted).await?;
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
    if super::screen::author_listed(state, &author).await? {
        // Someone on the do-not-collect list: only the identity goes back,
        // which the step's save recognises and stops at; nothing more is
        // asked about them.
        let id = vec![(Field::OpenalexId, FieldValue::Text(author.id.clone()))];
        return Ok(StepEnd::ok(id, "openalex", None, cached));
    }
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

pub(super) async fn firecrawl_step(
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
    // A homepage is fetched only while it points at a public host (it may
    // have been typed in, and Firecrawl may run inside our network); else
    // Firecrawl searches for the profile instead.
    let homepage = match homepage {
        Some(url) => match crate::services::public_urls::check_fetch(url).await {
            Ok(url) => Some(url),
            Err(why) => {
                tracing::warn!(reason = %why, "homepage not fetched: not a public web address");
                None
            }
        },
        None => None,
    };
    let homepage = homepage.as_deref();
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

pub(super) async fn rocketreach_step(
    state: &AppState,
    name: &str,
    affiliation: &str,
) -> AppResult<StepEnd> {
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

pub(super) async fn tavily_step(
    state: &AppState,
    name: &str,
    affiliation: &str,
) -> AppResult<StepEnd> {
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
