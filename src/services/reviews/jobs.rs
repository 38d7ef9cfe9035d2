//! The reviews job: one reminder per completed session, `[reviews]
//! reminder_hours` after completion, to readers who want reminders.

use chrono::{DateTime, Duration, Utc};

use crate::db::repos::consulting_sessions as sessions_repo;
use crate::db::repos::reviews as repo;
use crate::error::AppResult;
use crate::state::AppState;

/// Sends the due reminders; answers how many went out.
pub async fn run(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let c = &state.config.reviews;
    if c.reminder_hours == 0 {
        return Ok(0);
    }
    let completed_before = now - Duration::hours(c.reminder_hours);
    let ended_after = now - Duration::days(c.window_days);
    let st = state.clone();
    let sent = state
        .db
        .write(move |tx| {
            let mut sent = 0;
            for id in repo::due_reminders(tx, completed_before, ended_after, 500)? {
                if !repo::mark_reminded(tx, id, now)? {
                    continue;
                }
                if let Some(s) = sessions_repo::find(tx, &st.keys, id)? {
                    super::notify::reminder(tx, &st, s.reader_id, &s.researcher_name, id, now)?;
                    sent += 1;
                }
            }
            Ok(sent)
        })
        .await?;
    if sent > 0 {
        crate::services::mail::wake(state);
    }
    Ok(sent)
}
