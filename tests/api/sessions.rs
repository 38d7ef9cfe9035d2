//! Booking and the session lifecycle through the API.

use serde_json::{json, Value};

use crate::helpers::spawn_app;
use crate::sessions_fixtures::*;

#[tokio::test]
async fn a_reader_books_a_slot_and_the_researcher_accepts_it() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = day_at_ten(&app, 3);
    let slots: Value = app
        .get(
            &format!(
                "/api/v1/consulting/researchers/{}/availability?from={}&to={}&duration=60",
                r.researcher_id,
                urlencode(&start.to_rfc3339()),
                urlencode(&(start + chrono::Duration::hours(2)).to_rfc3339())
            ),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(slots["slots"].as_array().unwrap().len(), 4, "{slots}");

    let resp = book(&app, &reader, r.researcher_id, start, 60).await;
    assert_eq!(resp.status(), 201);
    let s: Value = resp.json().await.unwrap();
    assert_eq!(s["status"], "requested");
    let id = s["id"].as_i64().unwrap();

    let again = book(&app, &reader, r.researcher_id, start, 60).await;
    assert_eq!(again.status(), 409);

    let accepted = act(&app, &r.token, id, "accept", json!({})).await;
    assert_eq!(accepted.status(), 200, "{}", accepted.text().await.unwrap());
    let s: Value = accepted.json().await.unwrap();
    assert_eq!(s["status"], "accepted");
    assert!(s["meeting_url"]
        .as_str()
        .unwrap()
        .starts_with("https://meet.jit.si/colloquy-"));
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
