//! The gate in front of every provider call: skipped without a key, not
//! called while marked unavailable or over its monthly budget, answered
//! from the cache when the same call was made within the TTL, and logged
//! in the provider-call log either way.

use std::future::Future;
use std::sync::Arc;

use chrono::{Datelike, TimeZone};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::repos::provider_calls::{self, Call};
use crate::domain::ProviderCallId;
use crate::error::{AppError, AppResult};
use crate::providers::ProviderError;
use crate::state::AppState;

/// Provider answers by call key (provider, operation and arguments), kept
/// for `collection.cache_ttl_secs` so the same paid call is not made twice.
#[derive(Clone)]
pub struct ProviderCache(pub moka::future::Cache<String, Arc<serde_json::Value>>);

impl ProviderCache {
    pub fn new(cfg: &crate::config::CollectionConfig) -> Self {
        Self(
            moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(cfg.cache_ttl_secs.max(1)))
                .support_invalidation_closures()
                .build(),
        )
    }

    /// Drops every answer held about a person whose profile was erased:
    /// calls keyed by their name (with any affiliation), by their OpenAlex
    /// id or by their ORCID.
    pub fn forget_person(&self, name: &str, openalex_id: Option<&str>, orcid: Option<&str>) {
        let name = format!(":{}|", name.to_lowercase());
        let mut ends: Vec<String> = Vec::new();
        ends.extend(openalex_id.map(|id| format!(":{id}")));
        ends.extend(orcid.map(|o| format!(":orcid:{o}")));
        let dropped = self.0.invalidate_entries_if(move |key, _| {
            key.contains(&name) || ends.iter().any(|e| key.ends_with(e.as_str()))
        });
        if let Err(e) = dropped {
            tracing::error!(error = %e, "provider answers about an erased profile stay cached until they expire");
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    OpenAlex,
    Firecrawl,
    RocketReach,
    Tavily,
}

impl Provider {
    pub const ALL: [Provider; 4] = [
        Provider::OpenAlex,
        Provider::Firecrawl,
        Provider::RocketReach,
        Provider::Tavily,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAlex => "openalex",
            Provider::Firecrawl => "firecrawl",
            Provider::RocketReach => "rocketreach",
            Provider::Tavily => "tavily",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn is_paid(self) -> bool {
        self != Provider::OpenAlex
    }

    /// The configured key ("" when none).
    fn key(self, state: &AppState) -> String {
        let p = &state.config.providers;
        match self {
            Provider::OpenAlex => p.openalex.api_key.expose(),
            Provider::Firecrawl => p.firecrawl.api_key.expose(),
            Provider::RocketReach => p.rocketreach.api_key.expose(),
            Provider::Tavily => p.tavily.api_key.expose(),
        }
        .to_string()
    }

    /// Whether a client exists (paid providers need a key; OpenAlex does not).
    pub fn configured(self, state: &AppState) -> bool {
        let p = &state.providers;
        match self {
            Provider::OpenAlex => true,
            Provider::Firecrawl => p.firecrawl.is_some(),
            Provider::RocketReach => p.rocketreach.is_some(),
            Provider::Tavily => p.tavily.is_some(),
        }
    }

    pub fn monthly_budget(self, state: &AppState) -> u32 {
        let p = &state.config.providers;
        match self {
            Provider::OpenAlex => 0,
            Provider::Firecrawl => p.firecrawl.monthly_credit_budget,
            Provider::RocketReach => p.rocketreach.monthly_credit_budget,
            Provider::Tavily => p.tavily.monthly_credit_budget,
        }
    }

    /// A short hash of the key, so a new key makes the provider available again.
    pub fn key_fingerprint(self, state: &AppState) -> String {
        hex::encode(&Sha256::digest(self.key(state).as_bytes())[..8])
    }
}

/// Whether a provider may be called now.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    Open,
    /// No API key: the step is skipped.
    NoKey,
    /// Refused our key or ran out of credits earlier.
    Unavailable(String),
    /// The monthly credit budget is spent.
    OverBudget(u32),
}

pub fn month_start(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

pub async fn gate(state: &AppState, provider: Provider) -> AppResult<Gate> {
    if !provider.configured(state) {
        return Ok(Gate::NoKey);
    }
    let name = provider.as_str();
    let fingerprint = provider.key_fingerprint(state);
    let budget = provider.monthly_budget(state);
    let since = month_start(state.now());
    let (status, used) = state
        .db
        .read(move |c| {
            let used = if budget > 0 {
                provider_calls::paid_since(c, name, since)?
            } else {
                0
            };
            Ok((provider_calls::status(c, name)?, used))
        })
        .await?;
    if let Some(reason) = status.unavailable_reason {
        if status.key_fingerprint.as_deref() == Some(fingerprint.as_str()) {
            return Ok(Gate::Unavailable(reason));
        }
    }
    if budget > 0 && used >= i64::from(budget) {
        return Ok(Gate::OverBudget(budget));
    }
    Ok(Gate::Open)
}

/// A provider answer and whether it came from the cache.
pub struct Called<T> {
    pub value: T,
    pub cached: bool,
}

/// Makes (or replays from the cache) one provider call and logs it.
/// `paid` says whether a successful call costs a credit.
pub async fn call<T, F, Fut>(
    state: &AppState,
    provider: Provider,
    operation: &str,
    key: String,
    paid: bool,
    f: F,
) -> AppResult<Result<Called<T>, ProviderError>>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let cache_key = format!("{}:{operation}:{key}", provider.as_str());
    if let Some(hit) = state.provider_cache.0.get(&cache_key).await {
        if let Ok(value) = serde_json::from_value::<T>((*hit).clone()) {
            log(state, provider, operation, None, "cached", false, 0).await?;
            return Ok(Ok(Called {
                value,
                cached: true,
            }));
        }
    }
    // With a budget, the check and the reservation of a credit are one
    // write transaction, so parallel authors cannot overshoot it.
    let budget = provider.monthly_budget(state);
    let reserved = if paid && provider.is_paid() && budget > 0 {
        let (name, op, now) = (provider.as_str(), operation.to_string(), state.now());
        let since = month_start(now);
        let id = state
            .db
            .write(move |tx| provider_calls::reserve(tx, name, &op, budget, since, now))
            .await?;
        match id {
            Some(id) => Some(id),
            None => {
                return Ok(Err(ProviderError::BudgetSpent {
                    provider: provider.as_str(),
                    budget,
                }))
            }
        }
    } else {
        None
    };
    let log = |outcome: &'static str, paid: bool, ms: u64| {
        log(state, provider, operation, reserved, outcome, paid, ms)
    };
    let start = std::time::Instant::now();
    let result = f().await;
    let ms = start.elapsed().as_millis() as u64;
    match &result {
        Ok(value) => {
            let json =
                serde_json::to_value(value).map_err(|e| AppError::internal(e.to_string()))?;
            state
                .provider_cache
                .0
                .insert(cache_key, Arc::new(json))
                .await;
            log("ok", paid && provider.is_paid(), ms).await?;
        }
        Err(ProviderError::NotFound { .. }) => log("not_found", false, ms).await?,
        Err(e) => {
            log("error", false, ms).await?;
            let (name, message, now) = (provider.as_str(), e.to_string(), state.now());
            let fingerprint = provider.key_fingerprint(state);
            let permanent = e.is_permanent_refusal();
            state
                .db
                .write(move |tx| {
                    if permanent {
                        provider_calls::mark_unavailable(tx, name, &message, &fingerprint, now)
                    } else {
                        provider_calls::record_error(tx, name, &message, now)
                    }
                })
                .await?;
            if permanent {
                tracing::warn!(provider = name, error = %e, "provider marked unavailable until an admin re-enables it");
            }
        }
    }
    Ok(result.map(|value| Called {
        value,
        cached: false,
    }))
}

/// Records a call: settles its reserved row, or adds a new one.
#[allow(clippy::too_many_arguments)]
async fn log(
    state: &AppState,
    provider: Provider,
    operation: &str,
    reserved: Option<ProviderCallId>,
    outcome: &'static str,
    paid: bool,
    ms: u64,
) -> AppResult<()> {
    state.metrics.provider_call(provider.as_str(), outcome);
    let (name, op, now) = (provider.as_str(), operation.to_string(), state.now());
    state
        .db
        .write(move |tx| {
            if let Some(id) = reserved {
                return provider_calls::settle(tx, id, outcome, paid, ms);
            }
            let call = Call {
                provider: name,
                operation: &op,
                outcome,
                status_code: None,
                attempts: 1,
                paid,
                duration_ms: ms,
            };
            provider_calls::record(tx, &call, now)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::month_start;

    #[test]
    fn months_start_at_midnight_on_the_first() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(month_start(t).to_rfc3339(), "2026-11-01T00:00:00+00:00");
    }
}
