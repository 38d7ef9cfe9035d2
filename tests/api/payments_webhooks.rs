//! `POST /api/v1/webhooks/stripe`: signatures checked at the route against
//! the contract vector and its variations (bad, stale, several `v1`), an
//! event stored by id so a replay is a no-op, unknown types acknowledged,
//! and a failure leaving nothing behind so that Stripe's retry works.

use chrono::{Duration, TimeZone, Utc};
use colloquy::clock::Clock;
use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use crate::helpers::{error_code, TestApp};
use crate::payments_fixtures::*;
use crate::sessions_fixtures::mails;
use crate::stripe_fakes::*;

fn events_stored(app: &TestApp) -> i64 {
    app.db()
        .query_row("SELECT COUNT(*) FROM webhook_events", [], |r| r.get(0))
        .unwrap()
}

/// Posts `body` with `sig` and expects 400 `bad_webhook`.
async fn refused(app: &TestApp, sig: Option<&str>, body: &str) {
    let r = post_webhook(app, sig, body).await;
    assert_eq!(r.status(), 400, "{sig:?}");
    assert_eq!(error_code(r).await, "bad_webhook");
}

fn vector() -> Value {
    stripe_fixture("webhook_signature_vector.json")
}

/// An app whose webhook secret is the vector's, its clock at the vector's
/// time plus `after` seconds.
async fn vector_app(after: i64) -> StripeApp {
    let v = vector();
    let secret = v["endpoint_secret"].as_str().unwrap().to_string();
    let s = spawn_stripe_app(|c| c.stripe.webhook_secret = colloquy::config::Secret::new(&secret))
        .await;
    let t = v["timestamp"].as_i64().unwrap() + after;
    s.app.clock.set(Utc.timestamp_opt(t, 0).unwrap());
    s
}

#[tokio::test]
async fn the_contract_vector_is_accepted_at_the_route_and_its_replay_is_a_no_op() {
    let s = vector_app(10).await;
    let v = vector();
    let (body, sig) = (
        v["raw_body"].as_str().unwrap(),
        v["Stripe-Signature"].as_str(),
    );
    let r = post_webhook(&s.app, sig, body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"received": true, "outcome": "processed"})
    );
    let r = post_webhook(&s.app, sig, body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"received": true, "outcome": "replayed"})
    );
    assert_eq!(events_stored(&s.app), 1);
}

#[tokio::test]
async fn bad_signatures_are_refused_and_nothing_is_stored() {
    let s = vector_app(10).await;
    let v = vector();
    let body = v["raw_body"].as_str().unwrap();
    let t = v["timestamp"].as_i64().unwrap();
    let good = v["expected_v1"].as_str().unwrap();
    refused(&s.app, None, body).await;
    refused(&s.app, Some(""), body).await;
    refused(&s.app, Some(&format!("t={t}")), body).await;
    refused(&s.app, Some(&format!("t=abc,v1={good}")), body).await;
    refused(&s.app, Some(&format!("t={t},v0={good}")), body).await;
    // Signed with another secret, or a body changed by one character.
    let other = stripe_webhook::Webhook::generate_test_header(body, "whsec_other", Some(t));
    refused(&s.app, Some(&other), body).await;
    let tampered = body.replace("\"amount\":2000", "\"amount\":2001");
    refused(&s.app, Some(&format!("t={t},v1={good}")), &tampered).await;
    // Several v1 values, none matching.
    let zeros = "00".repeat(32);
    refused(&s.app, Some(&format!("t={t},v1={zeros},v1=abcd")), body).await;
    assert_eq!(events_stored(&s.app), 0);
}

