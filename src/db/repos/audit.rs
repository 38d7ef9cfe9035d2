//! The append-only audit trail. Each row's hash covers the previous row's
//! hash and its own fields; `audit_head` anchors the last row so a deleted
//! tail is caught too. The client IP enters the hash as a keyed MAC
//! (`ip_mac`), so the IP itself can be sealed under the actor's own key and
//! shredded at erasure while the chain still verifies. Rows written before
//! the MAC (`ip_mac` NULL) hash the IP in clear, and keep it under the
//! keyring key.

use std::net::IpAddr;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::{AuditId, UserId};
use crate::error::{AppError, AppResult};

pub const IP_AAD: &str = "audit_log.ip";
/// The blind-index domain of the IP's MAC in the hash.
const IP_MAC_DOMAIN: &str = "audit.ip";
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub struct NewEvent<'a> {
    pub actor: Option<UserId>,
    pub action: &'a str,
    pub target: Option<String>,
    pub detail: serde_json::Value,
    pub ip: Option<IpAddr>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub id: AuditId,
    pub at: String,
    pub actor_user_id: Option<UserId>,
    pub action: String,
    pub target: Option<String>,
    pub detail: serde_json::Value,
    pub ip: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn row_hash(
    prev: &str,
    id: i64,
    at: &str,
    actor: Option<i64>,
    action: &str,
    target: Option<&str>,
    detail: &str,
    ip: Option<&str>,
) -> String {
    let canonical =
        serde_json::json!([prev, id, at, actor, action, target, detail, ip]).to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

pub fn append(
    conn: &Connection,
    keys: &Keyring,
    event: NewEvent<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<AuditId> {
    let (last_id, prev): (i64, String) = conn
        .query_row(
            "SELECT last_id, last_hash FROM audit_head WHERE singleton = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, GENESIS.to_string()));
    let id = last_id + 1;
    let at = ts(now);
    let detail = event.detail.to_string();
    let ip = event.ip.map(|ip| ip.to_string());
    let ip_mac = ip.as_deref().map(|ip| keys.blind_index(IP_MAC_DOMAIN, ip));
    let hash = row_hash(
        &prev,
        id,
        &at,
        event.actor.map(|a| a.0),
        event.action,
        event.target.as_deref(),
        &detail,
        ip_mac.as_deref(),
    );
    let ip_enc = ip.map(|ip| super::seal(keys, event.actor.map(Into::into), IP_AAD, &ip));
    conn.execute(
        "INSERT INTO audit_log (id, at, actor_user_id, action, target, detail, ip_enc, ip_mac, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![id, at, event.actor, event.action, event.target, detail, ip_enc, ip_mac, prev, hash],
    )?;
    conn.execute(
        "INSERT INTO audit_head (singleton, last_id, last_hash) VALUES (1, ?1, ?2)
         ON CONFLICT (singleton) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash",
        params![id, hash],
    )?;
    Ok(AuditId(id))
}

/// Drops the sealed IPs of an erased actor's rows whose hash covers only
/// the IP's MAC (the chain still verifies); older rows keep theirs.
pub fn forget_ips_of(conn: &Connection, actor: UserId) -> AppResult<usize> {
    Ok(conn.execute(
        "UPDATE audit_log SET ip_enc = NULL
          WHERE actor_user_id = ?1 AND ip_mac IS NOT NULL AND ip_enc IS NOT NULL",
        [actor],
    )?)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    Intact { rows: i64 },
    Broken { row_id: i64, reason: String },
}

/// Walks the chain from the first row and reports the first problem.
pub fn verify(conn: &Connection, keys: &Keyring) -> AppResult<Verification> {
    let mut stmt = conn.prepare("SELECT id, at, actor_user_id, action, target, detail, ip_enc, prev_hash, hash, ip_mac FROM audit_log ORDER BY id")?;
    let mut rows = stmt.query([])?;
    let mut expected_id = 1i64;
    let mut prev = GENESIS.to_string();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if id != expected_id {
            return Ok(Verification::Broken {
                row_id: expected_id,
                reason: format!("row {expected_id} is missing"),
            });
        }
        let ip_mac: Option<String> = r.get(9)?;
        let ip_enc: Option<String> = r.get(6)?;
        let ip = match (ip_mac, ip_enc) {
            (Some(mac), _) => Some(mac),
            (None, Some(c)) => match keys.decrypt(IP_AAD, &c) {
                Ok(ip) => Some(ip),
                Err(_) => {
                    return Ok(Verification::Broken {
                        row_id: id,
                        reason: format!("row {id} has an IP that does not decrypt"),
                    })
                }
            },
            (None, None) => None,
        };
        let stored_prev: String = r.get(7)?;
        let stored_hash: String = r.get(8)?;
        let target: Option<String> = r.get(4)?;
        let detail: String = r.get(5)?;
        let computed = row_hash(
            &prev,
            id,
            &r.get::<_, String>(1)?,
            r.get(2)?,
            &r.get::<_, String>(3)?,
            target.as_deref(),
            &detail,
            ip.as_deref(),
        );
        if stored_prev != prev || computed != stored_hash {
            return Ok(Verification::Broken {
                row_id: id,
                reason: format!("row {id} was edited (its hash does not match its contents)"),
            });
        }
        prev = stored_hash;
        expected_id += 1;
    }
    let head: Option<(i64, String)> = conn
        .query_row(
            "SELECT last_id, last_hash FROM audit_head WHERE singleton = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let rows = expected_id - 1;
    match head {
        Some((last_id, _)) if last_id > rows => Ok(Verification::Broken {
            row_id: rows + 1,
            reason: format!("rows {} to {last_id} are missing", rows + 1),
        }),
        Some((_, last_hash)) if rows > 0 && last_hash != prev => Ok(Verification::Broken {
            row_id: rows,
            reason: format!("row {rows} does not match the recorded head of the chain"),
        }),
        None if rows > 0 => Ok(Verification::Broken {
            row_id: rows,
            reason: "the chain's head record is missing".into(),
        }),
        _ => Ok(Verification::Intact { rows }),
    }
}

/// Newest first; `before` pages backwards.
pub fn list(
    conn: &Connection,
    keys: &Keyring,
    before: Option<AuditId>,
    action: Option<&str>,
    limit: usize,
) -> AppResult<Vec<AuditRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, actor_user_id, action, target, detail, ip_enc FROM audit_log
         WHERE id < ?1 AND (?2 IS NULL OR action = ?2) ORDER BY id DESC LIMIT ?3",
    )?;
    let mut rows = stmt.query(params![
        before.map_or(i64::MAX, |b| b.0),
        action,
        limit as i64
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let ip_enc: Option<String> = r.get(6)?;
        let detail: String = r.get(5)?;
        out.push(AuditRow {
            id: r.get(0)?,
            at: r.get(1)?,
            actor_user_id: r.get(2)?,
            action: r.get(3)?,
            target: r.get(4)?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
            // An erased actor's IP is shredded: shown as absent.
            ip: match ip_enc.map(|c| keys.decrypt(IP_AAD, &c)) {
                Some(Err(crate::crypto::CryptoError::Shredded)) | None => None,
                Some(r) => Some(r.map_err(|e| AppError::internal(format!("audit IP: {e}")))?),
            },
        });
    }
    Ok(out)
}
