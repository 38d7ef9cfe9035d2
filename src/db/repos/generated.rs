//! Rows of a generated data set (`colloquy demo --scale`) that are written
//! whole, in the state their story ends in, instead of being moved there
//! one lifecycle step at a time: an account that is verified and was last
//! active on a known day, a session with its final status, a payment with
//! its final status and refunds, a subscription with its period, and the
//! daily analytics counters. Everything else the generator writes goes
//! through the ordinary repos. Encrypted columns are sealed exactly as the
//! ordinary repos seal them.

use rusqlite::{params, Connection};

use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::{
    ConsultingSessionId, Email, PaperId, PaymentStatus, ResearcherId, Role, SessionStatus,
    SubscriptionId, SubscriptionStatus, UserId,
};
use crate::error::AppResult;

use super::consulting_sessions::{CANCEL_REASON_AAD, MEETING_URL_AAD, TOPIC_AAD};
use super::users;

type Time = chrono::DateTime<chrono::Utc>;

/// How many consulting sessions there are (the generator refuses to add
/// to a database that has some unless told to).
pub fn session_count(conn: &Connection) -> AppResult<i64> {
    Ok(conn.query_row("SELECT count(*) FROM consulting_sessions", [], |r| r.get(0))?)
}

/// The highest account id so far (0 for none): it tags the generated
/// e-mail addresses and Stripe references, so a second run never collides
/// with the first.
pub fn last_user_id(conn: &Connection) -> AppResult<i64> {
    Ok(conn.query_row("SELECT coalesce(max(id), 0) FROM users", [], |r| r.get(0))?)
}

/// The id the next session inserted in this transaction gets. The caller
/// holds the writer, so ids given out from here are free.
pub fn next_session_id(conn: &Connection) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT coalesce(max(id), 0) + 1 FROM consulting_sessions",
        [],
        |r| r.get(0),
    )?)
}

/// An account as it stands at the end of its generated history.
pub struct Account<'a> {
    pub email: &'a Email,
    pub name: &'a str,
    pub role: Role,
    /// The documents it accepted when it joined (ledger rows included).
    pub accepted: super::consents::Accepted<'a>,
    pub timezone: &'a str,
    pub created_at: Time,
    pub verified_at: Option<Time>,
    /// The day, week (its Monday) and month (its 1st) the account was last
    /// counted active, as `analytics_counters.day` spells them.
    pub active: Option<[&'a str; 3]>,
}

/// Inserts an account nobody can sign in to with a password (`!` is no
/// hash); the e-mail is encrypted with its blind index as `users::insert`
/// does it.
pub fn insert_account(conn: &Connection, keys: &Keyring, a: &Account<'_>) -> AppResult<UserId> {
    let [day, week, month] = a.active.map_or([None; 3], |d| d.map(Some));
    conn.prepare_cached(
        "INSERT INTO users (email_enc, email_bidx, name, role, password_hash, email_verified_at,
             created_at, updated_at, timezone, active_day, active_week, active_month)
         VALUES ('', ?1, ?2, ?3, '!', ?4, ?5, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        users::email_index(keys, a.email),
        a.name,
        a.role.as_str(),
        a.verified_at.map(ts),
        ts(a.created_at),
        a.timezone,
        day,
        week,
        month
    ])?;
    let id = UserId(conn.last_insert_rowid());
    users::seal_email(conn, keys, id, a.email)?;
    super::consents::record_acceptance(conn, id, &a.accepted, a.created_at)?;
    Ok(id)
}

/// A consulting session in its final state.
pub struct Session<'a> {
    pub id: ConsultingSessionId,
    pub researcher: ResearcherId,
    pub reader: UserId,
    pub paper: Option<PaperId>,
    pub topic: &'a str,
    pub status: SessionStatus,
    pub start: Time,
    pub duration_minutes: i64,
    pub price_minor: i64,
    pub currency: &'a str,
    pub expires_at: Time,
    /// The template link made when it was accepted.
    pub meeting_url: Option<&'a str>,
    pub ics_sequence: i64,
    /// Who cancelled it, and why.
    pub cancelled: Option<(&'a str, &'a str)>,
    pub no_show_party: Option<&'a str>,
    pub created_at: Time,
    pub updated_at: Time,
}

