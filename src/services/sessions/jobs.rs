//! The `sessions` job: expire unanswered requests, send reminders (each
//! once per session and start time) and complete past sessions. Each step
//! works one session per transaction, so a failure stops nothing else.

use chrono::{DateTime, Duration, Utc};

use crate::db::repos::consulting_sessions::{self as repo};
use crate::domain::{ConsultingSessionId, SessionStatus};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

use super::{lifecycle, notify};
use crate::services::payments::held as payments;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub expired: usize,
    pub reminded: usize,
    pub completed: usize,
}

pub async fn run(state: &AppState, now: DateTime<Utc>) -> AppResult<Report> {
    let mut report = Report::default();
    for id in state.db.read(move |c| repo::due_expiry(c, now)).await? {
        // A held payment is let go first; if Stripe fails, the next run retries.
        if payments::enabled(state) {
            let keys = state.keys.clone();
            if let Some(row) = state.db.read(move |c| repo::find(c, &keys, id)).await? {
                if let Err(e) = payments::release(state, &row).await {
                    tracing::warn!(session = %id, error = %e, "could not release the payment; will retry");
                    continue;
                }
            }
        }
        report.expired += usize::from(
            one(state, id, move |tx, st, s| {
                lifecycle::expire_in(tx, st, s, now)
            })
            .await?,
        );
    }
    // Smallest offset first: a session that is already inside a shorter
    // offset gets that reminder only; the longer ones are marked as done.
    let mut offsets = state.config.sessions.reminder_minutes.clone();
    offsets.sort_unstable();
    offsets.dedup();
    let mut reminded = std::collections::HashSet::new();
    for &minutes in &offsets {
        for id in state
            .db
            .read(move |c| repo::due_reminders(c, now, minutes))
            .await?
        {
            let send = !reminded.contains(&id);
            let sent = one(state, id, move |tx, st, s| {
                if s.status != SessionStatus::Accepted
                    || !repo::mark_reminded(tx, s.id, minutes, s.start, now)?
                {
                    return Ok(false);
                }
                if send {
                    notify::reminder(tx, st, s, now)?;
                }
                Ok(send)
            })
            .await?;
            if sent {
                reminded.insert(id);
                report.reminded += 1;
            }
        }
    }
    let cutoff = now - Duration::hours(state.config.sessions.completion_grace_hours);
    for id in state
        .db
        .read(move |c| repo::due_completion(c, cutoff))
        .await?
    {
        report.completed += usize::from(
            one(state, id, move |tx, _, s| {
                lifecycle::complete_in(tx, s, now)
            })
            .await?,
        );
    }
    if report.expired + report.reminded > 0 {
        crate::services::mail::wake(state);
    }
    Ok(report)
}

/// Runs `f` on one session in its own transaction; errors are logged so the
/// other sessions still get their turn.
async fn one<F>(state: &AppState, id: ConsultingSessionId, f: F) -> AppResult<bool>
where
    F: FnOnce(&rusqlite::Transaction<'_>, &AppState, &repo::SessionRow) -> AppResult<bool>
        + Send
        + 'static,
{
    let st = state.clone();
    let result = state
        .db
        .write(move |tx| {
            let s = repo::find(tx, &st.keys, id)?.ok_or(AppError::NotFound)?;
            f(tx, &st, &s)
        })
        .await;
    match result {
        Ok(done) => Ok(done),
        Err(e) => {
            tracing::error!(session = %id, error = %e, "session job step failed");
            Ok(false)
        }
    }
}
