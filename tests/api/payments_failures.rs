//! Stripe failing: the money call comes first, so a failed capture, hold
//! release or refund answers 502 and changes nothing; transient failures,
//! and answers that come after our timeout though Stripe did the work, are
//! retried with the same idempotency key and recorded once.

use chrono::Duration;
use colloquy::clock::Clock;
use serde_json::json;
use wiremock::{Respond, ResponseTemplate};

use crate::helpers::{error_code, TestApp};
use crate::payments_fixtures::*;
use crate::sessions_fixtures::{act, acted, booked, stored_status};
use crate::stripe_fakes::*;

/// Accept answers 502 `payment_provider_failed`.
async fn accept_fails(app: &TestApp, p: &Paid) {
    let r = act(app, &p.researcher.token, p.id, "accept", json!({})).await;
    assert_eq!(r.status(), 502);
    assert_eq!(error_code(r).await, "payment_provider_failed");
}

/// Nothing of the accept stayed behind.
fn assert_still_requested(app: &TestApp, id: i64) {
    assert_eq!(stored_status(app, id), "requested");
    assert_eq!(payment_of(app, id).0, "authorized");
    assert_eq!(kinds_of(app, id), ["authorization"]);
    let invoices: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM invoices", [], |r| r.get(0))
        .unwrap();
    assert_eq!(invoices, 0);
}

#[tokio::test]
async fn a_capture_failing_after_its_retries_leaves_the_request_as_it_was() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, false).await;
    // Down for exactly the three tries of one accept.
    capture_call()
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    accept_fails(app, &p).await;
    assert_still_requested(app, p.id);
    // One try and two retries, all with one idempotency key.
    let path = format!("/v1/payment_intents/{}/capture", intent_id(p.id));
    let tries = calls(&s.stripe, "POST", &path).await;
    assert_eq!(tries.len(), 3);
    let key = format!("colloquy-session-{}-capture", p.id);
    assert!(tries.iter().all(|t| key_of(t) == key));

    // Stripe is back: accepting again captures under the same key.
    acted(app, &p.researcher.token, p.id, "accept", json!({})).await;
    let tries = calls(&s.stripe, "POST", &path).await;
    assert_eq!(tries.len(), 4);
    assert_eq!(key_of(&tries[3]), key);
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture"]);
    assert_well_formed(&s.stripe).await;
}

/// Stripe answers the first capture with `answer`: the capture is tried
/// again with the same idempotency key, and the ledger records it once.
async fn capture_retried_once_with_its_key(answer: impl Respond + 'static) {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, false).await;
    capture_call()
        .respond_with(answer)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    acted(app, &p.researcher.token, p.id, "accept", json!({})).await;
    let tries = calls(
        &s.stripe,
        "POST",
        &format!("/v1/payment_intents/{}/capture", intent_id(p.id)),
    )
    .await;
    assert_eq!(tries.len(), 2);
    assert_eq!(key_of(&tries[0]), key_of(&tries[1]));
    assert_eq!(stored_status(app, p.id), "accepted");
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture"]);
    assert_eq!(payment_of(app, p.id), ("captured".into(), 0));
}

#[tokio::test]
async fn a_transient_capture_failure_is_retried_with_the_same_key() {
    capture_retried_once_with_its_key(stripe_error(429, "error_429_rate_limit.json")).await;
}

/// Stripe did the capture but answered after our timeout (2 s here).
#[tokio::test]
async fn a_capture_that_times_out_is_retried_with_its_key_and_recorded_once() {
    capture_retried_once_with_its_key(Late(IntentNow("succeeded"), LATE)).await;
}

/// Longer than the client's `stripe.timeout_secs` (2 s in these tests).
const LATE: std::time::Duration = std::time::Duration::from_secs(3);

#[tokio::test]
async fn a_declined_card_at_capture_is_not_retried() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, false).await;
    capture_call()
        .respond_with(stripe_error(402, "error_402_card_declined.json"))
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    accept_fails(app, &p).await;
    assert_still_requested(app, p.id);
    assert_eq!(count(&s.stripe, "/capture").await, 1);
}

#[tokio::test]
async fn a_capture_stripe_does_not_complete_is_not_recorded() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, false).await;
    let mut pi = stripe_fixture("payment_intent_create.json");
    pi["id"] = json!(intent_id(p.id));
    pi["status"] = json!("requires_capture");
    capture_call()
        .respond_with(ResponseTemplate::new(200).set_body_json(pi))
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    let r = act(app, &p.researcher.token, p.id, "accept", json!({})).await;
    assert_eq!(r.status(), 502);
    assert_eq!(error_code(r).await, "payment_not_captured");
    assert_still_requested(app, p.id);
}

