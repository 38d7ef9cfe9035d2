//! Refunds of a captured payment under the test clock: a reader's cancel
//! refunds by the notice tiers (48 h → 100 %, 24 h → 50 %, less → 0 %), the
//! researcher's or an admin's refunds everything, a researcher no-show
//! claim that stands refunds everything and a reader no-show nothing. Each refund is a ledger
//! `refund` and a credit note against the capture's invoice.

use chrono::Duration;
use colloquy::clock::Clock;
use serde_json::{json, Value};

use crate::helpers::{error_code, TestApp};
use crate::payments_fixtures::*;
use crate::sessions_fixtures::{act, acted, stored_status};
use crate::stripe_fakes::*;

/// Cancels as `token` `hours_left` hours before the start (plus `minutes`).
async fn cancel_at(app: &TestApp, token: &str, id: i64, hours_left: i64, minutes: i64) {
    app.clock
        .set(thursday_ten() - Duration::hours(hours_left) - Duration::minutes(minutes));
    acted(
        app,
        token,
        id,
        "cancel",
        json!({"reason": "Cannot make it"}),
    )
    .await;
    assert_eq!(stored_status(app, id), "cancelled");
}

/// The amounts sent to `POST /v1/refunds` (asserting the intent and key).
async fn refunds_sent(s: &StripeApp, id: i64) -> Vec<i64> {
    calls(&s.stripe, "POST", "/v1/refunds")
        .await
        .iter()
        .map(|r| {
            let f = form(r);
            assert_eq!(f["payment_intent"], intent_id(id));
            assert_eq!(key_of(r), format!("colloquy-session-{id}-refund-0"));
            f["amount"].parse().unwrap()
        })
        .collect()
}

/// Checks the credit note of the session's refund: `-amount`, against
/// the capture's invoice, numbered after it.
async fn assert_credit_note(app: &TestApp, reader: &str, id: i64, amount: i64) {
    let original = invoice_id_of(app, reader, id, "capture").await;
    let note = invoice(app, reader, invoice_id_of(app, reader, id, "refund").await).await;
    assert_eq!(note["kind"], "credit_note");
    assert_eq!(note["number"], "INV-CN-2026-000002");
    assert_eq!(note["credits_invoice_id"], original);
    assert_eq!(note["total_minor"], -amount);
    assert_eq!(note["net_minor"], -amount);
    assert_eq!(note["tax_minor"], 0);
    assert_eq!(note["lines"][0]["total_minor"], -amount);
    assert!(note["lines"][0]["description"]
        .as_str()
        .unwrap()
        .starts_with("Refund for the consulting session with Grace Hopper"));
    assert_eq!(note["buyer"]["email"], "reader@uni.example");
}

#[tokio::test]
async fn a_reader_cancelling_two_days_ahead_or_more_gets_everything_back() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    cancel_at(app, &p.reader, p.id, 48, 0).await;
    assert_eq!(refunds_sent(&s, p.id).await, [PRICE]);
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture", "refund"]);
    assert_eq!(ledger_of(app, p.id)[2], ("refund".into(), PRICE, 0));
    assert_eq!(payment_of(app, p.id), ("refunded".into(), PRICE));
    assert_credit_note(app, &p.reader, p.id, PRICE).await;
    assert_eq!(count(&s.stripe, "/cancel").await, 0);
}

#[tokio::test]
async fn a_reader_cancelling_between_one_and_two_days_ahead_gets_half_back() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    // A minute short of 48 hours is the lower tier.
    cancel_at(app, &p.reader, p.id, 47, 59).await;
    assert_eq!(refunds_sent(&s, p.id).await, [PRICE / 2]);
    assert_eq!(
        payment_of(app, p.id),
        ("partially_refunded".into(), PRICE / 2)
    );
    assert_credit_note(app, &p.reader, p.id, PRICE / 2).await;
}

#[tokio::test]
async fn thirty_hours_ahead_refunds_half() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    cancel_at(app, &p.reader, p.id, 30, 0).await;
    assert_eq!(refunds_sent(&s, p.id).await, [2000]);
    assert_eq!(ledger_of(app, p.id)[2], ("refund".into(), 2000, 0));
}

#[tokio::test]
async fn inside_the_researchers_window_a_reader_cannot_cancel_and_nothing_moves() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    app.clock.set(thursday_ten() - Duration::hours(23));
    let r = act(app, &p.reader, p.id, "cancel", json!({"reason": "Late"})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "too_late_to_cancel");
    assert_eq!(stored_status(app, p.id), "accepted");
    assert_eq!(count(&s.stripe, "/v1/refunds").await, 0);
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture"]);
}