pub fn insert_session(conn: &Connection, keys: &Keyring, s: &Session<'_>) -> AppResult<()> {
    let end = s.start + chrono::Duration::minutes(s.duration_minutes);
    conn.prepare_cached(
        "INSERT INTO consulting_sessions (id, researcher_id, reader_id, paper_id, topic_enc, status,
             start_at, end_at, duration_minutes, price_minor, currency, expires_at, meeting_provider,
             meeting_url_enc, ics_sequence, cancel_reason_enc, cancelled_by, no_show_party,
             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19, ?20)",
    )?
    .execute(params![
        s.id,
        s.researcher,
        s.reader,
        s.paper,
        keys.encrypt_for(s.reader, TOPIC_AAD, s.topic),
        s.status,
        ts(s.start),
        ts(end),
        s.duration_minutes,
        s.price_minor,
        s.currency,
        ts(s.expires_at),
        s.meeting_url.map(|_| "template"),
        s.meeting_url.map(|u| keys.encrypt(MEETING_URL_AAD, u)),
        s.ics_sequence,
        s.cancelled
            .map(|(by, why)| super::seal(keys, super::consulting_sessions::canceller(by, s.reader, s.researcher), CANCEL_REASON_AAD, why)),
        s.cancelled.map(|(by, _)| by),
        s.no_show_party,
        ts(s.created_at),
        ts(s.updated_at)
    ])?;
    Ok(())
}

/// A session's payment in its final state.
pub struct Payment<'a> {
    pub session: ConsultingSessionId,
    pub user: UserId,
    pub intent_id: Option<&'a str>,
    pub status: PaymentStatus,
    pub amount_minor: i64,
    pub tax_minor: i64,
    pub currency: &'a str,
    pub tax: Option<(&'a str, i64)>,
    pub refunded_minor: i64,
    pub created_at: Time,
    pub updated_at: Time,
}

pub fn insert_payment(conn: &Connection, p: &Payment<'_>) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO session_payments (session_id, user_id, intent_id, status, amount_minor, tax_minor,
             currency, tax_name, tax_basis_points, refunded_minor, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        p.session,
        p.user,
        p.intent_id,
        p.status,
        p.amount_minor,
        p.tax_minor,
        p.currency,
        p.tax.map(|t| t.0),
        p.tax.map(|t| t.1),
        p.refunded_minor,
        ts(p.created_at),
        ts(p.updated_at)
    ])?;
    Ok(())
}

/// A subscription in its final state.
pub struct Subscription<'a> {
    pub user: UserId,
    pub plan_id: &'a str,
    pub stripe_id: &'a str,
    pub status: SubscriptionStatus,
    pub period: (Time, Time),
    pub created_at: Time,
    pub updated_at: Time,
}

pub fn insert_subscription(conn: &Connection, s: &Subscription<'_>) -> AppResult<SubscriptionId> {
    conn.prepare_cached(
        "INSERT INTO subscriptions (user_id, plan_id, stripe_subscription_id, status,
             current_period_start, current_period_end, stripe_event_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        s.user,
        s.plan_id,
        s.stripe_id,
        s.status,
        ts(s.period.0),
        ts(s.period.1),
        s.updated_at.timestamp(),
        ts(s.created_at),
        ts(s.updated_at)
    ])?;
    Ok(SubscriptionId(conn.last_insert_rowid()))
}

/// Adds `count` to one daily counter (`analytics_counters`, V12).
pub fn add_counter(
    conn: &Connection,
    day: &str,
    kind: &str,
    subject: i64,
    count: i64,
) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO analytics_counters (day, kind, subject, count) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (day, kind, subject) DO UPDATE SET count = count + excluded.count",
    )?
    .execute(params![day, kind, subject, count])?;
    Ok(())
}
