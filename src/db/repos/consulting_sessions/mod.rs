//! Consulting sessions, their history, reminders sent and booking
//! idempotency keys. The topic, meeting link and password and the
//! cancellation reason are encrypted.

use rusqlite::{params, Connection, Row};

use crate::crypto::Keyring;
use crate::db::{parse_ts, ts};
use crate::domain::availability::Busy;
use crate::domain::{ConsultingSessionId, PaperId, QueryId, ResearcherId, SessionStatus, UserId};
use crate::error::{AppError, AppResult};

pub const TOPIC_AAD: &str = "consulting_sessions.topic";
pub const MEETING_URL_AAD: &str = "consulting_sessions.meeting_url";
pub const MEETING_PASSWORD_AAD: &str = "consulting_sessions.meeting_password";
pub const CANCEL_REASON_AAD: &str = "consulting_sessions.cancel_reason";

/// A researcher sees a priced session only once the reader's card was
/// held for it (the condition on a `consulting_sessions` row aliased `s`):
/// free sessions always, priced ones from their first `authorization` on,
/// including a request whose hold lapsed and waits for a new payment.
pub const PAID: &str = "(NOT EXISTS (SELECT 1 FROM session_payments p WHERE p.session_id = s.id)
                         OR EXISTS (SELECT 1 FROM ledger l WHERE l.session_id = s.id AND l.kind = 'authorization'))";

/// Statuses that hold a slot.
pub const LIVE: &str = "('requested', 'accepted')";

mod due;
mod events;
mod export;
mod idempotency;
mod upcoming;

pub use due::*;
pub use events::*;
pub use export::*;
pub use idempotency::*;
pub use upcoming::*;

type Time = chrono::DateTime<chrono::Utc>;

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: ConsultingSessionId,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    /// The researcher's account, once they registered.
    pub researcher_user: Option<UserId>,
    /// The researcher's zone: their account's, else the profile's.
    pub researcher_timezone: Option<String>,
    pub reader_id: UserId,
    pub reader_name: String,
    pub reader_timezone: Option<String>,
    pub paper_id: Option<PaperId>,
    pub paper_title: Option<String>,
    pub query_id: Option<QueryId>,
    pub topic: String,
    pub status: SessionStatus,
    pub start: Time,
    pub end: Time,
    pub duration_minutes: i64,
    pub price_minor: i64,
    pub currency: String,
    pub expires_at: Time,
    pub meeting_provider: Option<String>,
    pub meeting_id: Option<String>,
    pub meeting_url: Option<String>,
    pub meeting_password: Option<String>,
    pub ics_sequence: i64,
    pub proposed_start: Option<Time>,
    pub proposed_end: Option<Time>,
    pub proposed_by: Option<String>,
    pub cancel_reason: Option<String>,
    pub cancelled_by: Option<String>,
    pub no_show_party: Option<String>,
    pub created_at: Time,
    pub updated_at: Time,
    /// Why an expired request expired (`payment_not_completed`,
    /// `not_answered`).
    pub expiry_reason: Option<String>,
    /// The payment's status, for a priced session.
    pub payment_status: Option<crate::domain::PaymentStatus>,
    /// A held payment lapsed before the capture and a new one is awaited.
    pub hold_lapsed: bool,
}

impl SessionRow {
    /// A priced request whose card is not held (yet, or any more).
    pub fn awaiting_payment(&self) -> bool {
        self.status == SessionStatus::Requested
            && matches!(
                self.payment_status,
                Some(crate::domain::PaymentStatus::Pending | crate::domain::PaymentStatus::Failed)
            )
    }
}