#[tokio::test]
async fn one_matching_v1_among_several_is_enough() {
    let s = vector_app(0).await;
    let v = vector();
    let body = v["raw_body"].as_str().unwrap();
    let t = v["timestamp"].as_i64().unwrap();
    let good = v["expected_v1"].as_str().unwrap();
    let zeros = "00".repeat(32);
    let sig = format!("t={t},v1={zeros},v0=abc,v1={good}");
    let r = post_webhook(&s.app, Some(&sig), body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_signature_outside_the_tolerance_is_stale() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let now = app.clock.now().timestamp();
    let body = capturable(app, 1).to_string();
    refused(app, Some(&signature(now - 301, &body)), &body).await;
    refused(app, Some(&signature(now + 301, &body)), &body).await;
    assert_eq!(events_stored(app), 0);
    let r = post_webhook(app, Some(&signature(now - 299, &body)), &body).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_event_is_refused() {
    let StripeApp {
        app,
        stripe: _stripe,
    } = spawn_stripe_app(|_| {}).await;
    let now = app.clock.now().timestamp();
    for body in ["not json", r#"{"object":"event"}"#] {
        refused(&app, Some(&signature(now, body)), body).await;
    }
    assert_eq!(events_stored(&app), 0);
}

#[tokio::test]
async fn a_replayed_event_changes_nothing_the_second_time() {
    let StripeApp {
        app,
        stripe: _stripe,
    } = spawn_stripe_app(|_| {}).await;
    let p = paid(&app, 24, false).await;
    let again = capturable(&app, p.id);
    app.clock.advance(Duration::minutes(10));
    // Re-signed later by Stripe's retry: the id says it was seen.
    assert_eq!(delivered(&app, &again).await, "replayed");
    // Another event about the same hold finds it authorised already.
    let mut other = capturable(&app, p.id);
    other["id"] = json!("evt_another_delivery");
    assert_eq!(delivered(&app, &other).await, "processed");
    assert_eq!(ledger_of(&app, p.id), [("authorization".into(), PRICE, 0)]);
    assert_eq!(mails(&app, "session_request").len(), 1);
}

#[tokio::test]
async fn an_unknown_event_type_is_acknowledged_and_ignored() {
    let StripeApp { app, stripe } = spawn_stripe_app(|_| {}).await;
    let e = event(
        "evt_1NG8Du2eZvKYlo2CUI79vXWy",
        "customer.created",
        app.clock.now().timestamp(),
        json!({"id": CUSTOMER, "object": "customer"}),
    );
    assert_eq!(delivered(&app, &e).await, "ignored");
    assert_eq!(delivered(&app, &e).await, "replayed");
    let ledger: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM ledger", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ledger, 0);
    assert!(stripe.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failure_while_processing_answers_500_and_leaves_nothing_behind() {
    let StripeApp {
        app,
        stripe: _stripe,
    } = spawn_stripe_app(|_| {}).await;
    let p = paid(&app, 24, true).await;
    // Issuing the credit note will fail, after the ledger row was written.
    app.db()
        .execute_batch(
            "CREATE TRIGGER test_no_invoices BEFORE INSERT ON invoices
             BEGIN SELECT RAISE(ABORT, 'test: invoices are down'); END;",
        )
        .unwrap();
    let mut e = stripe_fixture("event_charge_refunded.json");
    e["created"] = json!(app.clock.now().timestamp());
    e["data"]["object"]["payment_intent"] = json!(intent_id(p.id));
    e["data"]["object"]["refunds"]["data"][0]["amount"] = json!(1000);
    let r = deliver(&app, &e).await;
    assert_eq!(r.status(), 500);
    assert_eq!(kinds_of(&app, p.id), ["authorization", "capture"]);
    assert_eq!(payment_of(&app, p.id), ("captured".into(), 0));
    let stored: i64 = app
        .db()
        .query_row(
            "SELECT COUNT(*) FROM webhook_events WHERE id = ?1",
            [e["id"].as_str().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0);

    // Stripe retries once the fault is gone: processed in full.
    app.db()
        .execute_batch("DROP TRIGGER test_no_invoices")
        .unwrap();
    assert_eq!(delivered(&app, &e).await, "processed");
    assert_eq!(kinds_of(&app, p.id), ["authorization", "capture", "refund"]);
    assert_eq!(payment_of(&app, p.id), ("partially_refunded".into(), 1000));
}

#[tokio::test]
async fn stripe_failing_to_answer_for_a_subscription_event_is_retried_later() {
    let StripeApp { app, stripe } = spawn_stripe_app(|_| {}).await;
    stripe_call("GET", &format!("/v1/subscriptions/{SUB}"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&stripe)
        .await;
    stripe_call("GET", &format!("/v1/subscriptions/{SUB}"))
        .respond_with(ResponseTemplate::new(200).set_body_json(stripe_fixture("subscription.json")))
        .mount(&stripe)
        .await;
    let mut e = stripe_fixture("event_customer_subscription_deleted.json");
    e["created"] = json!(app.clock.now().timestamp());
    let r = deliver(&app, &e).await;
    assert!(r.status().is_server_error(), "{}", r.status());
    assert_eq!(events_stored(&app), 0);
    assert_eq!(delivered(&app, &e).await, "processed");
    assert_eq!(events_stored(&app), 1);
}

#[tokio::test]
async fn only_listed_addresses_may_call_the_webhook_when_a_list_is_set() {
    let s = spawn_stripe_app(|c| c.stripe.webhook_allowed_ips = vec!["10.0.0.0/8".into()]).await;
    let r = deliver(&s.app, &capturable(&s.app, 1)).await;
    assert_eq!(r.status(), 403);
    let s = spawn_stripe_app(|c| {
        c.stripe.webhook_allowed_ips = vec!["10.0.0.0/8".into(), "127.0.0.1".into()]
    })
    .await;
    assert_eq!(delivered(&s.app, &capturable(&s.app, 1)).await, "processed");
}
