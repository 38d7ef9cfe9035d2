//! No-shows: whether a session may be reported missed now, an admin's
//! decision at once, the money a no-show moves by policy, and recording
//! it. Participants' reports are claims (`services::disputes::no_show`)
//! that end here when they stand.

use chrono::{DateTime, Duration, Utc};
use rusqlite::Transaction;

pub use super::lifecycle::NO_SHOW_AFTER_MINUTES;
use super::lifecycle::{reload, transition, Move};
use super::{notify, Party};
use crate::db::repos::consulting_sessions::{self as repo, SessionRow};
use crate::domain::SessionStatus::{Accepted, Completed, NoShow};
use crate::error::{AppError, AppResult};
use crate::services::payments::held as payments;
use crate::state::AppState;

const NO_SHOW: Move = Move {
    from: &[Accepted],
    to: NoShow,
    verb: "marked as a no-show",
};
/// A decided no-show claim: the completion job may have run meanwhile.
const NO_SHOW_DECIDED: Move = Move {
    from: &[Accepted, Completed],
    to: NoShow,
    verb: "marked as a no-show",
};

/// Who did not come, as `party` names them: participants report the
/// other one (the default), admins must say. Checks the session may be
/// reported missed now: accepted, from ten minutes after the start until
/// the completion grace ends.
pub fn no_show_reportable(
    state: &AppState,
    s: &SessionRow,
    party: Party,
    absent: Option<Party>,
    now: DateTime<Utc>,
) -> AppResult<Party> {
    let absent = match (party, absent) {
        (Party::Reader, None | Some(Party::Researcher)) => Party::Researcher,
        (Party::Researcher, None | Some(Party::Reader)) => Party::Reader,
        (Party::Admin, Some(p @ (Party::Reader | Party::Researcher))) => p,
        (Party::Admin, _) => {
            return Err(AppError::field(
                "party",
                "name the absent party: reader or researcher",
            ))
        }
        _ => {
            return Err(AppError::field(
                "party",
                "you can only report the other participant",
            ))
        }
    };
    NO_SHOW.check(s)?;
    let grace = Duration::hours(state.config.sessions.completion_grace_hours);
    if now < s.start + Duration::minutes(NO_SHOW_AFTER_MINUTES) {
        return Err(AppError::conflict(
            "too_early_for_no_show",
            format!(
                "A no-show can be reported from {NO_SHOW_AFTER_MINUTES} minutes after the start."
            ),
        ));
    }
    if now > s.end + grace {
        return Err(AppError::conflict(
            "outside_no_show_window",
            format!(
                "A no-show can be reported until {} hours after the end; after that, open a dispute.",
                grace.num_hours()
            ),
        ));
    }
    Ok(absent)
}

/// An admin records that `absent` did not come, at once (participants'
/// reports are claims: `services::disputes::no_show`). The refund policy
/// applies as for an upheld claim.
pub async fn no_show(
    state: &AppState,
    s: SessionRow,
    party: Party,
    absent: Option<Party>,
) -> AppResult<SessionRow> {
    if party != Party::Admin {
        return Err(AppError::Forbidden);
    }
    let now = state.now();
    let absent = no_show_reportable(state, &s, party, absent, now)?;
    let refunded = no_show_refund(state, &s, absent).await?;
    let st = state.clone();
    let row = state
        .db
        .write(move |tx| {
            let row =
                record_no_show_in(tx, &st, &s, absent, party.as_str(), refunded.as_ref(), now)?;
            notify::no_show_reported(tx, &st, &row, now)?;
            Ok(row)
        })
        .await?;
    crate::services::mail::wake(state);
    Ok(row)
}

/// The money a no-show moves by policy, at Stripe, before it is recorded:
/// a researcher who did not come refunds the reader in full; a reader who
/// did not come gets nothing back.
pub async fn no_show_refund(
    state: &AppState,
    s: &SessionRow,
    absent: Party,
) -> AppResult<Option<payments::Refunded>> {
    match payments::of_session(state, s.id).await? {
        Some(p) if absent == Party::Researcher => {
            let amount = payments::refund_amount(state, &p, false, 0);
            payments::refund(state, s, p, amount).await
        }
        _ => Ok(None),
    }
}

/// Records a no-show in the caller's transaction: the session (accepted,
/// or completed while a claim was open) becomes `no_show` with the absent
/// party, the refund made by `no_show_refund` is recorded, and the history
/// names `actor`. The caller sends the e-mails.
pub fn record_no_show_in(
    tx: &Transaction<'_>,
    st: &AppState,
    s: &SessionRow,
    absent: Party,
    actor: &str,
    refunded: Option<&payments::Refunded>,
    now: DateTime<Utc>,
) -> AppResult<SessionRow> {
    let row = transition(tx, st, s, &NO_SHOW_DECIDED, now)?;
    repo::set_no_show(tx, row.id, absent.as_str())?;
    if let Some(r) = refunded {
        payments::record_refund_in(tx, st, &row, r, now)?;
    }
    repo::record_event(
        tx,
        row.id,
        &format!("no_show_{}", absent.as_str()),
        actor,
        now,
    )?;
    reload(tx, st, &row)
}
