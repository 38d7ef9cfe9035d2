//! `[payments] mode = "off"` (the default): a researcher's price is only
//! shown; booking, accepting, declining, cancelling and expiring make no
//! Stripe call, and the payment endpoints say there is nothing to pay.

use chrono::Duration;
use colloquy::clock::Clock;
use colloquy::config::{PaymentsMode, Secret};
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{error_code, spawn_app_with};
use crate::payments_fixtures::{ask_intent, get_ok, listed, plan, priced_settings, thursday_ten};
use crate::sessions_fixtures::*;
use crate::stripe_fakes::{post_webhook, signature, PRICE, SECRET_KEY, WEBHOOK_SECRET};

#[tokio::test]
async fn with_payments_off_nothing_reaches_stripe() {
    let stripe = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .named("any Stripe call")
        .mount(&stripe)
        .await;
    let uri = stripe.uri();
    let app = spawn_app_with(|c| {
        assert_eq!(c.payments.mode, PaymentsMode::Off, "off is the default");
        // Keys and plans configured do not turn payments on.
        c.stripe.secret_key = Secret::new(SECRET_KEY);
        c.stripe.webhook_secret = Secret::new(WEBHOOK_SECRET);
        c.stripe.api_base_url = uri;
        c.plans = vec![plan(20, 0)];
        c.auth.access_token_ttl_secs = 400 * 86_400;
    })
    .await;
    app.clock.set(monday_morning());
    let researcher = bookable_researcher_with(
        &app,
        "grace@yale.example",
        priced_settings(PRICE, 24),
        every_day(),
    )
    .await;
    let reader = app.token("reader@uni.example").await;

    // Booked: the researcher sees it and is told at once.
    let id = booked(&app, &reader, researcher.researcher_id, thursday_ten()).await;
    assert!(listed(&app, &researcher.token).await.contains(&id));
    assert_eq!(
        session(&app, &researcher.token, id).await["price_minor"],
        PRICE
    );
    assert_eq!(mails(&app, "session_request").len(), 1);
    let r = ask_intent(&app, &reader, id).await;
    assert!([404, 409].contains(&r.status().as_u16()), "{}", r.status());

    // Accept, then cancel by the reader in time and by the researcher.
    acted(&app, &researcher.token, id, "accept", json!({})).await;
    acted(
        &app,
        &reader,
        id,
        "cancel",
        json!({"reason": "Changed plans"}),
    )
    .await;
    let friday = thursday_ten() + Duration::days(1);
    let other = accepted(&app, &reader, &researcher, friday).await;
    app.clock.set(friday - Duration::hours(2));
    acted(
        &app,
        &researcher.token,
        other,
        "cancel",
        json!({"reason": "Ill"}),
    )
    .await;
    // Decline, and a request left to expire.
    let later = thursday_ten() + Duration::days(3);
    let declined = booked(&app, &reader, researcher.researcher_id, later).await;
    acted(&app, &researcher.token, declined, "decline", json!({})).await;
    let expiring = booked(
        &app,
        &reader,
        researcher.researcher_id,
        later + Duration::days(1),
    )
    .await;
    app.clock.advance(Duration::hours(49));
    let report = colloquy::services::sessions::jobs::run(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(report.expired, 1);
    assert_eq!(stored_status(&app, expiring), "expired");
    let expired_sub =
        colloquy::services::payments::subscriptions::expire_lapsed(&app.state, app.clock.now())
            .await
            .unwrap();
    assert_eq!(expired_sub, 0);

    // Nothing about money was stored or is offered.
    let payments: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM session_payments", [], |r| r.get(0))
        .unwrap();
    assert_eq!(payments, 0);
    let page = get_ok(&app, &reader, "/api/v1/payments").await;
    assert_eq!(page["items"], json!([]));
    assert_eq!(get_ok(&app, &reader, "/api/v1/plans").await, json!([]));
    let r = app
        .post_json(
            "/api/v1/subscriptions",
            Some(&reader),
            &json!({"plan_id": "monthly"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "payments_off");
    let r = app.get("/api/v1/subscriptions/me", Some(&reader)).await;
    assert_eq!(r.status(), 404);
    let me: Value = get_ok(&app, &reader, "/api/v1/users/me").await;
    assert_eq!(me["is_subscribed"], false);

    // The webhook is not there, even correctly signed.
    let body = json!({"id": "evt_1", "type": "invoice.paid", "created": 1, "data": {"object": {}}})
        .to_string();
    let sig = signature(app.clock.now().timestamp(), &body);
    let r = post_webhook(&app, Some(&sig), &body).await;
    assert_eq!(r.status(), 404);

    stripe.verify().await;
}
