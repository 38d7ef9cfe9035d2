//! Housekeeping: deletes expired or revoked log-in sessions, used or
//! expired setup links, e-mail verification links that ended a day ago,
//! and booking idempotency keys older than a day, and trims the rate
//! limiters' memory.

use crate::db::repos::{auth_sessions, consulting_sessions, email_verifications, setup_links};
use crate::error::AppResult;
use crate::state::AppState;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub sessions_deleted: usize,
    pub setup_links_deleted: usize,
    pub idempotency_keys_deleted: usize,
    pub verification_links_deleted: usize,
}

pub async fn run(state: &AppState, now: chrono::DateTime<chrono::Utc>) -> AppResult<Report> {
    let report = state
        .db
        .write(move |tx| {
            Ok(Report {
                sessions_deleted: auth_sessions::delete_stale(tx, now)?,
                setup_links_deleted: setup_links::delete_stale(tx, now)?,
                idempotency_keys_deleted: consulting_sessions::delete_idempotency_before(
                    tx,
                    now - chrono::Duration::hours(24),
                )?,
                verification_links_deleted: email_verifications::delete_ended_before(
                    tx,
                    now - chrono::Duration::hours(24),
                )?,
            })
        })
        .await?;
    state.rate_limits.shrink();
    tracing::info!(
        sessions = report.sessions_deleted,
        setup_links = report.setup_links_deleted,
        "housekeeping done"
    );
    Ok(report)
}
