//! What deleting an account touches outside the `users` row: what still
//! binds it (live sessions, a running subscription), and erasing the rows
//! that hold its personal data. Money records (payments, the ledger,
//! invoices) and the audit trail keep the account's id; they are retained
//! records, and the data-rights rules will say how long.

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::db::ts;
use crate::domain::{ConsultingSessionId, ResearcherId, SessionId, UserId};
use crate::error::AppResult;

type Time = chrono::DateTime<chrono::Utc>;

/// What keeps an account from being deleted now.
pub struct Ties {
    /// Requested or accepted sessions, as the reader or as the researcher
    /// of the profile the account owns.
    pub live_sessions: i64,
    /// A subscription Stripe may still charge.
    pub live_subscription: bool,
}

pub fn ties(conn: &Connection, user: UserId) -> AppResult<Ties> {
    let live_sessions = conn.query_row(
        "SELECT COUNT(*) FROM consulting_sessions s
          WHERE s.status IN ('requested', 'accepted')
            AND (s.reader_id = ?1 OR s.researcher_id IN (SELECT id FROM researchers WHERE user_id = ?1))",
        [user],
        |r| r.get(0),
    )?;
    let live_subscription = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = ?1
            AND status IN ('incomplete', 'trialing', 'active', 'past_due', 'unpaid', 'paused'))",
        [user],
        |r| r.get(0),
    )?;
    Ok(Ties {
        live_sessions,
        live_subscription,
    })
}

/// How many rows of each kind were erased (the audit event's detail).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Erased {
    pub log_in_sessions: usize,
    pub reading_progress: usize,
    pub questions: usize,
    pub interest: usize,
    pub verification_links: usize,
    pub claim_requests: usize,
    pub billing_details: usize,
    pub booking_keys: usize,
    pub mail: usize,
    /// The profile the account owned is released (it stays, unowned and
    /// unbookable, as a profile collected from public sources).
    pub released_profiles: usize,
}

/// Erases an account's rows and references everywhere but `users`, in the
/// caller's transaction. `email_bidx` is the account's address's blind
/// index (mail to it is deleted). Returns the log-in sessions ended, so
/// their cached checks can be dropped, and what was erased.
pub fn erase(
    conn: &Connection,
    user: UserId,
    email_bidx: &str,
    now: Time,
) -> AppResult<(Vec<SessionId>, Erased)> {
    let sessions: Vec<SessionId> = conn
        .prepare("SELECT id FROM auth_sessions WHERE user_id = ?1")?
        .query_map([user], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let delete = |table: &str| -> AppResult<usize> {
        Ok(conn.execute(&format!("DELETE FROM {table} WHERE user_id = ?1"), [user])?)
    };
    let mut e = Erased {
        log_in_sessions: delete("auth_sessions")?,
        reading_progress: delete("reading_progress")?,
        questions: delete("paper_queries")?,
        interest: delete("reader_interest")?,
        verification_links: delete("email_verifications")?,
        claim_requests: delete("claim_requests")?,
        billing_details: delete("billing_profiles")?,
        booking_keys: delete("idempotency_keys")?,
        ..Erased::default()
    };
    e.mail = conn.execute(
        "DELETE FROM mail_outbox WHERE recipient_bidx = ?1",
        [email_bidx],
    )?;
    // A person the account searched for is what it asked, not a record:
    // the job stays (its steps may have built a profile) without the name.
    conn.execute(
        "UPDATE collection_jobs SET name = NULL, affiliation = NULL, dedupe_key = 'person:erased:' || id
          WHERE kind = 'person' AND requested_by = ?1",
        [user],
    )?;
    for (table, column) in [
        ("papers", "created_by"),
        ("collection_jobs", "requested_by"),
        ("outreach", "requested_by"),
        ("claim_requests", "decided_by"),
        ("merge_reviews", "decided_by"),
    ] {
        conn.execute(
            &format!("UPDATE {table} SET {column} = NULL WHERE {column} = ?1"),
            [user],
        )?;
    }
    conn.execute(
        "DELETE FROM availability WHERE researcher_id IN (SELECT id FROM researchers WHERE user_id = ?1)",
        [user],
    )?;
    e.released_profiles = conn.execute(
        "UPDATE researchers SET user_id = NULL, claimed_at = NULL, listing_consent_at = NULL,
             listing_terms_version = NULL, listing_withdrawn_at = NULL, updated_at = ?2
          WHERE user_id = ?1",
        params![user, ts(now)],
    )?;
    Ok((sessions, e))
}

/// Closes an account for erasure: it cannot sign in, and the erasure is
/// pending until `erasure_done`. False when it was already requested.
pub fn mark_erasure_requested(conn: &Connection, user: UserId, now: Time) -> AppResult<bool> {
    Ok(conn.execute(
        "UPDATE users SET erasure_requested_at = ?2, disabled_at = COALESCE(disabled_at, ?2), updated_at = ?2
          WHERE id = ?1 AND erasure_requested_at IS NULL AND deleted_at IS NULL",
        params![user, ts(now)],
    )? == 1)
}

/// Accounts whose erasure was asked for and is not finished.
pub fn pending_erasures(conn: &Connection) -> AppResult<Vec<UserId>> {
    Ok(conn
        .prepare(
            "SELECT id FROM users WHERE erasure_requested_at IS NOT NULL AND deleted_at IS NULL ORDER BY id",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Requested or accepted sessions not yet started, where the account is
/// the reader or owns the researcher's profile.
pub fn open_sessions(
    conn: &Connection,
    user: UserId,
    now: Time,
) -> AppResult<Vec<ConsultingSessionId>> {
    Ok(conn
        .prepare(
            "SELECT s.id FROM consulting_sessions s
              WHERE s.status IN ('requested', 'accepted') AND s.start_at > ?2
                AND (s.reader_id = ?1 OR s.researcher_id IN (SELECT id FROM researchers WHERE user_id = ?1))
              ORDER BY s.id",
        )?
        .query_map(params![user, ts(now)], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Every profile merged into `id`, directly or through others.
pub fn merged_into(conn: &Connection, id: ResearcherId) -> AppResult<Vec<ResearcherId>> {
    Ok(conn
        .prepare(
            "WITH RECURSIVE merged(id) AS (
                 SELECT merged_id FROM researcher_merges WHERE kept_id = ?1
                 UNION SELECT m.merged_id FROM researcher_merges m JOIN merged o ON m.kept_id = o.id)
             SELECT id FROM merged ORDER BY id",
        )?
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// The profiles an account owns now.
pub fn owned_now(conn: &Connection, user: UserId) -> AppResult<Vec<ResearcherId>> {
    Ok(conn
        .prepare("SELECT id FROM researchers WHERE user_id = ?1 ORDER BY id")?
        .query_map([user], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}
