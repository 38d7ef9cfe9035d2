//! `[reviews]` and `[disputes]`: when a session may be reviewed or
//! disputed, what holds a review for moderation, and the deadlines of a
//! dispute.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewsConfig {
    /// A completed session may be reviewed this many days after its end.
    pub window_days: i64,
    /// The author may edit a review this many hours after writing it.
    pub edit_hours: i64,
    /// Researchers may rate their readers too (shown only to admins and to
    /// researchers asked to accept that reader's requests).
    pub two_way: bool,
    /// Words that hold a review or answer for moderation (matched as whole
    /// words, ignoring case).
    pub blocked_terms: Vec<String>,
    /// Reviews from accounts younger than this are held for moderation.
    pub min_account_age_hours: i64,
    /// A published review with this many distinct open reports is held.
    pub reports_to_hold: i64,
    /// The reader is reminded once to review, this many hours after the
    /// session is completed. 0 sends no reminder.
    pub reminder_hours: i64,
    /// Lists ordered by rating use a Bayesian average: a researcher's
    /// reviews plus `rating_prior_weight` imaginary reviews of
    /// `rating_prior_mean` stars, so one 5-star review does not beat fifty
    /// 4.8s.
    pub rating_prior_mean: f64,
    pub rating_prior_weight: i64,
}

impl Default for ReviewsConfig {
    fn default() -> Self {
        Self {
            window_days: 30,
            edit_hours: 48,
            two_way: false,
            blocked_terms: Vec::new(),
            min_account_age_hours: 24,
            reports_to_hold: 3,
            reminder_hours: 24,
            rating_prior_mean: 3.0,
            rating_prior_weight: 5,
        }
    }
}

impl ReviewsConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=365).contains(&self.window_days) {
            return Err("reviews.window_days must be between 1 and 365".into());
        }
        if !(0..=720).contains(&self.edit_hours) {
            return Err("reviews.edit_hours must be between 0 and 720".into());
        }
        if !(0..=8760).contains(&self.min_account_age_hours) {
            return Err("reviews.min_account_age_hours must be between 0 and 8760".into());
        }
        if !(1..=1000).contains(&self.reports_to_hold) {
            return Err("reviews.reports_to_hold must be between 1 and 1000".into());
        }
        if !(0..=720).contains(&self.reminder_hours) {
            return Err("reviews.reminder_hours must be between 0 and 720".into());
        }
        if !(1.0..=5.0).contains(&self.rating_prior_mean) {
            return Err("reviews.rating_prior_mean must be between 1.0 and 5.0".into());
        }
        if !(0..=1000).contains(&self.rating_prior_weight) {
            return Err("reviews.rating_prior_weight must be between 0 and 1000".into());
        }
        if self.blocked_terms.iter().any(|t| t.trim().is_empty()) {
            return Err("reviews.blocked_terms must not hold empty words".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisputesConfig {
    /// A party may open a dispute this many days after the session's end.
    pub window_days: i64,
    /// The other party may answer a dispute for this many days.
    pub response_days: i64,
    /// The other party may contest a no-show claim for this many hours;
    /// uncontested, the claim stands.
    pub no_show_response_hours: i64,
}

impl Default for DisputesConfig {
    fn default() -> Self {
        Self {
            window_days: 14,
            response_days: 5,
            no_show_response_hours: 48,
        }
    }
}

impl DisputesConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=365).contains(&self.window_days) {
            return Err("disputes.window_days must be between 1 and 365".into());
        }
        if !(1..=60).contains(&self.response_days) {
            return Err("disputes.response_days must be between 1 and 60".into());
        }
        if !(1..=720).contains(&self.no_show_response_hours) {
            return Err("disputes.no_show_response_hours must be between 1 and 720".into());
        }
        Ok(())
    }
}
