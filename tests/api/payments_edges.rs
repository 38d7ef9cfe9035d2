//! Money edge cases (issue 18): an unpaid request holds its slot for the
//! payment window only and does not count toward the daily cap; a reader
//! has at most `max_unpaid_requests` unpaid; a held request's answer
//! deadline is capped by the hold's validity; a lapsed hold asks for a new
//! payment; a declined card can try again. Every scenario ends with the
//! ledger balanced.

use chrono::{DateTime, Duration, Utc};
use colloquy::clock::Clock;
use colloquy::services::sessions::jobs;
use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use crate::helpers::{error_code, TestApp};
use crate::payments_fixtures::*;
use crate::payments_ledger::assert_balanced;
use crate::sessions_fixtures::{
    act, acted, actions, at, book, bookable_researcher_with, booked, every_day, mails, recipients,
    session, slot_starts, stored_status,
};
use crate::stripe_fakes::*;

/// Thursday 10 December, the whole day.
async fn thursday_slots(app: &TestApp, researcher: i64) -> Vec<DateTime<Utc>> {
    let day = at("2026-12-10T00:00:00Z");
    slot_starts(app, researcher, day, day + Duration::days(1), 60).await
}

fn cancel_path(intent: &str) -> String {
    format!("/v1/payment_intents/{intent}/cancel")
}

/// The id the fake gives a session's intent made under `key`: the first
/// attempt's as always, later attempts' their own.
fn intent_for_key(session: i64, key: &str) -> String {
    match key.split("-attempt-").nth(1) {
        Some(rest) => format!(
            "pi_3Attempt{}x{session:08}",
            rest.split('-').next().unwrap()
        ),
        None => intent_id(session),
    }
}

/// Creates intents with an id per attempt (Stripe makes a new object for
/// each new idempotency key).
struct IntentPerAttempt;

impl Respond for IntentPerAttempt {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let f = form(req);
        let session: i64 = f["metadata[session_id]"].parse().unwrap();
        let mut pi = stripe_fixture("payment_intent_create.json");
        let id = intent_for_key(session, &key_of(req));
        pi["id"] = json!(id);
        pi["client_secret"] = json!(format!("{id}_secret_YrKJUKribcBjcG8HVhfZluoGH"));
        pi["status"] = json!("requires_payment_method");
        pi["amount"] = json!(f["amount"].parse::<i64>().unwrap());
        pi["currency"] = json!(f["currency"]);
        pi["customer"] = json!(f["customer"]);
        pi["capture_method"] = json!("manual");
        pi["metadata"] = json!({"session_id": session.to_string()});
        ResponseTemplate::new(200).set_body_json(pi)
    }
}

async fn mount_intent_per_attempt(s: &StripeApp) {
    stripe_call("POST", "/v1/payment_intents")
        .respond_with(IntentPerAttempt)
        .with_priority(1)
        .mount(&s.stripe)
        .await;
}

/// A PaymentIntent event of `kind` about `intent` (session `session`).
fn event_about(app: &TestApp, kind: &str, session: i64, intent: &str, status: &str) -> Value {
    let mut e = intent_event(app, kind, session, status);
    e["data"]["object"]["id"] = json!(intent);
    e["id"] = json!(format!("evt_{}_{intent}", kind.replace('.', "_")));
    e
}

