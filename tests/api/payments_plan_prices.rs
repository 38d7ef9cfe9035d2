//! `[[plans]]` against their Stripe Prices: checked in the background at
//! start, each difference (or a Price that cannot be read) listed on the
//! admin providers page; a plan that matches is not.

use colloquy::config::PlanConfig;
use colloquy::services::payments::plan_check;
use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use crate::pages::{logged_in_browser, page_text};
use crate::payments_fixtures::plan;
use crate::stripe_fakes::*;

/// The contract's Price (the one in `subscription.json`) charging
/// `amount` of `currency` every month.
fn price(amount: i64, currency: &str) -> Value {
    let mut p = stripe_fixture("subscription.json")["items"]["data"][0]["price"].clone();
    p["unit_amount"] = json!(amount);
    p["unit_amount_decimal"] = json!(amount.to_string());
    p["currency"] = json!(currency);
    p
}

/// A second plan whose Price Stripe does not know.
fn yearly() -> PlanConfig {
    PlanConfig {
        id: "yearly".into(),
        stripe_price_id: "price_1UnknownB7WZ01zgkW".into(),
        interval: "year".into(),
        amount_minor: 10_000,
        ..plan(20, 0)
    }
}

/// The admin providers page after the check at start ran.
async fn checked_page(s: &StripeApp, stripe_answers: Value) -> String {
    stripe_call("GET", "/v1/prices/price_1PgafmB7WZ01zgkW6dKueIc5")
        .respond_with(ResponseTemplate::new(200).set_body_json(stripe_answers))
        .mount(&s.stripe)
        .await;
    let app = &s.app;
    app.admin_token("admin@uni.example").await;
    let (web, _) = logged_in_browser(app, "admin@uni.example").await;
    assert!(page_text(&web, app, "/admin/providers")
        .await
        .contains("Not checked yet"));
    plan_check::spawn(app.state.clone())
        .expect("stripe is on and a plan is listed")
        .await
        .unwrap();
    page_text(&web, app, "/admin/providers").await
}

#[tokio::test]
async fn a_price_that_charges_something_else_is_a_warning_on_the_providers_page() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0), yearly()]).await;
    let html = checked_page(&s, price(2000, "eur")).await;
    assert!(html.contains("Plans and their Stripe Prices"), "{html}");
    assert!(
        html.contains("Plan <code>monthly</code> (<code>price_1PgafmB7WZ01zgkW6dKueIc5</code>):</span> Stripe charges EUR 20.00, the configuration says EUR 10.00."),
        "{html}"
    );
    assert!(
        html.contains("Plan <code>yearly</code> (<code>price_1UnknownB7WZ01zgkW</code>):</span> its Stripe Price could not be read: stripe has no such record."),
        "{html}"
    );
    let report = plan_check::latest(&s.app.state).await.unwrap();
    assert_eq!((report.plans, report.warnings.len()), (2, 2));
    let asked = calls(
        &s.stripe,
        "GET",
        "/v1/prices/price_1PgafmB7WZ01zgkW6dKueIc5",
    )
    .await;
    assert_eq!(asked.len(), 1);
}

#[tokio::test]
async fn a_price_in_another_currency_is_named_with_that_currencys_decimals() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let html = checked_page(&s, price(1000, "jpy")).await;
    assert!(
        html.contains("Stripe charges JPY 1000, the configuration says EUR 10.00."),
        "{html}"
    );
}

#[tokio::test]
async fn a_matching_price_gives_no_warning() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let html = checked_page(&s, price(1000, "eur")).await;
    assert!(
        html.contains("All 1 plans say what Stripe charges"),
        "{html}"
    );
    assert!(!html.contains("plan-warning"), "{html}");
    assert!(plan_check::latest(&s.app.state)
        .await
        .unwrap()
        .warnings
        .is_empty());
}

#[tokio::test]
async fn without_stripe_or_plans_nothing_is_checked_or_shown() {
    let s = spawn_stripe_app(|_| {}).await;
    assert!(plan_check::spawn(s.app.state.clone()).is_none());
    assert!(plan_check::run(&s.app.state).await.is_none());
    s.app.admin_token("admin@uni.example").await;
    let (web, _) = logged_in_browser(&s.app, "admin@uni.example").await;
    let html = page_text(&web, &s.app, "/admin/providers").await;
    assert!(!html.contains("Plans and their Stripe Prices"), "{html}");
    assert_eq!(count(&s.stripe, "/v1/prices").await, 0);
}
