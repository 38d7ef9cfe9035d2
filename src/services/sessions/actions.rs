//! One entry point for every lifecycle action a participant takes, from
//! the API or a page: load the session for the caller, act, answer the
//! caller's view of it.

use chrono::{DateTime, Utc};

use crate::db::repos::consulting_sessions::SessionRow;
use crate::domain::ConsultingSessionId;
use crate::error::AppResult;
use crate::services::accounts::Principal;
use crate::state::AppState;

use super::{lifecycle, load_for, reschedule, view, Party, SessionView};

/// What a participant does to a session.
#[derive(Debug, Clone)]
pub enum Action {
    Accept,
    Decline {
        reason: Option<String>,
    },
    Cancel {
        reason: String,
    },
    /// Propose a new start (and, optionally, length).
    Propose {
        start: DateTime<Utc>,
        duration_minutes: Option<i64>,
    },
    /// Accept (`true`) or reject the other party's proposed time.
    AnswerProposal(bool),
    /// Report that `absent` (default: the other party) did not come.
    NoShow {
        absent: Option<Party>,
    },
}

/// Runs `action` for the caller (404 when they are not a participant).
pub async fn act(
    state: &AppState,
    who: &Principal,
    id: ConsultingSessionId,
    action: Action,
) -> AppResult<SessionView> {
    let (row, party) = load_for(state, who, id).await?;
    let row = match action {
        Action::Accept => lifecycle::accept(state, row, party).await?,
        Action::Decline { reason } => lifecycle::decline(state, row, party, reason).await?,
        Action::Cancel { reason } => lifecycle::cancel(state, row, party, &reason).await?,
        Action::Propose {
            start,
            duration_minutes,
        } => reschedule::propose(state, row, party, start, duration_minutes).await?,
        Action::AnswerProposal(yes) => reschedule::answer_proposal(state, row, party, yes).await?,
        Action::NoShow { absent } => super::no_show::no_show(state, row, party, absent).await?,
    };
    Ok(view(row, party, state.now(), &state.config.sessions))
}

/// A request as its e-mail answer link shows it to the researcher.
pub struct LinkedRequest {
    pub session: SessionView,
    /// The researcher's zone, for the times on the page.
    pub researcher_timezone: Option<String>,
    /// What the link was checked against, for `answer`.
    row: SessionRow,
}

/// The session an e-mail answer link is for (the signed link authorises).
pub async fn by_link(
    state: &AppState,
    id: ConsultingSessionId,
    token: &str,
) -> AppResult<LinkedRequest> {
    let row = super::load_with_link(state, id, token).await?;
    Ok(LinkedRequest {
        session: view(
            row.clone(),
            Party::Researcher,
            state.now(),
            &state.config.sessions,
        ),
        researcher_timezone: row.researcher_timezone.clone(),
        row,
    })
}

/// Accepts (`true`) or declines the request an e-mail answer link is for
/// (`by_link` checked the link).
pub async fn answer(
    state: &AppState,
    linked: LinkedRequest,
    accept: bool,
    reason: Option<String>,
) -> AppResult<SessionView> {
    let (row, party) = (linked.row, Party::Researcher);
    let row = if accept {
        lifecycle::accept(state, row, party).await?
    } else {
        lifecycle::decline(state, row, party, reason).await?
    };
    Ok(view(row, party, state.now(), &state.config.sessions))
}
