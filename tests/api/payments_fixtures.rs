//! Priced sessions paid through the fake Stripe (`stripe_fakes.rs`), and
//! reading back what was stored: the ledger, payments and invoices.

use chrono::{DateTime, Utc};
use colloquy::config::PlanConfig;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::sessions_fixtures::{
    at, bookable_researcher_with, booked, every_day, open_settings, Bookable,
};
use crate::stripe_fakes::{capturable, customer_id, delivered, PRICE};

/// The customer the fake makes for the user signed in with `token`.
pub async fn customer_of(app: &TestApp, token: &str) -> String {
    let me = get_ok(app, token, "/api/v1/users/me").await;
    customer_id(me["id"].as_i64().unwrap())
}

/// Open every day, priced `price` EUR cents, readers may cancel up to
/// `cancel_window_hours` before the start.
pub fn priced_settings(price: i64, cancel_window_hours: i64) -> Value {
    let mut s = open_settings();
    s["price_minor"] = json!(price);
    s["cancel_window_hours"] = json!(cancel_window_hours);
    s
}

pub async fn priced_researcher(app: &TestApp, cancel_window_hours: i64) -> Bookable {
    bookable_researcher_with(
        app,
        "grace@yale.example",
        priced_settings(PRICE, cancel_window_hours),
        every_day(),
    )
    .await
}

/// Thursday 10 December 2026, 10:00 UTC: 74 hours after the clock's start.
pub fn thursday_ten() -> DateTime<Utc> {
    at("2026-12-10T10:00:00Z")
}

/// `POST /consulting/payments/intent` for `session` as `token`.
pub async fn ask_intent(app: &TestApp, token: &str, session: i64) -> reqwest::Response {
    app.post_json(
        "/api/v1/consulting/payments/intent",
        Some(token),
        &json!({"session_id": session}),
    )
    .await
}

pub async fn intent_ok(app: &TestApp, token: &str, session: i64) -> Value {
    let r = ask_intent(app, token, session).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// A priced request the reader paid for (intent made, card held).
pub async fn paid_request(
    app: &TestApp,
    reader: &str,
    researcher: &Bookable,
    start: DateTime<Utc>,
) -> i64 {
    let id = booked(app, reader, researcher.researcher_id, start).await;
    intent_ok(app, reader, id).await;
    assert_eq!(delivered(app, &capturable(app, id)).await, "processed");
    id
}

/// A researcher (price 4000, `cancel_window_hours`), a reader, and a paid
/// request for Thursday 10:00, accepted when `accept`.
pub struct Paid {
    pub researcher: Bookable,
    pub reader: String,
    pub id: i64,
}

pub async fn paid(app: &TestApp, cancel_window_hours: i64, accept: bool) -> Paid {
    let researcher = priced_researcher(app, cancel_window_hours).await;
    let reader = app.token("reader@uni.example").await;
    let id = paid_request(app, &reader, &researcher, thursday_ten()).await;
    if accept {
        crate::sessions_fixtures::acted(app, &researcher.token, id, "accept", json!({})).await;
    }
    Paid {
        researcher,
        reader,
        id,
    }
}

/// The ledger of a session as stored: (kind, amount, tax), oldest first.
pub fn ledger_of(app: &TestApp, session: i64) -> Vec<(String, i64, i64)> {
    let db = app.db();
    let mut stmt = db
        .prepare(
            "SELECT kind, amount_minor, tax_minor FROM ledger WHERE session_id = ?1 ORDER BY id",
        )
        .unwrap();
    stmt.query_map([session], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Just the kinds of `ledger_of`.
pub fn kinds_of(app: &TestApp, session: i64) -> Vec<String> {
    ledger_of(app, session).into_iter().map(|e| e.0).collect()
}

/// The payment's stored status and refunded amount.
pub fn payment_of(app: &TestApp, session: i64) -> (String, i64) {
    app.db()
        .query_row(
            "SELECT status, refunded_minor FROM session_payments WHERE session_id = ?1",
            [session],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

/// `GET path` as `token`, asserting 200.
pub async fn get_ok(app: &TestApp, token: &str, at: &str) -> Value {
    let r = app.get(at, Some(token)).await;
    assert_eq!(r.status(), 200, "{at}: {}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// The invoice `id` as `token` sees it (asserting 200).
pub async fn invoice(app: &TestApp, token: &str, id: i64) -> Value {
    get_ok(app, token, &format!("/api/v1/invoices/{id}")).await
}

/// The invoice id of the session's ledger entry of `kind` (from the API).
pub async fn invoice_id_of(app: &TestApp, token: &str, session: i64, kind: &str) -> i64 {
    let page = get_ok(
        app,
        token,
        &format!("/api/v1/payments?session_id={session}&kind={kind}"),
    )
    .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    items[0]["invoice_id"].as_i64().expect("an invoice")
}

/// The session ids `token` sees in `GET /consulting/sessions`.
pub async fn listed(app: &TestApp, token: &str) -> Vec<i64> {
    let page = get_ok(app, token, "/api/v1/consulting/sessions").await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

/// A plan as `[[plans]]` would give it.
pub fn plan(discount_percent: i64, included_sessions: i64) -> PlanConfig {
    PlanConfig {
        id: "monthly".into(),
        name: "Monthly".into(),
        description: "Talk to researchers every month".into(),
        stripe_price_id: "price_1PgafmB7WZ01zgkW6dKueIc5".into(),
        interval: "month".into(),
        amount_minor: 1000,
        currency: "EUR".into(),
        discount_percent,
        included_sessions,
    }
}
