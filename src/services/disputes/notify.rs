//! Dispute e-mails, named for their events (the outbox's `template`), in
//! the general one-action `notice` template, queued inside the transaction
//! that makes the change, each in its recipient's time zone. `{date}` in a
//! subject or line becomes the session's date, `{respond_by}` the answer
//! deadline, both in the recipient's zone. The participants' own words
//! (descriptions, messages) are never put in a mail: the dispute page
//! shows them to those who may read them; an admin's resolution note is.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::party_for;
use crate::db::repos::consulting_sessions::{self, SessionRow};
use crate::db::repos::disputes::DisputeRow;
use crate::db::repos::users;
use crate::domain::dispute::DisputeOutcome;
use crate::domain::zone::{self, Tz};
use crate::domain::{Email, UserId};
use crate::error::{AppError, AppResult};
use crate::services::mail::templates::{notice, Notice as Mail};
use crate::services::mail::{enqueue_unless_opted_out_in, Outgoing};
use crate::services::sessions::{self, Party};
use crate::state::AppState;

/// One event's words, filled in per recipient.
struct Notice {
    template: &'static str,
    subject: String,
    headline: String,
    lines: Vec<String>,
}

fn account_of(s: &SessionRow, p: Party) -> Option<UserId> {
    match p {
        Party::Reader => Some(s.reader_id),
        Party::Researcher => s.researcher_user,
        Party::Admin => None,
    }
}

fn other_name(s: &SessionRow, p: Party) -> &str {
    match p {
        Party::Reader => &s.researcher_name,
        _ => &s.reader_name,
    }
}

/// Sends `n` to each participant in `to` who has an account; an address
/// that opted out is skipped.
fn send(
    c: &Connection,
    st: &AppState,
    d: &DisputeRow,
    to: &[Party],
    n: &Notice,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let s = consulting_sessions::find(c, &st.keys, d.session_id)?
        .ok_or_else(|| AppError::internal(format!("dispute {} has no session", d.id)))?;
    for &p in to {
        let Some(user) = account_of(&s, p) else {
            continue;
        };
        let Some(u) = users::find(c, &st.keys, user)? else {
            continue;
        };
        if u.deleted {
            continue;
        }
        let tz: Tz = sessions::zone_of(&s, p, &st.config.sessions);
        let fill = |t: &str| {
            let t = t.replace("{date}", &zone::date(s.start, tz));
            match d.respond_by {
                Some(by) => t.replace("{respond_by}", &zone::local(by, tz)),
                None => t,
            }
        };
        let mut lines: Vec<String> = n.lines.iter().map(|l| fill(l)).collect();
        lines.push(format!(
            "The session: with {}, {}. The dispute is about the {}.",
            other_name(&s, p),
            zone::local(s.start, tz),
            d.kind.label()
        ));
        let m = Mail {
            institution: st.config.institution.brand(),
            name: u.name.clone(),
            headline: fill(&n.headline),
            lines,
            action_label: "Open the dispute".into(),
            action_url: format!("{}/disputes/{}", st.config.public_url(), d.id),
        };
        let content = notice(fill(&n.subject), &m)?;
        let to = Email::parse(&u.email).map_err(AppError::internal)?;
        let msg = Outgoing {
            template: n.template,
            to,
            content,
        };
        enqueue_unless_opted_out_in(c, st, &msg, now)?;
    }
    Ok(())
}

/// Both participants.
const BOTH: &[Party] = &[Party::Reader, Party::Researcher];

/// The participants other than `author` (admins write to both).
fn others(author: Party) -> Vec<Party> {
    BOTH.iter().copied().filter(|p| *p != author).collect()
}

fn opener_words(d: &DisputeRow) -> &'static str {
    d.opened_by.label()
}

