//! Session e-mails, named for their events. Each is queued inside the
//! transaction that makes the change, in the recipient's time zone, with a
//! calendar invite where calendars need updating.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rusqlite::Connection;

use crate::db::repos::consulting_sessions::SessionRow;
use crate::db::repos::users;
use crate::domain::{Email, SessionStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::services::link_tokens;
use crate::services::mail::templates::{self, SessionNotice, SessionRequest};
use crate::services::mail::{enqueue_unless_opted_out_in, Outgoing};
use crate::state::AppState;

use super::calendar::{self, Method, People};
use super::Party;

/// One participant as a recipient.
struct Person {
    name: String,
    email: String,
    tz: Tz,
}

fn zone(name: Option<&str>, fallback: &str) -> Tz {
    name.and_then(|n| n.parse().ok())
        .or_else(|| fallback.parse().ok())
        .unwrap_or(Tz::UTC)
}

/// A time as people read it, e.g. "Tue 3 March 2026, 14:00".
pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %-d %B %Y, %H:%M")
        .to_string()
}

fn person(c: &Connection, st: &AppState, id: UserId, tz: Tz) -> AppResult<Person> {
    let u = users::find(c, &st.keys, id)?
        .ok_or_else(|| AppError::internal(format!("session participant {id} has no account")))?;
    Ok(Person {
        name: u.name,
        email: u.email,
        tz,
    })
}

/// The zone a participant reads times in (no account look-up needed).
fn zone_of(st: &AppState, s: &SessionRow, party: Party) -> Tz {
    match party {
        Party::Researcher => zone(
            s.researcher_timezone.as_deref(),
            &st.config.sessions.default_timezone,
        ),
        _ => zone(s.reader_timezone.as_deref(), "UTC"),
    }
}

fn reader(c: &Connection, st: &AppState, s: &SessionRow) -> AppResult<Person> {
    person(c, st, s.reader_id, zone_of(st, s, Party::Reader))
}

fn researcher(c: &Connection, st: &AppState, s: &SessionRow) -> AppResult<Person> {
    let id = s
        .researcher_user
        .ok_or_else(|| AppError::internal("the researcher has no account"))?;
    let mut p = person(c, st, id, zone_of(st, s, Party::Researcher))?;
    p.name = s.researcher_name.clone();
    Ok(p)
}

pub fn session_url(st: &AppState, s: &SessionRow) -> String {
    format!("{}/sessions/{}", st.config.public_url(), s.id)
}

/// Queues one message; an address that opted out is skipped, not an error.
fn send(
    c: &Connection,
    st: &AppState,
    template: &'static str,
    to: &Person,
    content: crate::db::repos::mail_outbox::Content,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let to_addr = Email::parse(&to.email).map_err(AppError::internal)?;
    let msg = Outgoing {
        template,
        to: to_addr,
        content,
    };
    enqueue_unless_opted_out_in(c, st, &msg, now).map(|_| ())
}

struct Notice<'a> {
    template: &'static str,
    subject: String,
    headline: String,
    lines: Vec<String>,
    action: Option<(String, String)>,
    invite: Option<Method>,
    s: &'a SessionRow,
}

/// Sends a notice to `to`, about a session with `other`.
fn notice(
    c: &Connection,
    st: &AppState,
    n: &Notice<'_>,
    to: &Person,
    other: &Person,
    people: &People<'_>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let s = n.s;
    let show_link = s.status == SessionStatus::Accepted;
    let m = SessionNotice {
        institution: st.config.institution.brand(),
        name: to.name.clone(),
        headline: n.headline.clone(),
        lines: n.lines.clone(),
        other_party: other.name.clone(),
        topic: s.topic.clone(),
        when_local: local(s.start, to.tz),
        timezone: to.tz.name().to_string(),
        duration_minutes: s.duration_minutes,
        meeting_url: s.meeting_url.clone().filter(|_| show_link),
        meeting_password: s.meeting_password.clone().filter(|_| show_link),
        action: n.action.clone(),
        session_url: session_url(st, s),
    };
    let attachments = match n.invite {
        Some(method) => vec![calendar::attachment(
            calendar::render(
                s,
                method,
                &st.config.public_url(),
                &session_url(st, s),
                people,
                now,
            ),
            method,
        )],
        None => Vec::new(),
    };
    let content = templates::session_notice(n.subject.clone(), &m, attachments)?;
    send(c, st, n.template, to, content, now)
}

