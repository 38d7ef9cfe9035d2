//! Held payments for a priced session with `mode = "stripe"`: hidden from
//! the researcher until the card is held, captured once on accept (with an
//! invoice), released on decline, on a cancel before accept and on expiry.

use chrono::Duration;
use colloquy::clock::Clock;
use serde_json::json;

use crate::helpers::error_code;
use crate::payments_fixtures::*;
use crate::sessions_fixtures::{act, acted, booked, get_session, mails, recipients, stored_status};
use crate::stripe_fakes::*;

#[tokio::test]
async fn a_priced_request_reaches_the_researcher_once_paid_and_accept_captures_it_once() {
    let StripeApp { app, stripe } = spawn_stripe_app(|_| {}).await;
    let researcher = priced_researcher(&app, 24).await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(&app, &reader, researcher.researcher_id, thursday_ten()).await;

    // Booked but not paid: the researcher cannot see it and is not told.
    assert_eq!(get_session(&app, &researcher.token, id).await.status(), 404);
    assert!(!listed(&app, &researcher.token).await.contains(&id));
    assert!(mails(&app, "session_request").is_empty());
    assert_eq!(payment_of(&app, id), ("pending".into(), 0));

    let pi = intent_ok(&app, &reader, id).await;
    assert_eq!(pi["payment_intent_id"], intent_id(id));
    assert!(pi["client_secret"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}_secret_", intent_id(id))));
    assert_eq!(
        (pi["amount"].as_i64(), pi["tax"].as_i64()),
        (Some(PRICE), Some(0))
    );
    assert_eq!(pi["currency"], "EUR");
    let created = calls(&stripe, "POST", "/v1/payment_intents").await;
    assert_eq!(created.len(), 1);
    let f = form(&created[0]);
    assert_eq!(f["capture_method"], "manual");
    assert_eq!(f["metadata[session_id]"], id.to_string());
    assert_eq!(f["amount"], "4000");
    assert_eq!(f["currency"], "eur");
    assert_eq!(f["customer"], customer_of(&app, &reader).await);
    let customers = calls(&stripe, "POST", "/v1/customers").await;
    let c = form(&customers[0]);
    assert_eq!(c["email"], "reader@uni.example");
    assert_eq!(c["name"], "Test Reader");
    let user = get_ok(&app, &reader, "/api/v1/users/me").await["id"].clone();
    assert_eq!(c["metadata[user_id]"], user.to_string());
    assert_eq!(key_of(&customers[0]), format!("colloquy-customer-{user}"));
    assert_eq!(key_of(&created[0]), format!("colloquy-session-{id}-intent"));
    assert_eq!(f["automatic_payment_methods[enabled]"], "true");
    // An intent is not a payment: still hidden.
    assert_eq!(get_session(&app, &researcher.token, id).await.status(), 404);

    assert_eq!(delivered(&app, &capturable(&app, id)).await, "processed");
    assert_eq!(get_session(&app, &researcher.token, id).await.status(), 200);
    assert!(listed(&app, &researcher.token).await.contains(&id));
    assert_eq!(
        recipients(&mails(&app, "session_request")),
        ["grace@yale.example"]
    );
    assert_eq!(payment_of(&app, id).0, "authorized");
    assert_eq!(ledger_of(&app, id), [("authorization".into(), PRICE, 0)]);

    acted(&app, &researcher.token, id, "accept", json!({})).await;
    let captures = calls(
        &stripe,
        "POST",
        &format!("/v1/payment_intents/{}/capture", intent_id(id)),
    )
    .await;
    assert_eq!(captures.len(), 1);
    assert_eq!(
        key_of(&captures[0]),
        format!("colloquy-session-{id}-capture")
    );
    assert_eq!(kinds_of(&app, id), ["authorization", "capture"]);
    assert_eq!(payment_of(&app, id).0, "captured");

    let inv = invoice(
        &app,
        &reader,
        invoice_id_of(&app, &reader, id, "capture").await,
    )
    .await;
    assert_eq!(inv["number"], "INV-2026-000001");
    assert_eq!(inv["kind"], "invoice");
    assert_eq!(inv["currency"], "EUR");
    assert_eq!(
        (&inv["net_minor"], &inv["tax_minor"], &inv["total_minor"]),
        (&json!(4000), &json!(0), &json!(4000))
    );
    assert_eq!(inv["lines"].as_array().unwrap().len(), 1);
    let line = &inv["lines"][0];
    assert!(line["description"]
        .as_str()
        .unwrap()
        .contains("Consulting session with Grace Hopper on 10 December 2026 (60 minutes)"));
    assert_eq!(line["total_minor"], 4000);
    assert_eq!(inv["tax_lines"], json!([]));
    assert_eq!(inv["seller"]["name"], "Colloquy");
    assert_eq!(inv["buyer"]["email"], "reader@uni.example");
    assert_eq!(inv["buyer"]["name"], "Test Reader");

    // Stripe then reports the capture: recorded already, nothing doubles.
    let succeeded = intent_event(&app, "payment_intent.succeeded", id, "succeeded");
    assert_eq!(delivered(&app, &succeeded).await, "processed");
    assert_eq!(kinds_of(&app, id), ["authorization", "capture"]);
    let invoices: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM invoices", [], |r| r.get(0))
        .unwrap();
    assert_eq!(invoices, 1);
    assert_eq!(count(&stripe, "/capture").await, 1);
    assert_well_formed(&stripe).await;
}

#[tokio::test]
async fn asking_again_for_the_intent_retrieves_the_one_made() {
    let StripeApp { app, stripe } = spawn_stripe_app(|_| {}).await;
    let researcher = priced_researcher(&app, 24).await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(&app, &reader, researcher.researcher_id, thursday_ten()).await;
    let first = intent_ok(&app, &reader, id).await;
    let second = intent_ok(&app, &reader, id).await;
    assert_eq!(first["payment_intent_id"], second["payment_intent_id"]);
    assert_eq!(calls(&stripe, "POST", "/v1/payment_intents").await.len(), 1);
    assert_eq!(calls(&stripe, "POST", "/v1/customers").await.len(), 1);
    let path = format!("/v1/payment_intents/{}", intent_id(id));
    assert_eq!(calls(&stripe, "GET", &path).await.len(), 1);
}

#[tokio::test]
async fn a_failed_card_keeps_the_request_hidden_until_a_later_hold() {
    let StripeApp {
        app,
        stripe: _stripe,
    } = spawn_stripe_app(|_| {}).await;
    let researcher = priced_researcher(&app, 24).await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(&app, &reader, researcher.researcher_id, thursday_ten()).await;
    intent_ok(&app, &reader, id).await;
    let failed = intent_event(
        &app,
        "payment_intent.payment_failed",
        id,
        "requires_payment_method",
    );
    assert_eq!(delivered(&app, &failed).await, "processed");
    assert_eq!(payment_of(&app, id).0, "failed");
    assert_eq!(get_session(&app, &researcher.token, id).await.status(), 404);
    // A status other than requires_capture holds nothing.
    let early = intent_event(
        &app,
        "payment_intent.amount_capturable_updated",
        id,
        "processing",
    );
    let mut early = early;
    early["id"] = json!("evt_early");
    assert_eq!(delivered(&app, &early).await, "processed");
    assert_eq!(payment_of(&app, id).0, "failed");
    assert_eq!(delivered(&app, &capturable(&app, id)).await, "processed");
    assert_eq!(payment_of(&app, id).0, "authorized");
    assert_eq!(get_session(&app, &researcher.token, id).await.status(), 200);
}

#[tokio::test]
async fn declining_releases_the_hold() {
    let StripeApp { app, stripe } = spawn_stripe_app(|_| {}).await;
    let p = paid(&app, 24, false).await;
    acted(
        &app,
        &p.researcher.token,
        p.id,
        "decline",
        json!({"reason": "Travelling"}),
    )
    .await;
    let cancels = calls(
        &stripe,
        "POST",
        &format!("/v1/payment_intents/{}/cancel", intent_id(p.id)),
    )
    .await;
    assert_eq!(cancels.len(), 1);
    assert_eq!(
        key_of(&cancels[0]),
        format!("colloquy-session-{}-cancel", p.id)
    );
    assert_eq!(ledger_of(&app, p.id)[1], ("release".into(), PRICE, 0));
    assert_eq!(kinds_of(&app, p.id), ["authorization", "release"]);
    assert_eq!(payment_of(&app, p.id).0, "canceled");
    assert_eq!(stored_status(&app, p.id), "declined");
    assert_eq!(
        count(&stripe, "/capture").await + count(&stripe, "/v1/refunds").await,
        0
    );
}

#[tokio::test]
async fn the_reader_cancelling_before_accept_releases_the_hold() {
    let StripeApp { app, stripe } = spawn_stripe_app(|_| {}).await;
    let p = paid(&app, 24, false).await;
    acted(
        &app,
        &p.reader,
        p.id,
        "cancel",
        json!({"reason": "Found the answer"}),
    )
    .await;
    assert_eq!(count(&stripe, "/cancel").await, 1);
    assert_eq!(kinds_of(&app, p.id), ["authorization", "release"]);
    assert_eq!(payment_of(&app, p.id).0, "canceled");
    assert_eq!(count(&stripe, "/v1/refunds").await, 0);
}

#[tokio::test]
async fn a_request_never_paid_for_is_cancelled_without_stripe() {
    let StripeApp { app, stripe } = spawn_stripe_app(|_| {}).await;
    let researcher = priced_researcher(&app, 24).await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(&app, &reader, researcher.researcher_id, thursday_ten()).await;
    acted(
        &app,
        &reader,
        id,
        "cancel",
        json!({"reason": "Changed my mind"}),
    )
    .await;
    assert!(stripe.received_requests().await.unwrap().is_empty());
    assert_eq!(payment_of(&app, id).0, "canceled");
    assert!(ledger_of(&app, id).is_empty());
    assert_eq!(get_session(&app, &researcher.token, id).await.status(), 404);
}

#[tokio::test]
async fn an_unanswered_paid_request_expires_and_its_hold_is_released() {
    let StripeApp { app, stripe } = spawn_stripe_app(|_| {}).await;
    let p = paid(&app, 24, false).await;
    // A second request with an intent but no hold, and a third not paid at all.
    let wednesday = thursday_ten() - Duration::days(1);
    let unheld = booked(&app, &p.reader, p.researcher.researcher_id, wednesday).await;
    intent_ok(&app, &p.reader, unheld).await;
    let friday = thursday_ten() + Duration::days(1);
    let unpaid = booked(&app, &p.reader, p.researcher.researcher_id, friday).await;

    // The two unpaid ones hold their slots for the payment window only;
    // the abandoned intent is cancelled at Stripe.
    app.clock.advance(Duration::hours(47));
    let run = || colloquy::services::sessions::jobs::run(&app.state, app.clock.now());
    assert_eq!(run().await.unwrap().expired, 2);
    assert_eq!(count(&stripe, "/cancel").await, 1);
    assert_eq!(stored_status(&app, p.id), "requested");

    app.clock.advance(Duration::hours(2));
    assert_eq!(run().await.unwrap().expired, 1);
    for id in [p.id, unheld, unpaid] {
        assert_eq!(stored_status(&app, id), "expired");
        assert_eq!(payment_of(&app, id).0, "canceled");
    }
    assert_eq!(kinds_of(&app, p.id), ["authorization", "release"]);
    assert!(ledger_of(&app, unheld).is_empty() && ledger_of(&app, unpaid).is_empty());
    let cancelled = |id| format!("/v1/payment_intents/{}/cancel", intent_id(id));
    assert_eq!(calls(&stripe, "POST", &cancelled(p.id)).await.len(), 1);
    assert_eq!(calls(&stripe, "POST", &cancelled(unheld)).await.len(), 1);
    assert_eq!(count(&stripe, "/cancel").await, 2);
    // Too late to accept now.
    let r = act(&app, &p.researcher.token, p.id, "accept", json!({})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "illegal_transition");
    assert_eq!(count(&stripe, "/capture").await, 0);
}
