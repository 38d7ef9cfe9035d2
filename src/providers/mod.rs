//! One client per external API; `base_url` from config so tests point them
//! at local fakes.

pub mod firecrawl;
pub mod openalex;
pub mod rocketreach;
pub mod stripe;
pub mod tavily;
pub mod transport;
pub mod zoom;

use crate::config::Config;

/// Every configured provider client. Paid providers without an API key are
/// `None` and are skipped.
pub struct Providers {
    pub openalex: openalex::OpenAlexClient,
    pub firecrawl: Option<firecrawl::FirecrawlClient>,
    pub rocketreach: Option<rocketreach::RocketReachClient>,
    pub tavily: Option<tavily::TavilyClient>,
    /// Zoom, when `[zoom]` has credentials.
    pub zoom: Option<zoom::ZoomClient>,
    /// Stripe, when `[payments] mode = "stripe"`.
    pub stripe: Option<stripe::StripeClient>,
}

impl Providers {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let retry = transport::RetryPolicy::from_config(&config.collection);
        let p = &config.providers;
        Ok(Self {
            openalex: openalex::OpenAlexClient::new(&p.openalex, retry)?,
            firecrawl: p
                .firecrawl
                .api_key
                .is_set()
                .then(|| firecrawl::FirecrawlClient::new(&p.firecrawl, retry))
                .transpose()?,
            rocketreach: p
                .rocketreach
                .api_key
                .is_set()
                .then(|| rocketreach::RocketReachClient::new(&p.rocketreach, retry))
                .transpose()?,
            tavily: p
                .tavily
                .api_key
                .is_set()
                .then(|| tavily::TavilyClient::new(&p.tavily, retry))
                .transpose()?,
            zoom: config
                .zoom
                .enabled()
                .then(|| zoom::ZoomClient::new(&config.zoom))
                .transpose()?,
            stripe: (config.payments.mode == crate::config::PaymentsMode::Stripe)
                .then(|| stripe::StripeClient::new(&config.stripe))
                .transpose()?,
        })
    }
}

/// How an external call failed, in terms a service can act on.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("{provider} could not be reached: {detail}")]
    Unreachable {
        provider: &'static str,
        detail: String,
    },
    #[error("{provider} timed out")]
    Timeout { provider: &'static str },
    #[error("{provider} rejected the API key")]
    BadKey { provider: &'static str },
    #[error("{provider} has no credits left (quota or plan limit reached)")]
    NoCredits { provider: &'static str },
    #[error("{provider} rate limit or quota exceeded")]
    RateLimited {
        provider: &'static str,
        retry_after_secs: Option<u64>,
    },
    #[error("the monthly budget of {budget} paid calls to {provider} is spent")]
    BudgetSpent { provider: &'static str, budget: u32 },
    #[error("still searching after {waited_secs} s")]
    StillSearching {
        provider: &'static str,
        waited_secs: u64,
    },
    #[error("{provider} has no such record")]
    NotFound { provider: &'static str },
    #[error("{provider} answered {status}")]
    Status { provider: &'static str, status: u16 },
    #[error("{provider} sent an answer that could not be read: {detail}")]
    Malformed {
        provider: &'static str,
        detail: String,
    },
}

impl ProviderError {
    /// A refusal that will not go away by trying again: the provider is
    /// marked unavailable until an admin re-enables it.
    pub fn is_permanent_refusal(&self) -> bool {
        matches!(self, Self::BadKey { .. } | Self::NoCredits { .. })
    }

    pub fn from_reqwest(provider: &'static str, e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout { provider }
        } else if e.is_decode() {
            Self::Malformed {
                provider,
                detail: e.without_url().to_string(),
            }
        } else {
            Self::Unreachable {
                provider,
                detail: e.without_url().to_string(),
            }
        }
    }
}
