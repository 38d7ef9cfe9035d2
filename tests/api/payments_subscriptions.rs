//! Subscriptions: started through Stripe Checkout, made true by webhooks
//! (each reads the subscription from Stripe), renewed by `invoice.paid`,
//! `past_due` on a failed payment, never moved back by an older event,
//! expired by the lapse job after the grace days, cancelled at the period's
//! end; a plan's discount and included sessions apply to session prices.

use chrono::Duration;
use colloquy::clock::Clock;
use serde_json::{json, Value};
use wiremock::{MockServer, ResponseTemplate};

use crate::helpers::{error_code, TestApp};
use crate::payments_fixtures::*;
use crate::sessions_fixtures::{booked, get_session, mails};
use crate::stripe_fakes::*;

/// The contract's subscription as Stripe would answer it now.
fn sub_object(status: &str, period_end: i64, local: i64) -> Value {
    let mut s = stripe_fixture("subscription.json");
    s["status"] = json!(status);
    s["items"]["data"][0]["current_period_start"] = json!(period_end - 30 * 86_400);
    s["items"]["data"][0]["current_period_end"] = json!(period_end);
    s["metadata"] = json!({"colloquy_subscription_id": local.to_string()});
    s
}

/// `GET /v1/subscriptions/{SUB}` answers `object` once (one webhook).
async fn stripe_reports(stripe: &MockServer, object: Value) {
    stripe_call("GET", &format!("/v1/subscriptions/{SUB}"))
        .respond_with(ResponseTemplate::new(200).set_body_json(object))
        .up_to_n_times(1)
        .expect(1)
        .mount(stripe)
        .await;
}

/// Delivers `kind` about the subscription, made `at` (unix), while Stripe
/// reports it `status` with its period ending `end`.
async fn sub_event(s: &StripeApp, local: i64, kind: &str, at: i64, status: &str, end: i64) {
    stripe_reports(&s.stripe, sub_object(status, end, local)).await;
    let e = event(
        &format!("evt_{kind}_{at}"),
        kind,
        at,
        sub_object(status, end, local),
    );
    assert_eq!(delivered(&s.app, &e).await, "processed");
}

async fn subscribed_flag(app: &TestApp, token: &str) -> bool {
    get_ok(app, token, "/api/v1/users/me").await["is_subscribed"]
        .as_bool()
        .unwrap()
}

pub(crate) async fn mine(app: &TestApp, token: &str) -> Value {
    get_ok(app, token, "/api/v1/subscriptions/me").await
}

fn now(app: &TestApp) -> i64 {
    app.clock.now().timestamp()
}

/// The Checkout Session the subscription `local` was stored with.
pub(crate) fn checkout_of(app: &TestApp, local: i64) -> String {
    app.db()
        .query_row(
            "SELECT checkout_session_id FROM subscriptions WHERE id = ?1",
            [local],
            |r| r.get(0),
        )
        .unwrap()
}