/// A page as the signed-in `email` sees it in a browser.
async fn page_as(app: &TestApp, email: &str, path: &str) -> String {
    let (web, _) = crate::pages::logged_in_browser(app, email).await;
    let r = web.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

fn stored_intent(app: &TestApp, session: i64) -> Option<String> {
    app.db()
        .query_row(
            "SELECT intent_id FROM session_payments WHERE session_id = ?1",
            [session],
            |r| r.get(0),
        )
        .unwrap()
}

fn expires_at(v: &Value) -> DateTime<Utc> {
    at(v["expires_at"].as_str().unwrap())
}

#[tokio::test]
async fn an_unpaid_request_frees_its_slot_after_the_payment_window() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let researcher = priced_researcher(app, 24).await;
    let rid = researcher.researcher_id;
    let reader = app.token("reader@uni.example").await;
    let booked_at = app.clock.now();
    let id = booked(app, &reader, rid, thursday_ten()).await;
    let seen = session(app, &reader, id).await;
    assert_eq!(seen["waiting_for_payment"], true);
    assert_eq!(actions(&seen), ["pay", "cancel"]);
    assert_eq!(expires_at(&seen), booked_at + Duration::minutes(15));
    // The reader opens the payment form and never finishes.
    intent_ok(app, &reader, id).await;
    // A second unpaid request, on Friday, that never got as far.
    let friday = booked(app, &reader, rid, thursday_ten() + Duration::days(1)).await;
    assert!(!thursday_slots(app, rid).await.contains(&thursday_ten()));

    app.clock.advance(Duration::minutes(16));
    // Free again when read, before any job ran.
    assert!(thursday_slots(app, rid).await.contains(&thursday_ten()));
    assert_eq!(stored_status(app, id), "requested");
    let r = ask_intent(app, &reader, id).await;
    assert_eq!(r.status(), 409);
    // Another reader takes the time: the lapsed requests give way.
    let other = app.token("other@uni.example").await;
    booked(app, &other, rid, thursday_ten()).await;
    assert_eq!(stored_status(app, id), "expired");
    assert_eq!(stored_status(app, friday), "expired");
    let seen = session(app, &reader, id).await;
    assert_eq!(seen["status"], "expired");
    assert_eq!(seen["expiry_reason"], "payment_not_completed");
    assert_eq!(seen["waiting_for_payment"], false);
    let page = page_as(app, "reader@uni.example", &format!("/sessions/{id}")).await;
    assert!(page.contains("not paid, nothing charged"), "{page}");
    assert!(!page.contains("hold released"), "{page}");

    // The job cancels the abandoned intent at Stripe, once.
    assert_eq!(count(&s.stripe, "/cancel").await, 0);
    jobs::run(&app.state, app.clock.now()).await.unwrap();
    jobs::run(&app.state, app.clock.now()).await.unwrap();
    let cancels = calls(&s.stripe, "POST", &cancel_path(&intent_id(id))).await;
    assert_eq!(cancels.len(), 1);
    assert_eq!(key_of(&cancels[0]), format!("colloquy-session-{id}-cancel"));
    assert_eq!(count(&s.stripe, "/cancel").await, 1);
    for id in [id, friday] {
        assert_eq!(payment_of(app, id).0, "canceled");
        assert!(ledger_of(app, id).is_empty());
    }
    // One e-mail each saying why; the researcher never heard of them.
    let why = mails(app, "session_payment_not_completed");
    assert_eq!(
        recipients(&why),
        ["reader@uni.example", "reader@uni.example"]
    );
    assert!(
        why[0].content.text.contains("15 minutes"),
        "{}",
        why[0].content.text
    );
    assert!(mails(app, "session_expired").is_empty());
    assert!(mails(app, "session_request").is_empty());
    assert_balanced(app);
}

#[tokio::test]
async fn the_daily_cap_counts_only_requests_whose_card_is_held() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let mut settings = priced_settings(PRICE, 24);
    settings["max_per_day"] = json!(1);
    let researcher =
        bookable_researcher_with(app, "grace@yale.example", settings, every_day()).await;
    let rid = researcher.researcher_id;
    let first = app.token("first@uni.example").await;
    let second = app.token("second@uni.example").await;
    let third = app.token("third@uni.example").await;
    let ten = booked(app, &first, rid, thursday_ten()).await;
    // Unpaid, the first request does not fill the day.
    booked(app, &second, rid, thursday_ten() + Duration::hours(2)).await;
    assert!(!thursday_slots(app, rid).await.is_empty());
    // Held, it does.
    intent_ok(app, &first, ten).await;
    assert_eq!(delivered(app, &capturable(app, ten)).await, "processed");
    assert!(thursday_slots(app, rid).await.is_empty());
    let r = book(app, &third, rid, thursday_ten() + Duration::hours(4), 60).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "slot_unavailable");
    assert_balanced(app);
}

