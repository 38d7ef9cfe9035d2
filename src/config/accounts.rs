//! `[auth]` (log-in sessions, passwords, log-in limits) and `[accounts]`
//! (whether accounts must verify their e-mail address).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Lifetime of API access tokens (JWT). Short, because they are not
    /// looked up on every use beyond a cached session check.
    pub access_token_ttl_secs: i64,
    /// Lifetime of API refresh tokens.
    pub refresh_token_ttl_secs: i64,
    /// Lifetime of a web UI log-in (cookie session).
    pub web_session_ttl_secs: i64,
    /// Minimum password length (never below 12).
    pub password_min_length: usize,
    /// Maximum password length (bounds the hashing cost of one request).
    pub password_max_length: usize,
    /// Passwords hashed at once; 0 means one less than the CPU count, so a
    /// burst of log-ins always leaves a core for other requests.
    pub password_hash_concurrency: usize,
    /// Failed log-ins allowed per client IP within the window.
    pub login_max_failures_per_ip: u32,
    /// Failed log-ins allowed per account (existing or not) within the window.
    pub login_max_failures_per_account: u32,
    /// Window for the two limits above.
    pub login_failure_window_secs: u64,
    /// Lifetime of the one-time admin setup link printed on first start.
    pub setup_link_ttl_secs: i64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 30 * 86_400,
            web_session_ttl_secs: 14 * 86_400,
            password_min_length: 12,
            password_max_length: 128,
            password_hash_concurrency: 0,
            login_max_failures_per_ip: 30,
            login_max_failures_per_account: 5,
            login_failure_window_secs: 900,
            setup_link_ttl_secs: 86_400,
        }
    }
}

/// Whether new accounts must prove their e-mail address.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EmailVerification {
    /// `required` when `[smtp]` is configured, `off` when mail is only held.
    Auto,
    Required,
    Off,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsConfig {
    /// `auto`, `required` or `off`. While on, registration answers the same
    /// whether or not the address has an account, and an unverified account
    /// may browse but not book, invite, collect, add papers or subscribe.
    pub email_verification: EmailVerification,
    /// How long a verification link works.
    pub verification_ttl_hours: i64,
    /// Verification e-mails one account may ask for again per hour (the
    /// one sent at registration does not count).
    pub verification_resends_per_hour: u32,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            email_verification: EmailVerification::Auto,
            verification_ttl_hours: 48,
            verification_resends_per_hour: 3,
        }
    }
}
