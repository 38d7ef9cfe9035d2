//! `[analytics]`: how long engagement counters are kept, how long a
//! computed dashboard may be served from memory, and how often the
//! in-memory counters reach the database.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsConfig {
    /// Daily engagement counters (searches, paper views, sign-ins, active
    /// accounts) older than this many days are deleted by the analytics
    /// and retention jobs. 0 keeps them forever.
    pub retention_days: i64,
    /// A cached dashboard or analytics answer is recomputed after this many
    /// seconds even if nothing changed. Writes to their inputs drop cached
    /// answers at once; this is only the fallback.
    pub cache_ttl_secs: u64,
    /// Counters are gathered in memory and written to the database this
    /// often (and at shutdown, and before analytics are read).
    pub flush_secs: u64,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        Self {
            retention_days: 400,
            cache_ttl_secs: 300,
            flush_secs: 10,
        }
    }
}

impl AnalyticsConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(0..=3650).contains(&self.retention_days) {
            return Err(
                "analytics.retention_days must be between 0 (keep forever) and 3650".into(),
            );
        }
        if !(1..=86_400).contains(&self.cache_ttl_secs) {
            return Err("analytics.cache_ttl_secs must be between 1 and 86400".into());
        }
        if !(1..=3600).contains(&self.flush_secs) {
            return Err("analytics.flush_secs must be between 1 and 3600".into());
        }
        Ok(())
    }
}