#[tokio::test]
async fn a_reader_may_have_only_so_many_unpaid_requests() {
    let s = spawn_stripe_app(|c| c.payments.max_unpaid_requests = 2).await;
    let app = &s.app;
    let researcher = priced_researcher(app, 24).await;
    let rid = researcher.researcher_id;
    let reader = app.token("reader@uni.example").await;
    let a = booked(app, &reader, rid, thursday_ten()).await;
    booked(app, &reader, rid, thursday_ten() + Duration::hours(1)).await;
    let r = book(app, &reader, rid, thursday_ten() + Duration::hours(2), 60).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_unpaid_requests", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 requests"),
        "{body}"
    );
    // Nothing was stored for the refused one.
    assert!(!thursday_slots(app, rid)
        .await
        .contains(&(thursday_ten() + Duration::hours(1))));
    assert!(thursday_slots(app, rid)
        .await
        .contains(&(thursday_ten() + Duration::hours(2))));
    // Paying for one makes room; so does a request lapsing.
    intent_ok(app, &reader, a).await;
    assert_eq!(delivered(app, &capturable(app, a)).await, "processed");
    booked(app, &reader, rid, thursday_ten() + Duration::hours(2)).await;
    let r = book(app, &reader, rid, thursday_ten() + Duration::hours(3), 60).await;
    assert_eq!(r.status(), 429);
    app.clock.advance(Duration::minutes(16));
    booked(app, &reader, rid, thursday_ten() + Duration::hours(3)).await;
    assert_balanced(app);
}

#[tokio::test]
async fn a_held_requests_answer_deadline_is_capped_by_the_holds_validity() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let mut settings = priced_settings(PRICE, 24);
    settings["request_ttl_hours"] = json!(336);
    let researcher =
        bookable_researcher_with(app, "grace@yale.example", settings, every_day()).await;
    let reader = app.token("reader@uni.example").await;
    let start = thursday_ten() + Duration::days(14);
    let id = booked(app, &reader, researcher.researcher_id, start).await;
    app.clock.advance(Duration::minutes(5));
    let held_at = app.clock.now();
    intent_ok(app, &reader, id).await;
    assert_eq!(delivered(app, &capturable(app, id)).await, "processed");
    // 336 hours to answer would outlive the card hold: 156 hours it is.
    let seen = session(app, &researcher.token, id).await;
    assert_eq!(expires_at(&seen), held_at + Duration::hours(156));
    assert!(actions(&seen).contains(&"accept".to_string()));

    app.clock.advance(Duration::hours(156));
    let r = act(app, &researcher.token, id, "accept", json!({})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(stored_status(app, id), "expired");
    assert_eq!(kinds_of(app, id), ["authorization", "release"]);
    assert_eq!(count(&s.stripe, "/capture").await, 0);
    assert_eq!(
        calls(&s.stripe, "POST", &cancel_path(&intent_id(id)))
            .await
            .len(),
        1
    );
    let seen = session(app, &reader, id).await;
    assert_eq!(seen["expiry_reason"], "not_answered");
    assert_eq!(mails(app, "session_expired").len(), 1);
    assert_balanced(app);
}

#[tokio::test]
async fn a_lapsed_hold_asks_the_reader_to_pay_again() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, false).await;
    let first = intent_id(p.id);
    // The card network dropped the hold: Stripe refuses the capture and
    // shows the intent cancelled.
    let refused = json!({"error": {
        "code": "payment_intent_unexpected_state",
        "message": "This PaymentIntent could not be captured because it has a status of canceled.",
        "type": "invalid_request_error"
    }});
    stripe_call("POST", &format!("/v1/payment_intents/{first}/capture"))
        .respond_with(ResponseTemplate::new(400).set_body_json(refused))
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    stripe_call("GET", &format!("/v1/payment_intents/{first}"))
        .respond_with(IntentNow("canceled"))
        .with_priority(1)
        .mount(&s.stripe)
        .await;
    app.clock.advance(Duration::hours(3));
    let r = act(app, &p.researcher.token, p.id, "accept", json!({})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "payment_lapsed");
    assert_eq!(stored_status(app, p.id), "requested");
    assert_eq!(payment_of(app, p.id).0, "pending");
    assert_eq!(kinds_of(app, p.id), ["authorization", "release"]);
    assert_balanced(app);
    // The researcher sees it waiting for payment, and cannot accept yet.
    let theirs = session(app, &p.researcher.token, p.id).await;
    assert_eq!(theirs["waiting_for_payment"], true);
    assert!(!actions(&theirs).contains(&"accept".to_string()));
    let page = page_as(app, "grace@yale.example", &format!("/sessions/{}", p.id)).await;
    assert!(page.contains("Waiting for payment"), "{page}");
    // The slot is held for the payment window, and the reader is asked.
    let mine = session(app, &p.reader, p.id).await;
    assert_eq!(expires_at(&mine), app.clock.now() + Duration::minutes(15));
    assert!(actions(&mine).contains(&"pay".to_string()));
    let asked = mails(app, "session_payment_reconfirm");
    assert_eq!(recipients(&asked), ["reader@uni.example"]);
    assert!(
        asked[0]
            .content
            .text
            .contains(&format!("/sessions/{}", p.id)),
        "{}",
        asked[0].content.text
    );

    // Paying again makes a new intent under the second attempt's keys.
    mount_intent_per_attempt(&s).await;
    let again = intent_ok(app, &p.reader, p.id).await;
    let second = intent_for_key(p.id, &format!("colloquy-session-{}-attempt-2-intent", p.id));
    assert_eq!(again["payment_intent_id"], second);
    assert_eq!(again["attempt"], 2);
    let made = calls(&s.stripe, "POST", "/v1/payment_intents").await;
    assert_eq!(
        key_of(made.last().unwrap()),
        format!("colloquy-session-{}-attempt-2-intent", p.id)
    );
    let held = event_about(
        app,
        "payment_intent.amount_capturable_updated",
        p.id,
        &second,
        "requires_capture",
    );
    assert_eq!(delivered(app, &held).await, "processed");
    let theirs = session(app, &p.researcher.token, p.id).await;
    assert_eq!(theirs["waiting_for_payment"], false);
    // A full answer time again, from the new hold.
    assert_eq!(expires_at(&theirs), app.clock.now() + Duration::hours(48));
    acted(app, &p.researcher.token, p.id, "accept", json!({})).await;
    let captured = calls(
        &s.stripe,
        "POST",
        &format!("/v1/payment_intents/{second}/capture"),
    )
    .await;
    assert_eq!(
        key_of(&captured[0]),
        format!("colloquy-session-{}-attempt-2-capture", p.id)
    );
    assert_eq!(
        kinds_of(app, p.id),
        ["authorization", "release", "authorization", "capture"]
    );
    assert_eq!(payment_of(app, p.id).0, "captured");
    assert_balanced(app);
}

