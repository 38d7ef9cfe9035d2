//! Billing profiles (country for tax, invoice details encrypted), the
//! Stripe customer of each user, and webhook events seen.

use rusqlite::{params, Connection};

use crate::crypto::Keyring;
use crate::db::ts;
use crate::domain::UserId;
use crate::error::{AppError, AppResult};

pub const DETAILS_AAD: &str = "billing_profiles.details";

type Time = chrono::DateTime<chrono::Utc>;

pub use crate::domain::billing::BillingDetails;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingProfile {
    pub country: String,
    pub region: Option<String>,
    pub details: BillingDetails,
    pub stripe_customer_id: Option<String>,
}

pub fn find(conn: &Connection, keys: &Keyring, user: UserId) -> AppResult<Option<BillingProfile>> {
    let mut stmt = conn.prepare_cached(
        "SELECT country, region, details_enc, stripe_customer_id FROM billing_profiles WHERE user_id = ?1",
    )?;
    let mut rows = stmt.query([user])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    let details = match r.get::<_, Option<String>>(2)? {
        Some(d) => serde_json::from_str(&super::decrypt(keys, DETAILS_AAD, &d)?)
            .map_err(|e| AppError::internal(format!("billing details: {e}")))?,
        None => BillingDetails::default(),
    };
    Ok(Some(BillingProfile {
        country: r.get(0)?,
        region: r.get(1)?,
        details,
        stripe_customer_id: r.get(3)?,
    }))
}

pub fn save(
    conn: &Connection,
    keys: &Keyring,
    user: UserId,
    country: &str,
    region: Option<&str>,
    details: &BillingDetails,
    now: Time,
) -> AppResult<()> {
    let details = serde_json::to_string(details)
        .map_err(|e| AppError::internal(format!("billing details: {e}")))?;
    conn.prepare_cached(
        "INSERT INTO billing_profiles (user_id, country, region, details_enc, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (user_id) DO UPDATE SET country = excluded.country, region = excluded.region,
             details_enc = excluded.details_enc, updated_at = excluded.updated_at",
    )?
    .execute(params![
        user,
        country,
        region,
        keys.encrypt_for(user, DETAILS_AAD, &details),
        ts(now)
    ])?;
    Ok(())
}

/// Remembers the user's Stripe customer (creating a bare profile if needed).
pub fn set_customer(conn: &Connection, user: UserId, customer: &str, now: Time) -> AppResult<()> {
    conn.prepare_cached(
        "INSERT INTO billing_profiles (user_id, country, stripe_customer_id, updated_at)
         VALUES (?1, '', ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE SET stripe_customer_id = excluded.stripe_customer_id,
             updated_at = excluded.updated_at",
    )?
    .execute(params![user, customer, ts(now)])?;
    Ok(())
}

/// Records a webhook event; false when it was seen before (a replay).
pub fn record_event(
    conn: &Connection,
    id: &str,
    kind: &str,
    created: i64,
    now: Time,
) -> AppResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO webhook_events (id, type, created, received_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![id, kind, created, ts(now)])?;
    Ok(n == 1)
}

/// Whether a webhook event was recorded already.
pub fn event_seen(conn: &Connection, id: &str) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM webhook_events WHERE id = ?1)")?
        .query_row([id], |r| r.get(0))?)
}
