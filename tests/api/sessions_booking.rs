//! Booking under contention and with `Idempotency-Key`: a slot is taken
//! once, and a retried request answers the session it already booked.

use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, TestApp};
use crate::sessions_fixtures::*;

fn booking_body(researcher: i64, start: &str, topic: &str) -> Value {
    json!({
        "researcher_id": researcher,
        "start": start,
        "duration_minutes": 60,
        "topic": topic
    })
}

/// `POST /api/v1/consulting/sessions` with an `Idempotency-Key`.
async fn book_with_key(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/consulting/sessions"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn session_rows(app: &TestApp) -> i64 {
    app.db()
        .query_row("SELECT COUNT(*) FROM consulting_sessions", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_readers_racing_for_one_slot_leave_exactly_one_booking() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let mut tokens = Vec::new();
    for i in 0..50 {
        tokens.push(app.token(&format!("reader{i}@uni.example")).await);
    }
    let start = day_at_ten(&app, 4);
    let body = booking_body(r.researcher_id, &start.to_rfc3339(), "The same slot");
    let mut racers = tokio::task::JoinSet::new();
    for token in tokens {
        let (client, url, body) = (
            app.client.clone(),
            app.url("/api/v1/consulting/sessions"),
            body.clone(),
        );
        racers.spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            (status, body)
        });
    }
    let mut created = 0;
    let mut conflicts = 0;
    while let Some(joined) = racers.join_next().await {
        let (status, body) = joined.unwrap();
        match status {
            201 => created += 1,
            409 => {
                assert_eq!(body["error"]["code"], "slot_unavailable", "{body}");
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((created, conflicts), (1, 49));
    assert_eq!(live_sessions(&app, r.researcher_id), 1);
    assert_eq!(session_rows(&app), 1);
    assert_eq!(mails(&app, "session_request").len(), 1);
}

#[tokio::test]
async fn repeating_a_booking_with_the_same_key_answers_the_same_session() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = day_at_ten(&app, 3).to_rfc3339();
    let body = booking_body(r.researcher_id, &start, "Retried over a flaky network");

    let first = book_with_key(&app, &reader, "key-1", &body).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers()["location"].to_str().unwrap().to_string();
    let first: Value = first.json().await.unwrap();

    let second = book_with_key(&app, &reader, "key-1", &body).await;
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(second.headers()["location"], location.as_str());
    let second: Value = second.json().await.unwrap();
    assert_eq!(first["id"], second["id"]);
    assert_eq!(first["start"], second["start"]);
    assert_eq!(session_rows(&app), 1);
    assert_eq!(
        mails(&app, "session_request").len(),
        1,
        "no second request mail"
    );

    // The same key for a different request is refused and books nothing.
    let other = booking_body(
        r.researcher_id,
        &day_at_ten(&app, 4).to_rfc3339(),
        "Retried over a flaky network",
    );
    let resp = book_with_key(&app, &reader, "key-1", &other).await;
    assert_eq!(resp.status(), 422);
    let err: Value = resp.json().await.unwrap();
    assert!(
        err["error"]["fields"]["Idempotency-Key"].is_string(),
        "{err}"
    );
    let mut changed_topic = body.clone();
    changed_topic["topic"] = json!("Something else entirely");
    let resp = book_with_key(&app, &reader, "key-1", &changed_topic).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(session_rows(&app), 1);

    // Without a key, the same request is a second booking of a taken slot.
    let resp = book(&app, &reader, r.researcher_id, day_at_ten(&app, 3), 60).await;
    assert_eq!(resp.status(), 409);
}

#[tokio::test]
async fn idempotency_keys_belong_to_the_user_who_sent_them() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let alice = app.token("alice@uni.example").await;
    let bob = app.token("bob@uni.example").await;
    let slot = day_at_ten(&app, 3).to_rfc3339();
    let body = booking_body(r.researcher_id, &slot, "Shared key");

    let resp = book_with_key(&app, &alice, "same-key", &body).await;
    assert_eq!(resp.status(), 201);
    let alices: Value = resp.json().await.unwrap();
    // Bob's identical request with the same key is his own: the slot is taken.
    let resp = book_with_key(&app, &bob, "same-key", &body).await;
    assert_eq!(resp.status(), 409);
    assert!(resp.headers().get("idempotent-replayed").is_none());
    assert_eq!(error_code(resp).await, "slot_unavailable");
    // And with another slot he books his own session under that key.
    let his = booking_body(r.researcher_id, &day_at_ten(&app, 5).to_rfc3339(), "Mine");
    let resp = book_with_key(&app, &bob, "same-key", &his).await;
    assert_eq!(resp.status(), 201);
    assert!(resp.headers().get("idempotent-replayed").is_none());
    let bobs: Value = resp.json().await.unwrap();
    assert_ne!(alices["id"], bobs["id"]);
    assert_ne!(alices["reader_id"], bobs["reader_id"]);
    assert_eq!(session_rows(&app), 2);
    // Both replay their own session.
    let resp = book_with_key(&app, &alice, "same-key", &body).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["id"], alices["id"]);
    let resp = book_with_key(&app, &bob, "same-key", &his).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["id"], bobs["id"]);
}

