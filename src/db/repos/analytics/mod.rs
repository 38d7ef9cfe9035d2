//! Raw facts the dashboards and admin analytics count, read by time range
//! (stored times are RFC 3339 in UTC with a fixed width, so a string range
//! is a time range). The services bucket and sum them; nothing here
//! decides what a figure means.

pub mod dashboards;
pub mod rollups;

use rusqlite::{params, Connection};

use super::researchers::BOOKABLE;
use crate::error::AppResult;

/// A half-open time range `[start, end)` as stored strings.
#[derive(Debug, Clone)]
pub struct Span {
    pub start: String,
    pub end: String,
}

/// One movement of money that analytics count.
#[derive(Debug, Clone)]
pub struct MoneyFact {
    /// `capture`, `refund` or `subscription_charge`.
    pub kind: String,
    pub currency: String,
    pub amount_minor: i64,
    pub tax_minor: i64,
    pub fee_minor: i64,
    pub at: String,
}

pub(crate) fn money_fact(r: &rusqlite::Row<'_>) -> rusqlite::Result<MoneyFact> {
    Ok(MoneyFact {
        kind: r.get(0)?,
        currency: r.get(1)?,
        amount_minor: r.get(2)?,
        tax_minor: r.get(3)?,
        fee_minor: r.get(4)?,
        at: r.get(5)?,
    })
}

/// Captures, refunds and subscription charges in the range (everyone's).
pub fn money(conn: &Connection, span: &Span) -> AppResult<Vec<MoneyFact>> {
    let mut stmt = conn.prepare_cached(
        // `+kind`: the range of `created_at`, not every capture ever.
        "SELECT kind, currency, amount_minor, tax_minor, fee_minor, created_at FROM ledger
          WHERE created_at >= ?1 AND created_at < ?2
            AND +kind IN ('capture', 'refund', 'subscription_charge')",
    )?;
    let rows = stmt.query_map(params![span.start, span.end], money_fact)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What analytics need of a subscription.
#[derive(Debug, Clone)]
pub struct SubscriptionFact {
    pub plan_id: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

/// Every subscription that ever started (not the never-paid
/// `incomplete` ones).
pub fn subscriptions(conn: &Connection) -> AppResult<Vec<SubscriptionFact>> {
    let mut stmt = conn.prepare_cached(
        "SELECT plan_id, status, created_at, updated_at FROM subscriptions
          WHERE status NOT IN ('incomplete', 'incomplete_expired')",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(SubscriptionFact {
            plan_id: r.get(0)?,
            status: r.get(1)?,
            created_at: r.get(2)?,
            updated_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The researcher funnel as it stands: collected, e-mail found, invited,
/// registered, bookable, booked at least once.
pub fn funnel(conn: &Connection) -> AppResult<[i64; 6]> {
    let (collected, email, registered): (i64, i64, i64) = conn
        .prepare_cached("SELECT count(*), count(email_enc), count(user_id) FROM researchers")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let one = |sql: &str| -> AppResult<i64> {
        Ok(conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?)
    };
    let invited =
        one("SELECT count(DISTINCT researcher_id) FROM outreach WHERE kind = 'invitation'")?;
    let bookable = one(&format!(
        "SELECT count(*) FROM researchers r WHERE {BOOKABLE}"
    ))?;
    // One index probe per researcher, not a pass over every session.
    let booked = one("SELECT count(*) FROM researchers r
          WHERE EXISTS (SELECT 1 FROM consulting_sessions s WHERE s.researcher_id = r.id)")?;
    Ok([collected, email, invited, registered, bookable, booked])
}

/// Times of the paid calls to one provider in the range.
pub fn paid_calls(conn: &Connection, provider: &str, span: &Span) -> AppResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at FROM provider_calls WHERE provider = ?1 AND at >= ?2 AND at < ?3 AND paid = 1",
    )?;
    let rows = stmt.query_map(params![provider, span.start, span.end], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Creation times of rows in the range, for the engagement figures that
/// are rows of their own: `reader_interest` ("wants to consult" marks),
/// invitations (`outreach`) and `reviews`.
pub fn created(conn: &Connection, what: Created, span: &Span) -> AppResult<Vec<String>> {
    let sql = match what {
        Created::ConsultMarks => {
            "SELECT created_at FROM reader_interest WHERE created_at >= ?1 AND created_at < ?2"
        }
        Created::Invitations => {
            "SELECT created_at FROM outreach WHERE kind = 'invitation' AND created_at >= ?1 AND created_at < ?2"
        }
        Created::Reviews => {
            "SELECT created_at FROM reviews WHERE created_at >= ?1 AND created_at < ?2"
        }
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![span.start, span.end], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, Copy)]
pub enum Created {
    ConsultMarks,
    Invitations,
    Reviews,
}
