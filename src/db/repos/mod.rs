//! One module per aggregate; the only place SQL is written.

pub mod account_removal;
pub mod analytics;
pub mod analytics_counters;
pub mod audit;
pub mod auth_sessions;
pub mod billing;
pub mod booking_settings;
pub mod claims;
pub mod collection_jobs;
pub mod consents;
pub mod consulting_sessions;
pub mod disputes;
pub mod do_not_collect;
pub mod email_verifications;
pub mod generated;
pub mod held_data;
pub mod ledger;
pub mod mail_outbox;
pub mod outreach;
pub mod papers;
pub mod payments;
pub mod personal_export;
pub mod plan_credits;
pub mod progress;
pub mod provider_calls;
pub mod queries;
pub mod researchers;
pub mod retention;
pub mod reviews;
pub mod setup_links;
pub mod subscriptions;
pub mod users;

use crate::crypto::{CryptoError, Keyring};
use crate::error::AppError;

/// Decrypts a stored value; a failure is an internal error (lost key or
/// tampering), never shown to the client in detail. A value of an erased
/// subject (their key destroyed) reads as empty: erasure blanks what it
/// finds, and this covers what reaches a reader from elsewhere.
pub(crate) fn decrypt(keys: &Keyring, aad: &str, stored: &str) -> Result<String, AppError> {
    match keys.decrypt(aad, stored) {
        Ok(v) => Ok(v),
        Err(CryptoError::Shredded) => Ok(String::new()),
        Err(e) => Err(AppError::internal(format!("decrypting {aad}: {e}"))),
    }
}

/// Seals a value under its subject's key, or under the keyring key when
/// it has none (a Stripe-opened dispute, an admin's words).
pub(crate) fn seal(
    keys: &Keyring,
    subject: Option<crate::crypto::Subject>,
    aad: &str,
    plain: &str,
) -> String {
    match subject {
        Some(s) => keys.encrypt_for(s, aad, plain),
        None => keys.encrypt(aad, plain),
    }
}

/// A status change guarded by the current status: `UPDATE <table> SET
/// status = to WHERE <key> = id AND status IN from`. False when the row was
/// in another status (someone moved it first), so a state never moves
/// backwards. `table` and `key` are the caller's constants, never input;
/// `S` is the table's status enum (serialized as stored).
pub(crate) fn guarded_status_change<S: serde::Serialize + rusqlite::ToSql>(
    conn: &rusqlite::Connection,
    table: &'static str,
    key: &'static str,
    id: impl rusqlite::ToSql,
    from: &[S],
    to: S,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, AppError> {
    let from =
        serde_json::to_string(from).map_err(|e| AppError::internal(format!("statuses: {e}")))?;
    let n = conn
        .prepare_cached(&format!(
            "UPDATE {table} SET status = ?3, updated_at = ?4
              WHERE {key} = ?1 AND status IN (SELECT value FROM json_each(?2))"
        ))?
        .execute(rusqlite::params![id, from, to, crate::db::ts(now)])?;
    Ok(n == 1)
}

/// Ids as the JSON array that `IN (SELECT value FROM json_each(?N))`
/// reads: one statement text for any number of ids, so it is prepared
/// once per connection (an `IN (?, ?, …)` list is new SQL for every count).
pub fn id_array(ids: impl IntoIterator<Item = i64>) -> String {
    let mut out = String::from("[");
    for (i, id) in ids.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out.push(']');
    out
}