const SELECT: &str = "SELECT s.id, s.researcher_id, r.name, r.user_id, COALESCE(ru.timezone, r.timezone), s.reader_id, u.name, u.timezone,
        s.paper_id, p.title, s.query_id, s.topic_enc, s.status, s.start_at, s.end_at, s.duration_minutes,
        s.price_minor, s.currency, s.expires_at, s.meeting_provider, s.meeting_id, s.meeting_url_enc,
        s.meeting_password_enc, s.ics_sequence, s.proposed_start_at, s.proposed_end_at, s.proposed_by,
        s.cancel_reason_enc, s.cancelled_by, s.no_show_party, s.created_at, s.updated_at,
        s.expiry_reason, sp.status, sp.lapsed_at IS NOT NULL
    FROM consulting_sessions s
    LEFT JOIN session_payments sp ON sp.session_id = s.id
    JOIN researchers r ON r.id = s.researcher_id
    JOIN users u ON u.id = s.reader_id
    LEFT JOIN users ru ON ru.id = r.user_id
    LEFT JOIN papers p ON p.id = s.paper_id";

fn time(r: &Row<'_>, i: usize) -> AppResult<Time> {
    parse_ts(&r.get::<_, String>(i)?)
}

fn opt_time(r: &Row<'_>, i: usize) -> AppResult<Option<Time>> {
    r.get::<_, Option<String>>(i)?
        .map(|s| parse_ts(&s))
        .transpose()
}

fn from_row(keys: &Keyring, r: &Row<'_>) -> AppResult<SessionRow> {
    let dec = |i: usize, aad: &str| -> AppResult<Option<String>> {
        r.get::<_, Option<String>>(i)?
            .map(|c| super::decrypt(keys, aad, &c))
            .transpose()
    };
    Ok(SessionRow {
        id: r.get(0)?,
        researcher_id: r.get(1)?,
        researcher_name: r.get(2)?,
        researcher_user: r.get(3)?,
        researcher_timezone: r.get(4)?,
        reader_id: r.get(5)?,
        reader_name: r.get(6)?,
        reader_timezone: r.get(7)?,
        paper_id: r.get(8)?,
        paper_title: r.get(9)?,
        query_id: r.get(10)?,
        topic: dec(11, TOPIC_AAD)?.unwrap_or_default(),
        status: r.get(12)?,
        start: time(r, 13)?,
        end: time(r, 14)?,
        duration_minutes: r.get(15)?,
        price_minor: r.get(16)?,
        currency: r.get(17)?,
        expires_at: time(r, 18)?,
        meeting_provider: r.get(19)?,
        meeting_id: r.get(20)?,
        meeting_url: dec(21, MEETING_URL_AAD)?,
        meeting_password: dec(22, MEETING_PASSWORD_AAD)?,
        ics_sequence: r.get(23)?,
        proposed_start: opt_time(r, 24)?,
        proposed_end: opt_time(r, 25)?,
        proposed_by: r.get(26)?,
        cancel_reason: dec(27, CANCEL_REASON_AAD)?,
        cancelled_by: r.get(28)?,
        no_show_party: r.get(29)?,
        created_at: time(r, 30)?,
        updated_at: time(r, 31)?,
        expiry_reason: r.get(32)?,
        payment_status: r.get(33)?,
        hold_lapsed: r.get::<_, Option<bool>>(34)?.unwrap_or(false),
    })
}

pub struct NewSession<'a> {
    pub researcher: ResearcherId,
    pub reader: UserId,
    pub paper: Option<PaperId>,
    pub query: Option<QueryId>,
    pub topic: &'a str,
    pub start: Time,
    pub duration_minutes: i64,
    pub price_minor: i64,
    pub currency: &'a str,
    pub expires_at: Time,
}

