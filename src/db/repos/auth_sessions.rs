//! Log-in sessions: API refresh tokens and web cookies, stored as hashes.

use rusqlite::{params, Connection, OptionalExtension};

use crate::db::ts;
use crate::domain::{Role, SessionId, UserId};
use crate::error::{AppError, AppResult};

type Time = chrono::DateTime<chrono::Utc>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Api,
    Web,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Api => "api",
            Kind::Web => "web",
        }
    }
}

/// An active session and who it belongs to.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub role: Role,
    /// The versions of the terms and the privacy notice the account
    /// accepted (the terms gate compares them with the current ones).
    pub terms_version: Option<String>,
    pub privacy_version: Option<String>,
}

pub fn create(
    conn: &Connection,
    user: UserId,
    kind: Kind,
    token_hash: &str,
    now: Time,
    expires: Time,
) -> AppResult<SessionId> {
    conn.execute(
        "INSERT INTO auth_sessions (user_id, kind, token_hash, created_at, last_used_at, expires_at, password_entered_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?4)",
        params![user, kind.as_str(), token_hash, ts(now), ts(expires)],
    )?;
    Ok(SessionId(conn.last_insert_rowid()))
}

fn active_from(
    conn: &Connection,
    where_clause: &str,
    key: &dyn rusqlite::ToSql,
    kind: Kind,
    now: Time,
) -> AppResult<Option<ActiveSession>> {
    let sql = format!(
        "SELECT s.id, s.user_id, u.role, u.terms_version, u.privacy_version
           FROM auth_sessions s JOIN users u ON u.id = s.user_id
         WHERE {where_clause} AND s.kind = ?2 AND s.revoked_at IS NULL AND s.expires_at > ?3 AND u.disabled_at IS NULL"
    );
    let row = conn
        .prepare_cached(&sql)?
        .query_row(params![key, kind.as_str(), ts(now)], |r| {
            Ok((
                r.get::<_, SessionId>(0)?,
                r.get::<_, UserId>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .optional()?;
    row.map(|(id, user_id, role, terms_version, privacy_version)| {
        Ok(ActiveSession {
            id,
            user_id,
            role: Role::parse(&role).map_err(AppError::internal)?,
            terms_version,
            privacy_version,
        })
    })
    .transpose()
}

pub fn find_active_by_token(
    conn: &Connection,
    token_hash: &str,
    kind: Kind,
    now: Time,
) -> AppResult<Option<ActiveSession>> {
    active_from(conn, "s.token_hash = ?1", &token_hash, kind, now)
}

pub fn find_active(
    conn: &Connection,
    id: SessionId,
    kind: Kind,
    now: Time,
) -> AppResult<Option<ActiveSession>> {
    active_from(conn, "s.id = ?1", &id, kind, now)
}

/// The session whose previous refresh token this is: a replayed, already
/// rotated token, which means it was stolen.
pub fn find_by_previous_token(conn: &Connection, token_hash: &str) -> AppResult<Option<SessionId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM auth_sessions WHERE previous_token_hash = ?1",
            [token_hash],
            |r| r.get(0),
        )
        .optional()?)
}

/// Replaces the refresh token, but only if it is still `old_hash`: of two
/// parallel refreshes with one token, exactly one wins. The session keeps
/// its original expiry (an absolute lifetime).
pub fn rotate(
    conn: &Connection,
    id: SessionId,
    old_hash: &str,
    new_hash: &str,
    now: Time,
) -> AppResult<bool> {
    let n = conn.execute(
        "UPDATE auth_sessions SET previous_token_hash = token_hash, token_hash = ?3, last_used_at = ?4
         WHERE id = ?1 AND token_hash = ?2 AND revoked_at IS NULL",
        params![id, old_hash, new_hash, ts(now)],
    )?;
    Ok(n == 1)
}

pub fn revoke(conn: &Connection, id: SessionId, now: Time) -> AppResult<bool> {
    let n = conn.execute(
        "UPDATE auth_sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, ts(now)],
    )?;
    Ok(n == 1)
}

/// When the password was last entered on this session (its log-in, or a
/// later re-entry); `None` for an unknown session.
pub fn password_entered_at(conn: &Connection, id: SessionId) -> AppResult<Option<Time>> {
    let stored: Option<Option<String>> = conn
        .query_row(
            "SELECT password_entered_at FROM auth_sessions WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    stored
        .flatten()
        .map(|t| crate::db::parse_ts(&t))
        .transpose()
}

/// Records that the session's owner entered the password again.
pub fn mark_password_entered(conn: &Connection, id: SessionId, now: Time) -> AppResult<bool> {
    let n = conn.execute(
        "UPDATE auth_sessions SET password_entered_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, ts(now)],
    )?;
    Ok(n == 1)
}

/// The ids of a user's active sessions.
pub fn active_ids_for_user(
    conn: &Connection,
    user: UserId,
    now: Time,
) -> AppResult<Vec<SessionId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM auth_sessions WHERE user_id = ?1 AND revoked_at IS NULL AND expires_at > ?2",
    )?;
    let ids = stmt
        .query_map(params![user, ts(now)], |r| r.get::<_, SessionId>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids)
}

/// Revokes all of a user's sessions but `keep`; returns the revoked ids.
pub fn revoke_all_except(
    conn: &Connection,
    user: UserId,
    keep: Option<SessionId>,
    now: Time,
) -> AppResult<Vec<SessionId>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM auth_sessions WHERE user_id = ?1 AND revoked_at IS NULL AND id != ?2",
    )?;
    let ids = stmt
        .query_map(params![user, keep.map_or(-1, |k| k.0)], |r| {
            r.get::<_, SessionId>(0)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for id in &ids {
        revoke(conn, *id, now)?;
    }
    Ok(ids)
}
