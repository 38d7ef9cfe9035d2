//! Who may use which payments endpoint: the ledger and invoices are the
//! buyer's own (an admin sees all with `all=true`), an intent only for the
//! reader's own session, and every endpoint but the plans and the webhook
//! needs a log-in.

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{error_code, TestApp};
use crate::payments_fixtures::*;
use crate::sessions_fixtures::{bookable_researcher, booked};
use crate::stripe_fakes::*;

async fn status_of(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// The session ids and kinds of a ledger page.
fn entries(page: &Value) -> Vec<(i64, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["session_id"].as_i64().unwrap(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn get_status(app: &TestApp, token: &str, at: &str) -> (u16, String) {
    status_of(app.get(at, Some(token)).await).await
}

#[tokio::test]
async fn the_ledger_is_each_buyers_own_and_all_of_it_is_for_admins() {
    let StripeApp {
        app,
        stripe: _stripe,
    } = spawn_stripe_app(|_| {}).await;
    let p = paid(&app, 24, true).await;
    let other = app.token("other@uni.example").await;
    let friday = thursday_ten() + Duration::days(1);
    let theirs = paid_request(&app, &other, &p.researcher, friday).await;
    let admin = app.admin_token("admin@colloquy.example").await;

    let mine = get_ok(&app, &p.reader, "/api/v1/payments").await;
    assert_eq!(
        entries(&mine),
        [(p.id, "capture".into()), (p.id, "authorization".into())]
    );
    assert_eq!(
        entries(&get_ok(&app, &other, "/api/v1/payments").await),
        [(theirs, "authorization".into())]
    );
    // The researcher paid nothing; their sessions' money is not theirs to list.
    assert!(entries(&get_ok(&app, &p.researcher.token, "/api/v1/payments").await).is_empty());
    // Filtering by someone else's session shows nothing of it.
    let at = format!("/api/v1/payments?session_id={theirs}");
    assert!(entries(&get_ok(&app, &p.reader, &at).await).is_empty());

    for token in [&p.reader, &p.researcher.token, &other] {
        assert_eq!(
            get_status(&app, token, "/api/v1/payments?all=true").await,
            (403, "forbidden".into())
        );
    }
    let all = get_ok(&app, &admin, "/api/v1/payments?all=true").await;
    assert_eq!(entries(&all).len(), 3);
    assert!(entries(&get_ok(&app, &admin, "/api/v1/payments").await).is_empty());
    // Paged newest first.
    let first = get_ok(&app, &admin, "/api/v1/payments?all=true&limit=2").await;
    assert_eq!(
        entries(&first),
        [(theirs, "authorization".into()), (p.id, "capture".into())]
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = get_ok(
        &app,
        &admin,
        &format!("/api/v1/payments?all=true&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(entries(&rest), [(p.id, "authorization".into())]);
    assert_eq!(rest["next_cursor"], Value::Null);

    let (code, err) = get_status(&app, &p.reader, "/api/v1/payments?kind=gift").await;
    assert_eq!((code, err.as_str()), (422, "validation_failed"));
    assert_eq!(
        get_status(&app, &p.reader, "/api/v1/payments?colour=red")
            .await
            .0,
        422
    );
}

#[tokio::test]
async fn an_invoice_is_shown_to_its_buyer_and_admins_only() {
    let StripeApp {
        app,
        stripe: _stripe,
    } = spawn_stripe_app(|_| {}).await;
    let p = paid(&app, 24, true).await;
    let id = invoice_id_of(&app, &p.reader, p.id, "capture").await;
    let other = app.token("other@uni.example").await;
    let admin = app.admin_token("admin@colloquy.example").await;
    let at = format!("/api/v1/invoices/{id}");
    for token in [&other, &p.researcher.token] {
        assert_eq!(
            get_status(&app, token, &at).await,
            (404, "not_found".into())
        );
    }
    assert_eq!(invoice(&app, &admin, id).await["number"], "INV-2026-000001");
    assert_eq!(
        invoice(&app, &p.reader, id).await["buyer"]["email"],
        "reader@uni.example"
    );
    let missing = format!("/api/v1/invoices/{}", id + 100);
    assert_eq!(get_status(&app, &admin, &missing).await.0, 404);
    assert_eq!(app.get(&at, None).await.status(), 401);
}

#[tokio::test]
async fn only_the_reader_may_ask_for_the_intent_of_a_session() {
    let StripeApp { app, stripe } = spawn_stripe_app(|_| {}).await;
    let researcher = priced_researcher(&app, 24).await;
    let reader = app.token("reader@uni.example").await;
    let stranger = app.token("stranger@uni.example").await;
    let admin = app.admin_token("admin@colloquy.example").await;
    let id = booked(&app, &reader, researcher.researcher_id, thursday_ten()).await;

    let ask = |token: String, session: i64| {
        let app = &app;
        async move { status_of(ask_intent(app, &token, session).await).await }
    };
    assert_eq!(ask(stranger.clone(), id).await, (404, "not_found".into()));
    assert_eq!(
        ask(stranger.clone(), id + 100).await,
        (404, "not_found".into())
    );
    // Unpaid, the session does not exist for its researcher.
    assert_eq!(
        ask(researcher.token.clone(), id).await,
        (404, "not_found".into())
    );
    assert_eq!(ask(admin.clone(), id).await, (403, "forbidden".into()));
    assert!(stripe.received_requests().await.unwrap().is_empty());

    intent_ok(&app, &reader, id).await;
    assert_eq!(delivered(&app, &capturable(&app, id)).await, "processed");
    assert_eq!(
        ask(researcher.token.clone(), id).await,
        (403, "forbidden".into())
    );
    assert_eq!(ask(reader.clone(), id).await, (409, "not_payable".into()));
    assert_eq!(calls(&stripe, "POST", "/v1/payment_intents").await.len(), 1);

    let r = app
        .post_json(
            "/api/v1/consulting/payments/intent",
            None,
            &json!({"session_id": id}),
        )
        .await;
    assert_eq!(r.status(), 401);
    let r = app
        .post_json(
            "/api/v1/consulting/payments/intent",
            Some(&reader),
            &json!({"session": id}),
        )
        .await;
    assert_eq!(r.status(), 422);

    // A free researcher's session has nothing to pay.
    let free = bookable_researcher(&app, "ada@free.example").await;
    let free_id = booked(&app, &reader, free.researcher_id, thursday_ten()).await;
    assert_eq!(
        ask(reader.clone(), free_id).await,
        (409, "nothing_to_pay".into())
    );
}

#[tokio::test]
async fn subscription_endpoints_need_a_log_in_and_a_subscription() {
    let StripeApp { app, stripe } = spawn_stripe_app(|c| c.plans = vec![plan(20, 0)]).await;
    let reader = app.token("reader@uni.example").await;
    assert_eq!(
        get_status(&app, &reader, "/api/v1/subscriptions/me")
            .await
            .0,
        404
    );
    let r = app
        .post_json("/api/v1/subscriptions/me/cancel", Some(&reader), &json!({}))
        .await;
    assert_eq!(status_of(r).await, (409, "not_subscribed".into()));
    let r = app
        .post_json(
            "/api/v1/subscriptions",
            Some(&reader),
            &json!({"plan_id": "yearly"}),
        )
        .await;
    assert_eq!(status_of(r).await.0, 422);
    assert!(stripe.received_requests().await.unwrap().is_empty());

    for (verb, at) in [
        ("GET", "/api/v1/payments"),
        ("GET", "/api/v1/subscriptions/me"),
        ("POST", "/api/v1/subscriptions"),
        ("POST", "/api/v1/subscriptions/me/cancel"),
    ] {
        let method = reqwest::Method::from_bytes(verb.as_bytes()).unwrap();
        let r = app
            .send_json(method, at, None, &json!({"plan_id": "monthly"}))
            .await;
        assert_eq!(r.status(), 401, "{verb} {at}");
        assert_eq!(error_code(r).await, "unauthorized");
    }
    let plans = app.get("/api/v1/plans", None).await;
    assert_eq!(plans.status(), 200);
}
