//! Money first: a subscription's Checkout Session is made at Stripe before
//! its row is written, under a key a retry repeats, so a failed call
//! stores nothing; a subscription event that comes before Checkout's
//! finds the row through Stripe's Checkout Session; the Billing Portal is
//! asked for with an idempotency key too.

use std::sync::Arc;
use std::time::Duration;

use reqwest::cookie::Jar;
use reqwest::redirect::Policy;
use serde_json::{json, Value};
use wiremock::matchers::query_param;
use wiremock::{Request, Respond, ResponseTemplate};

use colloquy::clock::Clock;

use crate::helpers::{error_code, TestApp, PASSWORD};
use crate::pages::csrf_of;
use crate::payments_fixtures::{get_ok, plan};
use crate::payments_subscriptions::checkout_of;
use crate::stripe_fakes::*;

/// `GET /subscriptions/me`.
async fn mine(app: &TestApp, token: &str) -> Value {
    get_ok(app, token, "/api/v1/subscriptions/me").await
}

async fn start(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/subscriptions",
        Some(token),
        &json!({"plan_id": "monthly"}),
    )
    .await
}

/// The subscription rows of the user signed in with `token`.
async fn rows_of(app: &TestApp, token: &str) -> i64 {
    let user = get_ok(app, token, "/api/v1/users/me").await["id"]
        .as_i64()
        .unwrap();
    app.db()
        .query_row(
            "SELECT count(*) FROM subscriptions WHERE user_id = ?1",
            [user],
            |r| r.get(0),
        )
        .unwrap()
}

fn keys(requests: &[wiremock::Request]) -> Vec<String> {
    requests.iter().map(key_of).collect()
}

#[tokio::test]
async fn a_failed_start_stores_nothing_and_its_retry_sends_the_same_key() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let reader = app.token("reader@uni.example").await;
    // Every attempt of the first start fails (the client retries twice).
    stripe_call("POST", "/v1/checkout/sessions")
        .respond_with(ResponseTemplate::new(500).set_body_json(
            json!({"error": {"type": "api_error", "message": "Something went wrong"}}),
        ))
        .with_priority(1)
        .up_to_n_times(3)
        .mount(&s.stripe)
        .await;
    let r = start(app, &reader).await;
    assert_eq!(r.status(), 502);
    assert_eq!(error_code(r).await, "payment_provider_failed");
    assert_eq!(rows_of(app, &reader).await, 0);
    assert_eq!(
        get_ok(app, &reader, "/api/v1/users/me").await["is_subscribed"],
        false
    );
    let r = app.get("/api/v1/subscriptions/me", Some(&reader)).await;
    assert_eq!(r.status(), 404);

    // The retry works, under the key of the failed attempts.
    let r = start(app, &reader).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let started: Value = r.json().await.unwrap();
    let local = started["subscription_id"].as_i64().unwrap();
    assert_eq!(rows_of(app, &reader).await, 1);
    assert_eq!(started["checkout_session_id"], checkout_of(app, local));
    assert_eq!(mine(app, &reader).await["status"], "incomplete");
    let sent = keys(&calls(&s.stripe, "POST", "/v1/checkout/sessions").await);
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert!(sent.iter().all(|k| *k == sent[0]), "{sent:?}");

    // That start wrote its row: the next one (its Checkout was left open)
    // is a new start under a new key.
    let r = start(app, &reader).await;
    assert_eq!(r.status(), 201);
    let newer: Value = r.json().await.unwrap();
    assert!(newer["subscription_id"].as_i64().unwrap() > local);
    assert_ne!(newer["checkout_session_id"], started["checkout_session_id"]);
    let sent = keys(&calls(&s.stripe, "POST", "/v1/checkout/sessions").await);
    assert_eq!(sent.len(), 5);
    assert_ne!(sent[4], sent[0]);
    assert!(
        sent[4].ends_with(&format!("-after-{local}-checkout")),
        "{sent:?}"
    );
    assert_well_formed(&s.stripe).await;
}

/// Checkout Sessions as the fake makes them (one per key), answered late
/// enough for two requests to be at Stripe at once.
struct SlowCheckout;

impl Respond for SlowCheckout {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let id = checkout_id(&key_of(req));
        let mut cs = checkout_object(&id, "subscription");
        cs["url"] = json!(format!("https://checkout.stripe.com/c/pay/{id}"));
        ResponseTemplate::new(200)
            .set_body_json(cs)
            .set_delay(Duration::from_millis(500))
    }
}

#[tokio::test]
async fn the_same_start_answered_twice_is_one_row() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let reader = app.token("reader@uni.example").await;
    stripe_call("POST", "/v1/checkout/sessions")
        .respond_with(SlowCheckout)
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    // A double submit: both read the state before either is answered, so
    // both send one key, and Stripe answers one Checkout Session.
    let (a, b) = tokio::join!(start(app, &reader), start(app, &reader));
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["subscription_id"], b["subscription_id"], "{a} {b}");
    assert_eq!(a["checkout_session_id"], b["checkout_session_id"]);
    assert_eq!(rows_of(app, &reader).await, 1);
}

