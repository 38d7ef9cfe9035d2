//! What a new subscription's start is keyed by at Stripe. The start asks
//! Stripe for a Checkout Session before it writes the row, so the
//! idempotency key cannot name the row; it names the user's newest row
//! instead, which a retry after a failure still sees and a start that
//! wrote its row moves on.

use rusqlite::Connection;

use crate::domain::{SubscriptionId, UserId};
use crate::error::AppResult;

/// The user's newest subscription row, whatever its status (an abandoned
/// Checkout's `incomplete` row too).
pub fn newest_id(conn: &Connection, user: UserId) -> AppResult<Option<SubscriptionId>> {
    Ok(conn
        .prepare_cached("SELECT MAX(id) FROM subscriptions WHERE user_id = ?1")?
        .query_row([user], |r| r.get(0))?)
}
