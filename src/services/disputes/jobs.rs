//! The `disputes` job (`[jobs] disputes`): tells the other participant of
//! a dispute not told yet, and applies deadlines: an uncontested no-show
//! claim stands (`resolve::uphold`), any other dispute left unanswered
//! goes to an admin. One dispute per transaction, so a failure stops
//! nothing else. `get` applies the same steps to the dispute it reads.

use chrono::{DateTime, Duration, Utc};

use super::{audit_in, check, notify, resolve, Audited};
use crate::db::repos::disputes::{self as repo, DisputeRow};
use crate::domain::dispute::{DisputeKind, DisputeSide, Step};
use crate::domain::{DisputeId, DisputeStatus};
use crate::error::AppResult;
use crate::state::AppState;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Other parties told of a dispute.
    pub told: usize,
    /// No-show claims that stood uncontested.
    pub upheld: usize,
    /// Unanswered disputes sent to an admin.
    pub to_review: usize,
}

pub async fn run(state: &AppState, now: DateTime<Utc>) -> AppResult<Report> {
    let mut report = Report::default();
    for id in state.db.read(repo::due_to_tell).await? {
        match tell(state, id, now).await {
            Ok(done) => report.told += usize::from(done),
            Err(e) => tracing::error!(dispute = %id, error = %e, "telling the other party failed"),
        }
    }
    for id in state.db.read(move |c| repo::due_lapsed(c, now)).await? {
        match lapse(state, id, now).await {
            Ok(Some(DisputeKind::NoShow)) => report.upheld += 1,
            Ok(Some(_)) => report.to_review += 1,
            Ok(None) => {}
            Err(e) => tracing::error!(dispute = %id, error = %e, "dispute deadline step failed"),
        }
    }
    if report.told + report.upheld + report.to_review > 0 {
        crate::services::mail::wake(state);
    }
    Ok(report)
}

/// How long the other participant has to answer a dispute of `kind`.
fn answer_time(state: &AppState, kind: DisputeKind) -> Duration {
    let c = &state.config.disputes;
    match kind {
        DisputeKind::NoShow => Duration::hours(c.no_show_response_hours),
        _ => Duration::days(c.response_days),
    }
}

/// Tells the other participant of an `open` dispute, which now waits for
/// their answer; false when there was nothing to do.
pub(super) async fn tell(state: &AppState, id: DisputeId, now: DateTime<Utc>) -> AppResult<bool> {
    let st = state.clone();
    state
        .db
        .write(move |tx| {
            let Some(d) = repo::find(tx, &st.keys, id)? else {
                return Ok(false);
            };
            if d.opened_by == DisputeSide::Stripe || check(&d, Step::Tell).is_err() {
                return Ok(false);
            }
            let by = now + answer_time(&st, d.kind);
            if !repo::mark_told(tx, id, by, now)? {
                return Ok(false);
            }
            let d = super::reload(tx, &st, id)?;
            audit_in(
                tx,
                &st,
                &d,
                Audited::by(None, "dispute.awaiting_response", None),
                now,
            )?;
            notify::dispute_opened(tx, &st, &d, now)?;
            Ok(true)
        })
        .await
}

/// Applies a passed deadline: a no-show claim stands, anything else goes
/// to an admin. Answers the kind when it did.
async fn lapse(
    state: &AppState,
    id: DisputeId,
    now: DateTime<Utc>,
) -> AppResult<Option<DisputeKind>> {
    let d = super::find(state, id).await?;
    if d.status != DisputeStatus::AwaitingResponse || d.respond_by.is_none_or(|by| by > now) {
        return Ok(None);
    }
    if d.kind == DisputeKind::NoShow {
        let note = "Not contested in time: the claim stands.";
        resolve::uphold(state, &d, None, note, None, now).await?;
        return Ok(Some(d.kind));
    }
    let st = state.clone();
    let moved = state
        .db
        .write(move |tx| {
            let from = [DisputeStatus::AwaitingResponse];
            if !repo::transition(tx, id, &from, DisputeStatus::UnderReview, now)? {
                return Ok(false);
            }
            let d = super::reload(tx, &st, id)?;
            let e = Audited::by(None, "dispute.under_review", None)
                .with(serde_json::json!({"because": "unanswered"}));
            audit_in(tx, &st, &d, e, now)?;
            notify::dispute_under_review(tx, &st, &d, true, now)?;
            Ok(true)
        })
        .await?;
    Ok(moved.then_some(d.kind))
}

/// Applies what the job would to one dispute now, so a page, an answer
/// or an action after a deadline the job has not applied yet sees where
/// the dispute really stands. True when it changed something; failures
/// are logged (the job retries them).
pub(super) async fn settle(state: &AppState, d: &DisputeRow) -> bool {
    let now = state.now();
    let result = match d.status {
        DisputeStatus::Open if d.opened_by != DisputeSide::Stripe => tell(state, d.id, now).await,
        DisputeStatus::AwaitingResponse if d.respond_by.is_some_and(|by| by <= now) => {
            lapse(state, d.id, now).await.map(|k| k.is_some())
        }
        _ => return false,
    };
    match result {
        Ok(changed) => {
            if changed {
                crate::services::mail::wake(state);
            }
            changed
        }
        Err(e) => {
            tracing::warn!(dispute = %d.id, error = %e, "could not apply a dispute deadline");
            false
        }
    }
}
