//! Subscriptions to the `[[plans]]`: started through Stripe Checkout,
//! kept true by webhooks (renewals extend the period on `invoice.paid`,
//! failures make it `past_due`), cancelled at the period's end, and expired
//! by a job when a period ended without renewal past the grace period.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sha2::Digest;
use utoipa::ToSchema;

use super::held::{self, upstream};
use super::pricing;
use crate::config::PlanConfig;
use crate::db::repos::plan_credits;
use crate::db::repos::subscriptions::{self as repo, Subscription};
use crate::domain::{SubscriptionId, SubscriptionStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::providers::stripe::CheckoutFor;
use crate::services::accounts::Principal;
use crate::state::AppState;

/// A plan as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub interval: String,
    pub amount_minor: i64,
    pub currency: String,
    pub discount_percent: i64,
    pub included_sessions: i64,
}

impl From<&PlanConfig> for PlanView {
    fn from(p: &PlanConfig) -> Self {
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            interval: p.interval.clone(),
            amount_minor: p.amount_minor,
            currency: p.currency.clone(),
            discount_percent: p.discount_percent,
            included_sessions: p.included_sessions,
        }
    }
}

pub fn plans(state: &AppState) -> Vec<PlanView> {
    if !held::enabled(state) {
        return Vec::new();
    }
    state.config.plans.iter().map(PlanView::from).collect()
}

/// A subscription Stripe still charges (or tries to).
const RUNNING: &[SubscriptionStatus] = &[
    SubscriptionStatus::Active,
    SubscriptionStatus::Trialing,
    SubscriptionStatus::PastDue,
];

/// What the client needs to confirm a new subscription: Checkout's URL.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Started {
    pub subscription_id: SubscriptionId,
    pub checkout_session_id: String,
    pub checkout_url: String,
}

/// A subscription's stored state, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionState {
    pub id: SubscriptionId,
    pub user_id: UserId,
    pub plan_id: String,
    pub stripe_subscription_id: Option<String>,
    pub status: SubscriptionStatus,
    pub current_period_start: Option<String>,
    pub current_period_end: Option<String>,
    pub cancel_at_period_end: bool,
    pub sessions_used: i64,
}

impl From<Subscription> for SubscriptionState {
    fn from(s: Subscription) -> Self {
        Self {
            id: s.id,
            user_id: s.user_id,
            plan_id: s.plan_id,
            stripe_subscription_id: s.stripe_subscription_id,
            status: s.status,
            current_period_start: s.current_period_start,
            current_period_end: s.current_period_end,
            cancel_at_period_end: s.cancel_at_period_end,
            sessions_used: s.sessions_used,
        }
    }
}

/// The caller's subscription and whether it is in force now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionView {
    #[serde(flatten)]
    pub subscription: SubscriptionState,
    pub plan: Option<PlanView>,
    pub is_active: bool,
    /// Included sessions left in the current period: the plan's
    /// allowance plus the period's `credits` rows (0 when not in force).
    pub included_left: i64,
    /// The current period's included-session ledger: each spend (-1) at
    /// booking and give-back (+1) on a decline, expiry or full-refund
    /// cancellation, oldest first.
    pub credits: Vec<plan_credits::CreditEntry>,
}

/// Starts a subscription, money first: Stripe makes the Checkout Session
/// (under a key a retry repeats), and only then is the `incomplete` row
/// written, with that session's id. A failed call stores nothing; the same
/// start answered twice (a double submit, a retry after a lost answer)
/// is one row.
pub async fn start(state: &AppState, who: &Principal, plan_id: &str) -> AppResult<Started> {
    crate::services::accounts::require_verified(state, who).await?;
    if !held::enabled(state) {
        return Err(AppError::conflict(
            "payments_off",
            "Payments are not enabled here.",
        ));
    }
    let plan = state
        .config
        .plans
        .iter()
        .find(|p| p.id == plan_id)
        .ok_or_else(|| AppError::field("plan_id", "no such plan"))?
        .clone();
    let (user, now, config) = (who.user_id, state.now(), state.config.clone());
    let (existing, newest) = state
        .db
        .read(move |c| Ok((repo::latest_for_user(c, user)?, repo::newest_id(c, user)?)))
        .await?;
    if existing.is_some_and(|s| {
        pricing::active_plan(&config, &s, now).is_some() && !s.cancel_at_period_end
    }) {
        return Err(AppError::conflict(
            "already_subscribed",
            "You already have a subscription.",
        ));
    }
    let customer = held::customer(state, user).await?;
    let back = format!("{}/account", state.config.public_url());
    let session = super::client::stripe(state)?
        .create_checkout_session(
            &customer,
            CheckoutFor::Subscription {
                user,
                price_id: &plan.stripe_price_id,
                key: start_key(user, &plan.id, newest),
            },
            format!("{back}?subscribed=1#subscription"),
            format!("{back}#subscription"),
        )
        .await
        .map_err(upstream)?;
    let checkout_url = session
        .url
        .ok_or_else(|| AppError::internal("Stripe Checkout answered without a URL"))?;
    let cs = session.id.to_string();
    let (pid, stored) = (plan.id.clone(), cs.clone());
    let id = state
        .db
        .write(move |tx| {
            if let Some(made) = repo::find_by_checkout(tx, &stored)? {
                return Ok(made.id);
            }
            let id = repo::insert_subscription(tx, user, &pid, now)?;
            repo::set_checkout_subscription(tx, id, &stored, now)?;
            Ok(id)
        })
        .await?;
    Ok(Started {
        subscription_id: id,
        checkout_session_id: cs,
        checkout_url,
    })
}

