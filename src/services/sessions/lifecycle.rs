//! The session state machine. Every transition is a conditional UPDATE
//! (`WHERE status IN …`) inside a write transaction together with its
//! history row and e-mails, so a state never moves backwards and two
//! concurrent answers cannot both win: the loser gets 409.

use chrono::{DateTime, Duration, Utc};
use rusqlite::Transaction;

use crate::db::repos::consulting_sessions::{self as repo, SessionRow};
use crate::db::repos::plan_credits;
use crate::domain::text;
use crate::domain::SessionStatus::{
    self, Accepted, Cancelled, Completed, Declined, Expired, Requested,
};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

use super::{notify, settings, video, Party};
use crate::services::payments::held as payments;

pub const REASON_MAX: usize = 1000;

/// A no-show may be reported this long after the start, not before.
pub const NO_SHOW_AFTER_MINUTES: i64 = 10;

/// What `party` may do with the session now (shown in the API and pages).
pub fn allowed_actions(
    s: &SessionRow,
    party: Party,
    now: DateTime<Utc>,
    grace_hours: i64,
) -> Vec<&'static str> {
    let mut out = Vec::new();
    let participant = party != Party::Admin;
    match s.status {
        Requested => {
            if party == Party::Researcher && now < s.expires_at {
                // A request whose hold lapsed waits for the reader's new
                // payment before it can be accepted.
                if !s.awaiting_payment() {
                    out.push("accept");
                }
                out.push("decline");
            }
            if party == Party::Reader && s.awaiting_payment() && now < s.expires_at {
                out.push("pay");
            }
            out.push("cancel");
        }
        Accepted => {
            if now < s.start {
                out.push("cancel");
                if participant {
                    out.push("reschedule");
                }
                if participant
                    && s.proposed_by
                        .as_deref()
                        .is_some_and(|p| p != party.as_str())
                {
                    out.extend(["accept_reschedule", "reject_reschedule"]);
                }
            }
            if now >= s.start + Duration::minutes(NO_SHOW_AFTER_MINUTES)
                && now <= s.end + Duration::hours(grace_hours)
            {
                out.push("no_show");
            }
        }
        _ => {}
    }
    out
}

pub(super) fn illegal(s: &SessionRow, verb: &str) -> AppError {
    AppError::conflict(
        "illegal_transition",
        format!("The session is {}; it cannot be {verb}.", s.status),
    )
}

pub(super) fn require_status(
    s: &SessionRow,
    allowed: &[SessionStatus],
    verb: &str,
) -> AppResult<()> {
    if allowed.contains(&s.status) {
        Ok(())
    } else {
        Err(illegal(s, verb))
    }
}

/// One arrow of the state machine a participant takes: the statuses it
/// leaves, the one it reaches, and how a refusal ends ("it cannot be …").
pub(super) struct Move {
    pub(super) from: &'static [SessionStatus],
    pub(super) to: SessionStatus,
    pub(super) verb: &'static str,
}

const ACCEPT: Move = Move {
    from: &[Requested],
    to: Accepted,
    verb: "accepted",
};
const DECLINE: Move = Move {
    from: &[Requested],
    to: Declined,
    verb: "declined",
};
const CANCEL: Move = Move {
    from: &[Requested, Accepted],
    to: Cancelled,
    verb: "cancelled",
};
impl Move {
    /// Refuses the move unless the session is where it starts.
    pub(super) fn check(&self, s: &SessionRow) -> AppResult<()> {
        require_status(s, self.from, self.verb)
    }
}

/// Moves the stored session or reports who moved it first.
pub(super) fn transition(
    tx: &Transaction<'_>,
    st: &AppState,
    s: &SessionRow,
    m: &Move,
    now: DateTime<Utc>,
) -> AppResult<SessionRow> {
    if !repo::transition(tx, s.id, m.from, m.to, now)? {
        let current = repo::find(tx, &st.keys, s.id)?.ok_or(AppError::NotFound)?;
        return Err(illegal(&current, m.verb));
    }
    repo::find(tx, &st.keys, s.id)?.ok_or(AppError::NotFound)
}

pub(super) fn reload(tx: &Transaction<'_>, st: &AppState, s: &SessionRow) -> AppResult<SessionRow> {
    repo::find(tx, &st.keys, s.id)?.ok_or(AppError::NotFound)
}

