//! Requests to own a researcher profile ("This is me", decided by an
//! admin) and merges an admin must decide (two claimed profiles that look
//! like one person).

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::{
    ClaimRequestId, ClaimStatus, MergeReviewId, MergeReviewStatus, ResearcherId, UserId,
};
use crate::error::{is_unique_violation, AppError, AppResult};

pub const MESSAGE_AAD: &str = "claim_requests.message";

type Time = chrono::DateTime<chrono::Utc>;

#[derive(Debug, Clone)]
pub struct ClaimRequestRow {
    pub id: ClaimRequestId,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub user_id: UserId,
    /// The account that asks (read with the request, for admins).
    pub requester: Requester,
    pub message: Option<String>,
    pub status: ClaimStatus,
    pub created_at: String,
    pub decided_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Requester {
    pub name: String,
    pub email: String,
    pub email_verified: bool,
}

/// The request with its profile's name and its requester, in one query.
const CLAIM_FROM: &str = "SELECT c.id, c.researcher_id, r.name, c.user_id, c.message_enc, c.status, c.created_at,
        c.decided_at, u.name, u.email_enc, u.email_verified_at IS NOT NULL
   FROM claim_requests c JOIN researchers r ON r.id = c.researcher_id JOIN users u ON u.id = c.user_id";

fn claim_row(keys: &Keyring, r: &Row<'_>) -> AppResult<ClaimRequestRow> {
    let message: Option<String> = r.get(4)?;
    let email: String = r.get(9)?;
    Ok(ClaimRequestRow {
        id: r.get(0)?,
        researcher_id: r.get(1)?,
        researcher_name: r.get(2)?,
        user_id: r.get(3)?,
        requester: Requester {
            name: r.get(8)?,
            email: super::decrypt(keys, super::users::EMAIL_AAD, &email)?,
            email_verified: r.get(10)?,
        },
        message: message
            .map(|m| super::decrypt(keys, MESSAGE_AAD, &m))
            .transpose()?,
        status: r.get(5)?,
        created_at: r.get(6)?,
        decided_at: r.get(7)?,
    })
}

pub fn insert_request(
    conn: &Connection,
    keys: &Keyring,
    researcher: ResearcherId,
    user: UserId,
    message: Option<&str>,
    now: Time,
) -> AppResult<ClaimRequestId> {
    conn.execute(
        "INSERT INTO claim_requests (researcher_id, user_id, message_enc, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![researcher, user, message.map(|m| keys.encrypt_for(user, MESSAGE_AAD, m)), ts(now)],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::conflict(
                "already_requested",
                "You asked to claim this profile already; an admin will decide.",
            )
        } else {
            e.into()
        }
    })?;
    Ok(ClaimRequestId(conn.last_insert_rowid()))
}

pub fn find_request(
    conn: &Connection,
    keys: &Keyring,
    id: ClaimRequestId,
) -> AppResult<Option<ClaimRequestRow>> {
    let mut stmt = conn.prepare_cached(&format!("{CLAIM_FROM} WHERE c.id = ?1"))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(|r| claim_row(keys, r)).transpose()
}

/// Requests with this status, newest first.
pub fn list_requests(
    conn: &Connection,
    keys: &Keyring,
    status: ClaimStatus,
    limit: usize,
) -> AppResult<Vec<ClaimRequestRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{CLAIM_FROM} WHERE c.status = ?1 ORDER BY c.id DESC LIMIT ?2"
    ))?;
    let mut rows = stmt.query(params![status, limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(claim_row(keys, r)?);
    }
    Ok(out)
}

/// The open request of `user` for a profile, if any.
pub fn open_request_of(
    conn: &Connection,
    researcher: ResearcherId,
    user: UserId,
) -> AppResult<Option<ClaimRequestId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM claim_requests WHERE researcher_id = ?1 AND user_id = ?2 AND status = 'open'",
            params![researcher, user],
            |r| r.get(0),
        )
        .optional()?)
}

/// Open requests of one account (a bound on how many it may have).
pub fn open_count_of(conn: &Connection, user: UserId) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM claim_requests WHERE user_id = ?1 AND status = 'open'",
        [user],
        |r| r.get(0),
    )?)
}

/// Closes an open request; false if it was decided before.
pub fn decide_request(
    conn: &Connection,
    id: ClaimRequestId,
    status: ClaimStatus,
    admin: UserId,
    now: Time,
) -> AppResult<bool> {
    let n = conn.execute(
        "UPDATE claim_requests SET status = ?2, decided_by = ?3, decided_at = ?4 WHERE id = ?1 AND status = 'open'",
        params![id, status, admin, ts(now)],
    )?;
    Ok(n == 1)
}

#[derive(Debug, Clone)]
pub struct MergeReviewRow {
    pub id: MergeReviewId,
    pub first_id: ResearcherId,
    pub first_name: String,
    pub second_id: ResearcherId,
    pub second_name: String,
    pub reason: String,
    pub created_at: String,
}

/// Asks an admin whether two claimed profiles are one person (once per pair).
pub fn add_merge_review(
    conn: &Connection,
    a: ResearcherId,
    b: ResearcherId,
    reason: &str,
    now: Time,
) -> AppResult<bool> {
    let (first, second) = if a.0 < b.0 { (a, b) } else { (b, a) };
    let n = conn.execute(
        "INSERT INTO merge_reviews (first_id, second_id, reason, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
        params![first, second, reason, ts(now)],
    )?;
    Ok(n == 1)
}

pub fn open_merge_reviews(conn: &Connection, limit: usize) -> AppResult<Vec<MergeReviewRow>> {
    let rows = conn
        .prepare_cached(
            "SELECT m.id, m.first_id, a.name, m.second_id, b.name, m.reason, m.created_at
               FROM merge_reviews m JOIN researchers a ON a.id = m.first_id JOIN researchers b ON b.id = m.second_id
              WHERE m.status = 'open' ORDER BY m.id DESC LIMIT ?1",
        )?
        .query_map([limit as i64], |r| {
            Ok(MergeReviewRow {
                id: r.get(0)?,
                first_id: r.get(1)?,
                first_name: r.get(2)?,
                second_id: r.get(3)?,
                second_name: r.get(4)?,
                reason: r.get(5)?,
                created_at: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn find_merge_review(
    conn: &Connection,
    id: MergeReviewId,
) -> AppResult<Option<(ResearcherId, ResearcherId)>> {
    Ok(conn
        .query_row(
            "SELECT first_id, second_id FROM merge_reviews WHERE id = ?1 AND status = 'open'",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Closes the open review of a pair (`Merged` or `Dismissed`).
pub fn close_merge_review(
    conn: &Connection,
    a: ResearcherId,
    b: ResearcherId,
    status: MergeReviewStatus,
    admin: UserId,
    now: Time,
) -> AppResult<()> {
    let (first, second) = if a.0 < b.0 { (a, b) } else { (b, a) };
    conn.execute(
        "UPDATE merge_reviews SET status = ?3, decided_by = ?4, decided_at = ?5
          WHERE first_id = ?1 AND second_id = ?2 AND status = 'open'",
        params![first, second, status, admin, ts(now)],
    )?;
    Ok(())
}
