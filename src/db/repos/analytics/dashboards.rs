//! Facts of one person's dashboard: a reader's spending and open work, a
//! researcher's earnings, answers, profile and demand.

use rusqlite::{params, Connection, OptionalExtension};

use super::{money_fact, MoneyFact};
use crate::domain::{PaperId, ResearcherId, UserId};
use crate::error::AppResult;

/// A reader's sessions that have taken place (completed or no-show).
pub fn past_sessions(conn: &Connection, reader: UserId) -> AppResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM consulting_sessions
              WHERE reader_id = ?1 AND status IN ('completed', 'no_show')",
        )?
        .query_row([reader], |r| r.get(0))?)
}

/// A reader's completed sessions ended at or after `since` that they have
/// not reviewed yet, newest first.
pub fn reviews_to_write(conn: &Connection, reader: UserId, since: &str) -> AppResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id FROM consulting_sessions s
          WHERE s.reader_id = ?1 AND s.status = 'completed' AND s.end_at >= ?2
            AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.session_id = s.id AND v.side = 'reader')
          ORDER BY s.end_at DESC",
    )?;
    let rows = stmt.query_map(params![reader, since], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A reader's captures, refunds and plan charges since `since`.
pub fn spending(conn: &Connection, reader: UserId, since: &str) -> AppResult<Vec<MoneyFact>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, currency, amount_minor, tax_minor, fee_minor, created_at FROM ledger
          WHERE user_id = ?1 AND created_at >= ?2
            AND kind IN ('capture', 'refund', 'subscription_charge')",
    )?;
    let rows = stmt.query_map(params![reader, since], money_fact)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Invitations a reader asked for, and how many of those researchers
/// registered.
pub fn invitations(conn: &Connection, reader: UserId) -> AppResult<(i64, i64)> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(status = 'registered'), 0) FROM outreach
              WHERE requested_by = ?1 AND kind = 'invitation'",
        )?
        .query_row([reader], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Captures and refunds of a researcher's sessions since `since` (from
/// the researcher's sessions to their ledger rows: `CROSS JOIN` keeps
/// SQLite from scanning every capture in the ledger instead).
pub fn earnings(
    conn: &Connection,
    researcher: ResearcherId,
    since: &str,
) -> AppResult<Vec<MoneyFact>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.kind, l.currency, l.amount_minor, l.tax_minor, l.fee_minor, l.created_at
           FROM consulting_sessions s CROSS JOIN ledger l ON l.session_id = s.id
          WHERE s.researcher_id = ?1 AND l.created_at >= ?2 AND l.kind IN ('capture', 'refund')",
    )?;
    let rows = stmt.query_map(params![researcher, since], money_fact)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How a researcher answered the requests they saw: accepted, declined
/// and let expire (priced requests count once paid for).
pub fn answers(conn: &Connection, researcher: ResearcherId) -> AppResult<(i64, i64, i64)> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT coalesce(sum(e.event = 'accepted'), 0), coalesce(sum(e.event = 'declined'), 0),
                    coalesce(sum(e.event = 'expired'), 0)
               FROM consulting_sessions s JOIN session_events e ON e.session_id = s.id
              WHERE s.researcher_id = ?1 AND {} AND e.event IN ('accepted', 'declined', 'expired')",
            crate::db::repos::consulting_sessions::PAID
        ))?
        .query_row([researcher], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
}

/// Hours from request to answer of each request a researcher answered.
pub fn response_hours(conn: &Connection, researcher: ResearcherId) -> AppResult<Vec<f64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.waited_secs / 3600.0
           FROM consulting_sessions s JOIN session_events e ON e.session_id = s.id
          WHERE s.researcher_id = ?1 AND e.waited_secs IS NOT NULL",
    )?;
    let rows = stmt.query_map([researcher], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A researcher's published reader ratings: count, total and the count of
/// each star (1 to 5).
pub fn ratings(
    conn: &Connection,
    researcher: ResearcherId,
) -> AppResult<Option<(i64, i64, [i64; 5])>> {
    Ok(conn
        .prepare_cached(
            "SELECT count, total, r1, r2, r3, r4, r5 FROM researcher_ratings WHERE researcher_id = ?1",
        )?
        .query_row([researcher], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?],
            ))
        })
        .optional()?)
}

/// Which parts of a profile are filled in.
#[derive(Debug, Clone, Default)]
pub struct ProfileParts {
    pub affiliation: bool,
    pub orcid: bool,
    pub bio: bool,
    pub homepage: bool,
    pub topics: bool,
    pub timezone: bool,
    pub booking_settings: bool,
    pub availability: bool,
    pub listing_consent: bool,
}

pub fn profile_parts(conn: &Connection, researcher: ResearcherId) -> AppResult<ProfileParts> {
    let filled = |col: &str| format!("coalesce(trim({col}), '') <> ''");
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {}, {}, {}, {}, r.topics NOT IN ('', '[]'), {},
                    EXISTS (SELECT 1 FROM researcher_settings x WHERE x.researcher_id = r.id),
                    EXISTS (SELECT 1 FROM availability a WHERE a.researcher_id = r.id AND a.rules NOT IN ('', '[]')),
                    r.listing_consent_at IS NOT NULL
               FROM researchers r WHERE r.id = ?1",
            filled("r.affiliation"),
            filled("r.orcid"),
            filled("r.bio"),
            filled("r.homepage"),
            filled("r.timezone"),
        ))?
        .query_row([researcher], |r| {
            Ok(ProfileParts {
                affiliation: r.get(0)?,
                orcid: r.get(1)?,
                bio: r.get(2)?,
                homepage: r.get(3)?,
                topics: r.get(4)?,
                timezone: r.get(5)?,
                booking_settings: r.get(6)?,
                availability: r.get(7)?,
                listing_consent: r.get(8)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

/// A paper readers asked through: id, title, readers.
pub type PaperAsks = (PaperId, String, i64);

/// Readers who asked to consult a researcher, and the papers they asked
/// through (most asked first).
pub fn demand(
    conn: &Connection,
    researcher: ResearcherId,
    papers: usize,
) -> AppResult<(i64, Vec<PaperAsks>)> {
    let waiting = conn
        .prepare_cached("SELECT count(*) FROM reader_interest WHERE researcher_id = ?1")?
        .query_row([researcher], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.title, count(*) FROM reader_interest i JOIN papers p ON p.id = i.paper_id
          WHERE i.researcher_id = ?1 GROUP BY p.id ORDER BY count(*) DESC, p.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![researcher, papers as i64], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok((waiting, rows.collect::<Result<_, _>>()?))
}

/// The zone names a person's figures are dated in: the account's, then
/// (for a researcher) the profile's.
pub fn zone_names(
    conn: &Connection,
    user: UserId,
    researcher: Option<ResearcherId>,
) -> AppResult<(Option<String>, Option<String>)> {
    let account = conn
        .prepare_cached("SELECT timezone FROM users WHERE id = ?1")?
        .query_row([user], |r| r.get(0))
        .optional()?
        .flatten();
    let profile = match researcher {
        Some(r) => conn
            .prepare_cached("SELECT timezone FROM researchers WHERE id = ?1")?
            .query_row([r], |r| r.get(0))
            .optional()?
            .flatten(),
        None => None,
    };
    Ok((account, profile))
}

/// The currency a researcher charges in, if they set prices.
pub fn researcher_currency(
    conn: &Connection,
    researcher: ResearcherId,
) -> AppResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT currency FROM researcher_settings WHERE researcher_id = ?1")?
        .query_row([researcher], |r| r.get(0))
        .optional()?)
}
