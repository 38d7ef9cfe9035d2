//! Moving pending counts to the database: one write transaction per
//! flush; a batch whose write fails goes back to memory, so nothing is
//! lost, and is retried with the next flush.

use std::collections::HashMap;
use std::time::Duration;

use rusqlite::Transaction;

use super::counters::{Key, Pending};
use crate::db::repos::{analytics_counters, users};
use crate::domain::engagement::day_key;
use crate::domain::ActivePeriod;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Writes every pending count (and who was active) to the database.
pub async fn flush(state: &AppState) -> AppResult<()> {
    let counters = &state.engagement;
    let _one_at_a_time = counters.flushing.lock().await;
    let pending = counters.take();
    if pending.is_empty() {
        return Ok(());
    }
    let batch = pending.clone();
    let written = state.db.write(move |tx| write(tx, &batch)).await;
    if written.is_err() {
        counters.restore(pending);
    }
    written
}

fn write(tx: &Transaction<'_>, p: &Pending) -> AppResult<()> {
    let mut counts: HashMap<Key, u64> = p.counts.clone();
    for &(day, user) in &p.active {
        for period in ActivePeriod::ALL {
            let start = period.start(day);
            if users::mark_active(tx, user, period, &day_key(start))? {
                *counts.entry((start, period.kind(), 0)).or_default() += 1;
            }
        }
    }
    let rows = counts
        .into_iter()
        .map(|((day, kind, subject), n)| {
            let n = i64::try_from(n).map_err(|_| AppError::internal("counter overflow"))?;
            Ok((day_key(day), kind, subject, n))
        })
        .collect::<AppResult<Vec<_>>>()?;
    analytics_counters::add(tx, &rows)
}

/// Flushes every `[analytics] flush_secs` until aborted; a failed flush is
/// logged and its counts wait for the next one.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_secs(state.config.analytics.flush_secs.max(1));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = flush(&state).await {
                tracing::error!(error = %e, "engagement counters not flushed; kept for the next try");
            }
        }
    })
}

/// At shutdown: stops the flusher between two flushes (never during one,
/// whose batch could then be neither written nor put back) and writes
/// what is left.
pub async fn stop(state: &AppState, flusher: Option<tokio::task::JoinHandle<()>>) -> AppResult<()> {
    if let Some(f) = flusher {
        let _between_flushes = state.engagement.flushing.lock().await;
        f.abort();
    }
    flush(state).await
}
