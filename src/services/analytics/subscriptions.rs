//! Subscriptions in the admins' analytics: running, new and ended per
//! bucket, and the monthly recurring revenue per currency.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::buckets::Buckets;
use super::series;
use crate::db::repos::analytics::SubscriptionFact;
use crate::db::ts;
use crate::state::AppState;

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

pub(crate) fn figures(
    state: &AppState,
    b: &Buckets,
    subs: &[SubscriptionFact],
) -> SubscriptionFigures {
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
