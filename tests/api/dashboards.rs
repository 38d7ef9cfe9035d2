//! `GET /api/v1/dashboard/user` and `/api/v1/dashboard/researcher`: each
//! person sees only their own figures, and cached figures follow every
//! write that changes them.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::reviews_fixtures::{completed, reviewed};
use crate::sessions_fixtures::{acted, at, bookable_researcher, booked, spawn_patient_app};

async fn dashboard(app: &TestApp, token: &str, who: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/dashboard/{who}"), Some(token))
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

async fn ledger(
    app: &TestApp,
    user: i64,
    kind: &str,
    amount: i64,
    currency: &str,
    when: &str,
    reference: &str,
) {
    let (kind, currency, when, reference) = (
        kind.to_string(),
        currency.to_string(),
        when.to_string(),
        reference.to_string(),
    );
    app.state
        .db
        .write(move |tx| {
            tx.execute(
                "INSERT INTO ledger (kind, user_id, amount_minor, tax_minor, fee_minor, currency, stripe_ref, created_at)
                 VALUES (?1, ?2, ?3, 0, 0, ?4, ?5, ?6)",
                rusqlite::params![kind, user, amount, currency, reference, when],
            )?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn user_id(app: &TestApp, token: &str) -> i64 {
    let me: Value = app
        .get("/api/v1/users/me", Some(token))
        .await
        .json()
        .await
        .unwrap();
    me["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_reader_sees_what_is_next_what_to_review_and_what_they_spent() {
    let app = spawn_patient_app().await;
    // Two completed sessions with Grace (Tue 8 Dec); now Sat 12 Dec 23:30.
    let c = completed(&app, 2).await;
    reviewed(&app, &c.reader, c.sessions[0], 5, None).await;
    let next = booked(
        &app,
        &c.reader,
        c.researcher.researcher_id,
        at("2026-12-15T10:00:00Z"),
    )
    .await;
    let later = booked(
        &app,
        &c.reader,
        c.researcher.researcher_id,
        at("2026-12-16T10:00:00Z"),
    )
    .await;
    acted(&app, &c.researcher.token, later, "accept", json!({})).await;
    // Another reader's request: never on this reader's dashboard.
    let other = app.token("other@uni.example").await;
    let theirs = booked(
        &app,
        &other,
        c.researcher.researcher_id,
        at("2026-12-17T10:00:00Z"),
    )
    .await;

    let uid = user_id(&app, &c.reader).await;
    // Spending: EUR 40 in November less a 10 refund in December; USD 25
    // in December. Shown per currency, the larger (EUR) first.
    ledger(
        &app,
        uid,
        "capture",
        4000,
        "EUR",
        "2026-11-20T10:00:00.000000Z",
        "pi_a",
    )
    .await;
    ledger(
        &app,
        uid,
        "refund",
        1000,
        "EUR",
        "2026-12-02T10:00:00.000000Z",
        "re_a",
    )
    .await;
    ledger(
        &app,
        uid,
        "capture",
        2500,
        "USD",
        "2026-12-03T10:00:00.000000Z",
        "pi_b",
    )
    .await;
    ledger(
        &app,
        user_id(&app, &other).await,
        "capture",
        9900,
        "EUR",
        "2026-12-03T10:00:00.000000Z",
        "pi_c",
    )
    .await;

    let d = dashboard(&app, &c.reader, "user").await;
    assert_eq!(ids(&d["upcoming_sessions"]), [later]);
    assert_eq!(ids(&d["awaiting_answer"]), [next]);
    assert!(!ids(&d["awaiting_answer"]).contains(&theirs));
    assert_eq!(d["past_sessions"], 2);
    assert_eq!(d["reviews_to_write"], json!([c.sessions[1]]));
    let s = &d["spending"];
    assert_eq!(
        (
            s["currency"].as_str(),
            s["paid_minor"].as_i64(),
            s["refunded_minor"].as_i64()
        ),
        (Some("EUR"), Some(4000), Some(1000))
    );
    let months = s["by_month"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(
        months[10],
        json!({"month": "2026-11", "paid_minor": 4000, "refunded_minor": 0})
    );
    assert_eq!(
        months[11],
        json!({"month": "2026-12", "paid_minor": 0, "refunded_minor": 1000})
    );
    assert_eq!(months[0]["month"], "2026-01");
    let currencies: Vec<&str> = d["spending_by_currency"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["currency"].as_str().unwrap())
        .collect();
    assert_eq!(currencies, ["EUR", "USD"]);
    assert_eq!(d["subscription"], Value::Null);
    assert_eq!(d["invitations"], json!({"sent": 0, "joined": 0}));

    // The other reader sees only their own.
    let o = dashboard(&app, &other, "user").await;
    assert_eq!(ids(&o["awaiting_answer"]), [theirs]);
    assert_eq!(o["spending"]["paid_minor"], 9900);
    assert_eq!(o["past_sessions"], 0);
}

#[tokio::test]
async fn a_researcher_sees_requests_rating_answers_and_what_the_profile_lacks() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 3).await;
    reviewed(&app, &c.reader, c.sessions[0], 5, None).await;
    reviewed(&app, &c.reader, c.sessions[1], 4, None).await;
    let other = app.token("other@uni.example").await;
    let pending = booked(
        &app,
        &other,
        c.researcher.researcher_id,
        at("2026-12-15T10:00:00Z"),
    )
    .await;
    let declined = booked(
        &app,
        &other,
        c.researcher.researcher_id,
        at("2026-12-16T10:00:00Z"),
    )
    .await;
    acted(&app, &c.researcher.token, declined, "decline", json!({})).await;

    let d = dashboard(&app, &c.researcher.token, "researcher").await;
    assert_eq!(d["researcher_id"], c.researcher.researcher_id);
    let p = &d["pending_requests"];
    assert_eq!(ids(p), [pending]);
    assert_eq!(p[0]["topic"], "Your 1952 compiler paper");
    assert!(!p[0]["reader_name"].as_str().unwrap().is_empty());
    assert!(p[0]["expires_at"].is_string());
    // Three accepted, one declined.
    assert_eq!(d["acceptance_rate"], json!(0.75));
    assert!(d["median_response_hours"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        d["rating"],
        json!({"average": 4.5, "count": 2, "distribution": [0, 0, 0, 1, 1]})
    );
    let missing: Vec<&str> = d["profile_completeness"]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(missing.contains(&"bio"), "{missing:?}");
    assert!(!missing.contains(&"availability"), "{missing:?}");
    let percent = d["profile_completeness"]["percent"].as_i64().unwrap();
    assert!((1..100).contains(&percent));
    assert_eq!(d["earnings"]["by_month"].as_array().unwrap().len(), 12);
    assert_eq!(d["rating"]["count"], 2);
    assert_eq!(d["demand"]["readers_waiting"], 0);

    // Readers without a profile have no researcher dashboard; the
    // researcher has a user dashboard like everyone.
    let r = app.get("/api/v1/dashboard/researcher", Some(&other)).await;
    assert_eq!(r.status(), 403);
    assert_eq!(crate::helpers::error_code(r).await, "no_researcher_profile");
    assert_eq!(app.get("/api/v1/dashboard/user", None).await.status(), 401);
    dashboard(&app, &c.researcher.token, "user").await;
}

#[tokio::test]
async fn cached_figures_follow_every_write_that_changes_them() {
    let app = spawn_patient_app().await;
    app.clock.set(crate::sessions_fixtures::monday_morning());
    let grace = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let admin = app.admin_token("admin@uni.example").await;
    let week = "/api/v1/admin/analytics?from=2026-12-07&to=2026-12-14&bucket=day";
    let requested = |a: &Value| a["sessions"]["series"]["requested"][0].as_i64().unwrap();

    let before_user = dashboard(&app, &reader, "user").await;
    let before_researcher = dashboard(&app, &grace.token, "researcher").await;
    let before_admin: Value = app.get(week, Some(&admin)).await.json().await.unwrap();
    assert_eq!(requested(&before_admin), 0);

    // Served from the cache while nothing changes: the same computation.
    let again: Value = app.get(week, Some(&admin)).await.json().await.unwrap();
    assert_eq!(again["generated_at"], before_admin["generated_at"]);
    // A write the service does not make (another process) is not seen
    // until the TTL: proof that the answer is cached, not recomputed.
    app.db()
        .execute(
            "UPDATE researchers SET name = 'Renamed Elsewhere' WHERE id = ?1",
            [grace.researcher_id],
        )
        .unwrap();
    let cached: Value = app.get(week, Some(&admin)).await.json().await.unwrap();
    assert_eq!(cached["generated_at"], before_admin["generated_at"]);

    // A booking through the service changes all three at once.
    let id = booked(
        &app,
        &reader,
        grace.researcher_id,
        at("2026-12-09T10:00:00Z"),
    )
    .await;
    let user = dashboard(&app, &reader, "user").await;
    assert_eq!(ids(&before_user["awaiting_answer"]), Vec::<i64>::new());
    assert_eq!(ids(&user["awaiting_answer"]), [id]);
    let researcher = dashboard(&app, &grace.token, "researcher").await;
    assert_eq!(
        ids(&before_researcher["pending_requests"]),
        Vec::<i64>::new()
    );
    assert_eq!(ids(&researcher["pending_requests"]), [id]);
    let after: Value = app.get(week, Some(&admin)).await.json().await.unwrap();
    assert_eq!(requested(&after), 1);

    // Accepting moves it from pending to upcoming.
    acted(&app, &grace.token, id, "accept", json!({})).await;
    let researcher = dashboard(&app, &grace.token, "researcher").await;
    assert!(ids(&researcher["pending_requests"]).is_empty());
    assert_eq!(ids(&researcher["upcoming_sessions"]), [id]);
    let user = dashboard(&app, &reader, "user").await;
    assert_eq!(ids(&user["upcoming_sessions"]), [id]);

    // Time alone ends "upcoming": a minute later the list is recomputed.
    app.clock.set(at("2026-12-09T11:30:00Z"));
    let user = dashboard(&app, &reader, "user").await;
    assert!(ids(&user["upcoming_sessions"]).is_empty());
}