/// To the other participant: a dispute was opened and they may answer.
pub(super) fn dispute_opened(
    c: &Connection,
    st: &AppState,
    d: &DisputeRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(to) = d.opened_by.other().and_then(party_for) else {
        return Ok(());
    };
    let n = if d.kind == crate::domain::dispute::DisputeKind::NoShow {
        let policy = if to == Party::Researcher {
            "the reader is refunded in full"
        } else {
            "the session counts as missed by you and nothing is refunded"
        };
        Notice {
            template: "dispute_opened",
            subject: "A no-show was reported for your session on {date}".into(),
            headline: format!("{} reports that you did not come to the session.", capital(opener_words(d))),
            lines: vec![
                format!("If you did come, contest the claim on the dispute page by {{respond_by}}. Uncontested, the claim stands: {policy}."),
                "Contested, an admin decides after hearing you both.".into(),
            ],
        }
    } else {
        Notice {
            template: "dispute_opened",
            subject: "A dispute about your session on {date}".into(),
            headline: format!(
                "{} opened a dispute about the {}.",
                capital(opener_words(d)),
                d.kind.label()
            ),
            lines: vec![
                "Read it and answer on the dispute page by {respond_by}; an admin then reviews it, answered or not.".into(),
            ],
        }
    };
    send(c, st, d, &[to], &n, now)
}

/// To everyone in the dispute but the author: a new message.
pub(super) fn dispute_message(
    c: &Connection,
    st: &AppState,
    d: &DisputeRow,
    author: Party,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let who = match author {
        Party::Admin => "An admin",
        Party::Reader => "The reader",
        Party::Researcher => "The researcher",
    };
    let n = Notice {
        template: "dispute_message",
        subject: "New message in the dispute about your session on {date}".into(),
        headline: format!("{who} wrote in the dispute."),
        lines: vec!["Read it and answer on the dispute page.".into()],
    };
    send(c, st, d, &others(author), &n, now)
}

/// To the opener: the no-show claim is contested; an admin decides.
pub(super) fn dispute_contested(
    c: &Connection,
    st: &AppState,
    d: &DisputeRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(to) = party_for(d.opened_by) else {
        return Ok(());
    };
    let n = Notice {
        template: "dispute_contested",
        subject: "Your no-show report was contested".into(),
        headline: "The other participant says they came to the session.".into(),
        lines: vec!["An admin will decide. You can add what you know on the dispute page.".into()],
    };
    send(c, st, d, &[to], &n, now)
}

/// To both: an admin now reviews the dispute (`unanswered`: because the
/// answer time ran out).
pub(super) fn dispute_under_review(
    c: &Connection,
    st: &AppState,
    d: &DisputeRow,
    unanswered: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let headline = if unanswered {
        "The time to answer the dispute has run out; an admin now reviews it."
    } else {
        "An admin now reviews the dispute."
    };
    let n = Notice {
        template: "dispute_under_review",
        subject: "The dispute about your session on {date} is with an admin".into(),
        headline: headline.into(),
        lines: vec!["You can still add messages on the dispute page.".into()],
    };
    send(c, st, d, BOTH, &n, now)
}

/// To both: how the dispute ended, with the refund and the note.
pub(super) fn dispute_resolved(
    c: &Connection,
    st: &AppState,
    d: &DisputeRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let outcome = d.outcome.map_or("resolved", DisputeOutcome::label);
    let mut lines = Vec::new();
    if let Some(minor) = d.refund_minor.filter(|m| *m > 0) {
        lines.push(format!(
            "Refunded to the reader: {}.",
            crate::domain::money::format(minor, &d.currency)
        ));
    }
    if d.outcome == Some(DisputeOutcome::ClaimUpheld) && d.resolved_by.is_none() {
        lines.push("The claim was not contested in time, so it stands.".into());
    }
    if let Some(note) = &d.note {
        lines.push(format!("Note: {note}"));
    }
    let n = Notice {
        template: "dispute_resolved",
        subject: "The dispute about your session on {date} is resolved".into(),
        headline: format!("The dispute is resolved: {outcome}."),
        lines,
    };
    send(c, st, d, BOTH, &n, now)
}

/// To the other participant: the opener withdrew the dispute.
pub(super) fn dispute_withdrawn(
    c: &Connection,
    st: &AppState,
    d: &DisputeRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(to) = d.opened_by.other().and_then(party_for) else {
        return Ok(());
    };
    let n = Notice {
        template: "dispute_withdrawn",
        subject: "The dispute about your session on {date} was withdrawn".into(),
        headline: format!("{} withdrew the dispute.", capital(opener_words(d))),
        lines: Vec::new(),
    };
    send(c, st, d, &[to], &n, now)
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
