//! The session page's forms: what each action button posts, its labels,
//! and what the page says when it worked.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::form_errors::Labels;
use crate::error::AppError;
use crate::services::sessions::actions::Action;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct ActionForm {
    pub csrf_token: String,
    #[serde(default)]
    pub action: String,
    pub reason: Option<String>,
    pub start: Option<String>,
    /// The review form's stars and comment.
    pub rating: Option<String>,
    pub comment: Option<String>,
    /// The "Dispute this session" form (`disputes::dispute_post`).
    pub kind: Option<String>,
    pub description: Option<String>,
    pub review_id: Option<String>,
}

impl ActionForm {
    /// The reason typed into `action`'s form (decline and cancel have one each).
    pub fn reason_for(&self, action: &str) -> &str {
        match &self.reason {
            Some(r) if self.action == action => r,
            _ => "",
        }
    }
}

pub const ACTION_LABELS: Labels = &[
    ("reason", "The reason"),
    ("start", "The new time"),
    ("kind", "What it is about"),
    ("description", "What happened"),
    ("review_id", "The review"),
];

/// The action a button asks for, and what the page says when it worked.
pub(super) fn action_of(f: &ActionForm) -> Result<(Action, &'static str), AppError> {
    let reason = f.reason.clone().filter(|r| !r.trim().is_empty());
    Ok(match f.action.as_str() {
        "accept" => (
            Action::Accept,
            "Accepted. Both of you have the meeting link and a calendar invite.",
        ),
        "decline" => (
            Action::Decline { reason },
            "Declined. The reader has been told.",
        ),
        "cancel" => (
            Action::Cancel {
                reason: reason.unwrap_or_default(),
            },
            "The session is cancelled.",
        ),
        "reschedule" => {
            let start = f
                .start
                .as_deref()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .ok_or_else(|| AppError::field("start", "pick one of the free times"))?;
            (
                Action::Propose {
                    start: start.with_timezone(&Utc),
                    duration_minutes: None,
                },
                "New time proposed. The other participant will answer.",
            )
        }
        "accept_reschedule" => (
            Action::AnswerProposal(true),
            "The session has moved to the new time.",
        ),
        "reject_reschedule" => (
            Action::AnswerProposal(false),
            "The session stays at its current time.",
        ),
        _ => return Err(AppError::bad_request("bad_action", "Unknown action.")),
    })
}

/// What the page says after a no-show report.
pub(super) fn reported(state: &AppState, claim: bool) -> String {
    if claim {
        format!(
            "Your report is recorded as a claim. The other participant has {} hours to contest it; uncontested, it stands.",
            state.config.disputes.no_show_response_hours
        )
    } else {
        "The no-show is recorded.".into()
    }
}