pub fn insert(
    conn: &Connection,
    keys: &Keyring,
    s: &NewSession<'_>,
    now: Time,
) -> AppResult<ConsultingSessionId> {
    // `busy` finds overlaps only among sessions no longer than this.
    let longest = crate::domain::availability::MAX_SESSION_MINUTES;
    if !(1..=longest).contains(&s.duration_minutes) {
        return Err(AppError::field(
            "duration_minutes",
            format!("a session lasts at most {longest} minutes"),
        ));
    }
    let end = s.start + chrono::Duration::minutes(s.duration_minutes);
    conn.prepare_cached("INSERT INTO consulting_sessions (researcher_id, reader_id, paper_id, query_id, topic_enc, status,
             start_at, end_at, duration_minutes, price_minor, currency, expires_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'requested', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)")?.execute(
        params![
            s.researcher,
            s.reader,
            s.paper,
            s.query,
            keys.encrypt_for(s.reader, TOPIC_AAD, s.topic),
            ts(s.start),
            ts(end),
            s.duration_minutes,
            s.price_minor,
            s.currency,
            ts(s.expires_at),
            ts(now)
        ],
    )?;
    Ok(ConsultingSessionId(conn.last_insert_rowid()))
}

pub fn find(
    conn: &Connection,
    keys: &Keyring,
    id: ConsultingSessionId,
) -> AppResult<Option<SessionRow>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE s.id = ?1"))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(|r| from_row(keys, r)).transpose()
}

/// Taken time of a researcher overlapping `[from, to)`, sorted by start:
/// live sessions and proposed new times. `except` leaves one session out
/// (its own reschedule). A request whose answer or payment time ran out by
/// `now` takes nothing, even before the job expires it (unless its card is
/// held: that must be let go at Stripe first, which the job does, so a
/// booking could not take its place yet); a request whose
/// card is not held takes its slot but does not count toward the daily
/// cap. No session is longer than `MAX_SESSION_MINUTES`, so only starts
/// after `from` less that length can overlap: the index range stays a few
/// days wide however many sessions a researcher has.
pub fn busy(
    conn: &Connection,
    researcher: ResearcherId,
    from: Time,
    to: Time,
    except: Option<ConsultingSessionId>,
    now: Time,
) -> AppResult<Vec<Busy>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT start_at, end_at,
                CASE WHEN status = 'requested' AND EXISTS (SELECT 1 FROM session_payments p
                          WHERE p.session_id = consulting_sessions.id AND p.status IN ('pending', 'failed'))
                     THEN 0 ELSE 1 END
           FROM consulting_sessions
          WHERE researcher_id = ?1 AND status IN {LIVE} AND start_at < ?3 AND start_at > ?5
            AND end_at > ?2 AND id IS NOT ?4
            AND NOT (status = 'requested' AND expires_at <= ?6
                     AND NOT EXISTS (SELECT 1 FROM session_payments p
                                      WHERE p.session_id = consulting_sessions.id AND p.status = 'authorized'))
         UNION ALL
         SELECT proposed_start_at, proposed_end_at, 0 FROM consulting_sessions
          WHERE researcher_id = ?1 AND status IN {LIVE} AND proposed_start_at IS NOT NULL
            AND proposed_start_at < ?3 AND proposed_start_at > ?5 AND proposed_end_at > ?2
            AND id IS NOT ?4
         ORDER BY 1"
    ))?;
    let earliest =
        from - chrono::Duration::minutes(crate::domain::availability::MAX_SESSION_MINUTES);
    let mut rows = stmt.query(params![
        researcher,
        ts(from),
        ts(to),
        except,
        ts(earliest),
        ts(now)
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(Busy {
            start: time(r, 0)?,
            end: time(r, 1)?,
            counts_for_cap: r.get::<_, i64>(2)? == 1,
        });
    }
    Ok(out)
}

/// Why a request expired, kept beside its status.
pub fn set_expiry_reason(
    conn: &Connection,
    id: ConsultingSessionId,
    reason: &str,
) -> AppResult<()> {
    conn.prepare_cached("UPDATE consulting_sessions SET expiry_reason = ?2 WHERE id = ?1")?
        .execute(params![id, reason])?;
    Ok(())
}

