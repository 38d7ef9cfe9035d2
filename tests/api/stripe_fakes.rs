//! A wiremock Stripe built from the vendored contract fixtures
//! (`tests/fixtures/stripe/`), an app with `[payments] mode = "stripe"`
//! pointed at it, signed webhooks, and priced sessions paid for. Every
//! mock demands the bearer secret key, and every write an
//! `Idempotency-Key`: a request without them gets wiremock's 404, which the
//! app reports as a failed payment. Shared by the `payments_*.rs` tests.

use std::collections::BTreeMap;

use colloquy::clock::Clock;
use colloquy::config::{Config, PaymentsMode, Secret};
use serde_json::{json, Value};
use wiremock::matchers::{header, header_exists, method, path, path_regex};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate};

use crate::collection_fakes::fixture;
use crate::helpers::{spawn_app_with, TestApp};
use crate::sessions_fixtures::monday_morning;

pub const SECRET_KEY: &str = "sk_test_51ColloquyFakeKey";
pub const BEARER: &str = "Bearer sk_test_51ColloquyFakeKey";
pub const WEBHOOK_SECRET: &str = "whsec_colloquy_test_secret";
/// The customer of the contract's subscription and events.
pub const CUSTOMER: &str = "cus_QXg1o8vcGmoR32";
/// The contract's subscription (`subscription.json`).
pub const SUB: &str = "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw";
/// The researcher's price in these tests: EUR 40.00.
pub const PRICE: i64 = 4000;

pub fn stripe_fixture(name: &str) -> Value {
    fixture(&format!("stripe/{name}"))
}

/// The id the fake gives the PaymentIntent of session `session`.
pub fn intent_id(session: i64) -> String {
    format!("pi_3MtwBwLkdIwHu7ix{session:010}")
}

/// Keep `stripe` bound for the whole test (`stripe: _stripe`, not `..`):
/// a dropped fake goes back to wiremock's pool and serves another test.
/// Failures are mounted with `with_priority(1)` and `up_to_n_times`, not
/// as scoped mocks: wiremock 0.6.5 sorts its mocks by priority when it
/// matches, so a scoped guard's drop deactivates whichever mock now sits
/// at its old index.
pub struct StripeApp {
    pub app: TestApp,
    pub stripe: MockServer,
}

/// An app in `mode = "stripe"` against a fresh fake (with every happy
/// mock mounted), its clock at Monday 7 December 2026 08:00 UTC and log-ins
/// that outlast the days the tests move it by; then `tweak`.
pub async fn spawn_stripe_app(tweak: impl FnOnce(&mut Config)) -> StripeApp {
    let stripe = MockServer::start().await;
    let uri = stripe.uri();
    let app = spawn_app_with(|c| {
        c.payments.mode = PaymentsMode::Stripe;
        c.stripe.secret_key = Secret::new(SECRET_KEY);
        c.stripe.webhook_secret = Secret::new(WEBHOOK_SECRET);
        c.stripe.api_base_url = uri;
        c.stripe.timeout_secs = 2;
        c.stripe.max_retries = 2;
        c.auth.access_token_ttl_secs = 400 * 86_400;
        c.auth.refresh_token_ttl_secs = 400 * 86_400;
        tweak(c);
    })
    .await;
    app.clock.set(monday_morning());
    mount_happy_stripe(&stripe).await;
    StripeApp { app, stripe }
}

/// `verb path` with the bearer key (and, for writes, an idempotency key).
pub fn stripe_call(verb: &str, at: &str) -> MockBuilder {
    let m = Mock::given(method(verb))
        .and(path(at))
        .and(header("Authorization", BEARER));
    if verb == "POST" {
        m.and(header_exists("Idempotency-Key"))
    } else {
        m
    }
}

pub fn intent_call(verb: &str, tail: &str) -> MockBuilder {
    let m = Mock::given(method(verb))
        .and(path_regex(format!(
            "^/v1/payment_intents/pi_[A-Za-z0-9]+{tail}$"
        )))
        .and(header("Authorization", BEARER));
    if verb == "POST" {
        m.and(header_exists("Idempotency-Key"))
    } else {
        m
    }
}

/// `POST /v1/payment_intents/{id}/capture`, to answer differently.
pub fn capture_call() -> MockBuilder {
    intent_call("POST", "/capture")
}

/// `POST /v1/refunds`, to answer differently.
pub fn refund_call() -> MockBuilder {
    stripe_call("POST", "/v1/refunds")
}

/// A Stripe error fixture answered with `status`.
pub fn stripe_error(status: u16, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(stripe_fixture(name))
}

/// The fake's form body as pairs.
pub fn form(req: &Request) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

/// The intent id in `/v1/payment_intents/{id}[/…]`.
fn intent_in_path(req: &Request) -> String {
    req.url
        .path()
        .split('/')
        .nth(3)
        .unwrap_or_default()
        .to_string()
}

