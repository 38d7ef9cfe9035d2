//! Invoices and tax: numbers without gaps or duplicates under concurrent
//! issuing, tax from the `[tax]` table by the buyer's billing country
//! (prices exclusive or inclusive), and what an invoice and a credit note
//! show.

use std::collections::BTreeSet;

use chrono::{Duration, TimeZone, Utc};
use colloquy::clock::Clock;
use colloquy::config::{Config, TaxMode, TaxRateConfig};
use colloquy::db::repos::ledger::{self, NewEntry};
use colloquy::domain::money::{Currency, Money};
use colloquy::domain::UserId;
use colloquy::services::payments::invoices::{issue_in, Charge};
use serde_json::{json, Value};

use crate::helpers::{error_code, TestApp};
use crate::payments_fixtures::*;
use crate::sessions_fixtures::{acted, booked};
use crate::stripe_fakes::*;

fn german_vat(c: &mut Config, inclusive: bool) {
    c.tax.mode = TaxMode::Table;
    c.tax.prices_include_tax = inclusive;
    c.tax.rates = vec![TaxRateConfig {
        country: "DE".into(),
        region: String::new(),
        name: "VAT".into(),
        basis_points: 1900,
    }];
    c.invoices.seller_name = "Colloquy GmbH".into();
    c.invoices.seller_address = "Invalidenstraße 1, 10115 Berlin".into();
    c.invoices.seller_tax_id = "DE999999999".into();
}

async fn put_billing(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.send_json(
        reqwest::Method::PUT,
        "/api/v1/users/me/billing",
        Some(token),
        &body,
    )
    .await
}

/// A reader billed in `country`, a priced request, its intent.
async fn quoted(app: &TestApp, country: Option<&str>) -> (Paid, Value) {
    let researcher = priced_researcher(app, 24).await;
    let reader = app.token("reader@uni.example").await;
    if let Some(country) = country {
        let body = json!({"country": country, "name": "Reader GmbH",
            "address": "Unter den Linden 1, Berlin", "tax_id": "DE123456789"});
        let r = put_billing(app, &reader, body).await;
        assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    }
    let id = booked(app, &reader, researcher.researcher_id, thursday_ten()).await;
    let pi = intent_ok(app, &reader, id).await;
    let p = Paid {
        researcher,
        reader,
        id,
    };
    (p, pi)
}

async fn sent_amount(s: &StripeApp) -> String {
    let created = calls(&s.stripe, "POST", "/v1/payment_intents").await;
    form(&created[0])["amount"].clone()
}

#[tokio::test]
async fn exclusive_prices_add_the_buyers_vat_and_the_invoice_shows_it() {
    let s = spawn_stripe_app(|c| german_vat(c, false)).await;
    let app = &s.app;
    let (p, pi) = quoted(app, Some("de")).await;
    assert_eq!(
        (pi["amount"].as_i64(), pi["tax"].as_i64()),
        (Some(4760), Some(760))
    );
    assert_eq!(sent_amount(&s).await, "4760");
    assert_eq!(delivered(app, &capturable(app, p.id)).await, "processed");
    acted(app, &p.researcher.token, p.id, "accept", json!({})).await;
    assert_eq!(ledger_of(app, p.id)[1], ("capture".into(), 4760, 760));

    let inv = invoice(
        app,
        &p.reader,
        invoice_id_of(app, &p.reader, p.id, "capture").await,
    )
    .await;
    assert_eq!(
        (&inv["net_minor"], &inv["tax_minor"], &inv["total_minor"]),
        (&json!(4000), &json!(760), &json!(4760))
    );
    assert_eq!(
        inv["lines"][0],
        json!({"description": inv["lines"][0]["description"], "net_minor": 4000,
               "tax_minor": 760, "total_minor": 4760})
    );
    assert_eq!(
        inv["tax_lines"],
        json!([{"name": "VAT", "basis_points": 1900, "tax_minor": 760}])
    );
    assert_eq!(inv["seller"]["name"], "Colloquy GmbH");
    assert_eq!(inv["seller"]["address"], "Invalidenstraße 1, 10115 Berlin");
    assert_eq!(inv["seller"]["tax_id"], "DE999999999");
    assert_eq!(inv["buyer"]["name"], "Reader GmbH");
    assert_eq!(inv["buyer"]["country"], "DE");
    assert_eq!(inv["buyer"]["tax_id"], "DE123456789");
    assert_eq!(inv["buyer"]["address"], "Unter den Linden 1, Berlin");

    // Half back (30 hours ahead): the credit note takes half the tax back.
    app.clock.set(thursday_ten() - Duration::hours(30));
    acted(app, &p.reader, p.id, "cancel", json!({"reason": "Ill"})).await;
    let refunds = calls(&s.stripe, "POST", "/v1/refunds").await;
    assert_eq!(form(&refunds[0])["amount"], "2380");
    let note = invoice(
        app,
        &p.reader,
        invoice_id_of(app, &p.reader, p.id, "refund").await,
    )
    .await;
    assert_eq!(
        (&note["net_minor"], &note["tax_minor"], &note["total_minor"]),
        (&json!(-2000), &json!(-380), &json!(-2380))
    );
    assert_eq!(note["tax_lines"][0]["tax_minor"], -380);
}

