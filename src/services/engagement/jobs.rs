//! The analytics job: deletes engagement counters older than
//! `[analytics] retention_days` (days in the institution's zone).

use chrono::{DateTime, Duration, Utc};

use crate::db::repos::analytics_counters;
use crate::domain::engagement::{day_key, local_day};
use crate::error::AppResult;
use crate::state::AppState;

/// Deletes the counters of days before today − `retention_days`; answers
/// how many rows went.
pub async fn run(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let today = local_day(now, state.config.institution.zone());
    let keep_from = day_key(today - Duration::days(state.config.analytics.retention_days));
    let cutoff = keep_from.clone();
    let deleted = state
        .db
        .write(move |tx| analytics_counters::delete_before(tx, &cutoff))
        .await?;
    tracing::info!(deleted, keep_from = %keep_from, "analytics: old engagement counters deleted");
    Ok(deleted)
}