#[tokio::test]
async fn a_card_error_making_the_intent_stores_nothing() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let researcher = priced_researcher(app, 24).await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(app, &reader, researcher.researcher_id, thursday_ten()).await;
    stripe_call("POST", "/v1/payment_intents")
        .respond_with(stripe_error(402, "error_402_card_declined.json"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    let r = ask_intent(app, &reader, id).await;
    assert_eq!(r.status(), 502);
    assert_eq!(error_code(r).await, "payment_provider_failed");
    let intent: Option<String> = app
        .db()
        .query_row(
            "SELECT intent_id FROM session_payments WHERE session_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(intent, None);
    assert_eq!(payment_of(app, id).0, "pending");
    assert_eq!(
        intent_ok(app, &reader, id).await["payment_intent_id"],
        intent_id(id)
    );
    // The customer made on the first try is reused.
    assert_eq!(calls(&s.stripe, "POST", "/v1/customers").await.len(), 1);
}

#[tokio::test]
async fn a_failed_release_keeps_the_request_and_the_job_retries_it() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, false).await;
    let cancel_path = format!("/v1/payment_intents/{}/cancel", intent_id(p.id));
    // Down for the decline's three tries and the first job run's three.
    stripe_call("POST", &cancel_path)
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(6)
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    let r = act(app, &p.researcher.token, p.id, "decline", json!({})).await;
    assert_eq!(r.status(), 502);
    assert_eq!(stored_status(app, p.id), "requested");
    assert_eq!(kinds_of(app, p.id), ["authorization"]);

    app.clock.advance(Duration::hours(49));
    let run = || colloquy::services::sessions::jobs::run(&app.state, app.clock.now());
    assert_eq!(run().await.unwrap().expired, 0);
    assert_eq!(stored_status(app, p.id), "requested");
    assert_eq!(run().await.unwrap().expired, 1);
    assert_eq!(stored_status(app, p.id), "expired");
    assert_eq!(kinds_of(app, p.id), ["authorization", "release"]);
}

#[tokio::test]
async fn an_intent_stripe_already_cancelled_still_releases() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, false).await;
    let cancel_path = format!("/v1/payment_intents/{}/cancel", intent_id(p.id));
    stripe_call("POST", &cancel_path)
        .respond_with(stripe_error(400, "error_404_resource_missing.json"))
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    // Stripe says why it refused: the intent is already cancelled.
    intent_call("GET", "")
        .respond_with(IntentNow("canceled"))
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    acted(app, &p.researcher.token, p.id, "decline", json!({})).await;
    assert_eq!(kinds_of(app, p.id), ["authorization", "release"]);
    assert_eq!(payment_of(app, p.id).0, "canceled");
    assert_eq!(calls(&s.stripe, "POST", "/v1/refunds").await.len(), 0);
}

#[tokio::test]
async fn releasing_an_intent_that_was_captured_after_all_refunds_it() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, false).await;
    let cancel_path = format!("/v1/payment_intents/{}/cancel", intent_id(p.id));
    stripe_call("POST", &cancel_path)
        .respond_with(stripe_error(400, "error_404_resource_missing.json"))
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    intent_call("GET", "")
        .respond_with(IntentNow("succeeded"))
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    acted(app, &p.researcher.token, p.id, "decline", json!({})).await;
    assert_eq!(stored_status(app, p.id), "declined");
    // The ledger records the capture the refund implies, so it balances.
    assert_eq!(payment_of(app, p.id), ("refunded".into(), PRICE));
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture", "refund"]);
    crate::payments_ledger::assert_balanced(app);
    let refunds = calls(&s.stripe, "POST", "/v1/refunds").await;
    assert_eq!(
        refunds.len(),
        1,
        "money captured for a let-go session goes back"
    );
    assert_eq!(form(&refunds[0])["payment_intent"], intent_id(p.id));
}

#[tokio::test]
async fn a_failed_refund_keeps_the_session_accepted() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    refund_call()
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    let r = act(
        app,
        &p.researcher.token,
        p.id,
        "cancel",
        json!({"reason": "Ill"}),
    )
    .await;
    assert_eq!(r.status(), 502);
    assert_eq!(stored_status(app, p.id), "accepted");
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture"]);
    assert_eq!(payment_of(app, p.id), ("captured".into(), 0));
    let tries = calls(&s.stripe, "POST", "/v1/refunds").await;
    assert_eq!(tries.len(), 3);
    assert!(tries.iter().all(|t| key_of(t) == key_of(&tries[0])));
    acted(
        app,
        &p.researcher.token,
        p.id,
        "cancel",
        json!({"reason": "Ill"}),
    )
    .await;
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture", "refund"]);
    assert_eq!(count(&s.stripe, "/v1/refunds").await, 4);
}

#[tokio::test]
async fn a_refund_that_times_out_is_retried_with_its_key_and_recorded_once() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    refund_call()
        .respond_with(Late(Refunded, LATE))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    acted(
        app,
        &p.researcher.token,
        p.id,
        "cancel",
        json!({"reason": "Ill"}),
    )
    .await;
    let tries = calls(&s.stripe, "POST", "/v1/refunds").await;
    assert_eq!(tries.len(), 2, "the timed-out refund is tried again");
    assert_eq!(key_of(&tries[0]), key_of(&tries[1]));
    assert_eq!(stored_status(app, p.id), "cancelled");
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture", "refund"]);
    assert_eq!(payment_of(app, p.id).1, 4000);
}
