//! What withdrawing `researcher_listing` leaves to the researcher: the
//! sessions still open (requested or accepted, not yet over) stay, and the
//! researcher is told which they are, by e-mail and on the account page,
//! so they answer, hold or cancel each one.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::repos::consulting_sessions::{upcoming, Party, SessionRow};
use crate::db::repos::users;
use crate::domain::{zone, ConsultingSessionId, Email, ResearcherId, SessionStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::services::mail::templates::{notice, Notice};
use crate::services::mail::{enqueue_unless_opted_out_in, Outgoing};
use crate::state::AppState;

/// At most this many sessions are listed (the rest are on `/sessions`).
const LISTED: usize = 50;

/// A session still open on a profile that is no longer listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenSession {
    pub id: ConsultingSessionId,
    pub status: SessionStatus,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reader_name: String,
}

fn open_rows(
    c: &Connection,
    st: &AppState,
    rid: ResearcherId,
    now: DateTime<Utc>,
) -> AppResult<Vec<SessionRow>> {
    let mut rows = Vec::new();
    for status in [SessionStatus::Requested, SessionStatus::Accepted] {
        rows.extend(upcoming(
            c,
            &st.keys,
            Party::Researcher(rid),
            status,
            now,
            LISTED,
        )?);
    }
    rows.sort_by_key(|r| r.start);
    rows.truncate(LISTED);
    Ok(rows)
}

pub(super) async fn open_sessions(
    state: &AppState,
    rid: ResearcherId,
) -> AppResult<Vec<OpenSession>> {
    let (st, now) = (state.clone(), state.now());
    let rows = state.db.read(move |c| open_rows(c, &st, rid, now)).await?;
    Ok(rows
        .into_iter()
        .map(|r| OpenSession {
            id: r.id,
            status: r.status,
            start: r.start,
            end: r.end,
            reader_name: r.reader_name,
        })
        .collect())
}

/// Queues the e-mail that the profile is hidden, listing the open
/// sessions in the researcher's zone (in the caller's transaction).
pub(super) fn tell_researcher(
    tx: &Connection,
    st: &AppState,
    user: UserId,
    rid: ResearcherId,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(account) = users::find(tx, &st.keys, user)? else {
        return Ok(());
    };
    let tz = zone::parse_or_default(account.timezone.as_deref()).unwrap_or(zone::DEFAULT);
    let open = open_rows(tx, st, rid, now)?;
    let mut lines = vec![
        "Your profile no longer appears in search and nobody can book a new session with you. You can list it again on your account page at any time.".to_string(),
    ];
    if open.is_empty() {
        lines.push("You have no open sessions.".into());
    } else {
        lines.push(format!(
            "These {} sessions are still open. They stay as they are: please accept or decline each request, and hold or cancel each accepted session.",
            open.len()
        ));
        for r in &open {
            let what = match r.status {
                SessionStatus::Requested => "request",
                _ => "accepted",
            };
            lines.push(format!(
                "{} with {} ({what}): {}/sessions/{}",
                zone::local(r.start, tz),
                r.reader_name,
                st.config.public_url(),
                r.id
            ));
        }
    }
    let content = notice(
        "Your profile is hidden from readers".into(),
        &Notice {
            institution: st.config.institution.brand(),
            name: account.name.clone(),
            headline: "You withdrew your consent to be listed.".into(),
            lines,
            action_label: "See your sessions".into(),
            action_url: format!("{}/sessions", st.config.public_url()),
        },
    )?;
    let to = Email::parse(&account.email).map_err(AppError::internal)?;
    enqueue_unless_opted_out_in(
        tx,
        st,
        &Outgoing {
            template: "listing_withdrawn",
            to,
            content,
        },
        now,
    )?;
    Ok(())
}