#[tokio::test]
async fn a_declined_card_can_try_again_with_a_fresh_intent() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let researcher = priced_researcher(app, 24).await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(app, &reader, researcher.researcher_id, thursday_ten()).await;
    let first = intent_ok(app, &reader, id).await["payment_intent_id"]
        .as_str()
        .unwrap()
        .to_string();
    let declined = event_about(
        app,
        "payment_intent.payment_failed",
        id,
        &first,
        "requires_payment_method",
    );
    assert_eq!(delivered(app, &declined).await, "processed");
    assert_eq!(payment_of(app, id).0, "failed");
    assert_eq!(kinds_of(app, id), ["payment_failed"]);
    let seen = session(app, &reader, id).await;
    assert!(actions(&seen).contains(&"pay".to_string()));
    let page = page_as(app, "reader@uni.example", &format!("/sessions/{id}")).await;
    assert!(page.contains("Your card was declined"), "{page}");
    assert!(page.contains("Try again"), "{page}");

    mount_intent_per_attempt(&s).await;
    let again = intent_ok(app, &reader, id).await;
    let second = again["payment_intent_id"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    assert_eq!(again["attempt"], 2);
    // The old intent is cancelled; the new one is the only live one.
    let cancels = calls(&s.stripe, "POST", &cancel_path(&first)).await;
    assert_eq!(cancels.len(), 1);
    assert_eq!(key_of(&cancels[0]), format!("colloquy-session-{id}-cancel"));
    assert_eq!(stored_intent(app, id).as_deref(), Some(second.as_str()));
    assert_eq!(payment_of(app, id).0, "pending");
    // Asking again gives the same intent, not a third.
    assert_eq!(
        intent_ok(app, &reader, id).await["payment_intent_id"],
        second
    );
    assert_eq!(
        calls(&s.stripe, "POST", "/v1/payment_intents").await.len(),
        2
    );

    let held = event_about(
        app,
        "payment_intent.amount_capturable_updated",
        id,
        &second,
        "requires_capture",
    );
    assert_eq!(delivered(app, &held).await, "processed");
    assert_eq!(payment_of(app, id).0, "authorized");
    // The ledger shows both attempts.
    let ledger = get_ok(app, &reader, &format!("/api/v1/payments?session_id={id}")).await;
    let refs: Vec<(String, String)> = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["stripe_ref"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        refs,
        [
            ("payment_failed".to_string(), first),
            ("authorization".to_string(), second)
        ]
    );
    assert_eq!(mails(app, "session_request").len(), 1);
    assert_balanced(app);
}