#[tokio::test]
async fn an_invoice_before_checkouts_event_finds_its_row_through_the_checkout_session() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let reader = app.token("reader@uni.example").await;
    let r = start(app, &reader).await;
    assert_eq!(r.status(), 201);
    let local = r.json::<Value>().await.unwrap()["subscription_id"]
        .as_i64()
        .unwrap();
    let user = get_ok(app, &reader, "/api/v1/users/me").await["id"].clone();
    // What Stripe holds: the subscription names only its user, and the
    // Checkout Session it was bought through names it.
    let end = app.clock.now().timestamp() + 30 * 86_400;
    let mut sub = stripe_fixture("subscription.json");
    sub["status"] = json!("active");
    sub["items"]["data"][0]["current_period_start"] = json!(end - 30 * 86_400);
    sub["items"]["data"][0]["current_period_end"] = json!(end);
    sub["metadata"] = json!({"user_id": user.to_string()});
    stripe_call("GET", &format!("/v1/subscriptions/{SUB}"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sub))
        .mount(&s.stripe)
        .await;
    let mut bought = checkout_object(&checkout_of(app, local), "subscription");
    bought["subscription"] = json!(SUB);
    stripe_call("GET", "/v1/checkout/sessions")
        .and(query_param("subscription", SUB))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "data": [bought], "has_more": false, "url": "/v1/checkout/sessions"
        })))
        .mount(&s.stripe)
        .await;

    let mut paid = stripe_fixture("event_invoice_paid.json");
    paid["created"] = json!(app.clock.now().timestamp());
    assert_eq!(delivered(app, &paid).await, "processed");
    let me = mine(app, &reader).await;
    assert_eq!(
        (&me["id"], &me["status"], &me["stripe_subscription_id"]),
        (&json!(local), &json!("active"), &json!(SUB))
    );
    let charges = get_ok(app, &reader, "/api/v1/payments?kind=subscription_charge").await;
    assert_eq!(charges["items"][0]["subscription_id"], local);
    assert_eq!(
        get_ok(app, &reader, "/api/v1/users/me").await["is_subscribed"],
        true
    );
    // Linked now: the next event asks Stripe for the subscription only.
    let mut again = paid.clone();
    again["id"] = json!("evt_invoice_paid_again");
    assert_eq!(delivered(app, &again).await, "processed");
    assert_eq!(
        calls(&s.stripe, "GET", "/v1/checkout/sessions").await.len(),
        1
    );
    assert_well_formed(&s.stripe).await;
}

#[tokio::test]
async fn a_subscription_whose_checkout_colloquy_did_not_make_is_left_alone() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let reader = app.token("reader@uni.example").await;
    assert_eq!(start(app, &reader).await.status(), 201);
    let user = get_ok(app, &reader, "/api/v1/users/me").await["id"].clone();
    let mut sub = stripe_fixture("subscription.json");
    sub["metadata"] = json!({"user_id": user.to_string()});
    stripe_call("GET", &format!("/v1/subscriptions/{SUB}"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sub.clone()))
        .mount(&s.stripe)
        .await;
    stripe_call("GET", "/v1/checkout/sessions")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "data": [], "has_more": false, "url": "/v1/checkout/sessions"
        })))
        .mount(&s.stripe)
        .await;
    let e = event(
        "evt_sub_elsewhere",
        "customer.subscription.updated",
        app.clock.now().timestamp(),
        sub,
    );
    assert_eq!(delivered(app, &e).await, "processed");
    assert_eq!(mine(app, &reader).await["status"], "incomplete");
    assert_eq!(
        mine(app, &reader).await["stripe_subscription_id"],
        Value::Null
    );
}

#[tokio::test]
async fn the_billing_portal_is_asked_for_with_an_idempotency_key() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let mut portal = stripe_fixture("billing_portal_session.json");
    portal["url"] = json!("https://billing.stripe.com/p/session/test_portal");
    stripe_call("POST", "/v1/billing_portal/sessions")
        .respond_with(ResponseTemplate::new(200).set_body_json(portal))
        .mount(&s.stripe)
        .await;
    let reader = app.token("reader@uni.example").await;
    let user = get_ok(app, &reader, "/api/v1/users/me").await["id"]
        .as_i64()
        .unwrap();
    let web = reqwest::Client::builder()
        .cookie_provider(Arc::new(Jar::default()))
        .redirect(Policy::none())
        .build()
        .unwrap();
    let page = |path: &str| {
        let req = web.get(app.url(path));
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let csrf = csrf_of(&page("/login").await);
    let login = [
        ("csrf_token", csrf.as_str()),
        ("email", "reader@uni.example"),
        ("password", PASSWORD),
    ];
    let r = web
        .post(app.url("/login"))
        .form(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let csrf = csrf_of(&page("/account").await);
    let r = web
        .post(app.url("/account/card"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "https://billing.stripe.com/p/session/test_portal"
    );
    let asked = calls(&s.stripe, "POST", "/v1/billing_portal/sessions").await;
    assert_eq!(asked.len(), 1);
    let key = key_of(&asked[0]);
    assert!(
        key.starts_with(&format!("colloquy-portal-{user}-")),
        "{key}"
    );
    assert_eq!(form(&asked[0])["customer"], customer_id(user));
}