/// The researcher accepts: a video meeting is made, both get an invite.
pub async fn accept(state: &AppState, s: SessionRow, party: Party) -> AppResult<SessionRow> {
    if party != Party::Researcher {
        return Err(AppError::Forbidden);
    }
    ACCEPT.check(&s)?;
    let now = state.now();
    if now >= s.expires_at {
        return Err(AppError::conflict(
            "request_expired",
            "The request expired before it was answered.",
        ));
    }
    let link = video::create(state, &s).await?;
    // The money moves first: a failed capture leaves the session as it was.
    let captured = match payments::capture(state, &s).await {
        Ok(payments::Capture::Free) => None,
        Ok(payments::Capture::Captured(p)) => Some(p),
        Ok(payments::Capture::Lapsed(p)) => {
            video::discard(state, &link).await;
            return Err(hold_lapsed(state, s, p, now).await);
        }
        Err(e) => {
            video::discard(state, &link).await;
            return Err(e);
        }
    };
    let captured_copy = captured.clone();
    let st = state.clone();
    let l = link.clone();
    let result = state
        .db
        .write(move |tx| {
            let row = transition(tx, &st, &s, &ACCEPT, now)?;
            if let Some(p) = &captured {
                payments::record_capture_in(tx, &st, &row, p, now)?;
            }
            repo::set_meeting(
                tx,
                &st.keys,
                row.id,
                l.provider,
                l.meeting_id.as_deref(),
                &l.url,
                l.password.as_deref(),
            )?;
            repo::record_event(
                tx,
                row.id,
                Accepted.as_str(),
                Party::Researcher.as_str(),
                now,
            )?;
            let row = reload(tx, &st, &row)?;
            notify::session_accepted(tx, &st, &row, now)?;
            Ok(row)
        })
        .await;
    if let Err(e) = &result {
        tracing::info!(error = %e, "accept failed; removing the meeting just made");
        video::discard(state, &link).await;
        // Captured but not stored: give the money back rather than keep it
        // for a session that is not accepted.
        if let Some(p) = &captured_copy {
            if let Err(e) = payments::refund_uncommitted(state, p).await {
                tracing::error!(session = %p.session_id, error = %e, "could not refund a capture whose accept failed");
            }
        }
    }
    crate::services::mail::wake(state);
    result
}

/// The card hold lapsed before the researcher accepted: the request is
/// not accepted silently. The reader is asked to confirm their payment
/// again, the slot stays held for the payment window, and the researcher
/// sees it waiting for payment. Answers the researcher's refusal.
async fn hold_lapsed(
    state: &AppState,
    s: SessionRow,
    p: crate::db::repos::payments::SessionPayment,
    now: DateTime<Utc>,
) -> AppError {
    let st = state.clone();
    let recorded = state
        .db
        .write(move |tx| {
            if payments::record_lapse_in(tx, &st, &s, &p, now)? {
                repo::record_event(tx, s.id, "payment_lapsed", "system", now)?;
                let row = reload(tx, &st, &s)?;
                notify::payment_reconfirm(tx, &st, &row, now)?;
            }
            Ok(())
        })
        .await;
    if let Err(e) = recorded {
        return e;
    }
    crate::services::mail::wake(state);
    AppError::conflict(
        "payment_lapsed",
        "The reader's card hold lapsed before you answered, so nothing was charged. We have asked them to confirm their payment again; you can accept once they do.",
    )
}

/// The researcher declines a request.
pub async fn decline(
    state: &AppState,
    s: SessionRow,
    party: Party,
    reason: Option<String>,
) -> AppResult<SessionRow> {
    if party != Party::Researcher {
        return Err(AppError::Forbidden);
    }
    let reason = text::optional_block(reason.as_deref(), REASON_MAX)
        .map_err(|m| AppError::field("reason", m))?;
    DECLINE.check(&s)?;
    let let_go = payments::release(state, &s).await?;
    let st = state.clone();
    let now = state.now();
    let row = state
        .db
        .write(move |tx| {
            let row = transition(tx, &st, &s, &DECLINE, now)?;
            payments::record_let_go_in(tx, &st, &row, Some(&let_go), now)?;
            plan_credits::give_back(tx, row.id, now)?;
            repo::record_event(
                tx,
                row.id,
                Declined.as_str(),
                Party::Researcher.as_str(),
                now,
            )?;
            notify::session_declined(tx, &st, &row, reason.as_deref(), now)?;
            Ok(row)
        })
        .await?;
    crate::services::mail::wake(state);
    Ok(row)
}

/// The one place a session is cancelled (by a participant or an admin).
/// Readers may cancel an accepted session only up to the researcher's
/// cancellation window before it starts. Payments hook their refund
/// policy here.
pub async fn cancel(
    state: &AppState,
    s: SessionRow,
    party: Party,
    reason: &str,
) -> AppResult<SessionRow> {
    cancel_as(state, s, party, reason, true).await
}

/// A participant who erases their account cancels their open sessions:
/// the refund follows the normal tiers for their side, but a reader inside
/// the cancellation window is not refused (the account is going away).
pub async fn cancel_at_erasure(
    state: &AppState,
    s: SessionRow,
    party: Party,
) -> AppResult<SessionRow> {
    let reason = "The other participant closed their account.";
    cancel_as(state, s, party, reason, false).await
}