fn intent_answer(id: &str, status: &str, amount: i64) -> Value {
    let mut pi = stripe_fixture("payment_intent_create.json");
    pi["id"] = json!(id);
    pi["client_secret"] = json!(format!("{id}_secret_YrKJUKribcBjcG8HVhfZluoGH"));
    pi["status"] = json!(status);
    pi["amount"] = json!(amount);
    pi["capture_method"] = json!("manual");
    pi
}

/// Creates: echoes amount, currency, customer and metadata like Stripe.
struct CreatedIntent;

impl Respond for CreatedIntent {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let f = form(req);
        let session: i64 = f["metadata[session_id]"].parse().unwrap();
        let mut pi = intent_answer(
            &intent_id(session),
            "requires_payment_method",
            f["amount"].parse().unwrap(),
        );
        pi["currency"] = json!(f["currency"]);
        pi["customer"] = json!(f["customer"]);
        pi["metadata"] = json!({"session_id": session.to_string()});
        ResponseTemplate::new(200).set_body_json(pi)
    }
}

/// Answers the intent in the path with `status`.
pub struct IntentNow(pub &'static str);

impl Respond for IntentNow {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let pi = intent_answer(&intent_in_path(req), self.0, PRICE);
        ResponseTemplate::new(200).set_body_json(pi)
    }
}

/// Refunds: `refund.json` for the amount and intent asked, with an id
/// derived from the idempotency key (so each refund is its own object).
pub struct Refunded;

impl Respond for Refunded {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let f = form(req);
        let mut r = stripe_fixture("refund.json");
        r["id"] = json!(format!("re_{}", key_of(req).replace('-', "")));
        r["amount"] = json!(f["amount"].parse::<i64>().unwrap());
        r["payment_intent"] = json!(f["payment_intent"]);
        ResponseTemplate::new(200).set_body_json(r)
    }
}

/// Customers: one id per user, as Stripe makes a new customer each time.
struct NewCustomer;

impl Respond for NewCustomer {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let f = form(req);
        let user: i64 = f["metadata[user_id]"].parse().unwrap();
        let mut c = stripe_fixture("customer.json");
        c["id"] = json!(customer_id(user));
        c["email"] = json!(f["email"]);
        c["name"] = json!(f["name"]);
        c["metadata"] = json!({"user_id": user.to_string()});
        ResponseTemplate::new(200).set_body_json(c)
    }
}

/// The customer the fake makes for user `user`.
pub fn customer_id(user: i64) -> String {
    format!("cus_QXg1o8vcGm{user:06}")
}

/// Checkout Sessions: one id per idempotency key.
struct NewCheckout;

impl Respond for NewCheckout {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let id = checkout_id(&key_of(req));
        let mut cs = checkout_object(&id, &form(req)["mode"]);
        cs["url"] = json!(format!("https://checkout.stripe.com/c/pay/{id}"));
        ResponseTemplate::new(200).set_body_json(cs)
    }
}

/// A Checkout Session in `mode` (`payment` or `subscription`), as Stripe
/// shows it: `checkout_session.json` with this id, nothing paid yet.
pub fn checkout_object(id: &str, mode: &str) -> Value {
    let mut cs = stripe_fixture("checkout_session.json");
    cs["id"] = json!(id);
    cs["mode"] = json!(mode);
    cs["payment_intent"] = Value::Null;
    cs["subscription"] = Value::Null;
    cs
}

/// A succeeded refund `refund.json` with this id and amount.
pub fn refund_object(id: &str, amount: i64) -> Value {
    let mut r = stripe_fixture("refund.json");
    r["id"] = json!(id);
    r["amount"] = json!(amount);
    r["status"] = json!("succeeded");
    r
}

/// The Checkout Session the fake makes for the idempotency key `key`.
pub fn checkout_id(key: &str) -> String {
    format!("cs_test_{}", key.replace('-', "_"))
}

/// The Checkout Session of Colloquy's subscription `local`.
pub fn subscription_checkout(local: i64) -> String {
    checkout_id(&format!("colloquy-subscription-{local}-checkout"))
}

/// Every call succeeding, as Stripe in test mode answers it.
pub async fn mount_happy_stripe(stripe: &MockServer) {
    stripe_call("POST", "/v1/customers")
        .respond_with(NewCustomer)
        .mount(stripe)
        .await;
    stripe_call("POST", "/v1/payment_intents")
        .respond_with(CreatedIntent)
        .mount(stripe)
        .await;
    intent_call("GET", "")
        .respond_with(IntentNow("requires_payment_method"))
        .mount(stripe)
        .await;
    capture_call()
        .respond_with(IntentNow("succeeded"))
        .mount(stripe)
        .await;
    intent_call("POST", "/cancel")
        .respond_with(IntentNow("canceled"))
        .mount(stripe)
        .await;
    refund_call().respond_with(Refunded).mount(stripe).await;
    stripe_call("POST", "/v1/checkout/sessions")
        .respond_with(NewCheckout)
        .mount(stripe)
        .await;
    let mut cancelled = stripe_fixture("subscription.json");
    cancelled["cancel_at_period_end"] = json!(true);
    stripe_call("POST", &format!("/v1/subscriptions/{SUB}"))
        .respond_with(ResponseTemplate::new(200).set_body_json(cancelled))
        .mount(stripe)
        .await;
}