#[tokio::test]
async fn with_no_window_a_late_reader_cancel_refunds_nothing() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 0, true).await;
    cancel_at(app, &p.reader, p.id, 23, 0).await;
    assert_eq!(count(&s.stripe, "/v1/refunds").await, 0);
    assert_eq!(count(&s.stripe, "/cancel").await, 0);
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture"]);
    assert_eq!(payment_of(app, p.id), ("captured".into(), 0));

    // An admin may decide otherwise: a refund with a reason, audited.
    let path = format!("/api/v1/admin/sessions/{}/refund", p.id);
    let body = json!({"amount_minor": 1000, "reason": "Train strike, reader could not come"});
    let r = app.post_json(&path, Some(&p.reader), &body).await;
    assert_eq!(r.status(), 403, "readers cannot refund themselves");
    let admin = app.admin_token("admin@uni.example").await;
    let r = app
        .post_json(
            &path,
            Some(&admin),
            &json!({"amount_minor": PRICE + 1, "reason": "x"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = app.post_json(&path, Some(&admin), &body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(refunds_sent(&s, p.id).await, [1000]);
    assert_eq!(payment_of(app, p.id), ("partially_refunded".into(), 1000));
    assert_credit_note(app, &p.reader, p.id, 1000).await;
    assert!(app
        .audit_actions()
        .contains(&"payment.refunded_by_admin".to_string()));
}

#[tokio::test]
async fn a_researcher_cancelling_even_late_refunds_everything() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    cancel_at(app, &p.researcher.token, p.id, 2, 0).await;
    assert_eq!(refunds_sent(&s, p.id).await, [PRICE]);
    assert_well_formed(&s.stripe).await;
    assert_eq!(payment_of(app, p.id), ("refunded".into(), PRICE));
    assert_credit_note(app, &p.reader, p.id, PRICE).await;
}

#[tokio::test]
async fn an_admin_cancelling_refunds_everything() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    let admin = app.admin_token("admin@colloquy.example").await;
    cancel_at(app, &admin, p.id, 1, 0).await;
    assert_eq!(refunds_sent(&s, p.id).await, [PRICE]);
    // The admin sees the credit note too.
    let id = invoice_id_of(app, &p.reader, p.id, "refund").await;
    assert_eq!(invoice(app, &admin, id).await["total_minor"], -PRICE);
}

#[tokio::test]
async fn a_researcher_no_show_claim_refunds_everything_once_it_stands() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    app.clock.set(thursday_ten() + Duration::minutes(20));
    let claim = acted(app, &p.reader, p.id, "no-show", json!({})).await;
    // A report is a claim: nothing moves until it stands.
    assert!(claim["dispute_id"].is_i64(), "{claim}");
    assert_eq!(stored_status(app, p.id), "accepted");
    assert_eq!(count(&s.stripe, "/v1/refunds").await, 0);
    app.clock.advance(Duration::hours(48));
    run_disputes(app).await;
    assert_eq!(stored_status(app, p.id), "no_show");
    assert_eq!(refunds_sent(&s, p.id).await, [PRICE]);
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture", "refund"]);
    assert_eq!(payment_of(app, p.id), ("refunded".into(), PRICE));
    assert_credit_note(app, &p.reader, p.id, PRICE).await;
}

#[tokio::test]
async fn a_reader_no_show_claim_refunds_nothing_once_it_stands() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    app.clock.set(thursday_ten() + Duration::minutes(20));
    acted(app, &p.researcher.token, p.id, "no-show", json!({})).await;
    app.clock.advance(Duration::hours(48));
    run_disputes(app).await;
    assert_eq!(stored_status(app, p.id), "no_show");
    assert_eq!(count(&s.stripe, "/v1/refunds").await, 0);
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture"]);
    assert_eq!(payment_of(app, p.id), ("captured".into(), 0));
}

/// Runs the disputes job now, as the scheduler would.
async fn run_disputes(app: &TestApp) {
    colloquy::services::disputes::jobs::run(&app.state, app.clock.now())
        .await
        .unwrap();
}

/// `charge.refunded` for the session's intent listing `refunds`.
fn charge_refunded(app: &TestApp, id: i64, event_id: &str, refunds: &[(&str, i64)]) -> Value {
    let mut e = stripe_fixture("event_charge_refunded.json");
    e["id"] = json!(event_id);
    e["created"] = json!(app.clock.now().timestamp());
    let charge = &mut e["data"]["object"];
    charge["payment_intent"] = json!(intent_id(id));
    charge["amount_refunded"] = json!(refunds.iter().map(|r| r.1).sum::<i64>());
    let data: Vec<Value> = refunds
        .iter()
        .map(|(rid, amount)| refund_object(rid, *amount))
        .collect();
    charge["refunds"] =
        json!({"object": "list", "data": data, "has_more": false, "url": "/v1/refunds"});
    e
}

