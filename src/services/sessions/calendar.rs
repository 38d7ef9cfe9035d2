//! iCalendar invites (RFC 5545 / iTIP): `METHOD:REQUEST` when a session is
//! accepted or moved, `METHOD:CANCEL` when it is cancelled. The `UID` is
//! stable per session and `SEQUENCE` rises with every change, so calendar
//! clients update the one event instead of adding another.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

use crate::db::repos::consulting_sessions::SessionRow;
use crate::db::repos::mail_outbox::Attachment;
use crate::domain::zone::{self, Tz};
use crate::domain::ConsultingSessionId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// Who takes part, for ORGANIZER and ATTENDEE.
pub struct People<'a> {
    pub organizer: (&'a str, &'a str),
    pub attendees: Vec<(&'a str, &'a str)>,
}

/// The stable UID of a session's event.
pub fn uid(public_url: &str, id: ConsultingSessionId) -> String {
    let host = url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "colloquy.invalid".into());
    format!("colloquy-session-{id}@{host}")
}

/// The invite as text; its description gives the time in `tz`, the
/// recipient's zone (calendars show `DTSTART` in their own).
pub fn render(
    s: &SessionRow,
    method: Method,
    public_url: &str,
    session_url: &str,
    people: &People<'_>,
    tz: Tz,
    now: DateTime<Utc>,
) -> String {
    let mut description = format!(
        "When: {}\nTopic: {}\n",
        zone::span_named(s.start, s.end, tz),
        s.topic
    );
    if let Some(u) = &s.meeting_url {
        description.push_str(&format!("Join: {u}\n"));
    }
    if let Some(p) = &s.meeting_password {
        description.push_str(&format!("Meeting password: {p}\n"));
    }
    description.push_str(&format!("Session: {session_url}\n"));
    let mut event = Event::new();
    event
        .uid(&uid(public_url, s.id))
        .sequence(u32::try_from(s.ics_sequence).unwrap_or(0))
        .timestamp(now)
        .starts(s.start)
        .ends(s.end)
        .summary(&format!(
            "Consulting session: {} and {}",
            s.researcher_name, s.reader_name
        ))
        .description(&description)
        .url(session_url)
        .status(match method {
            Method::Request => EventStatus::Confirmed,
            Method::Cancel => EventStatus::Cancelled,
        });
    if let Some(u) = &s.meeting_url {
        event.location(u);
    }
    let (org_name, org_mail) = people.organizer;
    event.append_property(
        Property::new("ORGANIZER", format!("mailto:{org_mail}"))
            .add_parameter("CN", org_name)
            .done(),
    );
    for (name, mail) in &people.attendees {
        event.append_multi_property(
            Property::new("ATTENDEE", format!("mailto:{mail}"))
                .add_parameter("CN", name)
                .add_parameter("ROLE", "REQ-PARTICIPANT")
                .done(),
        );
    }
    let mut cal = Calendar::new();
    cal.append_property(Property::new("METHOD", method.as_str()));
    cal.push(event.done());
    cal.done().to_string()
}

/// The invite as an e-mail attachment.
pub fn attachment(ics: String, method: Method) -> Attachment {
    Attachment {
        filename: if method == Method::Cancel {
            "cancel.ics".into()
        } else {
            "invite.ics".into()
        },
        content_type: format!("text/calendar; method={}; charset=UTF-8", method.as_str()),
        body: ics,
    }
}
