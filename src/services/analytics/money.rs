//! Money figures per currency: amounts in different currencies are
//! reported side by side and never added together.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::buckets::Buckets;
use crate::db::repos::analytics::MoneyFact;

/// Money moved in one currency over a range, with a series per figure.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct CurrencyFigures {
    /// ISO 4217.
    pub currency: String,
    /// What readers paid: captured session payments plus plan charges.
    pub gross_minor: i64,
    /// Captured session payments.
    pub captured_minor: i64,
    /// Plan charges.
    pub subscriptions_minor: i64,
    /// Refunds, dated when refunded (which may be a later bucket than the
    /// capture).
    pub refunded_minor: i64,
    /// The platform's fee on captured sessions.
    pub fees_minor: i64,
    /// Tax collected, less the tax share of refunds.
    pub tax_minor: i64,
    /// `gross_minor - refunded_minor`.
    pub net_minor: i64,
    pub series: MoneySeries,
}

/// One point per bucket (minor units).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct MoneySeries {
    pub gross: Vec<i64>,
    pub captured: Vec<i64>,
    pub refunded: Vec<i64>,
    pub fees: Vec<i64>,
    pub tax: Vec<i64>,
}

/// Sums facts per currency (sorted by currency), bucketed by `b`.
pub(crate) fn by_currency(b: &Buckets, facts: &[MoneyFact]) -> Vec<CurrencyFigures> {
    let mut out: BTreeMap<&str, CurrencyFigures> = BTreeMap::new();
    for f in facts {
        let Some(i) = b.index_of_stored(&f.at) else {
            continue;
        };
        let c = out.entry(&f.currency).or_insert_with(|| CurrencyFigures {
            currency: f.currency.clone(),
            series: MoneySeries {
                gross: b.zeros(),
                captured: b.zeros(),
                refunded: b.zeros(),
                fees: b.zeros(),
                tax: b.zeros(),
            },
            ..Default::default()
        });
        match f.kind.as_str() {
            "capture" | "subscription_charge" => {
                if f.kind == "capture" {
                    c.captured_minor += f.amount_minor;
                    c.series.captured[i] += f.amount_minor;
                } else {
                    c.subscriptions_minor += f.amount_minor;
                }
                c.gross_minor += f.amount_minor;
                c.series.gross[i] += f.amount_minor;
                c.tax_minor += f.tax_minor;
                c.series.tax[i] += f.tax_minor;
                c.fees_minor += f.fee_minor;
                c.series.fees[i] += f.fee_minor;
            }
            "refund" => {
                c.refunded_minor += f.amount_minor;
                c.series.refunded[i] += f.amount_minor;
                c.tax_minor -= f.tax_minor;
                c.series.tax[i] -= f.tax_minor;
            }
            _ => {}
        }
    }
    let mut v: Vec<CurrencyFigures> = out.into_values().collect();
    for c in &mut v {
        c.net_minor = c.gross_minor - c.refunded_minor;
    }
    v
}

/// A month of a researcher's earnings or a reader's spending.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct MonthMoney {
    /// `YYYY-MM`, in the person's zone.
    pub month: String,
    pub gross_minor: i64,
    pub refunds_minor: i64,
    pub fees_minor: i64,
    /// `gross_minor - refunds_minor - fees_minor`.
    pub net_minor: i64,
}

/// Monthly figures per currency from bucketed facts (`b` by month);
/// every month appears, empty ones included.
pub(crate) fn months_by_currency(
    b: &Buckets,
    facts: &[MoneyFact],
) -> BTreeMap<String, Vec<MonthMoney>> {
    let mut out: BTreeMap<String, Vec<MonthMoney>> = BTreeMap::new();
    for f in facts {
        let Some(i) = b.index_of_stored(&f.at) else {
            continue;
        };
        let months = out.entry(f.currency.clone()).or_insert_with(|| {
            b.days
                .iter()
                .map(|d| MonthMoney {
                    month: d.format("%Y-%m").to_string(),
                    ..Default::default()
                })
                .collect()
        });
        let m = &mut months[i];
        match f.kind.as_str() {
            "capture" | "subscription_charge" => {
                m.gross_minor += f.amount_minor;
                m.fees_minor += f.fee_minor;
            }
            "refund" => m.refunds_minor += f.amount_minor,
            _ => {}
        }
    }
    for m in out.values_mut().flatten() {
        m.net_minor = m.gross_minor - m.refunds_minor - m.fees_minor;
    }
    out
}