fn organizer(st: &AppState) -> (&str, &str) {
    let from = st.config.smtp.from_address();
    let name = st
        .config
        .institution
        .display_name()
        .unwrap_or(crate::config::institution::PRODUCT);
    (name, from)
}

/// The researcher and the reader of a session, as recipients.
fn participants(c: &Connection, st: &AppState, s: &SessionRow) -> AppResult<(Person, Person)> {
    Ok((researcher(c, st, s)?, reader(c, st, s)?))
}

/// Organizer and attendees of the session's calendar event.
fn people<'a>(st: &'a AppState, r: &'a Person, d: &'a Person) -> People<'a> {
    People {
        organizer: organizer(st),
        attendees: vec![
            (r.name.as_str(), r.email.as_str()),
            (d.name.as_str(), d.email.as_str()),
        ],
    }
}

/// Sends the notice to both participants.
fn both(c: &Connection, st: &AppState, n: &Notice<'_>, now: DateTime<Utc>) -> AppResult<()> {
    let (r, d) = participants(c, st, n.s)?;
    let people = people(st, &r, &d);
    notice(c, st, n, &r, &d, &people, now)?;
    notice(c, st, n, &d, &r, &people, now)
}

/// Sends the notice to one side.
fn one(
    c: &Connection,
    st: &AppState,
    n: &Notice<'_>,
    to: Party,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (r, d) = participants(c, st, n.s)?;
    let people = people(st, &r, &d);
    match to {
        Party::Researcher => notice(c, st, n, &r, &d, &people, now),
        _ => notice(c, st, n, &d, &r, &people, now),
    }
}

/// The invite as a file, for the session page's calendar download.
pub async fn invite_for(state: &AppState, s: &SessionRow, method: Method) -> AppResult<String> {
    let st = state.clone();
    let s = s.clone();
    let now = state.now();
    state
        .db
        .read(move |c| {
            let (r, d) = participants(c, &st, &s)?;
            let people = people(&st, &r, &d);
            Ok(calendar::render(
                &s,
                method,
                &st.config.public_url(),
                &session_url(&st, &s),
                &people,
                now,
            ))
        })
        .await
}

fn price(s: &SessionRow) -> String {
    if s.price_minor == 0 {
        "free".into()
    } else {
        crate::domain::money::format(s.price_minor, &s.currency)
    }
}

/// The reader's card is held: a request still open goes to the researcher
/// now (payments calls this through `AppState::hooks`).
pub fn on_payment_authorized(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if s.status == SessionStatus::Requested {
        session_requested(c, st, s, now)?;
    }
    Ok(())
}

/// The request to the researcher, with accept and decline links that work
/// without logging in (signed, until the request expires).
pub fn session_requested(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let r = researcher(c, st, s)?;
    let d = reader(c, st, s)?;
    let ttl_days = ((s.expires_at - now).num_hours() / 24 + 1).max(1);
    let token = link_tokens::issue(
        &st.keys,
        s.researcher_id,
        s.id,
        link_tokens::SESSION_RESPOND,
        now,
        ttl_days,
        None,
    )?;
    let respond = format!("{}/respond?token={token}", session_url(st, s));
    let m = SessionRequest {
        institution: st.config.institution.brand(),
        researcher_name: r.name.clone(),
        reader_name: d.name.clone(),
        topic: s.topic.clone(),
        paper_title: s.paper_title.clone(),
        start_local: local(s.start, r.tz),
        timezone: r.tz.name().to_string(),
        duration_minutes: s.duration_minutes,
        price: price(s),
        accept_url: format!("{respond}&action=accept"),
        decline_url: format!("{respond}&action=decline"),
        session_url: session_url(st, s),
        expires_local: local(s.expires_at, r.tz),
    };
    send(
        c,
        st,
        "session_request",
        &r,
        templates::session_request(&m)?,
        now,
    )
}

pub fn session_accepted(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    both(
        c,
        st,
        &Notice {
            template: "session_accepted",
            subject: format!(
                "Confirmed: consulting session on {}",
                s.start.format("%-d %B %Y")
            ),
            headline: "The session is confirmed.".into(),
            lines: vec![
                "The calendar invite is attached. Join with the link below at the start time."
                    .into(),
            ],
            action: None,
            invite: Some(Method::Request),
            s,
        },
        now,
    )
}