/// Moves a request's deadline (answer or payment), e.g. once its card is
/// held; only while it is still a request.
pub fn set_expires_at(conn: &Connection, id: ConsultingSessionId, at: Time) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE consulting_sessions SET expires_at = ?2 WHERE id = ?1 AND status = 'requested'",
    )?
    .execute(params![id, ts(at)])?;
    Ok(())
}

pub struct ListFilter {
    pub user: UserId,
    /// The researcher profile the user claimed, if any.
    pub researcher: Option<ResearcherId>,
    /// `None`: every session (admins).
    pub all: bool,
    pub status: Option<SessionStatus>,
    /// Sessions ending after this time (overlapping the range).
    pub from: Option<Time>,
    /// Sessions starting at or after this time (the admins' list).
    pub starts_from: Option<Time>,
    /// Sessions starting before this time.
    pub to: Option<Time>,
    /// Only this researcher's sessions (the admins' list).
    pub of_researcher: Option<ResearcherId>,
    pub before_id: Option<ConsultingSessionId>,
    pub limit: usize,
}

/// Sessions where the user is the reader or the researcher (every one
/// with `all`), newest id first.
pub fn list(conn: &Connection, keys: &Keyring, f: &ListFilter) -> AppResult<Vec<SessionRow>> {
    filtered(conn, SELECT, f, |r| from_row(keys, r))
}

