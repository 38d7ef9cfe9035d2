//! Accounts. The e-mail is stored encrypted with a blind index for log-in.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::{ActivePeriod, Email, Role, UserId};
use crate::error::{is_unique_violation, AppError, AppResult};

pub const EMAIL_AAD: &str = "users.email";
pub const EMAIL_INDEX: &str = "email";

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub terms_version: Option<String>,
    /// The privacy notice version the account acknowledged (V16).
    pub privacy_version: Option<String>,
    pub created_at: String,
    pub disabled: bool,
    /// An admin deleted the account: its personal data is erased (V10).
    pub deleted: bool,
    /// IANA zone for times on pages and in e-mails; `None`: not chosen.
    pub timezone: Option<String>,
    /// The account proved it owns its address (link, CLI or setup link).
    pub email_verified: bool,
}

pub struct NewUser<'a> {
    pub email: &'a Email,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    /// The terms and privacy notice accepted at registration; `None` for
    /// an account an operator made (it accepts at its first request).
    pub accepted: Option<super::consents::Accepted<'a>>,
    /// IANA zone picked at registration.
    pub timezone: &'a str,
}

const COLUMNS: &str =
    "id, email_enc, name, role, password_hash, terms_version, created_at, disabled_at, timezone, \
                       email_verified_at IS NOT NULL, deleted_at IS NOT NULL, privacy_version";

fn from_row(keys: &Keyring, r: &Row<'_>) -> AppResult<UserRow> {
    let email_enc: String = r.get(1)?;
    let role: String = r.get(3)?;
    Ok(UserRow {
        id: r.get(0)?,
        email: super::decrypt(keys, EMAIL_AAD, &email_enc)?,
        name: r.get(2)?,
        role: Role::parse(&role).map_err(AppError::internal)?,
        password_hash: r.get(4)?,
        terms_version: r.get(5)?,
        created_at: r.get(6)?,
        disabled: r.get::<_, Option<String>>(7)?.is_some(),
        timezone: r.get(8)?,
        email_verified: r.get(9)?,
        deleted: r.get(10)?,
        privacy_version: r.get(11)?,
    })
}

pub fn email_index(keys: &Keyring, email: &Email) -> String {
    keys.blind_index(EMAIL_INDEX, email.as_str())
}

pub fn insert(
    conn: &Connection,
    keys: &Keyring,
    new: &NewUser<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<UserId> {
    let at = ts(now);
    conn.execute(
        "INSERT INTO users (email_enc, email_bidx, name, role, password_hash, created_at, updated_at, timezone)
         VALUES ('', ?1, ?2, ?3, ?4, ?5, ?5, ?6)",
        params![
            email_index(keys, new.email),
            new.name,
            new.role.as_str(),
            new.password_hash,
            at,
            new.timezone
        ],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::conflict("email_taken", "An account with this e-mail address already exists.")
        } else {
            e.into()
        }
    })?;
    let id = UserId(conn.last_insert_rowid());
    seal_email(conn, keys, id, new.email)?;
    if let Some(a) = &new.accepted {
        super::consents::record_acceptance(conn, id, a, now)?;
    }
    Ok(id)
}

/// Seals a new account's address under the account's own key, which
/// needs the id the insert just made.
pub(crate) fn seal_email(
    conn: &Connection,
    keys: &Keyring,
    id: UserId,
    email: &Email,
) -> AppResult<()> {
    conn.prepare_cached("UPDATE users SET email_enc = ?2 WHERE id = ?1")?
        .execute(params![id, keys.encrypt_for(id, EMAIL_AAD, email.as_str())])?;
    Ok(())
}

pub fn find(conn: &Connection, keys: &Keyring, id: UserId) -> AppResult<Option<UserRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE id = ?1"))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(|r| from_row(keys, r)).transpose()
}