#[tokio::test]
async fn inclusive_prices_keep_the_amount_and_take_the_vat_out_of_it() {
    let s = spawn_stripe_app(|c| german_vat(c, true)).await;
    let (_, pi) = quoted(&s.app, Some("DE")).await;
    // 4000 × 1900 / 11900 = 638.66 → 639.
    assert_eq!(
        (pi["amount"].as_i64(), pi["tax"].as_i64()),
        (Some(4000), Some(639))
    );
    assert_eq!(sent_amount(&s).await, "4000");
}

#[tokio::test]
async fn no_billing_country_or_one_without_a_rate_means_no_tax() {
    let s = spawn_stripe_app(|c| german_vat(c, false)).await;
    let (_, pi) = quoted(&s.app, Some("FR")).await;
    assert_eq!(
        (pi["amount"].as_i64(), pi["tax"].as_i64()),
        (Some(4000), Some(0))
    );
    let s = spawn_stripe_app(|c| german_vat(c, false)).await;
    let (_, pi) = quoted(&s.app, None).await;
    assert_eq!(
        (pi["amount"].as_i64(), pi["tax"].as_i64()),
        (Some(4000), Some(0))
    );
}

#[tokio::test]
async fn billing_details_are_checked() {
    let StripeApp {
        app,
        stripe: _stripe,
    } = spawn_stripe_app(|_| {}).await;
    let reader = app.token("reader@uni.example").await;
    for body in [
        json!({"country": "Germany"}),
        json!({"country": "D1"}),
        json!({"country": "DE", "region": "A-REGION-NAME-TOO-LONG"}),
        json!({"country": "DE", "tax_id": "x".repeat(51)}),
    ] {
        let r = put_billing(&app, &reader, body.clone()).await;
        assert_eq!(r.status(), 422, "{body}");
        assert_eq!(error_code(r).await, "validation_failed");
    }
    let r = put_billing(&app, &reader, json!({"country": "DE", "vat": "1"})).await;
    assert_eq!(r.status(), 422);
    let r = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/users/me/billing",
            None,
            &json!({"country": "DE"}),
        )
        .await;
    assert_eq!(r.status(), 401);
}

/// Issues one invoice (or credit note, when `credit`) for `user` in its own
/// write transaction; returns its number.
async fn issue_one(app: &TestApp, user: i64, n: usize, credit: bool) -> String {
    let st = app.state.clone();
    let now = app.clock.now();
    app.state
        .db
        .write(move |tx| {
            let stripe_ref = format!("pi_concurrent_{n}");
            let eur = Currency::parse("EUR").unwrap();
            let gross = Money::new(if credit { -1000 } else { 1000 }, eur);
            let entry = NewEntry {
                kind: if credit { "refund" } else { "capture" },
                user_id: Some(UserId(user)),
                session_id: None,
                subscription_id: None,
                amount: Money::new(1000, eur),
                tax_minor: 0,
                fee_minor: 0,
                stripe_ref: Some(&stripe_ref),
            };
            let id = ledger::append(tx, &entry, now)?.expect("a new ledger row");
            let charge = Charge {
                kind: if credit { "credit_note" } else { "invoice" },
                description: format!("Invoice {n}"),
                gross,
                tax: Money::zero(eur),
                rate: None,
                credits_invoice_id: None,
            };
            Ok(issue_in(tx, &st, UserId(user), id, &charge, now)?.number)
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invoices_issued_at_once_get_every_number_exactly_once() {
    let StripeApp {
        app,
        stripe: _stripe,
    } = spawn_stripe_app(|_| {}).await;
    let me = get_ok(
        &app,
        &app.token("reader@uni.example").await,
        "/api/v1/users/me",
    )
    .await;
    let user = me["id"].as_i64().unwrap();
    let app = std::sync::Arc::new(app);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..40 {
        let app = app.clone();
        tasks.spawn(async move { issue_one(&app, user, n, n % 4 == 3).await });
    }
    let mut numbers = BTreeSet::new();
    while let Some(number) = tasks.join_next().await {
        assert!(numbers.insert(number.unwrap()), "a duplicate number");
    }
    let seqs: BTreeSet<i64> = numbers
        .iter()
        .map(|n| n.rsplit('-').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(seqs, (1..=40).collect::<BTreeSet<i64>>());
    let (invoices, notes): (Vec<&String>, Vec<&String>) =
        numbers.iter().partition(|n| n.starts_with("INV-2026-"));
    assert_eq!((invoices.len(), notes.len()), (30, 10));
    assert!(notes.iter().all(|n| n.starts_with("INV-CN-2026-")));
    assert!(numbers
        .iter()
        .all(|n| n.len() == "INV-2026-000001".len() || n.len() == "INV-CN-2026-000001".len()));

    // A new year starts again at 1.
    app.clock
        .set(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 1).unwrap());
    assert_eq!(issue_one(&app, user, 40, false).await, "INV-2027-000001");
    assert_eq!(issue_one(&app, user, 41, true).await, "INV-CN-2027-000002");
}
