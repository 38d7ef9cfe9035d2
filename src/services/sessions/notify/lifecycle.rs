//! The notices that follow a request: accepted, declined, cancelled,
//! moved, expired, reminders and no-shows, each to the participants it
//! concerns, in their zones.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::{both, one, session_url, zone_of, Notice};
use crate::db::repos::consulting_sessions::SessionRow;
use crate::domain::zone;
use crate::error::AppResult;
use crate::services::sessions::calendar::Method;
use crate::services::sessions::Party;
use crate::state::AppState;

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
            subject: "Confirmed: consulting session on {date}".into(),
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
    let page = researcher_page(st, s);
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
            subject: "Cancelled: consulting session on {date}".into(),
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
    let when = s
        .proposed_start
        .map(|t| zone::local_named(t, tz))
        .unwrap_or_default();
    one(
        c,
        st,
        &Notice {
            template: "session_reschedule_proposed",
            subject: "A new time is proposed for your session".into(),
            headline: format!("A new time is proposed: {when}."),
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
                subject: "Moved: consulting session now on {date}".into(),
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
    let page = researcher_page(st, s);
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

/// The reader did not pay within the payment window: the one e-mail that
/// says why the request ended (the researcher never saw it).
pub fn payment_not_completed(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let page = researcher_page(st, s);
    let window = crate::domain::text::count(st.config.payments.payment_window_minutes, "minute");
    one(
        c,
        st,
        &Notice {
            template: "session_payment_not_completed",
            subject: "Your session request lapsed: the payment was not completed".into(),
            headline: "The payment was not completed in time, so the request lapsed.".into(),
            lines: vec![
                format!("A priced request holds its time for {window} until the card is confirmed. Nothing was charged, and the time is free again."),
                "If you still want a session, pick a time and pay when you book.".into(),
            ],
            action: Some(("Book again".into(), page)),
            invite: None,
            s,
        },
        Party::Reader,
        now,
    )
}

/// The card hold lapsed before the researcher accepted: the reader is
/// asked to confirm the payment again (a new PaymentIntent).
pub fn payment_reconfirm(
    c: &Connection,
    st: &AppState,
    s: &SessionRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let tz = zone_of(st, s, Party::Reader);
    one(
        c,
        st,
        &Notice {
            template: "session_payment_reconfirm",
            subject: "Please confirm your payment again: session on {date}".into(),
            headline: "The researcher wants to accept, but your card hold lapsed.".into(),
            lines: vec![
                "Banks drop a card hold after about a week, so nothing was charged. Confirm your payment again and the researcher can accept.".into(),
                format!(
                    "The time is held for you until {}.",
                    zone::local(s.expires_at, tz)
                ),
            ],
            action: Some(("Confirm the payment".into(), session_url(st, s))),
            invite: None,
            s,
        },
        Party::Reader,
        now,
    )
}

/// The researcher's page, where the reader picks another time.
fn researcher_page(st: &AppState, s: &SessionRow) -> String {
    format!("{}/researchers/{}", st.config.public_url(), s.researcher_id)
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
