//! One client per external API; `base_url` from config so tests point them
//! at local fakes.

pub mod openalex;

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
    #[error("{provider} rate limit or quota exceeded")]
    RateLimited {
        provider: &'static str,
        retry_after_secs: Option<u64>,
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
    pub fn from_reqwest(provider: &'static str, e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout { provider }
        } else if e.is_decode() {
            Self::Malformed {
                provider,
                detail: e.to_string(),
            }
        } else {
            Self::Unreachable {
                provider,
                detail: e.without_url().to_string(),
            }
        }
    }
}
