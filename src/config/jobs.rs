//! `[jobs]`: when each scheduled job runs, and the check of its cron string.

use serde::{Deserialize, Serialize};
use tokio_cron_scheduler::Job;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Cron schedule (with seconds) of the housekeeping job that deletes
    /// ended log-in sessions, links and idempotency keys (the retention
    /// rule for tokens, run more often). Empty disables it.
    pub housekeeping: String,
    /// How often the collection runner looks for due jobs (new jobs also
    /// wake it at once). Empty disables collection.
    pub collection: String,
    /// When profiles older than `collection.refresh_after_days` are
    /// queued for a refresh. Empty disables it.
    pub refresh_stale: String,
    /// How often the mail sender looks for due messages (new messages
    /// also wake it at once). Empty disables sending.
    pub mail: String,
    /// How often session requests are expired, reminders sent and past
    /// sessions completed. Empty disables it.
    pub sessions: String,
    /// When subscriptions whose period ended without renewal (past
    /// `payments.subscription_grace_days`) expire. Empty disables it.
    pub subscriptions: String,
    /// How often readers are reminded to review completed sessions.
    /// Empty disables the reminders.
    pub reviews: String,
    /// How often dispute deadlines are applied (an uncontested no-show
    /// claim stands, an unanswered dispute goes to review). Empty disables
    /// it.
    pub disputes: String,
    /// When engagement counters older than `analytics.retention_days` are
    /// deleted (the retention job deletes them too).
    pub analytics: String,
    /// When the retention run removes what `[retention]` and
    /// `analytics.retention_days` no longer keep. Empty disables it.
    pub retention: String,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            housekeeping: "0 */10 * * * *".into(),
            collection: "*/10 * * * * *".into(),
            refresh_stale: "0 30 3 * * *".into(),
            mail: "*/30 * * * * *".into(),
            sessions: "0 * * * * *".into(),
            subscriptions: "0 15 * * * *".into(),
            reviews: "0 5 * * * *".into(),
            disputes: "0 */5 * * * *".into(),
            analytics: "0 45 2 * * *".into(),
            retention: "0 15 3 * * *".into(),
        }
    }
}

/// Checks a `[jobs]` schedule (empty disables the job).
pub fn check_schedule(name: &str, schedule: &str) -> Result<(), String> {
    if schedule.trim().is_empty() {
        return Ok(());
    }
    Job::new(schedule.trim(), |_, _| {})
        .map(|_| ())
        .map_err(|e| format!("jobs.{name} `{schedule}` is not a valid cron schedule (sec min hour day month weekday): {e}"))
}