pub fn find_by_email(
    conn: &Connection,
    keys: &Keyring,
    email: &Email,
) -> AppResult<Option<UserRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM users WHERE email_bidx = ?1"
    ))?;
    let mut rows = stmt.query([email_index(keys, email)])?;
    rows.next()?.map(|r| from_row(keys, r)).transpose()
}

pub fn list(
    conn: &Connection,
    keys: &Keyring,
    after: Option<UserId>,
    limit: usize,
) -> AppResult<Vec<UserRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM users WHERE id > ?1 ORDER BY id LIMIT ?2"
    ))?;
    let mut rows = stmt.query(params![after.map_or(0, |a| a.0), limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(keys, r)?);
    }
    Ok(out)
}

/// Accounts whose name contains `text` (case-insensitive for ASCII), in
/// id order; for the admins' account picker.
pub fn search_by_name(
    conn: &Connection,
    keys: &Keyring,
    text: &str,
    limit: usize,
) -> AppResult<Vec<UserRow>> {
    let pattern = format!("%{}%", text.replace(['%', '_'], ""));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM users WHERE name LIKE ?1 AND deleted_at IS NULL ORDER BY id LIMIT ?2"
    ))?;
    let mut rows = stmt.query(params![pattern, limit as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(from_row(keys, r)?);
    }
    Ok(out)
}

pub fn update_password(
    conn: &Connection,
    id: UserId,
    hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    conn.execute(
        "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, hash, ts(now)],
    )?;
    Ok(())
}

pub fn set_role(
    conn: &Connection,
    id: UserId,
    role: Role,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<bool> {
    let n = conn.execute(
        "UPDATE users SET role = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, role.as_str(), ts(now)],
    )?;
    Ok(n == 1)
}

/// A reader becomes a researcher (an admin or researcher stays as is).
pub fn promote_to_researcher(
    conn: &Connection,
    id: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    conn.execute(
        "UPDATE users SET role = 'researcher', updated_at = ?2 WHERE id = ?1 AND role = 'user'",
        params![id, ts(now)],
    )?;
    Ok(())
}

pub fn admin_exists(conn: &Connection) -> AppResult<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM users WHERE role = 'admin' AND disabled_at IS NULL LIMIT 1",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Disables (or enables) an account; false if nothing changed. A deleted
/// account stays disabled.
pub fn set_disabled(
    conn: &Connection,
    id: UserId,
    disabled: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<bool> {
    let n = if disabled {
        conn.execute(
            "UPDATE users SET disabled_at = ?2, updated_at = ?2 WHERE id = ?1 AND disabled_at IS NULL",
            params![id, ts(now)],
        )?
    } else {
        conn.execute(
            "UPDATE users SET disabled_at = NULL, updated_at = ?2
              WHERE id = ?1 AND disabled_at IS NOT NULL AND deleted_at IS NULL",
            params![id, ts(now)],
        )?
    };
    Ok(n == 1)
}

/// Whether an account is disabled (or deleted); false for no account.
pub fn is_disabled(conn: &Connection, id: UserId) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT disabled_at IS NOT NULL FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// Admins that can still sign in.
pub fn active_admins(conn: &Connection) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL",
        [],
        |r| r.get(0),
    )?)
}

/// Erases the account row's personal data: the name, the address (a
/// placeholder under a blind index no address has), the password (no hash
/// verifies), the zone, the last periods it was active in; disabled, role
/// `user`, marked deleted.
pub fn anonymise(
    conn: &Connection,
    keys: &Keyring,
    id: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let placeholder = format!("deleted-account-{id}@invalid");
    conn.execute(
        "UPDATE users SET name = ?5, email_enc = ?2, email_bidx = ?3,
             password_hash = '!', role = 'user', timezone = NULL, email_verified_at = NULL,
             terms_version = NULL, terms_accepted_at = NULL,
             privacy_version = NULL, privacy_accepted_at = NULL,
             active_day = NULL, active_week = NULL, active_month = NULL,
             disabled_at = COALESCE(disabled_at, ?4), deleted_at = ?4, updated_at = ?4
          WHERE id = ?1",
        params![
            id,
            keys.encrypt(EMAIL_AAD, &placeholder),
            format!("deleted:{id}"),
            ts(now),
            pseudonym(keys, id)
        ],
    )?;
    Ok(())
}

