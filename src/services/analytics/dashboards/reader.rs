//! A reader's dashboard: what's next, and what they spent.

use serde::Serialize;
use utoipa::ToSchema;

use super::{months, SessionBrief, LISTED};
use crate::db::repos::analytics::dashboards as repo;
use crate::db::repos::consulting_sessions::{self as sessions, Party};
use crate::db::ts;
use crate::domain::{zone, ConsultingSessionId, SessionStatus};
use crate::error::AppResult;
use crate::services::accounts::Principal;
use crate::services::analytics::money::months_by_currency;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserDashboard {
    /// Accepted sessions that have not ended, soonest first.
    pub upcoming_sessions: Vec<SessionBrief>,
    /// Requests the researcher has not answered yet.
    pub awaiting_answer: Vec<SessionBrief>,
    /// Sessions that took place (completed or no-show).
    pub past_sessions: i64,
    /// Completed sessions still open for a review by you.
    pub reviews_to_write: Vec<ConsultingSessionId>,
    /// The last twelve months in the currency you paid most in (the
    /// configured default currency when you paid nothing).
    pub spending: Spending,
    /// The same for every currency you paid in.
    pub spending_by_currency: Vec<Spending>,
    pub subscription: Option<SubscriptionBrief>,
    /// A plan is in force now (the same answer as `is_subscribed` of
    /// `/users/me`).
    pub is_subscribed: bool,
    /// Researchers you asked us to invite, and how many joined.
    pub invitations: Invitations,
    /// The zone months are counted in.
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Spending {
    pub currency: String,
    /// Captured session payments and plan charges (with tax).
    pub paid_minor: i64,
    pub refunded_minor: i64,
    pub by_month: Vec<MonthSpend>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthSpend {
    /// `YYYY-MM`.
    pub month: String,
    pub paid_minor: i64,
    pub refunded_minor: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionBrief {
    /// The plan's name (its id when no longer configured).
    pub plan: String,
    pub plan_id: String,
    pub status: String,
    /// Sessions left free in this period.
    pub included_left: i64,
    /// When the period ends (renews, unless cancelled at period end).
    pub renews_at: Option<String>,
    pub cancel_at_period_end: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invitations {
    pub sent: i64,
    pub joined: i64,
}

pub async fn user(state: &AppState, who: &Principal) -> AppResult<UserDashboard> {
    let (user, now, keys) = (who.user_id, state.now(), state.keys.clone());
    let review_since = ts(now - chrono::Duration::days(state.config.reviews.window_days));
    let default_currency = state.config.sessions.default_currency.clone();
    let (facts, tz, rest) = state
        .db
        .read(move |c| {
            let (account, _) = repo::zone_names(c, user, None)?;
            let tz = zone::first_of([account.as_deref()], zone::DEFAULT);
            let b = months(tz, now)?;
            let facts = repo::spending(c, user, &ts(b.start()))?;
            let upcoming = sessions::upcoming(
                c,
                &keys,
                Party::Reader(user),
                SessionStatus::Accepted,
                now,
                LISTED,
            )?;
            let awaiting = sessions::upcoming(
                c,
                &keys,
                Party::Reader(user),
                SessionStatus::Requested,
                now,
                LISTED,
            )?;
            let rest = (
                upcoming,
                awaiting,
                repo::past_sessions(c, user)?,
                repo::reviews_to_write(c, user, &review_since)?,
                repo::invitations(c, user)?,
            );
            Ok(((b, facts), tz, rest))
        })
        .await?;
    let (b, facts) = facts;
    let (upcoming, awaiting, past, reviews, (sent, joined)) = rest;
    let mut by_currency: Vec<Spending> = months_by_currency(&b, &facts)
        .into_iter()
        .map(|(currency, months)| Spending {
            currency,
            paid_minor: months.iter().map(|m| m.gross_minor).sum(),
            refunded_minor: months.iter().map(|m| m.refunds_minor).sum(),
            by_month: months
                .into_iter()
                .map(|m| MonthSpend {
                    month: m.month,
                    paid_minor: m.gross_minor,
                    refunded_minor: m.refunds_minor,
                })
                .collect(),
        })
        .collect();
    by_currency.sort_by(|a, b| {
        b.paid_minor
            .cmp(&a.paid_minor)
            .then(a.currency.cmp(&b.currency))
    });
    let spending = by_currency.first().cloned().unwrap_or_else(|| Spending {
        currency: default_currency,
        paid_minor: 0,
        refunded_minor: 0,
        by_month: b
            .days
            .iter()
            .map(|d| MonthSpend {
                month: d.format("%Y-%m").to_string(),
                paid_minor: 0,
                refunded_minor: 0,
            })
            .collect(),
    });
    Ok(UserDashboard {
        upcoming_sessions: upcoming.into_iter().map(SessionBrief::from).collect(),
        awaiting_answer: awaiting.into_iter().map(SessionBrief::from).collect(),
        past_sessions: past,
        reviews_to_write: reviews.into_iter().map(ConsultingSessionId).collect(),
        spending,
        spending_by_currency: by_currency,
        subscription: subscription(state, who).await?,
        is_subscribed: crate::services::payments::is_subscribed(state, who.user_id).await?,
        invitations: Invitations { sent, joined },
        timezone: tz.name().to_string(),
    })
}

async fn subscription(state: &AppState, who: &Principal) -> AppResult<Option<SubscriptionBrief>> {
    let Some(view) = crate::services::payments::subscriptions::mine(state, who).await? else {
        return Ok(None);
    };
    let s = view.subscription;
    Ok(Some(SubscriptionBrief {
        plan: view.plan.map_or_else(|| s.plan_id.clone(), |p| p.name),
        plan_id: s.plan_id,
        status: s.status.as_str().to_string(),
        included_left: view.included_left,
        renews_at: s.current_period_end,
        cancel_at_period_end: s.cancel_at_period_end,
    }))
}
