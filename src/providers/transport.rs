//! What every provider client shares: a timeout, a concurrency limit, a
//! request-rate limit, and retries with exponential backoff and jitter on
//! 429 (honouring `Retry-After`), 5xx, 408 and network timeouts. Permanent
//! refusals (bad key, no credits) come back as typed errors at once.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;
use reqwest::{RequestBuilder, StatusCode};
use tokio::sync::Semaphore;

use super::ProviderError;

/// How hard to try before giving up on a transient failure.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub max_retry_wait: Duration,
}

impl RetryPolicy {
    pub fn from_config(c: &crate::config::CollectionConfig) -> Self {
        Self {
            max_attempts: c.max_attempts.max(1),
            backoff_base: Duration::from_millis(c.backoff_base_ms),
            max_retry_wait: Duration::from_secs(c.max_retry_wait_secs),
        }
    }

    /// A service API's policy (Stripe, Zoom): `max_retries` after the
    /// first try, backing off from 200 ms, waiting at most 10 s.
    pub fn service(max_retries: u32) -> Self {
        Self {
            max_attempts: max_retries + 1,
            backoff_base: Duration::from_millis(200),
            max_retry_wait: Duration::from_secs(10),
        }
    }

    /// Exponential backoff with full jitter for attempt `n` (1-based).
    fn backoff(&self, n: u32) -> Duration {
        let cap = self
            .backoff_base
            .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)));
        let millis = cap.as_millis().min(u128::from(u32::MAX)) as u64;
        Duration::from_millis(millis / 2 + rand::thread_rng().gen_range(0..=millis / 2))
    }
}

/// A provider's timeout, concurrency and rate limit, from its config section.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout_secs: u64,
    pub max_concurrency: usize,
    pub requests_per_minute: u32,
}

impl<B> From<&crate::config::PaidProviderConfig<B>> for Limits {
    fn from(c: &crate::config::PaidProviderConfig<B>) -> Self {
        Self {
            timeout_secs: c.timeout_secs,
            max_concurrency: c.max_concurrency,
            requests_per_minute: c.requests_per_minute,
        }
    }
}

impl From<&crate::config::OpenAlexConfig> for Limits {
    fn from(c: &crate::config::OpenAlexConfig) -> Self {
        Self {
            timeout_secs: c.timeout_secs,
            max_concurrency: c.max_concurrency,
            requests_per_minute: c.requests_per_minute,
        }
    }
}

/// A successful answer and how much it took to get it.
pub struct Answer {
    pub status: u16,
    pub body: bytes::Bytes,
    pub attempts: u32,
    pub elapsed: Duration,
}

/// The result of a call, with the attempts made even when it failed.
pub type Outcome = Result<Answer, (ProviderError, u32)>;

pub struct Transport {
    pub name: &'static str,
    pub http: reqwest::Client,
    permits: Arc<Semaphore>,
    limiter: Arc<DefaultDirectRateLimiter>,
    retry: RetryPolicy,
    /// Statuses this provider uses for "out of credits / over quota".
    quota_statuses: &'static [u16],
}

fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

impl Transport {
    pub fn new(
        name: &'static str,
        limits: Limits,
        retry: RetryPolicy,
        quota_statuses: &'static [u16],
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(limits.timeout_secs.max(1)))
            .user_agent(concat!("colloquy/", env!("CARGO_PKG_VERSION")))
            .build()?;
        // Evenly spaced, with at most one second's worth in a burst.
        let per_minute = limits.requests_per_minute.max(1);
        let burst = NonZeroU32::new((per_minute / 60).max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(Duration::from_secs(60) / per_minute)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Ok(Self {
            name,
            http,
            permits: Arc::new(Semaphore::new(limits.max_concurrency.max(1))),
            limiter: Arc::new(RateLimiter::direct(quota)),
            retry,
            quota_statuses,
        })
    }

    /// Sends the request built by `build` (called once per attempt) and
    /// returns the first 2xx answer, or the error that ended the tries.
    pub async fn send(&self, build: impl Fn(&reqwest::Client) -> RequestBuilder) -> Outcome {
        let start = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = {
                let _permit = self.permits.acquire().await.map_err(|_| {
                    (
                        ProviderError::Unreachable {
                            provider: self.name,
                            detail: "client closed".into(),
                        },
                        attempt,
                    )
                })?;
                self.limiter.until_ready().await;
                build(&self.http).send().await
            };
            let (error, wait) = match result {
                Err(e) => {
                    let err = ProviderError::from_reqwest(self.name, e);
                    if matches!(err, ProviderError::Malformed { .. }) {
                        return Err((err, attempt));
                    }
                    (err, None)
                }
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_success() {
                        let code = status.as_u16();
                        return match resp.bytes().await {
                            Ok(body) => Ok(Answer {
                                status: code,
                                body,
                                attempts: attempt,
                                elapsed: start.elapsed(),
                            }),
                            Err(e) => Err((ProviderError::from_reqwest(self.name, e), attempt)),
                        };
                    }
                    match self.classify(status, &resp) {
                        Classified::Permanent(e) => return Err((e, attempt)),
                        Classified::Transient(e, wait) => (e, wait),
                    }
                }
            };
            if attempt >= self.retry.max_attempts {
                return Err((error, attempt));
            }
            let wait = match wait {
                Some(w) if w > self.retry.max_retry_wait => return Err((error, attempt)),
                Some(w) => w,
                None => self.retry.backoff(attempt),
            };
            tracing::debug!(provider = self.name, attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    fn classify(&self, status: StatusCode, resp: &reqwest::Response) -> Classified {
        let provider = self.name;
        let code = status.as_u16();
        if self.quota_statuses.contains(&code) {
            return Classified::Permanent(ProviderError::NoCredits { provider });
        }
        match code {
            401 | 403 => Classified::Permanent(ProviderError::BadKey { provider }),
            404 => Classified::Permanent(ProviderError::NotFound { provider }),
            429 => {
                let after = retry_after(resp);
                Classified::Transient(
                    ProviderError::RateLimited {
                        provider,
                        retry_after_secs: after.map(|d| d.as_secs()),
                    },
                    after,
                )
            }
            408 | 500..=599 => Classified::Transient(
                ProviderError::Status {
                    provider,
                    status: code,
                },
                None,
            ),
            _ => Classified::Permanent(ProviderError::Status {
                provider,
                status: code,
            }),
        }
    }
}

enum Classified {
    Permanent(ProviderError),
    Transient(ProviderError, Option<Duration>),
}

/// Parses a provider's JSON answer into its wire type.
pub fn parse<T: serde::de::DeserializeOwned>(
    provider: &'static str,
    body: &[u8],
) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| ProviderError::Malformed {
        provider,
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_within_its_cap() {
        let p = RetryPolicy {
            max_attempts: 5,
            backoff_base: Duration::from_millis(100),
            max_retry_wait: Duration::from_secs(5),
        };
        for n in 1..=4 {
            let cap = 100 * 2u64.pow(n - 1);
            let d = p.backoff(n).as_millis() as u64;
            assert!(d >= cap / 2 && d <= cap, "attempt {n}: {d} ms");
        }
    }
}
