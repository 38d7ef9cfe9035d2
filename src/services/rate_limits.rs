//! Request rate limits per client IP and per signed-in user (GCRA, from
//! `governor`), and the public data request's own, tighter limits.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::SecurityConfig;
use crate::domain::UserId;
use crate::error::{AppError, AppResult};

/// Data requests ("what do you hold about me?") one client address may
/// make per hour.
pub const DATA_REQUESTS_PER_IP_PER_HOUR: u32 = 5;

pub struct RateLimits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_user: DefaultKeyedRateLimiter<i64>,
    data_requests_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// One answer per e-mail address (its blind index) per hour.
    data_requests_per_address: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
}

fn per_hour(n: u32) -> Quota {
    Quota::per_hour(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

/// A wait as people say it: "a minute", "12 minutes".
fn minutes(wait: Duration) -> String {
    match wait.as_secs().div_ceil(60) {
        0 | 1 => "a minute".to_string(),
        n => format!("{n} minutes"),
    }
}

impl RateLimits {
    pub fn new(cfg: &SecurityConfig) -> Self {
        Self {
            per_ip: RateLimiter::keyed(quota(cfg.rate_limit_per_ip_per_minute)),
            per_user: RateLimiter::keyed(quota(cfg.rate_limit_per_user_per_minute)),
            data_requests_per_ip: RateLimiter::keyed(per_hour(DATA_REQUESTS_PER_IP_PER_HOUR)),
            data_requests_per_address: RateLimiter::keyed(per_hour(1)),
            clock: DefaultClock::default(),
        }
    }

    fn refused(
        &self,
        r: Result<(), governor::NotUntil<<DefaultClock as Clock>::Instant>>,
    ) -> AppResult<()> {
        r.map_err(|nu| AppError::RateLimited {
            retry_after_secs: nu.wait_time_from(self.clock.now()).as_secs() + 1,
        })
    }

    /// Counts per IPv4 address and per IPv6 /64.
    pub fn check_ip(&self, ip: IpAddr) -> AppResult<()> {
        self.refused(self.per_ip.check_key(&crate::domain::ip::rate_key(ip)))
    }

    pub fn check_user(&self, user: UserId) -> AppResult<()> {
        self.refused(self.per_user.check_key(&user.0))
    }

    /// The public data request: at most `DATA_REQUESTS_PER_IP_PER_HOUR`
    /// from one client address, and one answer per e-mail address
    /// (`address_key`, its blind index) per hour, so the form can neither
    /// flood a mailbox nor be run down a list of addresses. The refusal
    /// says the same whether or not anything is held about the address.
    pub fn check_data_request(&self, ip: Option<IpAddr>, address_key: &str) -> AppResult<()> {
        let ip = ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let now = self.clock.now();
        self.data_requests_per_ip
            .check_key(&crate::domain::ip::rate_key(ip))
            .map_err(|nu| {
                let wait = nu.wait_time_from(now);
                AppError::OverQuota {
                    code: "too_many_data_requests",
                    message: format!(
                        "Too many requests came from your network address in the last hour. Try again in {}.",
                        minutes(wait)
                    ),
                    retry_after_secs: wait.as_secs() + 1,
                }
            })?;
        self.data_requests_per_address
            .check_key(&address_key.to_string())
            .map_err(|nu| {
                let wait = nu.wait_time_from(now);
                AppError::OverQuota {
                    code: "data_request_recently_answered",
                    message: format!(
                        "We answered a request about this address less than an hour ago: look for our e-mail there (also among spam), or ask again in {}.",
                        minutes(wait)
                    ),
                    retry_after_secs: wait.as_secs() + 1,
                }
            })
    }

    /// Forgets keys that are back to full capacity.
    pub fn shrink(&self) {
        self.per_ip.retain_recent();
        self.per_user.retain_recent();
        self.data_requests_per_ip.retain_recent();
        self.data_requests_per_address.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_user.shrink_to_fit();
        self.data_requests_per_ip.shrink_to_fit();
        self.data_requests_per_address.shrink_to_fit();
    }
}
