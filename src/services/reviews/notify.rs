//! Review e-mails, queued in the caller's transaction through the outbox
//! (and its opt-out list): a new published review to its researcher, a
//! moderator's decision to the author, and the reminder to review.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::db::repos::reviews::{self as repo, ReviewRow};
use crate::db::repos::{researchers, users};
use crate::domain::{Email, UserId};
use crate::error::{AppError, AppResult};
use crate::services::mail::templates::{notice, Notice};
use crate::services::mail::{enqueue_unless_opted_out_in, Outgoing};
use crate::state::AppState;

struct Mail<'a> {
    template: &'static str,
    subject: String,
    headline: String,
    lines: Vec<String>,
    action_label: &'a str,
    action_path: String,
}

/// Queues `m` to an active account; nothing for a disabled or deleted one.
fn send(
    c: &Connection,
    st: &AppState,
    to: UserId,
    m: Mail<'_>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(user) = users::find(c, &st.keys, to)?.filter(|u| !u.disabled && !u.deleted) else {
        return Ok(());
    };
    let content = notice(
        m.subject,
        &Notice {
            institution: st.config.institution.brand(),
            name: user.name.clone(),
            headline: m.headline,
            lines: m.lines,
            action_label: m.action_label.to_string(),
            action_url: format!("{}{}", st.config.public_url(), m.action_path),
        },
    )?;
    let to = Email::parse(&user.email).map_err(AppError::internal)?;
    enqueue_unless_opted_out_in(
        c,
        st,
        &Outgoing {
            template: m.template,
            to,
            content,
        },
        now,
    )
    .map(|_| ())
}

fn stars(n: u8) -> String {
    format!(
        "{}{} ({n} of 5)",
        "★".repeat(n.into()),
        "☆".repeat(5 - usize::from(n))
    )
}

/// A new published review, to the researcher (unless they turned these
/// off).
pub(super) fn new_review(
    c: &Connection,
    st: &AppState,
    r: &ReviewRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(owner) = researchers::find(c, &st.keys, r.researcher_id)?.and_then(|p| p.user_id)
    else {
        return Ok(());
    };
    if !repo::mail_prefs(c, owner)?.0 {
        return Ok(());
    }
    let mut lines = vec![format!("Rating: {}", stars(r.rating))];
    if let Some(comment) = &r.comment {
        lines.push(format!("“{comment}”"));
    }
    lines.push("You may answer it once, on your profile. You can turn these e-mails off on your account page.".into());
    send(
        c,
        st,
        owner,
        Mail {
            template: "review_published",
            subject: "A new review of your session".into(),
            headline: format!(
                "{} reviewed your session.",
                super::short_name(&r.author_name)
            ),
            lines,
            action_label: "Read and answer",
            action_path: format!("/researchers/{}#reviews", r.researcher_id),
        },
        now,
    )
}

/// A moderator published or removed a held review: its author is told why.
pub(super) fn moderated(
    c: &Connection,
    st: &AppState,
    r: &ReviewRow,
    published: bool,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (template, subject, headline) = if published {
        (
            "review_approved",
            "Your review is published",
            "A moderator read your review and published it.",
        )
    } else {
        (
            "review_removed",
            "Your review was removed",
            "A moderator read your review and removed it.",
        )
    };
    send(
        c,
        st,
        r.author_id,
        Mail {
            template,
            subject: subject.into(),
            headline: headline.into(),
            lines: vec![format!("The moderator's reason: {reason}")],
            action_label: "See the session",
            action_path: format!("/sessions/{}", r.session_id),
        },
        now,
    )
}

/// The one reminder to review a completed session.
pub(super) fn reminder(
    c: &Connection,
    st: &AppState,
    reader: UserId,
    researcher_name: &str,
    session: crate::domain::ConsultingSessionId,
    now: DateTime<Utc>,
) -> AppResult<()> {
    send(
        c,
        st,
        reader,
        Mail {
            template: "review_reminder",
            subject: format!("How was your session with {researcher_name}?"),
            headline: format!("How was your session with {researcher_name}?"),
            lines: vec![
                "A rating of 1 to 5 stars, and a few words if you like, helps other readers and the researcher.".into(),
                format!(
                    "You can review it for {} days after the session. This is the only reminder; you can turn reminders off on your account page.",
                    st.config.reviews.window_days
                ),
            ],
            action_label: "Rate this session",
            action_path: format!("/sessions/{session}#review"),
        },
        now,
    )
}
