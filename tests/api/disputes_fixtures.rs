//! Shared set-up for the dispute tests: a session that took place, and one
//! helper per dispute endpoint.

use chrono::Duration;
use colloquy::clock::Clock;
use serde_json::{json, Value};

use crate::helpers::{error_code, TestApp};
use crate::sessions_fixtures::{
    accepted, at, bookable_researcher, monday_morning, spawn_patient_app, Bookable,
};

/// A free session (Tuesday 8 December 2026, 10:00–11:00 UTC) that took
/// place; the clock is at 11:30 that day.
pub struct Happened {
    pub app: TestApp,
    pub researcher: Bookable,
    pub reader: String,
    pub id: i64,
}

pub async fn happened() -> Happened {
    let app = spawn_patient_app().await;
    app.clock.set(monday_morning());
    let researcher = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let id = accepted(&app, &reader, &researcher, at("2026-12-08T10:00:00Z")).await;
    app.clock.set(at("2026-12-08T11:30:00Z"));
    Happened {
        app,
        researcher,
        reader,
        id,
    }
}

/// `POST /consulting/disputes`.
pub async fn open(
    app: &TestApp,
    token: &str,
    session: i64,
    kind: &str,
    description: &str,
) -> reqwest::Response {
    open_with(
        app,
        token,
        &json!({"session_id": session, "kind": kind, "description": description}),
    )
    .await
}

pub async fn open_with(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.post_json("/api/v1/consulting/disputes", Some(token), body)
        .await
}

/// Opens a dispute, asserting 201; returns its id.
pub async fn opened(app: &TestApp, token: &str, session: i64, kind: &str) -> i64 {
    let r = open(
        app,
        token,
        session,
        kind,
        "The session did not go as agreed.",
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// `GET /consulting/disputes/{id}`.
pub async fn get(app: &TestApp, token: &str, id: i64) -> reqwest::Response {
    app.get(&format!("/api/v1/consulting/disputes/{id}"), Some(token))
        .await
}

/// The dispute as `token` sees it (asserting 200).
pub async fn dispute(app: &TestApp, token: &str, id: i64) -> Value {
    let r = get(app, token, id).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// `POST /consulting/disputes/{id}/{verb}` (`messages`, `withdraw`, `contest`).
pub async fn post(
    app: &TestApp,
    token: &str,
    id: i64,
    verb: &str,
    body: Value,
) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/consulting/disputes/{id}/{verb}"),
        Some(token),
        &body,
    )
    .await
}

/// Writes a message, asserting 201.
pub async fn say(app: &TestApp, token: &str, id: i64, text: &str) -> Value {
    let r = post(app, token, id, "messages", json!({"text": text})).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// `POST /admin/disputes/{id}/{verb}` (`review`, `resolve`).
pub async fn as_admin(
    app: &TestApp,
    token: &str,
    id: i64,
    verb: &str,
    body: Value,
) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/admin/disputes/{id}/{verb}"),
        Some(token),
        &body,
    )
    .await
}

/// Resolves as an admin, asserting 200; returns the dispute.
pub async fn resolved(app: &TestApp, token: &str, id: i64, body: Value) -> Value {
    let r = as_admin(app, token, id, "resolve", body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// Asserts a 409 with `code`.
pub async fn refused(r: reqwest::Response, code: &str) {
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, code);
}

/// Runs the disputes job now.
pub async fn run_job(app: &TestApp) -> colloquy::services::disputes::jobs::Report {
    colloquy::services::disputes::jobs::run(&app.state, app.clock.now())
        .await
        .unwrap()
}

/// The status as stored.
pub fn stored(app: &TestApp, id: i64) -> String {
    app.db()
        .query_row("SELECT status FROM disputes WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap()
}

/// Moves the clock past the answer time of an ordinary dispute.
pub fn after_answer_time(app: &TestApp) {
    app.clock.advance(Duration::days(5) + Duration::minutes(1));
}
