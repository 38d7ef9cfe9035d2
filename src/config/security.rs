//! `[security]`: where the keys come from, rate limits, CORS, trusted
//! proxies, and the admin area's address allowlist and password re-entry.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum KeySource {
    /// `<data_dir>/keys/keyring.json`, generated (mode 0600) on first start.
    File,
    /// The keyring JSON in the `COLLOQUY_KEYRING` environment variable.
    Env,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// Where the encryption keys come from: `file` or `env`.
    pub key_source: KeySource,
    /// Requests allowed per client IP per minute (static files and health
    /// checks are exempt).
    pub rate_limit_per_ip_per_minute: u32,
    /// API requests allowed per signed-in user per minute.
    pub rate_limit_per_user_per_minute: u32,
    /// Origins allowed to call the JSON API from a browser. Empty: none.
    pub cors_origins: Vec<String>,
    /// Reverse proxies (IPs or CIDRs) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// Client addresses (IPs or CIDRs) allowed on `/admin/*` and
    /// `/api/v1/admin/*`; everyone else gets 403 there. Empty: no limit.
    pub admin_allowed_ips: Vec<String>,
    /// Sensitive admin actions (refunds, erasures, role changes, key
    /// operations) need the password entered within this many minutes.
    /// 0: off.
    pub admin_require_reauth_minutes: u32,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            key_source: KeySource::File,
            rate_limit_per_ip_per_minute: 600,
            rate_limit_per_user_per_minute: 300,
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            admin_allowed_ips: Vec::new(),
            admin_require_reauth_minutes: 0,
        }
    }
}

/// Parses a list of addresses or networks (`10.0.0.1`, `10.0.0.0/8`).
pub fn ip_nets(key: &str, list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter()
        .map(|p| {
            p.parse::<IpNet>()
                .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{key}: `{p}` is not an IP or CIDR"))
        })
        .collect()
}

/// The longest `security.admin_require_reauth_minutes` accepted: a day.
const MAX_REAUTH_MINUTES: u32 = 1440;

impl SecurityConfig {
    pub fn trusted_proxies(&self) -> Result<Vec<IpNet>, String> {
        ip_nets("security.trusted_proxies", &self.trusted_proxies)
    }

    pub fn admin_allowed_ips(&self) -> Result<Vec<IpNet>, String> {
        ip_nets("security.admin_allowed_ips", &self.admin_allowed_ips)
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        if self.rate_limit_per_ip_per_minute == 0 || self.rate_limit_per_user_per_minute == 0 {
            return Err("security.rate_limit_* must be at least 1".into());
        }
        self.trusted_proxies()?;
        self.admin_allowed_ips()?;
        if self.admin_require_reauth_minutes > MAX_REAUTH_MINUTES {
            return Err(format!(
                "security.admin_require_reauth_minutes must be between 0 (off) and {MAX_REAUTH_MINUTES} (a day)"
            ));
        }
        for origin in &self.cors_origins {
            if url::Url::parse(origin).is_err() {
                return Err(format!(
                    "security.cors_origins: `{origin}` is not an origin URL"
                ));
            }
        }
        Ok(())
    }
}