#[tokio::test]
async fn refunds_stripe_reports_are_recorded_once_and_count_towards_the_next() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    // A partial refund made in the Stripe dashboard.
    let dashboard = charge_refunded(app, p.id, "evt_refund_1", &[("re_dashboard", 1000)]);
    assert_eq!(delivered(app, &dashboard).await, "processed");
    assert_eq!(ledger_of(app, p.id)[2], ("refund".into(), 1000, 0));
    assert_eq!(payment_of(app, p.id), ("partially_refunded".into(), 1000));
    // The researcher cancels: the rest is refunded, under a new key.
    cancel_at(app, &p.researcher.token, p.id, 50, 0).await;
    let sent = calls(&s.stripe, "POST", "/v1/refunds").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(form(&sent[0])["amount"], "3000");
    let key = key_of(&sent[0]);
    assert_eq!(key, format!("colloquy-session-{}-refund-1000", p.id));
    // Stripe then reports both refunds on the charge: nothing doubles.
    let ours = format!("re_{}", key.replace('-', ""));
    let both = charge_refunded(
        app,
        p.id,
        "evt_refund_2",
        &[("re_dashboard", 1000), (ours.as_str(), 3000)],
    );
    assert_eq!(delivered(app, &both).await, "processed");
    let refunds: Vec<i64> = ledger_of(app, p.id)
        .into_iter()
        .filter(|e| e.0 == "refund")
        .map(|e| e.1)
        .collect();
    assert_eq!(refunds, [1000, 3000]);
    assert_eq!(payment_of(app, p.id), ("refunded".into(), PRICE));
    let notes: i64 = app
        .db()
        .query_row(
            "SELECT COUNT(*) FROM invoices WHERE kind = 'credit_note'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(notes, 2);
}

/// Stripe's list of the intent's refunds (`GET /v1/refunds`), newest first.
async fn mount_refund_list(s: &StripeApp, session: i64, refunds: &[(&str, i64)]) {
    let data: Vec<Value> = refunds
        .iter()
        .map(|(rid, amount)| refund_object(rid, *amount))
        .collect();
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/v1/refunds"))
        .and(wiremock::matchers::query_param(
            "payment_intent",
            intent_id(session),
        ))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(
            json!({"object": "list", "data": data, "has_more": false, "url": "/v1/refunds"}),
        ))
        .with_priority(1)
        .mount(&s.stripe)
        .await;
}

#[tokio::test]
async fn a_charge_without_its_refund_list_is_recorded_by_each_refund_stripe_lists() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    // Newer API versions leave `refunds` out of the charge object: the
    // refunds are read from Stripe and recorded by their ids.
    mount_refund_list(&s, p.id, &[("re_x", 1500)]).await;
    let mut e = charge_refunded(app, p.id, "evt_refund_total", &[("re_x", 1500)]);
    e["data"]["object"]
        .as_object_mut()
        .unwrap()
        .remove("refunds");
    assert_eq!(delivered(app, &e).await, "processed");
    assert_eq!(payment_of(app, p.id), ("partially_refunded".into(), 1500));
    assert_credit_note(app, &p.reader, p.id, 1500).await;
    // The same refund again (another event id) adds nothing.
    e["id"] = json!("evt_refund_total_again");
    assert_eq!(delivered(app, &e).await, "processed");
    assert_eq!(payment_of(app, p.id), ("partially_refunded".into(), 1500));
}

#[tokio::test]
async fn a_refund_reported_with_and_without_the_list_is_recorded_once() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    // First without the list (Stripe is asked), then the same refund listed
    // on the charge of another event: one ledger row, one credit note.
    mount_refund_list(&s, p.id, &[("re_dup", 1200)]).await;
    let mut bare = charge_refunded(app, p.id, "evt_dup_1", &[("re_dup", 1200)]);
    bare["data"]["object"]
        .as_object_mut()
        .unwrap()
        .remove("refunds");
    assert_eq!(delivered(app, &bare).await, "processed");
    let listed = charge_refunded(app, p.id, "evt_dup_2", &[("re_dup", 1200)]);
    assert_eq!(delivered(app, &listed).await, "processed");
    let refunds: Vec<i64> = ledger_of(app, p.id)
        .into_iter()
        .filter(|e| e.0 == "refund")
        .map(|e| e.1)
        .collect();
    assert_eq!(refunds, [1200]);
    assert_eq!(payment_of(app, p.id), ("partially_refunded".into(), 1200));
    let notes: i64 = app
        .db()
        .query_row(
            "SELECT COUNT(*) FROM invoices WHERE kind = 'credit_note'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(notes, 1);
}