/// The idempotency key of a start: the user, the plan and the user's
/// newest subscription row before it. A retry after a failure repeats it
/// (nothing was written); once a start wrote its row, the next start has
/// a new key. A plan id that is not plain ASCII is hashed, as keys are
/// sent as a header.
fn start_key(user: UserId, plan: &str, newest: Option<SubscriptionId>) -> String {
    let plain = !plan.is_empty()
        && plan.len() <= 64
        && plan
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let plan = if plain {
        plan.to_string()
    } else {
        let digest = sha2::Sha256::digest(plan.as_bytes());
        hex::encode(&digest[..8])
    };
    let after = newest.map_or(0, |id| id.0);
    format!("colloquy-subscription-{user}-{plan}-after-{after}-checkout")
}

pub async fn mine(state: &AppState, who: &Principal) -> AppResult<Option<SubscriptionView>> {
    let (user, now) = (who.user_id, state.now());
    let found = state
        .db
        .read(move |c| {
            let Some(s) = repo::latest_for_user(c, user)? else {
                return Ok(None);
            };
            let credits = match &s.current_period_end {
                Some(end) => plan_credits::period_rows(c, s.id, end)?,
                None => Vec::new(),
            };
            Ok(Some((s, credits)))
        })
        .await?;
    Ok(found.map(|(s, credits)| {
        let plan = state.config.plans.iter().find(|p| p.id == s.plan_id);
        let active = pricing::active_plan(&state.config, &s, now);
        // The period's allowance plus its spends (-1) and give-backs (+1).
        let included_left = active.map_or(0, |p| {
            (p.included_sessions + credits.iter().map(|c| c.delta).sum::<i64>()).max(0)
        });
        SubscriptionView {
            is_active: active.is_some(),
            plan: plan.map(PlanView::from),
            subscription: s.into(),
            included_left,
            credits,
        }
    }))
}

/// Cancels at the end of the period (the benefits last until then).
pub async fn cancel(state: &AppState, who: &Principal) -> AppResult<SubscriptionView> {
    let user = who.user_id;
    let sub = state
        .db
        .read(move |c| repo::latest_for_user(c, user))
        .await?
        .filter(|s| RUNNING.contains(&s.status))
        .ok_or_else(|| AppError::conflict("not_subscribed", "You have no running subscription."))?;
    let stripe_id = sub.stripe_subscription_id.clone().ok_or_else(|| {
        AppError::conflict("not_subscribed", "The subscription is not confirmed yet.")
    })?;
    super::client::stripe(state)?
        .cancel_at_period_end(
            &stripe_id,
            &format!("colloquy-subscription-{}-cancel", sub.id),
        )
        .await
        .map_err(upstream)?;
    let (id, now) = (sub.id, state.now());
    state
        .db
        .write(move |tx| repo::set_cancel_at_period_end(tx, id, now))
        .await?;
    mine(state, who).await?.ok_or(AppError::NotFound)
}

/// Expires subscriptions whose period ended more than the grace period
/// ago without a renewal (scheduled job).
pub async fn expire_lapsed(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let cutoff = now - Duration::days(state.config.payments.subscription_grace_days);
    state
        .db
        .write(move |tx| {
            let mut n = 0;
            for id in repo::lapsed(tx, cutoff)? {
                if repo::set_status(tx, id, RUNNING, SubscriptionStatus::Expired, now)? {
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
}

/// The Stripe Billing Portal, where the subscriber updates their card.
pub async fn card_portal(state: &AppState, who: &Principal) -> AppResult<String> {
    if !held::enabled(state) {
        return Err(AppError::conflict(
            "payments_off",
            "Payments are not enabled here.",
        ));
    }
    let customer = held::customer(state, who.user_id).await?;
    let back = format!("{}/account#subscription", state.config.public_url());
    // One portal page per second and user: a double click gets the same
    // page, a retry of a lost answer too; a later visit gets a fresh one
    // (a portal page expires within minutes).
    let key = format!(
        "colloquy-portal-{}-{}",
        who.user_id,
        state.now().timestamp()
    );
    super::client::stripe(state)?
        .billing_portal(&customer, &back, &key)
        .await
        .map_err(upstream)
        .map(|portal| portal.url)
}