/// `POST /subscriptions` for the monthly plan: the new subscription's id.
async fn start(app: &TestApp, reader: &str) -> i64 {
    let r = app
        .post_json(
            "/api/v1/subscriptions",
            Some(reader),
            &json!({"plan_id": "monthly"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let started: Value = r.json().await.unwrap();
    let local = started["subscription_id"].as_i64().unwrap();
    let checkout = checkout_of(app, local);
    assert_eq!(started["checkout_session_id"], checkout);
    assert_eq!(
        started["checkout_url"],
        format!("https://checkout.stripe.com/c/pay/{checkout}")
    );
    local
}

/// A reader who subscribed through Checkout: returns (token, local id, the
/// period's end).
pub(crate) async fn subscribe(s: &StripeApp) -> (String, i64, i64) {
    let app = &s.app;
    let reader = app.token("reader@uni.example").await;
    let local = start(app, &reader).await;
    assert_eq!(mine(app, &reader).await["status"], "incomplete");
    assert!(!subscribed_flag(app, &reader).await);

    let end = now(app) + 30 * 86_400;
    stripe_reports(&s.stripe, sub_object("active", end, local)).await;
    let mut session = checkout_object(&checkout_of(app, local), "subscription");
    session["subscription"] = json!(SUB);
    session["customer"] = json!(CUSTOMER);
    session["metadata"] = json!({"colloquy_subscription_id": local.to_string()});
    let e = event(
        "evt_checkout_done",
        "checkout.session.completed",
        now(app),
        session,
    );
    assert_eq!(delivered(app, &e).await, "processed");
    assert!(subscribed_flag(app, &reader).await);
    (reader, local, end)
}

#[tokio::test]
async fn checkout_then_webhooks_make_a_subscription_and_keep_it_true() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let plans: Value = app.get("/api/v1/plans", None).await.json().await.unwrap();
    assert_eq!(plans[0]["id"], "monthly");
    assert_eq!(plans[0]["discount_percent"], 20);
    assert!(plans[0].get("stripe_price_id").is_none());

    let (reader, local, end) = subscribe(&s).await;
    let checkout = calls(&s.stripe, "POST", "/v1/checkout/sessions").await;
    assert_eq!(checkout.len(), 1);
    let f = form(&checkout[0]);
    assert_eq!(f["mode"], "subscription");
    assert_eq!(f["line_items[0][price]"], "price_1PgafmB7WZ01zgkW6dKueIc5");
    assert_eq!(f["line_items[0][quantity]"], "1");
    assert_eq!(f["customer"], customer_of(app, &reader).await);
    let user = get_ok(app, &reader, "/api/v1/users/me").await["id"].clone();
    assert_eq!(f["subscription_data[metadata][user_id]"], user.to_string());
    assert_eq!(
        key_of(&checkout[0]),
        format!("colloquy-subscription-{user}-monthly-after-0-checkout")
    );
    assert_eq!(checkout_of(app, local), checkout_id(&key_of(&checkout[0])));
    // Keyed before its row was written, so no longer by the row's id.
    assert_ne!(checkout_of(app, local), subscription_checkout(local));
    let me = mine(app, &reader).await;
    assert_eq!(
        (&me["status"], &me["is_active"]),
        (&json!("active"), &json!(true))
    );
    assert_eq!(me["stripe_subscription_id"], SUB);
    assert_eq!(me["plan"]["id"], "monthly");
    // A second subscription is refused while this one runs.
    let r = app
        .post_json(
            "/api/v1/subscriptions",
            Some(&reader),
            &json!({"plan_id": "monthly"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "already_subscribed");

    let t = now(app);
    sub_event(
        &s,
        local,
        "customer.subscription.created",
        t + 1,
        "active",
        end,
    )
    .await;
    assert!(subscribed_flag(app, &reader).await);

    // Renewed: the charge is in the ledger with an invoice; the period moves.
    let renewed = end + 30 * 86_400;
    stripe_reports(&s.stripe, sub_object("active", renewed, local)).await;
    let mut paid = stripe_fixture("event_invoice_paid.json");
    paid["created"] = json!(t + 2);
    assert_eq!(delivered(app, &paid).await, "processed");
    let page = get_ok(app, &reader, "/api/v1/payments?kind=subscription_charge").await;
    let charge = &page["items"][0];
    assert_eq!(
        (&charge["amount_minor"], &charge["currency"]),
        (&json!(1000), &json!("USD"))
    );
    assert_eq!(charge["subscription_id"], local);
    assert_eq!(charge["stripe_ref"], "in_1Pgc6tB7WZ01zgkWu9fdqL6I");
    let inv = invoice(app, &reader, charge["invoice_id"].as_i64().unwrap()).await;
    assert_eq!(inv["lines"][0]["description"], "Subscription: Monthly");
    assert_eq!(inv["total_minor"], 1000);
    let period_end = mine(app, &reader).await["current_period_end"].clone();
    assert!(
        period_end.as_str().unwrap().starts_with(
            &chrono::DateTime::from_timestamp(renewed, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string()
        ),
        "{period_end}"
    );
    // Stripe's retry of the same invoice event changes nothing and asks
    // Stripe nothing (no answer is mounted for it).
    assert_eq!(delivered(app, &paid).await, "replayed");
    let reads = calls(&s.stripe, "GET", &format!("/v1/subscriptions/{SUB}")).await;
    assert_eq!(reads.len(), 3);

    // A failed renewal: past_due, no longer in force.
    stripe_reports(&s.stripe, sub_object("past_due", renewed, local)).await;
    let mut failed = paid.clone();
    failed["id"] = json!("evt_invoice_failed");
    failed["type"] = json!("invoice.payment_failed");
    failed["created"] = json!(t + 3);
    assert_eq!(delivered(app, &failed).await, "processed");
    assert_eq!(mine(app, &reader).await["status"], "past_due");
    assert!(!subscribed_flag(app, &reader).await);
    let charges = get_ok(app, &reader, "/api/v1/payments?kind=subscription_charge").await;
    assert_eq!(charges["items"].as_array().unwrap().len(), 1);
    assert_well_formed(&s.stripe).await;
}

/// Subscriptions started before the row was written after Stripe's
/// answer carry the local id in their metadata (newer ones: see
/// `payments_money_first.rs`).
#[tokio::test]
async fn the_subscription_event_alone_finds_its_subscription_by_metadata() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let reader = app.token("reader@uni.example").await;
    let local = start(app, &reader).await;
    // Stripe's subscription event comes before Checkout's.
    let end = now(app) + 30 * 86_400;
    sub_event(
        &s,
        local,
        "customer.subscription.created",
        now(app),
        "active",
        end,
    )
    .await;
    assert!(subscribed_flag(app, &reader).await);
    let me = mine(app, &reader).await;
    assert_eq!(
        (&me["id"], &me["stripe_subscription_id"]),
        (&json!(local), &json!(SUB))
    );
    // A subscription Colloquy does not know is acknowledged and left alone.
    let mut unknown = sub_object("active", end, 999);
    unknown["metadata"] = json!({});
    unknown["id"] = json!("sub_1UnknownB7WZ01zgkW");
    stripe_call("GET", "/v1/subscriptions/sub_1UnknownB7WZ01zgkW")
        .respond_with(ResponseTemplate::new(200).set_body_json(unknown.clone()))
        .expect(1)
        .mount(&s.stripe)
        .await;
    let e = event(
        "evt_unknown_sub",
        "customer.subscription.updated",
        now(app) + 1,
        unknown,
    );
    assert_eq!(delivered(app, &e).await, "processed");
    assert_eq!(mine(app, &reader).await["stripe_subscription_id"], SUB);
}

#[tokio::test]
async fn an_older_event_arriving_after_the_deletion_does_not_revive_it() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let (reader, local, end) = subscribe(&s).await;
    let t = now(app);
    stripe_reports(&s.stripe, sub_object("canceled", end, local)).await;
    let mut deleted = stripe_fixture("event_customer_subscription_deleted.json");
    deleted["created"] = json!(t + 10);
    assert_eq!(delivered(app, &deleted).await, "processed");
    assert_eq!(mine(app, &reader).await["status"], "canceled");
    assert!(!subscribed_flag(app, &reader).await);
    // Stripe delivers an update from before the deletion late.
    sub_event(
        &s,
        local,
        "customer.subscription.updated",
        t + 5,
        "active",
        end,
    )
    .await;
    assert_eq!(mine(app, &reader).await["status"], "canceled");
    assert!(!subscribed_flag(app, &reader).await);
}

#[tokio::test]
async fn a_period_ended_without_renewal_expires_after_the_grace_days() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let (reader, _, end) = subscribe(&s).await;
    let expire = |at: i64| {
        let t = chrono::DateTime::from_timestamp(at, 0).unwrap();
        colloquy::services::payments::subscriptions::expire_lapsed(&app.state, t)
    };
    let grace = 3 * 86_400;
    assert_eq!(expire(end + grace - 3600).await.unwrap(), 0);
    assert_eq!(mine(app, &reader).await["status"], "active");
    assert_eq!(expire(end + grace + 3600).await.unwrap(), 1);
    assert_eq!(mine(app, &reader).await["status"], "expired");
    assert_eq!(expire(end + grace + 7200).await.unwrap(), 0);
    assert!(!subscribed_flag(app, &reader).await);
}

#[tokio::test]
async fn cancelling_asks_stripe_to_end_it_with_the_period() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let (reader, local, _) = subscribe(&s).await;
    let r = app
        .post_json("/api/v1/subscriptions/me/cancel", Some(&reader), &json!({}))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["cancel_at_period_end"], true);
    assert_eq!(view["is_active"], true);
    let sent = calls(&s.stripe, "POST", &format!("/v1/subscriptions/{SUB}")).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(form(&sent[0])["cancel_at_period_end"], "true");
    assert_eq!(
        key_of(&sent[0]),
        format!("colloquy-subscription-{local}-cancel")
    );
    assert!(subscribed_flag(app, &reader).await);
    assert_well_formed(&s.stripe).await;
}