/// What an erased account is called from then on, in the audit trail
/// among others: "Former user" and a keyed hash of its id, the same on
/// every row (so one actor's actions still read together) but not
/// traceable to the person without the keyring.
pub fn pseudonym(keys: &Keyring, id: UserId) -> String {
    let mac = keys.blind_index("former-user", &id.to_string());
    format!("Former user {}", &mac[..8])
}

/// Names of accounts by id (the audit trail's actors and targets).
pub fn names(
    conn: &Connection,
    ids: &[UserId],
) -> AppResult<std::collections::HashMap<UserId, String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM users WHERE id = ?1")?;
    let mut out = std::collections::HashMap::new();
    for id in ids {
        if let Some(name) = stmt.query_row([id], |r| r.get(0)).optional()? {
            out.insert(*id, name);
        }
    }
    Ok(out)
}

pub fn mark_email_verified(
    conn: &Connection,
    id: UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    conn.execute(
        "UPDATE users SET email_verified_at = ?2 WHERE id = ?1",
        params![id, ts(now)],
    )?;
    Ok(())
}

pub fn is_email_verified(conn: &Connection, id: UserId) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT email_verified_at IS NOT NULL FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// Gives an unverified account a new name and password (a new
/// registration for an address nobody proved); false if it is verified.
pub fn replace_unverified(
    conn: &Connection,
    id: UserId,
    name: &str,
    password_hash: &str,
    accepted: &super::consents::Accepted<'_>,
    timezone: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<bool> {
    let at = ts(now);
    let n = conn.execute(
        "UPDATE users SET name = ?2, password_hash = ?3, created_at = ?4, updated_at = ?4, timezone = ?5
          WHERE id = ?1 AND email_verified_at IS NULL",
        params![id, name, password_hash, at, timezone],
    )?;
    if n == 1 {
        super::consents::record_acceptance(conn, id, accepted, now)?;
    }
    Ok(n == 1)
}

/// An account's role, if the account exists.
pub fn find_role(conn: &Connection, id: UserId) -> AppResult<Option<Role>> {
    let role: Option<String> = conn
        .query_row("SELECT role FROM users WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    role.map(|r| Role::parse(&r).map_err(AppError::internal))
        .transpose()
}

/// Whether an account has the address with this blind index.
pub fn exists_with_index(conn: &Connection, email_bidx: &str) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM users WHERE email_bidx = ?1")?
        .query_row([email_bidx], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Sets (or clears) the user's time zone.
pub fn set_timezone(
    conn: &Connection,
    id: UserId,
    tz: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    conn.execute(
        "UPDATE users SET timezone = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, tz, ts(now)],
    )?;
    Ok(())
}

/// Records that the account was active in the `period` named by `day`
/// (`YYYY-MM-DD`: the day, its week's Monday or its month's 1st). True
/// when that is news, i.e. the stored period is older or unset, so each
/// account is counted once per period even across restarts. Only the
/// latest period is kept.
pub fn mark_active(
    conn: &Connection,
    id: UserId,
    period: ActivePeriod,
    day: &str,
) -> AppResult<bool> {
    let sql = match period {
        ActivePeriod::Day => {
            "UPDATE users SET active_day = ?2 WHERE id = ?1 AND (active_day IS NULL OR active_day < ?2)"
        }
        ActivePeriod::Week => {
            "UPDATE users SET active_week = ?2 WHERE id = ?1 AND (active_week IS NULL OR active_week < ?2)"
        }
        ActivePeriod::Month => {
            "UPDATE users SET active_month = ?2 WHERE id = ?1 AND (active_month IS NULL OR active_month < ?2)"
        }
    };
    Ok(conn.prepare_cached(sql)?.execute(params![id, day])? == 1)
}
