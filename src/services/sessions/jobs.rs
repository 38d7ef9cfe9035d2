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
        match expire_one(state, id, now).await {
            Ok(expired) => report.expired += usize::from(expired),
            // If Stripe fails, the next run retries.
            Err(e) => {
                tracing::warn!(session = %id, error = %e, "could not release the payment; will retry");
            }
        }
    }
    if payments::enabled(state) {
        cancel_abandoned_intents(state).await?;
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

/// Expires one request whose answer or payment time ran out: a held
/// payment is let go at Stripe first, then the session moves in its own
/// transaction. False if it was not due or moved on.
pub async fn expire_one(
    state: &AppState,
    id: ConsultingSessionId,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let keys = state.keys.clone();
    let Some(row) = state.db.read(move |c| repo::find(c, &keys, id)).await? else {
        return Ok(false);
    };
    if row.status != SessionStatus::Requested || row.expires_at > now {
        return Ok(false);
    }
    let let_go = if payments::enabled(state) && !row.awaiting_payment() {
        Some(payments::release(state, &row).await?)
    } else {
        // Unpaid: no money is held; its intent is cancelled afterwards.
        None
    };
    one(state, id, move |tx, st, s| {
        lifecycle::expire_in(tx, st, s, let_go.as_ref(), now)
    })
    .await
}

/// Cancels at Stripe the intents of unpaid requests that expired inside a
/// write (a booking or a read found them due): had the reader's card been
/// confirmed meanwhile, this lets that hold go too.
async fn cancel_abandoned_intents(state: &AppState) -> AppResult<()> {
    for (id, intent) in state
        .db
        .read(crate::db::repos::payments::intents_to_cancel)
        .await?
    {
        let cancelled = payments::cancel_abandoned(state, id, &intent).await;
        match cancelled {
            Ok(()) => {
                let intent = intent.clone();
                state
                    .db
                    .write(move |tx| crate::db::repos::payments::intent_cancelled(tx, id, &intent))
                    .await?;
            }
            Err(e) => {
                tracing::warn!(session = %id, error = %e, "could not cancel an abandoned payment; will retry");
            }
        }
    }
    Ok(())
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
