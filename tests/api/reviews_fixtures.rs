//! Shared set-up for the review tests: completed sessions and one helper
//! per review endpoint.

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::sessions_fixtures::{accepted, at, bookable_researcher, monday_morning, Bookable};
use colloquy::clock::Clock;

/// A researcher, a reader and their sessions, completed by the job.
pub struct Completed {
    pub researcher: Bookable,
    pub reader: String,
    pub sessions: Vec<i64>,
}

/// `n` sessions of one reader with Grace Hopper from Tuesday 8 December
/// 2026, three a day (10:00, 12:00, 14:00), completed by the sessions job
/// on Saturday 12 December.
pub async fn completed(app: &TestApp, n: usize) -> Completed {
    app.clock.set(monday_morning());
    let researcher = bookable_researcher(app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let mut sessions = Vec::new();
    for i in 0..n {
        let start = at("2026-12-08T10:00:00Z")
            + Duration::days(i as i64 / 3)
            + Duration::hours(2 * (i as i64 % 3));
        sessions.push(accepted(app, &reader, &researcher, start).await);
    }
    assert!(n <= 12, "four days of sessions at most");
    app.clock.set(at("2026-12-12T23:30:00Z"));
    colloquy::services::sessions::jobs::run(&app.state, app.clock.now())
        .await
        .unwrap();
    Completed {
        researcher,
        reader,
        sessions,
    }
}

pub async fn review(
    app: &TestApp,
    token: &str,
    session: i64,
    rating: i64,
    comment: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({"session_id": session, "rating": rating});
    if let Some(c) = comment {
        body["comment"] = json!(c);
    }
    app.post_json("/api/v1/consulting/reviews", Some(token), &body)
        .await
}

/// Reviews and asserts 201; returns the review.
pub async fn reviewed(
    app: &TestApp,
    token: &str,
    session: i64,
    rating: i64,
    comment: Option<&str>,
) -> Value {
    let r = review(app, token, session, rating, comment).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

pub async fn patch(app: &TestApp, token: &str, id: i64, body: Value) -> reqwest::Response {
    app.send_json(
        reqwest::Method::PATCH,
        &format!("/api/v1/consulting/reviews/{id}"),
        Some(token),
        &body,
    )
    .await
}

pub async fn reply(app: &TestApp, token: &str, id: i64, text: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/consulting/reviews/{id}/reply"),
        Some(token),
        &json!({"text": text}),
    )
    .await
}

pub async fn report(app: &TestApp, token: &str, id: i64, reason: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/consulting/reviews/{id}/report"),
        Some(token),
        &json!({"reason": reason}),
    )
    .await
}

pub async fn moderate(
    app: &TestApp,
    token: &str,
    id: i64,
    action: &str,
    reason: &str,
) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/admin/reviews/{id}/moderate"),
        Some(token),
        &json!({"action": action, "reason": reason}),
    )
    .await
}

/// The public list of a researcher's reviews.
pub async fn public_list(app: &TestApp, researcher: i64) -> Value {
    let r = app
        .get(
            &format!("/api/v1/consulting/researchers/{researcher}/reviews"),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// `rating` of the researcher's profile as the API shows it.
pub async fn profile_rating(app: &TestApp, researcher: i64) -> Value {
    let r = app
        .get(&format!("/api/v1/researchers/{researcher}"), None)
        .await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["rating"].clone()
}

/// The queue as an admin sees it for `status`.
pub async fn queue(app: &TestApp, admin: &str, status: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/api/v1/admin/reviews?status={status}"),
            Some(admin),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}