/// Stripe's answer, sent only after `1`: longer than the client waits,
/// the call times out though Stripe did the work.
pub struct Late<R>(pub R, pub std::time::Duration);

impl<R: Respond> Respond for Late<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request).set_delay(self.1)
    }
}

/// The requests the fake received for `verb path`, oldest first.
pub async fn calls(stripe: &MockServer, verb: &str, at: &str) -> Vec<Request> {
    stripe
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == at)
        .collect()
}

/// How many requests went to a path ending in `tail`.
pub async fn count(stripe: &MockServer, tail: &str) -> usize {
    let all = stripe.received_requests().await.unwrap();
    all.iter().filter(|r| r.url.path().ends_with(tail)).count()
}

/// Every request the fake received carried the secret key as bearer and
/// went to a call Colloquy makes; every write was a form with an
/// `Idempotency-Key`.
pub async fn assert_well_formed(stripe: &MockServer) {
    let known = regex::Regex::new(
        "^/v1/(customers|payment_intents(/pi_[A-Za-z0-9]+(/capture|/cancel)?)?|refunds|checkout/sessions|subscriptions/sub_[A-Za-z0-9]+)$",
    )
    .unwrap();
    let all = stripe.received_requests().await.unwrap();
    assert!(!all.is_empty());
    for r in all {
        let what = format!("{} {}", r.method, r.url.path());
        assert!(known.is_match(r.url.path()), "{what}");
        assert_eq!(r.headers.get("Authorization").unwrap(), BEARER, "{what}");
        match r.method.as_str() {
            "POST" => {
                assert!(key_of(&r).starts_with("colloquy-"), "{what}");
                let kind = r.headers.get("Content-Type").unwrap().to_str().unwrap();
                assert_eq!(kind, "application/x-www-form-urlencoded", "{what}");
            }
            "GET" => assert!(r.headers.get("Idempotency-Key").is_none(), "{what}"),
            other => panic!("unexpected {other}"),
        }
    }
}

pub fn key_of(req: &Request) -> String {
    req.headers
        .get("Idempotency-Key")
        .expect("an Idempotency-Key")
        .to_str()
        .unwrap()
        .to_string()
}

/// `Stripe-Signature` for `body` signed at `t` with the endpoint secret.
pub fn signature(t: i64, body: &str) -> String {
    stripe_webhook::Webhook::generate_test_header(body, WEBHOOK_SECRET, Some(t))
}

/// Posts a raw webhook body with the given signature header.
pub async fn post_webhook(app: &TestApp, sig: Option<&str>, body: &str) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/api/v1/webhooks/stripe"))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(s) = sig {
        req = req.header("Stripe-Signature", s);
    }
    req.send().await.unwrap()
}

/// Posts `event` signed now; returns the answer.
pub async fn deliver(app: &TestApp, event: &Value) -> reqwest::Response {
    let body = event.to_string();
    let sig = signature(app.clock.now().timestamp(), &body);
    post_webhook(app, Some(&sig), &body).await
}

/// Posts `event` signed now; asserts 200 and returns the outcome.
pub async fn delivered(app: &TestApp, event: &Value) -> String {
    let r = deliver(app, event).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["received"], true);
    body["outcome"].as_str().unwrap().to_string()
}

/// An event envelope (from the contract's event) around `object`.
pub fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    let mut e = stripe_fixture("event_payment_intent_succeeded.json");
    e["id"] = json!(id);
    e["type"] = json!(kind);
    e["created"] = json!(created);
    e["data"]["object"] = object;
    e
}

/// A PaymentIntent event about session `session`'s intent, in `status`.
pub fn intent_event(app: &TestApp, kind: &str, session: i64, status: &str) -> Value {
    let mut e = stripe_fixture("event_payment_intent_succeeded.json");
    let pi = &mut e["data"]["object"];
    pi["id"] = json!(intent_id(session));
    pi["status"] = json!(status);
    pi["capture_method"] = json!("manual");
    pi["amount"] = json!(PRICE);
    pi["amount_capturable"] = json!(if status == "requires_capture" {
        PRICE
    } else {
        0
    });
    pi["metadata"] = json!({"session_id": session.to_string()});
    e["id"] = json!(format!("evt_{}_{session}", kind.replace('.', "_")));
    e["type"] = json!(kind);
    e["created"] = json!(app.clock.now().timestamp());
    e
}

/// `payment_intent.amount_capturable_updated`: the card is held.
pub fn capturable(app: &TestApp, session: i64) -> Value {
    intent_event(
        app,
        "payment_intent.amount_capturable_updated",
        session,
        "requires_capture",
    )
}
