//! `[retention]`: how long each kind of data the `retention` job removes is
//! kept. A value of 0 keeps that kind forever.

use serde::{Deserialize, Serialize};

/// The longest a `[retention]` period in days may be (100 years).
const MAX_DAYS: i64 = 36_500;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Days after which a sent, failed or held e-mail loses its subject,
    /// text, HTML and attachments (the personal part); its recipient,
    /// template, status and times stay. 0 keeps the content forever.
    pub mail_bodies_days: i64,
    /// Days after which what a provider said in a collection step (the
    /// step's `detail`) is cleared; raw provider answers are never stored,
    /// only cached in memory for `collection.cache_ttl_secs`, which must
    /// not be longer than this. 0 keeps step details forever.
    pub provider_payloads_days: i64,
    /// Days without a refresh after which a researcher profile no account
    /// owns is deleted. Profiles with sessions (and so payments or
    /// reviews) or a claim in progress are kept and counted. 0 keeps
    /// unclaimed profiles forever.
    pub unclaimed_profiles_days: i64,
    /// Days an ended log-in session, setup link or e-mail verification
    /// link is kept, and how long a booking idempotency key answers a
    /// repeat before it is deleted. Used invitation links are kept this
    /// long after the longest life such a link can have. 0 keeps them
    /// all forever.
    pub expired_tokens_days: i64,
    /// Years invoices and the ledger are kept, also for erased accounts
    /// (the legal retention of accounting records). Retention never
    /// deletes them.
    pub invoices_years: i64,
    /// Rows removed per write transaction, so a run never holds the
    /// writer for long.
    pub batch_size: usize,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            mail_bodies_days: 90,
            provider_payloads_days: 30,
            unclaimed_profiles_days: 730,
            expired_tokens_days: 1,
            invoices_years: 10,
            batch_size: 500,
        }
    }
}

impl RetentionConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (key, days) in [
            ("mail_bodies_days", self.mail_bodies_days),
            ("provider_payloads_days", self.provider_payloads_days),
            ("unclaimed_profiles_days", self.unclaimed_profiles_days),
            ("expired_tokens_days", self.expired_tokens_days),
        ] {
            if !(0..=MAX_DAYS).contains(&days) {
                return Err(format!(
                    "retention.{key} must be between 0 (keep forever) and {MAX_DAYS}"
                ));
            }
        }
        if !(1..=100).contains(&self.invoices_years) {
            return Err("retention.invoices_years must be between 1 and 100".into());
        }
        if !(1..=100_000).contains(&self.batch_size) {
            return Err("retention.batch_size must be between 1 and 100000".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn zero_keeps_a_kind_forever_and_negative_days_are_refused() {
        let mut r = RetentionConfig {
            mail_bodies_days: 0,
            ..RetentionConfig::default()
        };
        r.validate().unwrap();
        r.unclaimed_profiles_days = -1;
        let err = r.validate().unwrap_err();
        assert!(err.contains("retention.unclaimed_profiles_days"), "{err}");
    }

    #[test]
    fn invoices_are_kept_at_least_a_year_and_batches_are_bounded() {
        for bad in [
            RetentionConfig {
                invoices_years: 0,
                ..RetentionConfig::default()
            },
            RetentionConfig {
                batch_size: 0,
                ..RetentionConfig::default()
            },
        ] {
            assert!(bad.validate().is_err());
        }
    }

    #[test]
    fn the_provider_cache_may_not_outlive_the_payload_window() {
        let mut c = Config::default();
        c.retention.provider_payloads_days = 1;
        c.collection.cache_ttl_secs = 2 * 86_400;
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("collection.cache_ttl_secs"), "{err}");
        c.retention.provider_payloads_days = 0;
        c.validate().unwrap();
    }
}
