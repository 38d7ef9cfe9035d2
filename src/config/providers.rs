//! `[providers.*]` (one section per external data source) and
//! `[collection]` (how researcher profiles are collected).

use serde::{Deserialize, Serialize};

use super::Secret;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProvidersConfig {
    pub openalex: OpenAlexConfig,
    pub firecrawl: PaidProviderConfig<Firecrawl>,
    pub rocketreach: PaidProviderConfig<RocketReach>,
    pub tavily: PaidProviderConfig<Tavily>,
}

/// A paid provider's default monthly budget, so a section that sets only
/// its key still gets a safe cap, never "no limit".
pub trait BudgetDefault {
    const BUDGET: u32;
}

/// 500 credits a month unless set: a free plan's size.
#[derive(Debug, Clone, Copy, Default)]
pub struct Firecrawl;
/// 100 lookups a month unless set: the smallest paid plan's size.
#[derive(Debug, Clone, Copy, Default)]
pub struct RocketReach;
/// 1,000 credits a month unless set: a free plan's size.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tavily;

impl BudgetDefault for Firecrawl {
    const BUDGET: u32 = 500;
}
impl BudgetDefault for RocketReach {
    const BUDGET: u32 = 100;
}
impl BudgetDefault for Tavily {
    const BUDGET: u32 = 1000;
}

impl<B: BudgetDefault> Default for PaidProviderConfig<B> {
    fn default() -> Self {
        Self {
            api_key: Secret::default(),
            base_url: String::new(),
            timeout_secs: 30,
            max_concurrency: 16,
            requests_per_minute: 1_500,
            monthly_credit_budget: B::BUDGET,
            provider: std::marker::PhantomData,
        }
    }
}

impl ProvidersConfig {
    pub fn validate(&self) -> Result<(), String> {
        let o = &self.openalex;
        check(
            "openalex",
            &o.base_url,
            o.timeout_secs,
            o.max_concurrency,
            o.requests_per_minute,
        )?;
        check_paid("firecrawl", &self.firecrawl)?;
        check_paid("rocketreach", &self.rocketreach)?;
        check_paid("tavily", &self.tavily)
    }
}

fn check_paid<B>(name: &str, p: &PaidProviderConfig<B>) -> Result<(), String> {
    check(
        name,
        &p.base_url_or_default(name),
        p.timeout_secs,
        p.max_concurrency,
        p.requests_per_minute,
    )
}

fn check(
    name: &str,
    base_url: &str,
    timeout: u64,
    concurrency: usize,
    rps: u32,
) -> Result<(), String> {
    if url::Url::parse(base_url).is_err() {
        return Err(format!("providers.{name}.base_url is not a URL"));
    }
    if timeout == 0 || concurrency == 0 || rps == 0 {
        return Err(format!("providers.{name}: timeout_secs, max_concurrency and requests_per_minute must be at least 1"));
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenAlexConfig {
    /// OpenAlex is free; a key raises the daily limits.
    pub api_key: Secret,
    /// Point this at a local fake in tests.
    pub base_url: String,
    /// Sent as `mailto` so OpenAlex can reach the operator (polite pool).
    pub mailto: String,
    /// Per-request timeout.
    pub timeout_secs: u64,
    /// Requests in flight at once.
    pub max_concurrency: usize,
    /// Requests started per minute at most (spread evenly).
    pub requests_per_minute: u32,
}

impl Default for OpenAlexConfig {
    fn default() -> Self {
        Self {
            api_key: Secret::default(),
            base_url: "https://api.openalex.org".into(),
            mailto: String::new(),
            timeout_secs: 10,
            max_concurrency: 16,
            requests_per_minute: 3_000,
        }
    }
}

/// A paid provider (Firecrawl, RocketReach, Tavily). Without an API key it
/// is skipped, and shows as skipped in the job.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(
    deny_unknown_fields,
    default,
    bound(deserialize = "B: BudgetDefault", serialize = "")
)]
pub struct PaidProviderConfig<B> {
    pub api_key: Secret,
    /// Empty means the provider's public API; point it at a fake in tests.
    pub base_url: String,
    /// Per-request timeout.
    pub timeout_secs: u64,
    /// Requests in flight at once.
    pub max_concurrency: usize,
    /// Requests started per minute at most (spread evenly); set it to your
    /// plan's limit, e.g. 15 for RocketReach Essentials lookups.
    pub requests_per_minute: u32,
    /// Paid calls allowed per calendar month (UTC); each call reserves its
    /// credit before it is made. 0 means no limit.
    pub monthly_credit_budget: u32,
    #[serde(skip)]
    provider: std::marker::PhantomData<B>,
}

impl<B> PaidProviderConfig<B> {
    /// The configured base URL, or the provider's public one.
    pub fn base_url_or_default(&self, provider: &str) -> String {
        if !self.base_url.trim().is_empty() {
            return self.base_url.trim_end_matches('/').to_string();
        }
        match provider {
            "firecrawl" => "https://api.firecrawl.dev",
            "rocketreach" => "https://api.rocketreach.co/api/v2",
            "tavily" => "https://api.tavily.com",
            _ => "",
        }
        .to_string()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CollectionConfig {
    /// Authors collected at the same time (each runs its provider steps in order).
    pub max_parallel_authors: usize,
    /// How long an identical provider answer is reused instead of paying again.
    pub cache_ttl_secs: u64,
    /// Tries per provider call for transient failures (429, 5xx, timeouts).
    pub max_attempts: u32,
    /// First retry delay; doubled each try, with random jitter.
    pub backoff_base_ms: u64,
    /// The longest wait honoured from a `Retry-After` before giving up.
    pub max_retry_wait_secs: u64,
    /// How long to keep polling RocketReach while it answers `searching`.
    pub rocketreach_max_wait_secs: u64,
    /// Pause between RocketReach status polls.
    pub rocketreach_poll_interval_ms: u64,
    /// Collection jobs a signed-in reader may start per day (admins: no limit).
    pub reader_daily_jobs: u32,
    /// Authors a signed-in reader may have collected per day (admins: no
    /// limit). A paper with more authors than are left is refused before
    /// any paid call.
    pub reader_daily_authors: u32,
    /// Profiles older than this are refreshed by the `refresh_stale` job.
    pub refresh_after_days: u32,
    /// Profiles queued per `refresh_stale` run.
    pub refresh_batch: u32,
}

impl Default for CollectionConfig {
    fn default() -> Self {
        Self {
            max_parallel_authors: 32,
            cache_ttl_secs: 86_400,
            max_attempts: 4,
            backoff_base_ms: 500,
            max_retry_wait_secs: 60,
            rocketreach_max_wait_secs: 60,
            rocketreach_poll_interval_ms: 2_000,
            reader_daily_jobs: 5,
            reader_daily_authors: 30,
            refresh_after_days: 90,
            refresh_batch: 100,
        }
    }
}

impl CollectionConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.max_parallel_authors == 0 || self.max_attempts == 0 {
            return Err(
                "collection.max_parallel_authors and collection.max_attempts must be at least 1"
                    .into(),
            );
        }
        if self.refresh_after_days == 0 {
            return Err("collection.refresh_after_days must be at least 1".into());
        }
        Ok(())
    }
}
