//! Moving an accepted session: a participant proposes a new time (held
//! until answered), the other accepts (the session, its meeting and the
//! invites move) or rejects it.

use chrono::{DateTime, Duration, Utc};
use rusqlite::Transaction;

use super::lifecycle::{illegal, reload, require_status};
use super::{notify, settings, video, Party};
use crate::db::repos::consulting_sessions::{self as repo, SessionRow};
use crate::domain::availability;
use crate::domain::SessionStatus::Accepted;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// A participant proposes a new time for an accepted session; the slot is
/// held until the other party answers.
pub async fn propose(
    state: &AppState,
    s: SessionRow,
    party: Party,
    start: DateTime<Utc>,
    duration: Option<i64>,
) -> AppResult<SessionRow> {
    if party == Party::Admin {
        return Err(AppError::Forbidden);
    }
    require_status(&s, &[Accepted], "rescheduled")?;
    let now = state.now();
    if now >= s.start {
        return Err(illegal(&s, "rescheduled after it started"));
    }
    let duration = duration.unwrap_or(s.duration_minutes);
    if start == s.start && duration == s.duration_minutes {
        return Err(AppError::field("start", "is the session's current time"));
    }
    let st = state.clone();
    let row = state
        .db
        .write(move |tx| {
            check_free(tx, &st, &s, start, duration, now)?;
            repo::propose(
                tx,
                s.id,
                start,
                start + Duration::minutes(duration),
                party.as_str(),
                now,
            )?;
            repo::record_event(tx, s.id, "reschedule_proposed", party.as_str(), now)?;
            let row = reload(tx, &st, &s)?;
            notify::reschedule_proposed(tx, &st, &row, party, now)?;
            Ok(row)
        })
        .await?;
    crate::services::mail::wake(state);
    Ok(row)
}

/// The slot check for a move: the session's own time does not count.
fn check_free(
    tx: &Transaction<'_>,
    st: &AppState,
    s: &SessionRow,
    start: DateTime<Utc>,
    duration: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let loaded = settings::load(tx, &st.config.sessions, s.researcher_id)?;
    if !loaded.settings.durations.contains(&duration) {
        return Err(AppError::field(
            "duration_minutes",
            format!(
                "this researcher offers sessions of {:?} minutes",
                loaded.settings.durations
            ),
        ));
    }
    let busy = repo::busy(
        tx,
        s.researcher_id,
        start - Duration::days(2),
        start + Duration::days(3),
        Some(s.id),
        now,
    )?;
    let free = loaded.availability.is_some_and(|a| {
        availability::is_bookable(&loaded.settings, &a, &busy, now, start, duration)
    });
    if free {
        Ok(())
    } else {
        Err(AppError::conflict(
            "slot_unavailable",
            "That time is not free. Pick another slot.",
        ))
    }
}

/// The other party accepts or rejects a proposed new time. Accepting moves
/// the session (and its Zoom meeting), frees the old time and sends updated
/// invites with a higher SEQUENCE.
pub async fn answer_proposal(
    state: &AppState,
    s: SessionRow,
    party: Party,
    accept: bool,
) -> AppResult<SessionRow> {
    let verb = if accept { "moved" } else { "kept" };
    require_status(&s, &[Accepted], verb)?;
    let (Some(by), Some(new_start), Some(new_end)) =
        (s.proposed_by.clone(), s.proposed_start, s.proposed_end)
    else {
        return Err(AppError::conflict(
            "no_proposal",
            "No new time has been proposed.",
        ));
    };
    if party == Party::Admin || by == party.as_str() {
        return Err(AppError::Forbidden);
    }
    let now = state.now();
    if now >= s.start {
        return Err(illegal(&s, "moved after it started"));
    }
    let mut moved = s.clone();
    moved.start = new_start;
    moved.end = new_end;
    moved.duration_minutes = (new_end - new_start).num_minutes();
    let new_link = if accept {
        video::reschedule(state, &moved).await?
    } else {
        None
    };
    let before = s.clone();
    let stored_link = new_link.clone();
    let st = state.clone();
    let result = state
        .db
        .write(move |tx| {
            if accept {
                check_free(tx, &st, &s, new_start, moved.duration_minutes, now)?;
                if !repo::apply_proposal(tx, s.id, now)? {
                    return Err(illegal(&s, verb));
                }
                if let Some(l) = &new_link {
                    repo::set_meeting(
                        tx,
                        &st.keys,
                        s.id,
                        l.provider,
                        l.meeting_id.as_deref(),
                        &l.url,
                        l.password.as_deref(),
                    )?;
                }
                repo::bump_sequence(tx, s.id)?;
                repo::record_event(tx, s.id, "rescheduled", party.as_str(), now)?;
            } else {
                repo::clear_proposal(tx, s.id, now)?;
                repo::record_event(tx, s.id, "reschedule_rejected", party.as_str(), now)?;
            }
            let row = reload(tx, &st, &s)?;
            notify::reschedule_answered(tx, &st, &row, accept, &by, now)?;
            Ok(row)
        })
        .await;
    match (&result, &stored_link) {
        // Stored: a Zoom meeting replaced by a template link is retired.
        (Ok(_), Some(link)) => video::retire(state, &before, link).await,
        // Not stored: Zoom was moved (or replaced) for nothing; undo it.
        (Err(e), _) if accept => {
            tracing::info!(session = %before.id, error = %e, "move not stored; restoring the meeting");
            match &stored_link {
                Some(link) => video::discard(state, link).await,
                None => {
                    if let Err(e) = video::reschedule(state, &before).await {
                        tracing::warn!(session = %before.id, error = %e, "could not move the Zoom meeting back");
                    }
                }
            }
        }
        _ => {}
    }
    let row = result?;
    crate::services::mail::wake(state);
    Ok(row)
}
