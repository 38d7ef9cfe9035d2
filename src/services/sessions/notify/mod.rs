//! Session e-mails, named for their events. Each is queued inside the
//! transaction that makes the change, in the recipient's time zone, with a
//! calendar invite where calendars need updating.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::db::repos::consulting_sessions::SessionRow;
use crate::db::repos::users;
use crate::domain::zone::{self, Tz};
use crate::domain::{Email, SessionStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::services::link_tokens;
use crate::services::mail::templates::{self, SessionNotice, SessionRequest};
use crate::services::mail::{enqueue_unless_opted_out_in, Outgoing};
use crate::state::AppState;

use super::calendar::{self, Method, People};
use super::Party;

mod lifecycle;

pub use lifecycle::*;

/// One participant as a recipient.
struct Person {
    name: String,
    email: String,
    tz: Tz,
}

/// A participant's account, or `None` where it was deleted since.
fn person(c: &Connection, st: &AppState, id: UserId, tz: Tz) -> AppResult<Option<Person>> {
    Ok(users::find(c, &st.keys, id)?.map(|u| Person {
        name: u.name,
        email: u.email,
        tz,
    }))
}

/// The zone a participant reads times in (no account look-up needed).
fn zone_of(st: &AppState, s: &SessionRow, party: Party) -> Tz {
    super::zone_of(s, party, &st.config.sessions)
}

fn reader_if_any(c: &Connection, st: &AppState, s: &SessionRow) -> AppResult<Option<Person>> {
    person(c, st, s.reader_id, zone_of(st, s, Party::Reader))
}

/// The researcher's account (`None` for a profile never claimed, or an
/// account deleted since), named as the profile is.
fn researcher_if_any(c: &Connection, st: &AppState, s: &SessionRow) -> AppResult<Option<Person>> {
    let Some(id) = s.researcher_user else {
        return Ok(None);
    };
    let p = person(c, st, id, zone_of(st, s, Party::Researcher))?;
    Ok(p.map(|p| Person {
        name: s.researcher_name.clone(),
        ..p
    }))
}

/// A participant a message must reach.
fn required(p: Option<Person>, who: &str, s: &SessionRow) -> AppResult<Person> {
    p.ok_or_else(|| AppError::internal(format!("session {}: the {who} has no account", s.id)))
}

fn reader(c: &Connection, st: &AppState, s: &SessionRow) -> AppResult<Person> {
    required(reader_if_any(c, st, s)?, "reader", s)
}

fn researcher(c: &Connection, st: &AppState, s: &SessionRow) -> AppResult<Person> {
    required(researcher_if_any(c, st, s)?, "researcher", s)
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
    /// `{date}` becomes the session's date in the recipient's zone.
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
        when_local: zone::local(s.start, to.tz),
        timezone: to.tz.name().to_string(),
        other_when: (other.tz != to.tz).then(|| zone::local_named(s.start, other.tz)),
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
                to.tz,
                now,
            ),
            method,
        )],
        None => Vec::new(),
    };
    let subject = n.subject.replace("{date}", &zone::date(s.start, to.tz));
    let content = templates::session_notice(subject, &m, attachments)?;
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
fn people<'a>(st: &'a AppState, who: &[&'a Person]) -> People<'a> {
    People {
        organizer: organizer(st),
        attendees: who
            .iter()
            .map(|p| (p.name.as_str(), p.email.as_str()))
            .collect(),
    }
}

/// Sends the notice to both participants.
fn both(c: &Connection, st: &AppState, n: &Notice<'_>, now: DateTime<Utc>) -> AppResult<()> {
    let (r, d) = participants(c, st, n.s)?;
    let people = people(st, &[&r, &d]);
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
    let people = people(st, &[&r, &d]);
    match to {
        Party::Researcher => notice(c, st, n, &r, &d, &people, now),
        _ => notice(c, st, n, &d, &r, &people, now),
    }
}

/// The invite as a file, for the session page's calendar download; its
/// description gives the time in `tz`, the downloader's zone.
pub async fn invite_for(
    state: &AppState,
    s: &SessionRow,
    method: Method,
    tz: Tz,
) -> AppResult<String> {
    let st = state.clone();
    let s = s.clone();
    let now = state.now();
    state
        .db
        .read(move |c| {
            // An account deleted since (or a profile never claimed) leaves
            // the event without that attendee; the event is still the
            // session's.
            let r = researcher_if_any(c, &st, &s)?;
            let d = reader_if_any(c, &st, &s)?;
            let who: Vec<&Person> = [r.as_ref(), d.as_ref()].into_iter().flatten().collect();
            let people = people(&st, &who);
            Ok(calendar::render(
                &s,
                method,
                &st.config.public_url(),
                &session_url(&st, &s),
                &people,
                tz,
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
/// Its answer deadline becomes the earliest of the TTL, the hold's
/// validity and the start. A request whose earlier hold lapsed was seen
/// already: the researcher is told it can be answered again.
pub fn on_payment_authorized(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if s.status != SessionStatus::Requested {
        return Ok(());
    }
    let ttl = crate::services::sessions::settings::load(c, &st.config.sessions, s.researcher_id)?
        .body
        .request_ttl_hours;
    let mut s = s.clone();
    s.expires_at = crate::services::payments::held::answer_deadline(st, &s, ttl, now);
    crate::db::repos::consulting_sessions::set_expires_at(c, s.id, s.expires_at)?;
    session_requested(c, st, &s, now)
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
        start_local: zone::local(s.start, r.tz),
        timezone: r.tz.name().to_string(),
        reader_when: (d.tz != r.tz).then(|| zone::local_named(s.start, d.tz)),
        duration_minutes: s.duration_minutes,
        price: price(s),
        accept_url: format!("{respond}&action=accept"),
        decline_url: format!("{respond}&action=decline"),
        session_url: session_url(st, s),
        expires_local: zone::local(s.expires_at, r.tz),
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
