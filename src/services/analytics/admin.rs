//! The admins' analytics (`GET /api/v1/admin/analytics`): is the service
//! used, and does it pay for itself. Every series has one point per
//! bucket of `buckets`, empty buckets included; money is per currency.

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::buckets::{local_date, Bucket, Buckets};
use super::hours::HourPlan;
use super::money::{by_currency, CurrencyFigures};
use super::series;
use crate::db::repos::analytics::{self as repo, rollups, Created, Span, SubscriptionFact};
use crate::db::ts;
use crate::error::AppResult;
use crate::services::collection::calls::{month_start, Provider};
use crate::state::AppState;

pub use super::engagement_figures::Engagement;
pub use super::sessions::{Conversion, SessionFigures, SessionSeries};
pub use super::subscriptions::{
    CurrencyAmount, CurrencySeries, SubscriptionFigures, SubscriptionSeries,
};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminAnalytics {
    pub range: RangeInfo,
    /// The first local day of each bucket (`YYYY-MM-DD`); every series
    /// has one point per entry.
    pub buckets: Vec<String>,
    pub sessions: SessionFigures,
    pub subscriptions: SubscriptionFigures,
    /// One entry per currency that moved; amounts are never summed across
    /// currencies.
    pub payments: Vec<CurrencyFigures>,
    pub researchers: ResearcherFunnel,
    pub provider_spend: Vec<ProviderSpend>,
    pub engagement: Engagement,
    pub generated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RangeInfo {
    /// First local day (inclusive), the start of the first bucket.
    pub from: String,
    /// The local day after the last bucket (exclusive).
    pub to: String,
    pub bucket: Bucket,
    /// `[institution] timezone`: buckets start at local midnight there.
    pub timezone: String,
}

/// Researchers as they stand now (not limited to the range).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResearcherFunnel {
    /// `collected`, `email_found`, `invited`, `registered`, `bookable`,
    /// `booked` (at least once), in that order.
    pub funnel: Vec<FunnelStep>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FunnelStep {
    pub step: String,
    pub count: i64,
}

pub const FUNNEL_STEPS: [&str; 6] = [
    "collected",
    "email_found",
    "invited",
    "registered",
    "bookable",
    "booked",
];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderSpend {
    pub provider: String,
    /// Paid calls in the range.
    pub paid_calls: i64,
    pub series: Vec<i64>,
    /// `monthly_credit_budget`; 0 means no limit.
    pub monthly_budget: i64,
    /// Paid calls since the start of this month (UTC), as the budget
    /// counts them.
    pub used_this_month: i64,
    /// Left of this month's budget; null without a limit.
    pub left_this_month: Option<i64>,
}

/// Computes the analytics over `b` (not cached; see `cache`).
pub async fn compute(state: &AppState, b: Buckets) -> AppResult<AdminAnalytics> {
    let span = Span {
        start: ts(b.start()),
        end: ts(b.end()),
    };
    let now = state.now();
    let month = ts(month_start(now));
    let providers: Vec<&'static str> = Provider::ALL
        .into_iter()
        .filter(|p| p.is_paid())
        .map(Provider::as_str)
        .collect();
    let budgets: Vec<i64> = Provider::ALL
        .into_iter()
        .filter(|p| p.is_paid())
        .map(|p| i64::from(p.monthly_budget(state)))
        .collect();
    // Three independent reads on three reader connections at once: the
    // sessions; requests, money and people; engagement. Most figures come
    // from the hourly rollups (`hours`). Each is a consistent snapshot of
    // its own (the cache keys on the data generation read before, so a
    // write in between is never served stale).
    let plan = HourPlan::of(&b);
    let (b_sessions, plan_sessions) = (b.clone(), plan.clone());
    let sessions = state
        .db
        .read(move |c| super::sessions::events(c, &b_sessions, &plan_sessions));
    let span_money = span.clone();
    let money = state.db.read(move |c| {
        let month_span = Span {
            start: month,
            end: ts(now + chrono::Duration::days(1)),
        };
        let mut calls = Vec::new();
        for p in &providers {
            calls.push((
                p.to_string(),
                repo::paid_calls(c, p, &span_money)?,
                repo::paid_calls(c, p, &month_span)?.len() as i64,
            ));
        }
        let mut money = rollups::money_hours(c, &plan.rollup)?;
        money.retain(|f| plan.counts(&f.at));
        for part in plan.raw() {
            money.extend(repo::money(c, part)?);
        }
        Ok((
            super::sessions::requests(c, &plan)?,
            money,
            repo::subscriptions(c)?,
            repo::funnel(c)?,
            calls,
        ))
    });
    let b_use = b.clone();
    let engagement = state.db.read(move |c| {
        Ok((
            repo::created(c, Created::ConsultMarks, &span)?,
            repo::created(c, Created::Invitations, &span)?,
            repo::created(c, Created::Reviews, &span)?,
            super::engagement_figures::read_counters(c, &b_use)?,
        ))
    });
    let (sessions, money, engagement) = tokio::try_join!(sessions, money, engagement)?;
    let (requests, money, subscriptions, funnel, calls) = money;
    let sessions = super::sessions::figures(sessions, requests);
    let (marks, invitations, reviews, counters) = engagement;
    let raw = Raw {
        sessions,
        money,
        subscriptions,
        funnel,
        calls,
        marks,
        invitations,
        reviews,
        counters,
    };
    Ok(assemble(state, b, raw, &budgets, now))
}

struct Raw {
    sessions: SessionFigures,
    money: Vec<repo::MoneyFact>,
    subscriptions: Vec<SubscriptionFact>,
    funnel: [i64; 6],
    calls: Vec<(String, Vec<String>, i64)>,
    marks: Vec<String>,
    invitations: Vec<String>,
    reviews: Vec<String>,
    counters: super::engagement_figures::Counters,
}

fn assemble(
    state: &AppState,
    b: Buckets,
    raw: Raw,
    budgets: &[i64],
    now: DateTime<Utc>,
) -> AdminAnalytics {
    let provider_spend = raw
        .calls
        .into_iter()
        .zip(budgets)
        .map(|((provider, calls, used), budget)| ProviderSpend {
            provider,
            paid_calls: calls.len() as i64,
            series: series::count(&b, &calls),
            monthly_budget: *budget,
            used_this_month: used,
            left_this_month: (*budget > 0).then(|| (*budget - used).max(0)),
        })
        .collect();
    let engagement = super::engagement_figures::figures(
        &b,
        &raw.counters,
        &raw.marks,
        &raw.invitations,
        &raw.reviews,
    );
    AdminAnalytics {
        range: RangeInfo {
            from: b.days.first().map(|d| d.to_string()).unwrap_or_default(),
            to: b.end_day().to_string(),
            bucket: b.bucket,
            timezone: b.tz.name().to_string(),
        },
        buckets: b.labels(),
        sessions: raw.sessions,
        subscriptions: super::subscriptions::figures(state, &b, &raw.subscriptions),
        payments: by_currency(&b, &raw.money),
        researchers: ResearcherFunnel {
            funnel: FUNNEL_STEPS
                .iter()
                .zip(raw.funnel)
                .map(|(step, count)| FunnelStep {
                    step: step.to_string(),
                    count,
                })
                .collect(),
        },
        provider_spend,
        engagement,
        generated_at: now,
    }
}

/// Today's date in the institution's zone.
pub fn today(state: &AppState) -> chrono::NaiveDate {
    local_date(state.config.institution.zone(), state.now())
}

/// Week-of for a label like "week of 2026-03-02".
pub fn bucket_label(bucket: Bucket, day: &str) -> String {
    match bucket {
        Bucket::Day => day.to_string(),
        Bucket::Week => format!("week of {day}"),
        Bucket::Month => chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map(|d| format!("{} {}", month_name(d.month()), d.year()))
            .unwrap_or_else(|_| day.to_string()),
    }
}

fn month_name(m: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    NAMES[(m.clamp(1, 12) - 1) as usize]
}
