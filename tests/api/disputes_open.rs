//! Opening a dispute: who may, about which sessions, until when, one open
//! at a time, and every bad field refused next to its name.

use chrono::Duration;
use colloquy::clock::Clock;
use serde_json::{json, Value};

use crate::disputes_fixtures::*;
use crate::helpers::error_code;
use crate::sessions_fixtures::{act, acted, at, booked, mails, recipients};

#[tokio::test]
async fn a_participant_opens_a_dispute_and_the_other_is_told_at_once() {
    let h = happened().await;
    let app = &h.app;
    let r = open(
        app,
        &h.reader,
        h.id,
        "quality",
        "The researcher talked about another paper.",
    )
    .await;
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "open");
    let id = body["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/consulting/disputes/{id}"));

    let d = dispute(app, &h.reader, id).await;
    assert_eq!(d["status"], "awaiting_response");
    assert_eq!(d["kind"], "quality");
    assert_eq!(d["opened_by"], "reader");
    assert_eq!(d["session_id"], h.id);
    assert_eq!(d["your_role"], "reader");
    assert_eq!(
        d["description"],
        "The researcher talked about another paper."
    );
    assert_eq!(d["messages"], json!([]));
    let by = at(d["respond_by"].as_str().unwrap());
    assert_eq!(by, app.clock.now() + Duration::days(5));
    assert_eq!(d["actions"], json!(["message", "withdraw"]));
    assert_eq!(
        recipients(&mails(app, "dispute_opened")),
        ["grace@yale.example"]
    );
    let mail = &mails(app, "dispute_opened")[0];
    assert!(mail.content.text.contains(&format!("/disputes/{id}")));
    assert!(
        !mail.content.text.contains("another paper"),
        "the participants' own words stay on the page"
    );
    let actions = app.audit_actions();
    assert!(
        actions.contains(&"dispute.opened".to_string()),
        "{actions:?}"
    );
    assert!(actions.contains(&"dispute.awaiting_response".to_string()));

    let seen = dispute(app, &h.researcher.token, id).await;
    assert_eq!(seen["your_role"], "researcher");
    assert_eq!(seen["actions"], json!(["message"]));
}

#[tokio::test]
async fn only_a_participant_may_open_one_and_others_learn_nothing() {
    let h = happened().await;
    let app = &h.app;
    let stranger = app.token("stranger@uni.example").await;
    for session in [h.id, h.id + 1000] {
        let r = open(app, &stranger, session, "quality", "Mischief").await;
        assert_eq!(r.status(), 404, "session {session}");
        assert_eq!(error_code(r).await, "not_found");
    }
    let admin = app.admin_token("admin@uni.example").await;
    let r = open(app, &admin, h.id, "quality", "Admins are not parties").await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "not_a_participant");
    let r = app
        .post_json(
            "/api/v1/consulting/disputes",
            None,
            &json!({"session_id": h.id, "kind": "quality", "description": "x"}),
        )
        .await;
    assert_eq!(r.status(), 401);
    let n: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM disputes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_session_has_at_most_one_open_dispute() {
    let h = happened().await;
    let app = &h.app;
    let first = opened(app, &h.reader, h.id, "quality").await;
    refused(
        open(app, &h.researcher.token, h.id, "billing", "Mine too").await,
        "dispute_open",
    )
    .await;
    refused(
        open(app, &h.reader, h.id, "billing", "Another").await,
        "dispute_open",
    )
    .await;
    // Reporting a no-show is opening one too.
    refused(
        act(app, &h.reader, h.id, "no-show", json!({})).await,
        "dispute_open",
    )
    .await;
    let r = post(app, &h.reader, first, "withdraw", json!({})).await;
    assert_eq!(r.status(), 200);
    let second = opened(app, &h.researcher.token, h.id, "quality").await;
    assert_ne!(first, second);
}

#[tokio::test]
async fn disputes_may_be_opened_until_the_window_closes() {
    let h = happened().await;
    let app = &h.app;
    // The session ended at 11:00; `[disputes] window_days` is 14.
    app.clock.set(at("2026-12-22T11:01:00Z"));
    refused(
        open(app, &h.reader, h.id, "quality", "Late").await,
        "dispute_window_closed",
    )
    .await;
    app.clock.set(at("2026-12-22T11:00:00Z"));
    opened(app, &h.reader, h.id, "quality").await;
}