/// The rows `f` picks, read by `select` (which names `s`, `r`, `u` and
/// `p` as `SELECT` does) and turned into `T` by `row`.
fn filtered<T>(
    conn: &Connection,
    select: &str,
    f: &ListFilter,
    mut row: impl FnMut(&Row<'_>) -> AppResult<T>,
) -> AppResult<Vec<T>> {
    // The party and researcher filters are spelled out only when they
    // apply: inside `(?1 OR …)` SQLite can use no index and walks every
    // session (250 ms at 1,000,000 sessions; 0.02–8 ms with the reader and
    // researcher indexes). `?1` and `?10` stay in the text either way.
    let party = if f.all {
        "?1".to_string()
    } else {
        format!("NOT ?1 AND (s.reader_id = ?2 OR (s.researcher_id IS ?3 AND {PAID}))")
    };
    let of_researcher = if f.of_researcher.is_some() {
        "s.researcher_id = ?10"
    } else {
        "?10 IS NULL"
    };
    let mut stmt = conn.prepare_cached(&format!(
        "{select} WHERE {party}
           AND (?4 IS NULL OR s.status = ?4)
           AND (?5 IS NULL OR s.end_at > ?5)
           AND (?6 IS NULL OR s.start_at < ?6)
           AND s.id < ?7
           AND (?9 IS NULL OR s.start_at >= ?9)
           AND {of_researcher}
         ORDER BY s.id DESC LIMIT ?8"
    ))?;
    let mut rows = stmt.query(params![
        f.all,
        f.user,
        f.researcher,
        f.status,
        f.from.map(ts),
        f.to.map(ts),
        // Plain `id < ?`: SQLite starts at the cursor, not the newest row.
        f.before_id.map_or(i64::MAX, |b| b.0),
        f.limit as i64,
        f.starts_from.map(ts),
        f.of_researcher
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(row(r)?);
    }
    Ok(out)
}

/// Moves a session from one of `from` to `to`; false when it was not in
/// one of them (someone else moved it first).
pub fn transition(
    conn: &Connection,
    id: ConsultingSessionId,
    from: &[SessionStatus],
    to: SessionStatus,
    now: Time,
) -> AppResult<bool> {
    super::guarded_status_change(conn, "consulting_sessions", "id", id, from, to, now)
}

pub fn set_meeting(
    conn: &Connection,
    keys: &Keyring,
    id: ConsultingSessionId,
    provider: &str,
    meeting_id: Option<&str>,
    url: &str,
    password: Option<&str>,
) -> AppResult<()> {
    conn.prepare_cached("UPDATE consulting_sessions SET meeting_provider = ?2, meeting_id = ?3, meeting_url_enc = ?4,
             meeting_password_enc = ?5 WHERE id = ?1")?.execute(
        params![
            id,
            provider,
            meeting_id,
            keys.encrypt(MEETING_URL_AAD, url),
            password.map(|p| keys.encrypt(MEETING_PASSWORD_AAD, p))
        ],
    )?;
    Ok(())
}

/// Raises the iCalendar SEQUENCE; returns the new value.
pub fn bump_sequence(conn: &Connection, id: ConsultingSessionId) -> AppResult<i64> {
    Ok(conn.prepare_cached("UPDATE consulting_sessions SET ics_sequence = ics_sequence + 1 WHERE id = ?1 RETURNING ics_sequence")?.query_row(
        [id],
        |r| r.get(0),
    )?)
}

pub fn set_cancelled(
    conn: &Connection,
    keys: &Keyring,
    id: ConsultingSessionId,
    by: &str,
    reason: &str,
) -> AppResult<()> {
    let (reader, researcher) = conn
        .prepare_cached("SELECT reader_id, researcher_id FROM consulting_sessions WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let sealed = super::seal(
        keys,
        canceller(by, reader, researcher),
        CANCEL_REASON_AAD,
        reason,
    );
    conn.prepare_cached(
        "UPDATE consulting_sessions SET cancelled_by = ?2, cancel_reason_enc = ?3,
             proposed_start_at = NULL, proposed_end_at = NULL, proposed_by = NULL WHERE id = ?1",
    )?
    .execute(params![id, by, sealed])?;
    Ok(())
}

/// Whose words a cancellation reason is: the reader's or the researcher's
/// (an admin's stays under the keyring key).
pub(crate) fn canceller(
    by: &str,
    reader: UserId,
    researcher: ResearcherId,
) -> Option<crate::crypto::Subject> {
    match by {
        "reader" => Some(reader.into()),
        "researcher" => Some(researcher.into()),
        _ => None,
    }
}

pub fn set_no_show(conn: &Connection, id: ConsultingSessionId, party: &str) -> AppResult<()> {
    conn.prepare_cached("UPDATE consulting_sessions SET no_show_party = ?2 WHERE id = ?1")?
        .execute(params![id, party])?;
    Ok(())
}

pub fn propose(
    conn: &Connection,
    id: ConsultingSessionId,
    start: Time,
    end: Time,
    by: &str,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached("UPDATE consulting_sessions SET proposed_start_at = ?2, proposed_end_at = ?3, proposed_by = ?4,
             updated_at = ?5 WHERE id = ?1")?.execute(
        params![id, ts(start), ts(end), by, ts(now)],
    )?;
    Ok(())
}

/// Moves the session to its proposed time (the old time is free again).
pub fn apply_proposal(conn: &Connection, id: ConsultingSessionId, now: Time) -> AppResult<bool> {
    let n = conn.prepare_cached("UPDATE consulting_sessions SET start_at = proposed_start_at, end_at = proposed_end_at,
             duration_minutes = (strftime('%s', proposed_end_at) - strftime('%s', proposed_start_at)) / 60,
             proposed_start_at = NULL, proposed_end_at = NULL, proposed_by = NULL, updated_at = ?2
          WHERE id = ?1 AND status = 'accepted' AND proposed_start_at IS NOT NULL")?.execute(
        params![id, ts(now)],
    )?;
    Ok(n == 1)
}

pub fn clear_proposal(conn: &Connection, id: ConsultingSessionId, now: Time) -> AppResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE consulting_sessions SET proposed_start_at = NULL, proposed_end_at = NULL,
             proposed_by = NULL, updated_at = ?2 WHERE id = ?1 AND proposed_start_at IS NOT NULL",
        )?
        .execute(params![id, ts(now)])?;
    Ok(n == 1)
}