#[tokio::test]
async fn an_abandoned_new_checkout_does_not_end_the_running_subscription() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let (reader, local, _) = subscribe(&s).await;
    let r = app
        .post_json("/api/v1/subscriptions/me/cancel", Some(&reader), &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    // Set to end, so a new one may be started; its Checkout is left open.
    let newer = start(app, &reader).await;
    assert!(newer > local);
    assert!(subscribed_flag(app, &reader).await);
    let me = mine(app, &reader).await;
    assert_eq!((&me["id"], &me["is_active"]), (&json!(local), &json!(true)));
    let researcher = priced_researcher(app, 24).await;
    let id = booked(app, &reader, researcher.researcher_id, thursday_ten()).await;
    assert_eq!(intent_ok(app, &reader, id).await["amount"], 3200);
}

#[tokio::test]
async fn a_subscribers_discount_lowers_the_session_price() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let app = &s.app;
    let researcher = priced_researcher(app, 24).await;
    let (reader, _, _) = subscribe(&s).await;
    let id = booked(app, &reader, researcher.researcher_id, thursday_ten()).await;
    let pi = intent_ok(app, &reader, id).await;
    assert_eq!(pi["amount"], 3200);
    let created = calls(&s.stripe, "POST", "/v1/payment_intents").await;
    assert_eq!(form(&created[0])["amount"], "3200");
}

#[tokio::test]
async fn an_included_session_costs_nothing_and_the_next_one_is_discounted() {
    let s = spawn_stripe_app(|c| c.plans = vec![plan(20, 1)]).await;
    let app = &s.app;
    let researcher = priced_researcher(app, 24).await;
    let (reader, _, _) = subscribe(&s).await;
    let free = booked(app, &reader, researcher.researcher_id, thursday_ten()).await;
    assert_eq!(
        get_session(app, &researcher.token, free).await.status(),
        200
    );
    assert_eq!(mails(app, "session_request").len(), 1);
    let r = ask_intent(app, &reader, free).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "nothing_to_pay");
    assert_eq!(mine(app, &reader).await["sessions_used"], 1);
    let next = booked(
        app,
        &reader,
        researcher.researcher_id,
        thursday_ten() + Duration::days(1),
    )
    .await;
    assert_eq!(intent_ok(app, &reader, next).await["amount"], 3200);
}