#[tokio::test]
async fn a_malformed_idempotency_key_is_refused() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let body = booking_body(r.researcher_id, &day_at_ten(&app, 3).to_rfc3339(), "x");
    for key in ["has space".to_string(), "k".repeat(256)] {
        let resp = book_with_key(&app, &reader, &key, &body).await;
        assert_eq!(resp.status(), 422, "{key}");
    }
    assert_eq!(session_rows(&app), 0);
}

#[tokio::test]
async fn only_a_registered_researcher_with_published_hours_can_be_booked_and_not_by_themselves() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.example").await;
    let start = day_at_ten(&app, 3);
    let now = colloquy::clock::Clock::now(&app.clock);
    let unclaimed = app
        .state
        .db
        .write(move |tx| {
            colloquy::db::repos::researchers::insert(tx, "Alan Turing", None, None, now)
        })
        .await
        .unwrap();
    let resp = book(&app, &reader, unclaimed.0, start, 60).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "not_bookable");

    let silent = registered_researcher(&app, "silent@uni.example").await;
    let resp = book(&app, &reader, silent.researcher_id, start, 30).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "not_bookable");

    let r = bookable_researcher(&app, "grace@yale.example").await;
    let resp = book(&app, &r.token, r.researcher_id, start, 60).await;
    assert_eq!(resp.status(), 422);
    let err: Value = resp.json().await.unwrap();
    assert!(err["error"]["fields"]["researcher_id"].is_string(), "{err}");
    let resp = book(&app, &reader, 9999, start, 60).await;
    assert_eq!(resp.status(), 422);
    // Off the half-hour grid, or not on a whole minute.
    let resp = book(
        &app,
        &reader,
        r.researcher_id,
        start + chrono::Duration::minutes(15),
        60,
    )
    .await;
    assert_eq!(resp.status(), 409);
    let resp = book(
        &app,
        &reader,
        r.researcher_id,
        start + chrono::Duration::seconds(30),
        60,
    )
    .await;
    assert_eq!(resp.status(), 422);
    assert_eq!(session_rows(&app), 0);
}

/// The overlap check reads only the starts that can overlap (no session
/// is longer than 480 minutes): a full-day session that began seven and a
/// half hours earlier still blocks the last half hour of its day, and the
/// next morning is free.
#[tokio::test]
async fn the_longest_session_still_blocks_its_last_slot() {
    let app = spawn_app().await;
    let mut settings = open_settings();
    settings["durations"] = json!([30, 480]);
    let r = bookable_researcher_with(&app, "grace@yale.example", settings, every_day()).await;
    let reader = app.token("alice@uni.example").await;
    let nine = day_at_ten(&app, 3) - chrono::Duration::hours(1);
    let resp = book(&app, &reader, r.researcher_id, nine, 480).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());

    let other = app.token("bob@uni.example").await;
    let last = nine + chrono::Duration::minutes(450);
    let resp = book(&app, &other, r.researcher_id, last, 30).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "slot_unavailable");

    let next_morning = nine + chrono::Duration::days(1);
    let resp = book(&app, &other, r.researcher_id, next_morning, 30).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
}
