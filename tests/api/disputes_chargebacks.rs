//! Stripe chargebacks (`charge.dispute.created`, `.updated`, `.closed`,
//! signed like every webhook, with the contract's dispute object) become a
//! `billing` dispute of their session in the admins' queue, follow
//! Stripe's status, and are resolved when Stripe closes them.

use chrono::Duration;
use colloquy::clock::Clock;
use serde_json::{json, Value};

use crate::disputes_fixtures::*;
use crate::helpers::TestApp;
use crate::payments_fixtures::{kinds_of, paid, thursday_ten};
use crate::stripe_fakes::*;

/// A `charge.dispute.*` event about session `session`'s payment.
fn chargeback(app: &TestApp, kind: &str, session: i64, status: &str, n: u32) -> Value {
    let mut d = stripe_fixture("dispute.json");
    d["id"] = json!("dp_1Pgc71B7WZ01zgkWMevJiAUx");
    d["payment_intent"] = json!(intent_id(session));
    d["amount"] = json!(PRICE);
    d["currency"] = json!("eur");
    d["reason"] = json!("product_not_received");
    d["status"] = json!(status);
    event(
        &format!("evt_dispute_{n}_{session}"),
        kind,
        app.clock.now().timestamp(),
        d,
    )
}

/// A dispute as stored: (id, kind, opened_by, status, stripe_status, outcome).
type Row = (i64, String, String, String, Option<String>, Option<String>);

/// The session's disputes as stored.
fn rows(app: &TestApp, session: i64) -> Vec<Row> {
    let db = app.db();
    let mut stmt = db
        .prepare("SELECT id, kind, opened_by, status, stripe_status, outcome FROM disputes WHERE session_id = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([session], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[tokio::test]
async fn a_chargeback_is_a_billing_dispute_that_follows_stripe_to_its_close() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    let admin = app.admin_token("admin@uni.example").await;
    app.clock.set(thursday_ten() + Duration::days(3));

    let created = chargeback(app, "charge.dispute.created", p.id, "needs_response", 1);
    assert_eq!(delivered(app, &created).await, "processed");
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture", "dispute"]);
    let stored_rows = rows(app, p.id);
    assert_eq!(stored_rows.len(), 1);
    let (id, kind, by, status, stripe_status, outcome) = stored_rows[0].clone();
    assert_eq!(
        (
            kind.as_str(),
            by.as_str(),
            status.as_str(),
            stripe_status.as_deref(),
            outcome
        ),
        (
            "billing",
            "stripe",
            "under_review",
            Some("needs_response"),
            None
        )
    );
    // Admins see it in the queue; the participants see it too.
    let queue: Value = app
        .get("/api/v1/admin/disputes?status=active", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["items"][0]["id"], id);
    assert_eq!(queue["items"][0]["opened_by"], "stripe");
    let d = dispute(app, &p.reader, id).await;
    assert!(
        d["description"]
            .as_str()
            .unwrap()
            .contains("product not received"),
        "{d}"
    );
    assert_eq!(
        d["actions"],
        json!(["message"]),
        "no one withdraws the bank's chargeback"
    );
    // A replay changes nothing.
    assert_eq!(delivered(app, &created).await, "replayed");
    assert_eq!(rows(app, p.id).len(), 1);
    // A refund cannot settle a chargeback: the bank moves that money.
    let r = admin_resolve(app, &admin, id, "refund_full").await;
    refused(r, "chargeback_refund").await;

    let updated = chargeback(app, "charge.dispute.updated", p.id, "under_review", 2);
    assert_eq!(delivered(app, &updated).await, "processed");
    assert_eq!(rows(app, p.id)[0].4.as_deref(), Some("under_review"));

    let closed = chargeback(app, "charge.dispute.closed", p.id, "lost", 3);
    assert_eq!(delivered(app, &closed).await, "processed");
    let d = dispute(app, &admin, id).await;
    assert_eq!(d["status"], "resolved");
    assert_eq!(d["outcome"], "refund_full");
    assert_eq!(d["refund_minor"], PRICE);
    assert_eq!(d["stripe_status"], "lost");
    assert!(d["note"].as_str().unwrap().contains("lost"));
    // The money moved at the bank: no refund of Colloquy's own follows.
    assert_eq!(count(&s.stripe, "/v1/refunds").await, 0);
    assert_eq!(kinds_of(app, p.id), ["authorization", "capture", "dispute"]);
    let audit = app.audit_actions();
    for a in [
        "payment.dispute_opened",
        "dispute.chargeback_opened",
        "dispute.resolved",
    ] {
        assert!(audit.contains(&a.to_string()), "{a}: {audit:?}");
    }
}

async fn admin_resolve(
    app: &TestApp,
    admin_token: &str,
    id: i64,
    outcome: &str,
) -> reqwest::Response {
    as_admin(
        app,
        admin_token,
        id,
        "resolve",
        json!({"outcome": outcome, "note": "Decided"}),
    )
    .await
}

#[tokio::test]
async fn a_won_chargeback_resolves_without_a_refund_even_when_seen_only_at_its_close() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    app.clock.set(thursday_ten() + Duration::days(30));
    // The created and updated events were lost; the close alone is enough.
    let closed = chargeback(app, "charge.dispute.closed", p.id, "won", 1);
    assert_eq!(delivered(app, &closed).await, "processed");
    let stored_rows = rows(app, p.id);
    assert_eq!(stored_rows.len(), 1);
    assert_eq!(stored_rows[0].3, "resolved");
    assert_eq!(stored_rows[0].4.as_deref(), Some("won"));
    assert_eq!(stored_rows[0].5.as_deref(), Some("no_refund"));
}

#[tokio::test]
async fn a_chargeback_joins_the_open_dispute_of_its_session() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    app.clock.set(thursday_ten() + Duration::hours(2));
    let id = opened(app, &p.reader, p.id, "billing").await;
    let created = chargeback(app, "charge.dispute.created", p.id, "needs_response", 1);
    assert_eq!(delivered(app, &created).await, "processed");
    let stored_rows = rows(app, p.id);
    assert_eq!(stored_rows.len(), 1, "one queue item");
    assert_eq!(stored_rows[0].0, id);
    assert_eq!(stored_rows[0].2, "reader");
    assert_eq!(stored_rows[0].4.as_deref(), Some("needs_response"));
    let d = dispute(app, &p.researcher.token, id).await;
    assert_eq!(d["messages"][0]["author_role"], "system");
    assert!(d["messages"][0]["text"]
        .as_str()
        .unwrap()
        .contains("Chargeback"));
    let closed = chargeback(app, "charge.dispute.closed", p.id, "won", 2);
    assert_eq!(delivered(app, &closed).await, "processed");
    assert_eq!(stored(app, id), "resolved");
}

#[tokio::test]
async fn a_chargeback_of_an_unknown_payment_stays_in_the_ledger_and_audit_only() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = paid(app, 24, true).await;
    let mut e = chargeback(app, "charge.dispute.created", p.id, "needs_response", 1);
    e["data"]["object"]["payment_intent"] = json!("pi_3MtwBwLkdIwHu7ixUnknown");
    assert_eq!(delivered(app, &e).await, "processed");
    let n: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM disputes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
    assert!(app
        .audit_actions()
        .contains(&"payment.dispute_opened".to_string()));
}
