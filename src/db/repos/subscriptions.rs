//! Subscriptions: the local row of each Stripe subscription, with the
//! period and the sessions its plan included that were used.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::db::ts;
use crate::domain::{SubscriptionId, SubscriptionStatus, UserId};
use crate::error::AppResult;

type Time = chrono::DateTime<chrono::Utc>;

#[derive(Debug, Clone, Serialize)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub user_id: UserId,
    pub plan_id: String,
    pub stripe_subscription_id: Option<String>,
    pub status: SubscriptionStatus,
    pub current_period_start: Option<String>,
    pub current_period_end: Option<String>,
    pub cancel_at_period_end: bool,
    /// Included sessions taken in the current period and not given back:
    /// the sum of the period's `plan_credits` rows, negated.
    pub sessions_used: i64,
    #[serde(skip)]
    pub stripe_event_at: i64,
}

const SUB_COLUMNS: &str =
    "id, user_id, plan_id, stripe_subscription_id, status, current_period_start, \
                           current_period_end, cancel_at_period_end, \
                           (SELECT COALESCE(-SUM(c.delta), 0) FROM plan_credits c \
                             WHERE c.subscription_id = subscriptions.id \
                               AND c.period_end = subscriptions.current_period_end), \
                           stripe_event_at";

fn subscription(r: &Row<'_>) -> rusqlite::Result<Subscription> {
    Ok(Subscription {
        id: r.get(0)?,
        user_id: r.get(1)?,
        plan_id: r.get(2)?,
        stripe_subscription_id: r.get(3)?,
        status: r.get(4)?,
        current_period_start: r.get(5)?,
        current_period_end: r.get(6)?,
        cancel_at_period_end: r.get(7)?,
        sessions_used: r.get(8)?,
        stripe_event_at: r.get(9)?,
    })
}

pub fn insert_subscription(
    conn: &Connection,
    user: UserId,
    plan: &str,
    now: Time,
) -> AppResult<SubscriptionId> {
    conn.prepare_cached(
        "INSERT INTO subscriptions (user_id, plan_id, status, created_at, updated_at)
         VALUES (?1, ?2, ?4, ?3, ?3)",
    )?
    .execute(params![user, plan, ts(now), SubscriptionStatus::Incomplete])?;
    Ok(SubscriptionId(conn.last_insert_rowid()))
}

/// The user's newest subscription; one whose Checkout was never completed
/// only when there is no other (an abandoned new Checkout must not hide
/// the subscription that still runs to the end of its period).
pub fn latest_for_user(conn: &Connection, user: UserId) -> AppResult<Option<Subscription>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions WHERE user_id = ?1
              ORDER BY status IN ('incomplete', 'incomplete_expired'), id DESC LIMIT 1"
        ))?
        .query_row([user], subscription)
        .optional()?)
}

pub fn find_subscription(conn: &Connection, id: SubscriptionId) -> AppResult<Option<Subscription>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions WHERE id = ?1"
        ))?
        .query_row([id], subscription)
        .optional()?)
}

pub fn find_by_stripe(conn: &Connection, stripe_id: &str) -> AppResult<Option<Subscription>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions WHERE stripe_subscription_id = ?1"
        ))?
        .query_row([stripe_id], subscription)
        .optional()?)
}

pub fn set_checkout_subscription(
    conn: &Connection,
    id: SubscriptionId,
    checkout: &str,
    now: Time,
) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE subscriptions SET checkout_session_id = ?2, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, checkout, ts(now)])?;
    Ok(())
}

pub fn find_by_checkout(conn: &Connection, checkout: &str) -> AppResult<Option<Subscription>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions WHERE checkout_session_id = ?1"
        ))?
        .query_row([checkout], subscription)
        .optional()?)
}

/// Stripe's view of a subscription at event time `event_at`.
pub struct StripeState<'a> {
    pub stripe_id: &'a str,
    pub status: SubscriptionStatus,
    pub period_start: Option<Time>,
    pub period_end: Option<Time>,
    pub cancel_at_period_end: bool,
    pub event_at: i64,
}

/// Applies Stripe's state unless a newer event was applied already; false
/// when it was older (out of order) and ignored. A `canceled` subscription
/// never becomes active again; one the lapse job `expired` does when Stripe
/// reports a later renewal.
pub fn apply_stripe_state(
    conn: &Connection,
    id: SubscriptionId,
    s: &StripeState<'_>,
    now: Time,
) -> AppResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE subscriptions SET stripe_subscription_id = ?2, status = ?3,
                 current_period_start = COALESCE(?4, current_period_start),
                 current_period_end = COALESCE(?5, current_period_end),
                 cancel_at_period_end = ?6, stripe_event_at = ?7, updated_at = ?8
              WHERE id = ?1 AND stripe_event_at <= ?7
                AND NOT (status = ?9 AND ?3 != ?9)",
        )?
        .execute(params![
            id,
            s.stripe_id,
            s.status,
            s.period_start.map(ts),
            s.period_end.map(ts),
            s.cancel_at_period_end,
            s.event_at,
            ts(now),
            SubscriptionStatus::Canceled
        ])?;
    Ok(n == 1)
}

pub fn set_status(
    conn: &Connection,
    id: SubscriptionId,
    from: &[SubscriptionStatus],
    to: SubscriptionStatus,
    now: Time,
) -> AppResult<bool> {
    super::guarded_status_change(conn, "subscriptions", "id", id, from, to, now)
}

pub fn set_cancel_at_period_end(conn: &Connection, id: SubscriptionId, now: Time) -> AppResult<()> {
    conn.prepare_cached(
        "UPDATE subscriptions SET cancel_at_period_end = 1, updated_at = ?2 WHERE id = ?1",
    )?
    .execute(params![id, ts(now)])?;
    Ok(())
}

/// The user's newest subscription row, whatever its status (an abandoned
/// Checkout's `incomplete` row too). A new subscription's start is keyed
/// by it at Stripe: the start asks Stripe for a Checkout Session before it
/// writes its row, so the idempotency key cannot name that row; a retry
/// after a failure still sees the same newest row, and a start that wrote
/// its row moves it on.
pub fn newest_id(conn: &Connection, user: UserId) -> AppResult<Option<SubscriptionId>> {
    Ok(conn
        .prepare_cached("SELECT MAX(id) FROM subscriptions WHERE user_id = ?1")?
        .query_row([user], |r| r.get(0))?)
}

/// Active or trialing subscriptions whose period ended before `cutoff`.
pub fn lapsed(conn: &Connection, cutoff: Time) -> AppResult<Vec<SubscriptionId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM subscriptions
          WHERE status IN ('active', 'trialing', 'past_due') AND current_period_end IS NOT NULL
            AND current_period_end < ?1",
    )?;
    let rows = stmt.query_map([ts(cutoff)], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
