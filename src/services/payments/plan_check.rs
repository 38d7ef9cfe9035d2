//! `[[plans]]` against Stripe. Stripe charges a plan's Price; the plan's
//! `amount_minor`, `currency` and `interval` are what readers are shown.
//! When the server starts (with its background work, so the start is not
//! delayed) each plan is compared with its Price; a difference, or a Price
//! that cannot be read, is logged at WARN and listed on the admin
//! providers page until the next start.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::PlanConfig;
use crate::domain::money;
use crate::providers::stripe::PlanPrice;
use crate::state::AppState;

/// One plan that does not say what Stripe charges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanWarning {
    pub plan_id: String,
    pub price_id: String,
    /// Each difference, as a sentence.
    pub problems: Vec<String>,
}

/// The last check.
#[derive(Debug, Clone)]
pub struct PlanReport {
    pub checked_at: DateTime<Utc>,
    /// Plans checked.
    pub plans: usize,
    pub warnings: Vec<PlanWarning>,
}

/// The last report, kept in `AppState` for the admin page.
#[derive(Clone, Default)]
pub struct PlanChecks(Arc<tokio::sync::RwLock<Option<PlanReport>>>);

/// Whether there is anything to check: Stripe is on and plans are listed.
pub fn applies(state: &AppState) -> bool {
    super::held::enabled(state) && !state.config.plans.is_empty()
}

/// Checks every plan now, logs each difference and keeps the report;
/// `None` when payments are off or no plan is listed.
pub async fn run(state: &AppState) -> Option<PlanReport> {
    if !applies(state) {
        return None;
    }
    let stripe = super::client::stripe(state).ok()?;
    let mut warnings = Vec::new();
    for plan in &state.config.plans {
        let problems = match stripe.retrieve_price(&plan.stripe_price_id).await {
            Ok(price) => compare(plan, &price),
            Err(e) => vec![format!("its Stripe Price could not be read: {e}")],
        };
        if problems.is_empty() {
            continue;
        }
        tracing::warn!(
            plan = %plan.id,
            price = %plan.stripe_price_id,
            problems = %problems.join("; "),
            "a plan does not match its Stripe Price"
        );
        warnings.push(PlanWarning {
            plan_id: plan.id.clone(),
            price_id: plan.stripe_price_id.clone(),
            problems,
        });
    }
    let report = PlanReport {
        checked_at: state.now(),
        plans: state.config.plans.len(),
        warnings,
    };
    *state.plan_checks.0.write().await = Some(report.clone());
    Some(report)
}

/// Runs the check in the background (started with the server's
/// background work); `None` when there is nothing to check.
pub fn spawn(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    applies(&state).then(|| {
        tokio::spawn(async move {
            run(&state).await;
        })
    })
}

/// The last report (`None` before the first check ends, or with nothing
/// to check).
pub async fn latest(state: &AppState) -> Option<PlanReport> {
    state.plan_checks.0.read().await.clone()
}

/// What differs between a plan and its Price, as sentences.
fn compare(plan: &PlanConfig, price: &PlanPrice) -> Vec<String> {
    let mut problems = Vec::new();
    let ours = plan.currency.to_uppercase();
    if !price.active {
        problems.push("the Stripe Price is archived, so Checkout refuses it".to_string());
    }
    match price.unit_amount {
        None => problems.push(
            "the Stripe Price has no fixed amount (tiered, or chosen by the customer)".to_string(),
        ),
        Some(theirs) if price.currency != ours => problems.push(format!(
            "Stripe charges {}, the configuration says {}",
            money::format(theirs, &price.currency),
            money::format(plan.amount_minor, &ours)
        )),
        Some(theirs) if theirs != plan.amount_minor => problems.push(format!(
            "Stripe charges {}, the configuration says {}",
            money::format(theirs, &ours),
            money::format(plan.amount_minor, &ours)
        )),
        Some(_) => {}
    }
    match (&price.interval, price.interval_count) {
        (None, _) => problems.push("the Stripe Price is not recurring".to_string()),
        (Some(every), 1) if *every == plan.interval => {}
        (Some(every), 1) => problems.push(format!(
            "Stripe bills every {every}, the configuration says every {}",
            plan.interval
        )),
        (Some(every), n) => problems.push(format!(
            "Stripe bills every {n} {every}s, the configuration says every {}",
            plan.interval
        )),
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> PlanConfig {
        PlanConfig {
            id: "monthly".into(),
            name: "Monthly".into(),
            description: String::new(),
            stripe_price_id: "price_1".into(),
            interval: "month".into(),
            amount_minor: 1000,
            currency: "EUR".into(),
            discount_percent: 0,
            included_sessions: 0,
        }
    }

    fn price() -> PlanPrice {
        PlanPrice {
            unit_amount: Some(1000),
            currency: "EUR".into(),
            interval: Some("month".into()),
            interval_count: 1,
            active: true,
        }
    }

    #[test]
    fn a_matching_price_has_nothing_to_say() {
        assert!(compare(&plan(), &price()).is_empty());
        let mut lower = plan();
        lower.currency = "eur".into();
        assert!(compare(&lower, &price()).is_empty());
    }

    #[test]
    fn each_difference_is_named_with_the_currencys_decimals() {
        let mut p = price();
        p.unit_amount = Some(2000);
        assert_eq!(
            compare(&plan(), &p),
            ["Stripe charges EUR 20.00, the configuration says EUR 10.00"]
        );
        let mut p = price();
        p.currency = "JPY".into();
        assert_eq!(
            compare(&plan(), &p),
            ["Stripe charges JPY 1000, the configuration says EUR 10.00"]
        );
        let mut p = price();
        p.interval = Some("year".into());
        assert_eq!(
            compare(&plan(), &p),
            ["Stripe bills every year, the configuration says every month"]
        );
        let mut p = price();
        p.interval_count = 3;
        p.active = false;
        p.unit_amount = None;
        assert_eq!(compare(&plan(), &p).len(), 3);
        p.interval = None;
        assert!(compare(&plan(), &p).contains(&"the Stripe Price is not recurring".to_string()));
    }
}