async fn cancel_as(
    state: &AppState,
    s: SessionRow,
    party: Party,
    reason: &str,
    keep_window: bool,
) -> AppResult<SessionRow> {
    let reason = text::block(reason, REASON_MAX).map_err(|m| AppError::field("reason", m))?;
    CANCEL.check(&s)?;
    let now = state.now();
    let was_accepted = s.status == Accepted;
    if was_accepted && now >= s.start {
        return Err(AppError::conflict(
            "already_started",
            "The session has already started; report a no-show instead.",
        ));
    }
    if party == Party::Reader && was_accepted && keep_window {
        check_cancel_window(state, &s, now).await?;
    }
    // Money first: release the hold, or refund by the policy.
    let minutes_left = (s.start - now).num_minutes();
    let (refunded, let_go) = if was_accepted {
        match payments::of_session(state, s.id).await? {
            Some(p) => {
                let amount =
                    payments::refund_amount(state, &p, party == Party::Reader, minutes_left);
                (payments::refund(state, &s, p, amount).await?, None)
            }
            None => (None, None),
        }
    } else {
        (None, Some(payments::release(state, &s).await?))
    };
    // An included session comes back when the money would all come back:
    // before accept, on the researcher's side, or inside the reader's
    // full-refund tier. A late cancellation keeps it spent.
    let credit_back = !was_accepted
        || party != Party::Reader
        || crate::domain::money::refund_percent(&state.config.payments.refund_tiers, minutes_left)
            >= 100;
    let st = state.clone();
    let row = state
        .db
        .write(move |tx| {
            let row = transition(tx, &st, &s, &CANCEL, now)?;
            repo::set_cancelled(tx, &st.keys, row.id, party.as_str(), &reason)?;
            match &refunded {
                Some(r) => payments::record_refund_in(tx, &st, &row, r, now)?,
                None => payments::record_let_go_in(tx, &st, &row, let_go.as_ref(), now)?,
            }
            if credit_back {
                plan_credits::give_back(tx, row.id, now)?;
            }
            if was_accepted {
                repo::bump_sequence(tx, row.id)?;
            }
            repo::record_event(tx, row.id, Cancelled.as_str(), party.as_str(), now)?;
            let row = reload(tx, &st, &row)?;
            notify::session_cancelled(tx, &st, &row, was_accepted, now)?;
            Ok(row)
        })
        .await?;
    video::delete(state, &row).await;
    crate::services::mail::wake(state);
    Ok(row)
}

/// Readers may cancel an accepted session only up to the researcher's
/// cancellation window before it starts.
async fn check_cancel_window(
    state: &AppState,
    s: &SessionRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (config, id) = (state.config.clone(), s.researcher_id);
    let window = state
        .db
        .read(move |c| {
            Ok(settings::load(c, &config.sessions, id)?
                .body
                .cancel_window_hours)
        })
        .await?;
    if now > s.start - Duration::hours(window) {
        return Err(AppError::conflict(
            "too_late_to_cancel",
            format!("Sessions can be cancelled up to {window} hours before they start. Please write to the researcher."),
        ));
    }
    Ok(())
}

/// Expires one request whose answer or payment time ran out (the
/// sessions job, a booking or a read that finds it due); false if it moved
/// on. An unpaid one ends as `payment_not_completed` and only its reader
/// is told why; its intent, if any, is left for the job to cancel at
/// Stripe (no money is held). A held card was let go by the caller
/// (`let_go`: released, or refunded when Stripe had captured it).
pub fn expire_in(
    tx: &Transaction<'_>,
    st: &AppState,
    s: &SessionRow,
    let_go: Option<&payments::LetGo>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if !repo::transition(tx, s.id, &[Requested], Expired, now)? {
        return Ok(false);
    }
    let unpaid = s.awaiting_payment();
    let reason = if unpaid {
        EXPIRED_UNPAID
    } else {
        EXPIRED_UNANSWERED
    };
    repo::set_expiry_reason(tx, s.id, reason)?;
    repo::record_event(tx, s.id, Expired.as_str(), "system", now)?;
    if unpaid {
        crate::db::repos::payments::cancel_intent_later(tx, s.id)?;
    }
    payments::record_let_go_in(tx, st, s, let_go, now)?;
    plan_credits::give_back(tx, s.id, now)?;
    let row = reload(tx, st, s)?;
    if unpaid {
        notify::payment_not_completed(tx, st, &row, now)?;
    } else {
        notify::session_expired(tx, st, &row, now)?;
    }
    Ok(true)
}

/// `expiry_reason` of a request whose card was never held in time.
pub const EXPIRED_UNPAID: &str = "payment_not_completed";
/// `expiry_reason` of a request the researcher did not answer in time.
pub const EXPIRED_UNANSWERED: &str = "not_answered";

/// Marks one past session completed (scheduled job); false if it moved on
/// or a no-show claim on it is open (the claim decides).
pub fn complete_in(tx: &Transaction<'_>, s: &SessionRow, now: DateTime<Utc>) -> AppResult<bool> {
    if repo::no_show_claim_open(tx, s.id)?
        || !repo::transition(tx, s.id, &[Accepted], Completed, now)?
    {
        return Ok(false);
    }
    repo::record_event(tx, s.id, Completed.as_str(), "system", now)?;
    Ok(true)
}