pub fn session_declined(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut lines = vec![
        "The researcher cannot take this session. You can pick another time on their page."
            .to_string(),
    ];
    if let Some(r) = reason {
        lines.push(format!("Their note: {r}"));
    }
    let page = format!("{}/researchers/{}", st.config.public_url(), s.researcher_id);
    one(
        c,
        st,
        &Notice {
            template: "session_declined",
            subject: "Your session request was declined".into(),
            headline: "Your request was declined.".into(),
            lines,
            action: Some(("Find another time".into(), page)),
            invite: None,
            s,
        },
        Party::Reader,
        now,
    )
}

pub fn session_cancelled(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    was_accepted: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let by = s.cancelled_by.as_deref().unwrap_or("someone");
    let mut lines = vec![format!("It was cancelled by the {by}.")];
    if let Some(r) = &s.cancel_reason {
        lines.push(format!("Reason: {r}"));
    }
    both(
        c,
        st,
        &Notice {
            template: "session_cancelled",
            subject: format!(
                "Cancelled: consulting session on {}",
                s.start.format("%-d %B %Y")
            ),
            headline: "The session is cancelled.".into(),
            lines,
            action: None,
            invite: was_accepted.then_some(Method::Cancel),
            s,
        },
        now,
    )
}

pub fn reschedule_proposed(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    by: Party,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let to = if by == Party::Reader {
        Party::Researcher
    } else {
        Party::Reader
    };
    let tz = zone_of(st, s, to);
    let when = s.proposed_start.map(|t| local(t, tz)).unwrap_or_default();
    one(
        c,
        st,
        &Notice {
            template: "session_reschedule_proposed",
            subject: "A new time is proposed for your session".into(),
            headline: format!("A new time is proposed: {when} ({}).", tz.name()),
            lines: vec!["Accept or reject it on the session page. Until then the session stays at its current time.".into()],
            action: Some(("Answer".into(), session_url(st, s))),
            invite: None,
            s,
        },
        to,
        now,
    )
}

pub fn reschedule_answered(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    accepted: bool,
    proposed_by: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if accepted {
        return both(
            c,
            st,
            &Notice {
                template: "session_rescheduled",
                subject: format!(
                    "Moved: consulting session now on {}",
                    s.start.format("%-d %B %Y")
                ),
                headline: "The session has moved to a new time.".into(),
                lines: vec!["The updated calendar invite is attached.".into()],
                action: None,
                invite: Some(Method::Request),
                s,
            },
            now,
        );
    }
    let to = if proposed_by == "reader" {
        Party::Reader
    } else {
        Party::Researcher
    };
    one(
        c,
        st,
        &Notice {
            template: "session_reschedule_rejected",
            subject: "Your proposed new time was not accepted".into(),
            headline: "The new time was not accepted; the session stays at its current time."
                .into(),
            lines: Vec::new(),
            action: None,
            invite: None,
            s,
        },
        to,
        now,
    )
}

pub fn session_expired(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let page = format!("{}/researchers/{}", st.config.public_url(), s.researcher_id);
    one(
        c,
        st,
        &Notice {
            template: "session_expired",
            subject: "Your session request expired".into(),
            headline: "The researcher did not answer in time, so the request expired.".into(),
            lines: vec!["You can pick another time.".into()],
            action: Some(("Find another time".into(), page)),
            invite: None,
            s,
        },
        Party::Reader,
        now,
    )
}

/// "2 hours", "45 minutes": how far off `start` is, as a reminder says it.
fn time_left(start: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (start - now).num_minutes().max(1);
    if minutes >= 90 {
        let hours = (minutes + 30) / 60;
        format!("{hours} hours")
    } else if minutes >= 55 {
        "1 hour".into()
    } else {
        format!("{minutes} minutes")
    }
}

pub fn reminder(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let when = time_left(s.start, now);
    both(
        c,
        st,
        &Notice {
            template: "session_reminder",
            subject: format!("Reminder: your consulting session starts in {when}"),
            headline: format!("Your session starts in {when}."),
            lines: Vec::new(),
            action: None,
            invite: None,
            s,
        },
        now,
    )
}

pub fn no_show_reported(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let absent = s.no_show_party.as_deref().unwrap_or("other participant");
    both(
        c,
        st,
        &Notice {
            template: "session_no_show",
            subject: "A no-show was reported for your session".into(),
            headline: format!("The session was recorded as missed by the {absent}."),
            lines: vec!["If this is wrong, please contact the administrators.".into()],
            action: None,
            invite: None,
            s,
        },
        now,
    )
}