#[tokio::test]
async fn a_session_that_did_not_take_place_is_not_disputable() {
    let h = happened().await;
    let app = &h.app;
    let r = &h.researcher;
    let requested = booked(app, &h.reader, r.researcher_id, at("2026-12-10T10:00:00Z")).await;
    let declined = booked(app, &h.reader, r.researcher_id, at("2026-12-10T12:00:00Z")).await;
    acted(app, &r.token, declined, "decline", json!({})).await;
    let cancelled = booked(app, &h.reader, r.researcher_id, at("2026-12-10T14:00:00Z")).await;
    acted(
        app,
        &h.reader,
        cancelled,
        "cancel",
        json!({"reason": "Ill"}),
    )
    .await;
    let future =
        crate::sessions_fixtures::accepted(app, &h.reader, r, at("2026-12-11T10:00:00Z")).await;
    for id in [requested, declined, cancelled, future] {
        for kind in ["quality", "billing", "no_show"] {
            let resp = open(app, &h.reader, id, kind, "It never happened").await;
            refused(resp, "session_not_disputable").await;
        }
    }
    // Once it started, the accepted one is.
    app.clock.set(at("2026-12-11T10:30:00Z"));
    opened(app, &h.reader, future, "quality").await;
}

/// Stores a review of `session` straight in the database (the reviews
/// service is built elsewhere); returns its id.
fn review_of(h: &Happened, session: i64) -> i64 {
    let db = h.app.db();
    db.execute(
        "INSERT INTO reviews (session_id, side, author_id, researcher_id, reader_id, rating, status, created_at, updated_at)
         SELECT s.id, 'reader', s.reader_id, s.researcher_id, s.reader_id, 2, 'published', '2026-12-08T12:00:00Z', '2026-12-08T12:00:00Z'
           FROM consulting_sessions s WHERE s.id = ?1",
        [session],
    )
    .unwrap();
    db.last_insert_rowid()
}

/// The one field a 422 names.
async fn bad_field(r: reqwest::Response) -> String {
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    let fields = body["error"]["fields"].as_object().unwrap();
    assert_eq!(fields.len(), 1, "{body}");
    fields.keys().next().unwrap().clone()
}

#[tokio::test]
async fn bad_fields_are_refused_next_to_their_names() {
    let h = happened().await;
    let app = &h.app;
    let other = crate::sessions_fixtures::accepted(
        app,
        &h.reader,
        &h.researcher,
        at("2026-12-08T14:00:00Z"),
    )
    .await;
    let foreign_review = review_of(&h, other);
    let review = review_of(&h, h.id);
    let body = |kind: &str, review: Option<i64>, description: &str| json!({"session_id": h.id, "kind": kind, "review_id": review, "description": description});
    for (b, field) in [
        (body("refund", None, "Money back"), "kind"),
        (body("quality", None, ""), "description"),
        (body("quality", None, " \u{0}\u{7}\t "), "description"),
        (body("quality", None, &"x".repeat(4001)), "description"),
        (body("review", None, "That review is false"), "review_id"),
        (
            body("quality", Some(review), "Not a review dispute"),
            "review_id",
        ),
        (
            body("review", Some(foreign_review), "Another session's"),
            "review_id",
        ),
    ] {
        assert_eq!(
            bad_field(open_with(app, &h.reader, &b).await).await,
            field,
            "{b}"
        );
    }
    let r = open_with(
        app,
        &h.reader,
        &json!({"session_id": h.id, "kind": "quality"}),
    )
    .await;
    assert_eq!(r.status(), 422, "description is required");
    assert_eq!(
        mails(app, "dispute_opened").len(),
        0,
        "nothing was opened by a refused request"
    );

    // Control characters go, line breaks stay, 4000 characters fit.
    let text = format!("Line one\u{0}\r\nLine\u{7} two{}", "y".repeat(3980));
    let r = open_with(
        app,
        &h.researcher.token,
        &body("review", Some(review), &text),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let d = dispute(app, &h.reader, id).await;
    let stored = d["description"].as_str().unwrap();
    assert!(stored.starts_with("Line one\nLine two"), "{stored}");
    assert_eq!(stored.chars().count(), 3997);
    assert_eq!(d["review_id"], review);
    assert_eq!(d["kind"], "review");
}

#[tokio::test]
async fn a_no_show_claim_is_opened_only_from_ten_minutes_after_the_start() {
    let h = happened().await;
    let app = &h.app;
    let later = crate::sessions_fixtures::accepted(
        app,
        &h.reader,
        &h.researcher,
        at("2026-12-08T14:00:00Z"),
    )
    .await;
    app.clock.set(at("2026-12-08T14:09:00Z"));
    refused(
        open(app, &h.reader, later, "no_show", "Nobody there").await,
        "too_early_for_no_show",
    )
    .await;
    app.clock.set(at("2026-12-08T14:10:00Z"));
    let id = opened(app, &h.reader, later, "no_show").await;
    let d = dispute(app, &h.reader, id).await;
    let by = at(d["respond_by"].as_str().unwrap());
    assert_eq!(by, app.clock.now() + Duration::hours(48));
}
