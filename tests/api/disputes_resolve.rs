//! Admins resolve disputes; refunds go through the payments code (a Stripe
//! refund with its idempotency key, a ledger row, a credit note), each
//! resolution is audited and both participants are told.

use chrono::Duration;
use serde_json::{json, Value};

use crate::disputes_fixtures::*;
use crate::helpers::TestApp;
use crate::payments_fixtures::*;
use crate::sessions_fixtures::{act, acted, at, mails, recipients};
use crate::stripe_fakes::*;

/// The amounts sent to `POST /v1/refunds` with their idempotency keys.
async fn refunds(s: &StripeApp, id: i64) -> Vec<(i64, String)> {
    calls(&s.stripe, "POST", "/v1/refunds")
        .await
        .iter()
        .map(|r| {
            let f = form(r);
            assert_eq!(f["payment_intent"], intent_id(id));
            (f["amount"].parse().unwrap(), key_of(r))
        })
        .collect()
}

/// A paid session that took place (Thursday 10:00), a quality dispute the
/// reader opened about it, and an admin.
async fn disputed(app: &TestApp) -> (Paid, i64, String) {
    let p = paid(app, 24, true).await;
    app.clock.set(thursday_ten() + Duration::hours(2));
    let id = opened(app, &p.reader, p.id, "quality").await;
    let admin_token = app.admin_token("admin@uni.example").await;
    (p, id, admin_token)
}

#[tokio::test]
async fn a_full_refund_goes_through_stripe_the_ledger_and_a_credit_note() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let (p, id, admin_token) = disputed(app).await;
    let d = resolved(
        app,
        &admin_token,
        id,
        json!({"outcome": "refund_full", "note": "The session was cut short."}),
    )
    .await;
    assert_eq!(d["status"], "resolved");
    assert_eq!(d["outcome"], "refund_full");
    assert_eq!(d["refund_minor"], PRICE);
    assert_eq!(
        refunds(&s, p.id).await,
        [(PRICE, format!("colloquy-session-{}-refund-0", p.id))]
    );
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture", "refund"]);
    assert_eq!(payment_of(app, p.id), ("refunded".into(), PRICE));
    let note = invoice(
        app,
        &p.reader,
        invoice_id_of(app, &p.reader, p.id, "refund").await,
    )
    .await;
    assert_eq!(note["kind"], "credit_note");
    assert_eq!(note["total_minor"], -PRICE);
    assert_eq!(
        recipients(&mails(app, "dispute_resolved")),
        ["grace@yale.example", "reader@uni.example"]
    );
    let mail = &mails(app, "dispute_resolved")[0];
    assert!(
        mail.content.text.contains("EUR 40.00"),
        "{}",
        mail.content.text
    );
    assert!(mail.content.text.contains("The session was cut short."));
    let db = app.db();
    let (actor, detail): (i64, String) = db
        .query_row(
            "SELECT actor_user_id, detail FROM audit_log WHERE action = 'dispute.resolved'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(actor > 0);
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["outcome"], "refund_full");
    assert_eq!(detail["refund_minor"], PRICE);
    assert!(
        detail.get("note").is_none(),
        "the note's words stay encrypted"
    );
    // Nothing is left for a second refund.
    let again = opened(app, &p.reader, p.id, "billing").await;
    let r = as_admin(
        app,
        &admin_token,
        again,
        "resolve",
        json!({"outcome": "refund_full", "note": "x"}),
    )
    .await;
    refused(r, "nothing_to_refund").await;
    assert_eq!(stored(app, again), "awaiting_response");
}

