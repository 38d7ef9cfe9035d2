//! Housekeeping, every few minutes: deletes ended log-in sessions, links
//! and idempotency keys (the retention rule for tokens,
//! `retention::expired_tokens`, run more often than the daily retention
//! job), trims the rate limiters' memory, and finishes any account
//! erasure left pending.

use crate::error::AppResult;
use crate::services::retention;
use crate::state::AppState;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Rows deleted per table (`auth_sessions`, `setup_links`, …).
    pub tokens_deleted: retention::TokenCounts,
    /// Erasures a restart (or a refused refund) had left unfinished.
    pub erasures_finished: usize,
}

impl Report {
    /// Rows deleted from `table`.
    pub fn deleted(&self, table: &str) -> u64 {
        self.tokens_deleted.get(table).copied().unwrap_or(0)
    }
}

pub async fn run(state: &AppState, now: chrono::DateTime<chrono::Utc>) -> AppResult<Report> {
    let tokens_deleted = retention::expired_tokens(state, now).await?;
    state.rate_limits.shrink();
    let erasures_finished = crate::services::data_rights::erasure::complete_pending(state).await?;
    let report = Report {
        tokens_deleted,
        erasures_finished,
    };
    tracing::info!(
        sessions = report.deleted("auth_sessions"),
        setup_links = report.deleted("setup_links"),
        erasures = report.erasures_finished,
        "housekeeping done"
    );
    Ok(report)
}
