//! The state machine refuses every move it does not allow, with 409
//! `illegal_transition`, and leaves the stored session as it was.

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, TestApp};
use crate::sessions_fixtures::*;
use colloquy::clock::Clock;
use colloquy::services::sessions::jobs;

/// Asserts that `action` is refused as an illegal transition and changes
/// nothing stored.
async fn assert_illegal(app: &TestApp, token: &str, id: i64, action: &str, body: Value) {
    let before = stored_status(app, id);
    let resp = act(app, token, id, action, body).await;
    assert_eq!(resp.status(), 409, "{action} on a {before} session");
    assert_eq!(
        error_code(resp).await,
        "illegal_transition",
        "{action} on a {before} session"
    );
    assert_eq!(
        stored_status(app, id),
        before,
        "{action} changed the status"
    );
}

fn reason() -> Value {
    json!({"reason": "Something came up"})
}

#[tokio::test]
async fn an_answered_request_cannot_be_answered_again() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let accepted = accepted(&app, &reader, &r, day_at_ten(&app, 3)).await;
    let declined = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 4)).await;
    acted(&app, &r.token, declined, "decline", json!({})).await;
    let cancelled = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 5)).await;
    acted(&app, &reader, cancelled, "cancel", reason()).await;
    let invites = mails(&app, "session_accepted").len();

    for id in [accepted, declined, cancelled] {
        assert_illegal(&app, &r.token, id, "accept", json!({})).await;
        assert_illegal(&app, &r.token, id, "decline", json!({"reason": "no"})).await;
    }
    assert_eq!(stored_status(&app, accepted), "accepted");
    assert_eq!(stored_status(&app, declined), "declined");
    assert_eq!(stored_status(&app, cancelled), "cancelled");
    assert_eq!(mails(&app, "session_accepted").len(), invites);
    assert_eq!(mails(&app, "session_declined").len(), 1);
    // A declined or cancelled request cannot be cancelled (again) either.
    assert_illegal(&app, &reader, declined, "cancel", reason()).await;
    assert_illegal(&app, &r.token, cancelled, "cancel", reason()).await;
}

#[tokio::test]
async fn an_expired_request_cannot_be_answered_or_cancelled() {
    let app = spawn_patient_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let late = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 5)).await;
    let expired = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 6)).await;
    // Past the 48 hours to answer, before the job has run: reading the
    // request expires it there and then.
    app.clock.advance(Duration::hours(49));
    let resp = act(&app, &r.token, late, "accept", json!({})).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "illegal_transition");
    assert_eq!(stored_status(&app, late), "expired");
    assert_eq!(stored_status(&app, expired), "requested");

    let report = jobs::run(&app.state, app.clock.now()).await.unwrap();
    assert_eq!(report.expired, 1);
    for id in [late, expired] {
        assert_illegal(&app, &r.token, id, "accept", json!({})).await;
        assert_illegal(&app, &r.token, id, "decline", json!({})).await;
        assert_illegal(&app, &reader, id, "cancel", reason()).await;
    }
}

#[tokio::test]
async fn a_finished_session_cannot_be_cancelled_moved_or_reported_again() {
    let app = spawn_patient_app().await;
    app.clock.set(monday_morning());
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let done = accepted(&app, &reader, &r, at("2026-12-08T10:00:00Z")).await;
    let missed = accepted(&app, &reader, &r, at("2026-12-08T12:00:00Z")).await;
    let declined = booked(&app, &reader, r.researcher_id, at("2026-12-09T10:00:00Z")).await;
    acted(&app, &r.token, declined, "decline", json!({})).await;

    // An admin records the no-show at once (a participant's report would
    // be a claim: see disputes_no_show.rs).
    app.clock.set(at("2026-12-08T12:10:00Z"));
    let admin = app.admin_token("admin@uni.example").await;
    acted(
        &app,
        &admin,
        missed,
        "no-show",
        json!({"party": "researcher"}),
    )
    .await;
    // The first ended at 11:00; 24 hours of grace later it is completed.
    app.clock.set(at("2026-12-09T11:01:00Z"));
    let report = jobs::run(&app.state, app.clock.now()).await.unwrap();
    assert_eq!(report.completed, 1);
    assert_eq!(stored_status(&app, done), "completed");
    assert_eq!(stored_status(&app, missed), "no_show");

    let move_to = json!({"start": "2026-12-10T10:00:00Z"});
    for id in [done, missed, declined] {
        assert_illegal(&app, &reader, id, "cancel", reason()).await;
        assert_illegal(&app, &r.token, id, "cancel", reason()).await;
        assert_illegal(&app, &reader, id, "reschedule", move_to.clone()).await;
        assert_illegal(&app, &r.token, id, "reschedule", move_to.clone()).await;
        assert_illegal(&app, &r.token, id, "accept", json!({})).await;
    }
    assert_illegal(&app, &reader, done, "no-show", json!({})).await;
    assert_illegal(&app, &r.token, missed, "no-show", json!({})).await;
    assert_illegal(&app, &r.token, done, "decline", json!({})).await;
}

#[tokio::test]
async fn a_request_cannot_be_moved_or_reported_missing_before_it_is_accepted() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = day_at_ten(&app, 3);
    let id = booked(&app, &reader, r.researcher_id, start).await;
    let elsewhere = json!({"start": (start + Duration::hours(3)).to_rfc3339()});
    assert_illegal(&app, &reader, id, "reschedule", elsewhere.clone()).await;
    assert_illegal(&app, &r.token, id, "reschedule", elsewhere).await;
    assert_illegal(&app, &r.token, id, "reschedule/accept", json!({})).await;
    assert_illegal(&app, &reader, id, "reschedule/reject", json!({})).await;
    assert_illegal(&app, &reader, id, "no-show", json!({})).await;
    assert_illegal(&app, &r.token, id, "no-show", json!({})).await;
    let view = session(&app, &reader, id).await;
    assert!(view["proposed_start"].is_null());
    assert_eq!(at(view["start"].as_str().unwrap()), start);
    assert_eq!(mails(&app, "session_reschedule_proposed").len(), 0);
}
