//! Stripe answering too late (issue 17, §4): the call times out on our
//! side although Stripe did the work. The action is retried with the same
//! idempotency key, so Stripe does it once, and the ledger records it once.

use std::time::Duration;

use serde_json::json;

use crate::payments_fixtures::*;
use crate::sessions_fixtures::{acted, stored_status};
use crate::stripe_fakes::*;

/// Longer than the client's `stripe.timeout_secs` (2 s in these tests).
const LATE: Duration = Duration::from_secs(3);

#[tokio::test]
async fn a_capture_that_times_out_is_retried_with_its_key_and_recorded_once() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, false).await;
    capture_call()
        .respond_with(Late(IntentNow("succeeded"), LATE))
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
    assert_eq!(tries.len(), 2, "the timed-out capture is tried again");
    assert_eq!(key_of(&tries[0]), key_of(&tries[1]));
    assert_eq!(stored_status(app, p.id), "accepted");
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture"]);
    assert_eq!(payment_of(app, p.id), ("captured".into(), 0));
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
