//! Request rate limits per client IP and per signed-in user (GCRA, from
//! `governor`).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::SecurityConfig;
use crate::domain::UserId;
use crate::error::{AppError, AppResult};

pub struct RateLimits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_user: DefaultKeyedRateLimiter<i64>,
    clock: DefaultClock,
}

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    pub fn new(cfg: &SecurityConfig) -> Self {
        Self {
            per_ip: RateLimiter::keyed(quota(cfg.rate_limit_per_ip_per_minute)),
            per_user: RateLimiter::keyed(quota(cfg.rate_limit_per_user_per_minute)),
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

    /// Forgets keys that are back to full capacity.
    pub fn shrink(&self) {
        self.per_ip.retain_recent();
        self.per_user.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_user.shrink_to_fit();
    }
}
