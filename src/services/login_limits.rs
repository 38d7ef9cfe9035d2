//! Failed log-in counters per client IP and per account. The account key is
//! the e-mail's blind index, whether or not the account exists, so the
//! limit itself reveals nothing.

use std::net::IpAddr;
use std::time::Duration;

use moka::sync::Cache;

use crate::config::AuthConfig;
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct LoginLimits {
    failures: Cache<String, u32>,
    per_ip: u32,
    per_account: u32,
    window_secs: u64,
}

impl LoginLimits {
    pub fn new(cfg: &AuthConfig) -> Self {
        Self {
            failures: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(cfg.login_failure_window_secs))
                .build(),
            per_ip: cfg.login_max_failures_per_ip,
            per_account: cfg.login_max_failures_per_account,
            window_secs: cfg.login_failure_window_secs,
        }
    }

    fn keys(ip: Option<IpAddr>, account: &str) -> (Option<String>, String) {
        (
            ip.map(|ip| format!("ip:{}", crate::domain::ip::rate_key(ip))),
            format!("acct:{account}"),
        )
    }

    /// Refuses the attempt when either limit is reached.
    pub fn check(&self, ip: Option<IpAddr>, account: &str) -> AppResult<()> {
        let (ip_key, acct_key) = Self::keys(ip, account);
        let ip_hits = ip_key.and_then(|k| self.failures.get(&k)).unwrap_or(0);
        let acct_hits = self.failures.get(&acct_key).unwrap_or(0);
        if ip_hits >= self.per_ip || acct_hits >= self.per_account {
            return Err(AppError::RateLimited {
                retry_after_secs: self.window_secs,
            });
        }
        Ok(())
    }

    pub fn record_failure(&self, ip: Option<IpAddr>, account: &str) {
        let (ip_key, acct_key) = Self::keys(ip, account);
        for key in ip_key.into_iter().chain(std::iter::once(acct_key)) {
            // Atomic per key, so parallel guesses cannot undercount.
            self.failures
                .entry(key)
                .and_upsert_with(|old| old.map_or(1, |e| e.into_value().saturating_add(1)));
        }
    }

    pub fn record_success(&self, account: &str) {
        self.failures.invalidate(&format!("acct:{account}"));
    }
}