#[tokio::test]
async fn a_partial_refund_needs_an_amount_within_what_is_left() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let (p, id, admin_token) = disputed(app).await;
    for (body, field) in [
        (
            json!({"outcome": "refund_partial", "note": "Half"}),
            "amount_minor",
        ),
        (
            json!({"outcome": "refund_partial", "amount_minor": 0, "note": "None"}),
            "amount_minor",
        ),
        (
            json!({"outcome": "refund_partial", "amount_minor": PRICE + 1, "note": "More"}),
            "amount_minor",
        ),
        (
            json!({"outcome": "no_refund", "amount_minor": 100, "note": "Odd"}),
            "amount_minor",
        ),
        (
            json!({"outcome": "refund_everything", "note": "What"}),
            "outcome",
        ),
        (
            json!({"outcome": "claim_upheld", "note": "Not a claim"}),
            "outcome",
        ),
        (
            json!({"outcome": "refund_partial", "amount_minor": 100, "note": "  "}),
            "note",
        ),
    ] {
        let r = as_admin(app, &admin_token, id, "resolve", body.clone()).await;
        assert_eq!(r.status(), 422, "{body}");
        let e: Value = r.json().await.unwrap();
        assert!(e["error"]["fields"].get(field).is_some(), "{body}: {e}");
    }
    assert_eq!(stored(app, id), "awaiting_response");
    assert_eq!(count(&s.stripe, "/v1/refunds").await, 0);
    let d = resolved(
        app,
        &admin_token,
        id,
        json!({"outcome": "refund_partial", "amount_minor": 1500, "note": "Half an hour lost."}),
    )
    .await;
    assert_eq!(d["refund_minor"], 1500);
    assert_eq!(
        refunds(&s, p.id).await,
        [(1500, format!("colloquy-session-{}-refund-0", p.id))]
    );
    assert_eq!(payment_of(app, p.id), ("partially_refunded".into(), 1500));
    // The next refund of the same payment has its own idempotency key.
    let again = opened(app, &p.researcher.token, p.id, "billing").await;
    resolved(
        app,
        &admin_token,
        again,
        json!({"outcome": "refund_full", "note": "The rest."}),
    )
    .await;
    assert_eq!(
        refunds(&s, p.id).await[1],
        (
            PRICE - 1500,
            format!("colloquy-session-{}-refund-1500", p.id)
        )
    );
}

#[tokio::test]
async fn a_free_session_has_nothing_to_refund() {
    let h = happened().await;
    let app = &h.app;
    let admin_token = app.admin_token("admin@uni.example").await;
    let id = opened(app, &h.reader, h.id, "quality").await;
    let r = as_admin(
        app,
        &admin_token,
        id,
        "resolve",
        json!({"outcome": "refund_full", "note": "x"}),
    )
    .await;
    refused(r, "nothing_to_refund").await;
    assert_eq!(stored(app, id), "awaiting_response");
    resolved(
        app,
        &admin_token,
        id,
        json!({"outcome": "no_refund", "note": "Free session."}),
    )
    .await;
}

#[tokio::test]
async fn the_billing_of_a_paid_session_that_never_happened_can_be_disputed() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let admin_token = app.admin_token("admin@uni.example").await;
    // Cancelled by the reader inside the window: no refund by policy.
    let p = paid(app, 0, true).await;
    app.clock.set(thursday_ten() - Duration::hours(1));
    acted(app, &p.reader, p.id, "cancel", json!({"reason": "Ill"})).await;
    refused(
        open(app, &p.reader, p.id, "quality", "Never met").await,
        "session_not_disputable",
    )
    .await;
    let id = opened(app, &p.reader, p.id, "billing").await;
    resolved(
        app,
        &admin_token,
        id,
        json!({"outcome": "refund_full", "note": "Illness: goodwill."}),
    )
    .await;
    assert_eq!(payment_of(app, p.id), ("refunded".into(), PRICE));

    // A request whose card is only held: a full refund lets the hold go.
    let held = paid_request(app, &p.reader, &p.researcher, at("2026-12-11T10:00:00Z")).await;
    let id = opened(app, &p.reader, held, "billing").await;
    let r = as_admin(
        app,
        &admin_token,
        id,
        "resolve",
        json!({"outcome": "refund_partial", "amount_minor": 100, "note": "x"}),
    )
    .await;
    refused(r, "hold_not_captured").await;
    let d = resolved(
        app,
        &admin_token,
        id,
        json!({"outcome": "refund_full", "note": "Released."}),
    )
    .await;
    assert_eq!(d["refund_minor"], PRICE);
    assert_eq!(payment_of(app, held).0, "canceled");
    assert_eq!(kinds_of(app, held), ["authorization", "release"]);
    assert_eq!(count(&s.stripe, "/cancel").await, 1);
    // A session that never happened is not a no-show.
    let r = act(app, &p.reader, held, "no-show", json!({})).await;
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn an_upheld_researcher_no_show_claim_refunds_the_reader_in_full() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    app.clock.set(thursday_ten() + Duration::minutes(15));
    let claim = acted(app, &p.reader, p.id, "no-show", json!({})).await;
    let id = claim["dispute_id"].as_i64().unwrap();
    app.clock.advance(Duration::hours(48));
    // Read before the job runs: the claim stands, the money moved.
    let d = dispute(app, &p.reader, id).await;
    assert_eq!(d["outcome"], "claim_upheld");
    assert_eq!(d["refund_minor"], PRICE);
    assert_eq!(
        refunds(&s, p.id).await,
        [(PRICE, format!("colloquy-session-{}-refund-0", p.id))]
    );
    assert_eq!(run_job(app).await.upheld, 0, "already applied");
    assert_eq!(payment_of(app, p.id), ("refunded".into(), PRICE));
}
