//! The admins' analytics (`GET /api/v1/admin/analytics`): is the service
//! used, and does it pay for itself. Every series has one point per
//! bucket of `buckets`, empty buckets included; money is per currency.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::buckets::{local_date, Bucket, Buckets};
use super::money::{by_currency, CurrencyFigures};
use super::{median, rate, series};
use crate::db::repos::analytics::{self as repo, Created, Span, SubscriptionFact};
use crate::db::ts;
use crate::domain::SessionStatus;
use crate::error::AppResult;
use crate::services::collection::calls::{month_start, Provider};
use crate::state::AppState;

pub use super::engagement_figures::Engagement;

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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionFigures {
    /// Sessions requested in the range, by their status now (every status
    /// present, zeros included).
    pub by_status: BTreeMap<String, i64>,
    /// What happened in each bucket (by the time it happened).
    pub series: SessionSeries,
    pub conversion: Conversion,
    /// Median hours from request to the researcher's answer, over answers
    /// given in the range; null without answers.
    pub median_answer_hours: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct SessionSeries {
    pub requested: Vec<i64>,
    pub accepted: Vec<i64>,
    pub declined: Vec<i64>,
    pub completed: Vec<i64>,
    pub cancelled: Vec<i64>,
    pub expired: Vec<i64>,
    pub no_show: Vec<i64>,
}

/// Of the sessions requested in the range: how many were ever accepted,
/// and how many completed. Rates are fractions (0 to 1), null for 0 / 0.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Conversion {
    pub requested: i64,
    pub accepted: i64,
    pub completed: i64,
    pub accepted_rate: Option<f64>,
    pub completed_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionFigures {
    /// Running at the end of the range.
    pub active: i64,
    /// Started in the range.
    pub new: i64,
    /// Cancelled or expired in the range.
    pub churned: i64,
    /// Monthly recurring revenue at the end of the range, per currency
    /// (yearly plans count a twelfth; trials and plans no longer in the
    /// config count nothing).
    pub mrr: Vec<CurrencyAmount>,
    pub series: SubscriptionSeries,
    /// MRR at the end of each bucket, per currency.
    pub mrr_series: Vec<CurrencySeries>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct SubscriptionSeries {
    /// Running at the end of each bucket.
    pub active: Vec<i64>,
    pub new: Vec<i64>,
    pub churned: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct CurrencyAmount {
    pub currency: String,
    pub minor: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrencySeries {
    pub currency: String,
    pub points: Vec<i64>,
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
    let b2 = b.clone();
    let raw = state
        .db
        .read(move |c| {
            let month_span = Span {
                start: month,
                end: ts(now + chrono::Duration::days(1)),
            };
            let mut calls = Vec::new();
            for p in &providers {
                calls.push((
                    p.to_string(),
                    repo::paid_calls(c, p, &span)?,
                    repo::paid_calls(c, p, &month_span)?.len() as i64,
                ));
            }
            Ok(Raw {
                events: repo::session_events(c, &span)?,
                statuses: repo::status_counts(c, &span)?,
                conversion: repo::conversion(c, &span)?,
                answer_hours: repo::answer_hours(c, &span)?,
                money: repo::money(c, &span)?,
                subscriptions: repo::subscriptions(c)?,
                funnel: repo::funnel(c)?,
                calls,
                marks: repo::created(c, Created::ConsultMarks, &span)?,
                invitations: repo::created(c, Created::Invitations, &span)?,
                reviews: repo::created(c, Created::Reviews, &span)?,
                counters: super::engagement_figures::read_counters(c, &b2)?,
            })
        })
        .await?;
    Ok(assemble(state, b, raw, &budgets, now))
}

struct Raw {
    events: Vec<(String, String)>,
    statuses: Vec<(String, i64)>,
    conversion: (i64, i64, i64),
    answer_hours: Vec<f64>,
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
    let mut s = SessionSeries {
        requested: b.zeros(),
        accepted: b.zeros(),
        declined: b.zeros(),
        completed: b.zeros(),
        cancelled: b.zeros(),
        expired: b.zeros(),
        no_show: b.zeros(),
    };
    for (event, at) in &raw.events {
        let target = match event.as_str() {
            "requested" => &mut s.requested,
            "accepted" => &mut s.accepted,
            "declined" => &mut s.declined,
            "completed" => &mut s.completed,
            "cancelled" => &mut s.cancelled,
            "expired" => &mut s.expired,
            "no_show" => &mut s.no_show,
            _ => continue,
        };
        series::add_at(&b, target, at, 1);
    }
    let mut by_status: BTreeMap<String, i64> = SessionStatus::ALL
        .iter()
        .map(|st| (st.as_str().to_string(), 0))
        .collect();
    for (status, n) in raw.statuses {
        *by_status.entry(status).or_default() += n;
    }
    let (requested, accepted, completed) = raw.conversion;
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
        sessions: SessionFigures {
            by_status,
            series: s,
            conversion: Conversion {
                requested,
                accepted,
                completed,
                accepted_rate: rate(accepted, requested),
                completed_rate: rate(completed, requested),
            },
            median_answer_hours: median(raw.answer_hours),
        },
        subscriptions: subscriptions(state, &b, &raw.subscriptions),
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

/// A subscription's life: from its start until it ended (if it did).
fn life(s: &SubscriptionFact) -> (String, Option<&str>) {
    let ended =
        matches!(s.status.as_str(), "canceled" | "expired").then_some(s.updated_at.as_str());
    (s.created_at.clone(), ended)
}

/// What a plan brings in per month, if it is still configured and paid.
fn monthly(state: &AppState, s: &SubscriptionFact) -> Option<(String, i64)> {
    if s.status == "trialing" {
        return None;
    }
    let plan = state.config.plans.iter().find(|p| p.id == s.plan_id)?;
    let minor = if plan.interval == "year" {
        (plan.amount_minor as f64 / 12.0).round() as i64
    } else {
        plan.amount_minor
    };
    Some((plan.currency.to_uppercase(), minor))
}

fn subscriptions(state: &AppState, b: &Buckets, subs: &[SubscriptionFact]) -> SubscriptionFigures {
    let mut series = SubscriptionSeries {
        active: b.zeros(),
        new: b.zeros(),
        churned: b.zeros(),
    };
    let mut mrr_series: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let ends: Vec<String> = b.edges[1..].iter().map(|e| ts(*e)).collect();
    for s in subs {
        let (start, ended) = life(s);
        series::add_at(b, &mut series.new, &start, 1);
        if let Some(end) = ended {
            series::add_at(b, &mut series.churned, end, 1);
        }
        let price = monthly(state, s);
        for (i, edge) in ends.iter().enumerate() {
            let running =
                start.as_str() < edge.as_str() && ended.is_none_or(|e| e >= edge.as_str());
            if running {
                series.active[i] += 1;
                if let Some((currency, minor)) = &price {
                    mrr_series
                        .entry(currency.clone())
                        .or_insert_with(|| b.zeros())[i] += minor;
                }
            }
        }
    }
    let last = b.len().saturating_sub(1);
    SubscriptionFigures {
        active: series.active.get(last).copied().unwrap_or(0),
        new: series.new.iter().sum(),
        churned: series.churned.iter().sum(),
        mrr: mrr_series
            .iter()
            .map(|(currency, points)| CurrencyAmount {
                currency: currency.clone(),
                minor: points.get(last).copied().unwrap_or(0),
            })
            .collect(),
        series,
        mrr_series: mrr_series
            .into_iter()
            .map(|(currency, points)| CurrencySeries { currency, points })
            .collect(),
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
