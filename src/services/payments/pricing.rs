//! What a reader pays for a session: the researcher's price, less a
//! subscriber's benefit (an included session, or a discount), with tax by
//! the buyer's billing country from the `[tax]` table.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::config::{Config, PlanConfig, TaxMode};
use crate::db::repos::{billing, subscriptions};
use crate::domain::money::{Money, Rate, Taxed};
use crate::domain::{SubscriptionId, SubscriptionStatus, UserId};
use crate::error::AppResult;
use crate::state::AppState;

/// The price of one session for one reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub price: Taxed,
    /// Taken off the researcher's price by the reader's plan.
    pub discount: Money,
    /// The subscription whose included session pays for it, if any, and
    /// the end of the period the session is taken from.
    pub included_by: Option<(SubscriptionId, String)>,
}

/// The tax rate of a country (a regional rate wins over the country's).
pub fn rate_for(config: &Config, country: &str, region: Option<&str>) -> Option<Rate> {
    if config.tax.mode != TaxMode::Table || country.is_empty() {
        return None;
    }
    let rates = &config.tax.rates;
    let regional = region.filter(|r| !r.is_empty()).and_then(|region| {
        rates
            .iter()
            .find(|r| r.country == country && r.region == region)
    });
    regional
        .or_else(|| {
            rates
                .iter()
                .find(|r| r.country == country && r.region.is_empty())
        })
        .map(|r| Rate {
            name: r.name.clone(),
            basis_points: r.basis_points,
        })
}

/// The plan of a subscription that is in force at `now`.
pub fn active_plan<'a>(
    config: &'a Config,
    sub: &subscriptions::Subscription,
    now: DateTime<Utc>,
) -> Option<&'a PlanConfig> {
    let live = matches!(
        sub.status,
        SubscriptionStatus::Active | SubscriptionStatus::Trialing
    );
    let in_period = sub
        .current_period_end
        .as_deref()
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
        .is_some_and(|end| end > now);
    if !(live && in_period) {
        return None;
    }
    config.plans.iter().find(|p| p.id == sub.plan_id)
}

/// Whether the user has a subscription in force.
pub fn is_subscribed(
    conn: &Connection,
    config: &Config,
    user: UserId,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    Ok(subscriptions::latest_for_user(conn, user)?
        .is_some_and(|s| active_plan(config, &s, now).is_some()))
}

/// The reader's price for a session priced `listed`.
pub fn quote(
    conn: &Connection,
    state: &AppState,
    reader: UserId,
    listed: Money,
    now: DateTime<Utc>,
) -> AppResult<Quote> {
    let config = &state.config;
    let mut discount = Money::zero(listed.currency);
    let mut included_by = None;
    if let Some(sub) = subscriptions::latest_for_user(conn, reader)? {
        if let Some(plan) = active_plan(config, &sub, now) {
            if sub.sessions_used < plan.included_sessions {
                discount = listed;
                included_by = sub.current_period_end.clone().map(|end| (sub.id, end));
            } else {
                discount = listed.percent(plan.discount_percent);
            }
        }
    }
    let price = listed
        .checked_sub(discount)
        .map_err(crate::error::AppError::internal)?;
    let profile = billing::find(conn, &state.keys, reader)?;
    let rate = profile
        .as_ref()
        .and_then(|p| rate_for(config, &p.country, p.region.as_deref()));
    Ok(Quote {
        price: price.taxed(rate.as_ref(), config.tax.prices_include_tax),
        discount,
        included_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TaxRateConfig;

    fn config() -> Config {
        let mut c = Config::default();
        c.tax.mode = TaxMode::Table;
        c.tax.rates = vec![
            TaxRateConfig {
                country: "CA".into(),
                region: String::new(),
                name: "GST".into(),
                basis_points: 500,
            },
            TaxRateConfig {
                country: "CA".into(),
                region: "QC".into(),
                name: "GST+QST".into(),
                basis_points: 1498,
            },
        ];
        c
    }

    #[test]
    fn a_regional_rate_wins_over_the_countrys() {
        let c = config();
        assert_eq!(rate_for(&c, "CA", Some("QC")).unwrap().basis_points, 1498);
        assert_eq!(rate_for(&c, "CA", Some("ON")).unwrap().basis_points, 500);
        assert_eq!(rate_for(&c, "CA", None).unwrap().name, "GST");
        assert!(rate_for(&c, "DE", None).is_none());
        let mut off = config();
        off.tax.mode = TaxMode::None;
        assert!(rate_for(&off, "CA", None).is_none());
    }
}
