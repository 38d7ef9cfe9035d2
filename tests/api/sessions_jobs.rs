//! The `sessions` job under the test clock: unanswered requests expire,
//! reminders go out once per offset, and past sessions are completed.

use chrono::Duration;
use serde_json::json;

use crate::helpers::TestApp;
use crate::sessions_fixtures::*;
use colloquy::clock::Clock;
use colloquy::services::sessions::jobs::{self, Report};

async fn run_jobs(app: &TestApp) -> Report {
    jobs::run(&app.state, app.clock.now()).await.unwrap()
}

fn report(expired: usize, reminded: usize, completed: usize) -> Report {
    Report {
        expired,
        reminded,
        completed,
    }
}

#[tokio::test]
async fn an_unanswered_request_expires_after_its_time_to_answer_and_the_reader_is_told() {
    let app = spawn_patient_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = day_at_ten(&app, 5);
    let id = booked(&app, &reader, r.researcher_id, start).await;

    app.clock.advance(Duration::hours(47));
    assert_eq!(run_jobs(&app).await, report(0, 0, 0));
    assert_eq!(stored_status(&app, id), "requested");

    app.clock.advance(Duration::hours(2));
    assert_eq!(run_jobs(&app).await, report(1, 0, 0));
    assert_eq!(stored_status(&app, id), "expired");
    assert_eq!(
        recipients(&mails(&app, "session_expired")),
        ["reader@uni.example"]
    );
    assert_eq!(run_jobs(&app).await, report(0, 0, 0));
    assert_eq!(mails(&app, "session_expired").len(), 1);
    let s = session(&app, &reader, id).await;
    assert_eq!(s["status"], "expired");
    assert_eq!(s["events"][1]["event"], "expired");
    assert_eq!(s["events"][1]["actor"], "system");
    // The time can be booked again.
    let free = slot_starts(
        &app,
        r.researcher_id,
        start,
        start + Duration::minutes(1),
        60,
    )
    .await;
    assert_eq!(free, vec![start]);
}

#[tokio::test]
async fn a_request_for_a_time_sooner_than_its_time_to_answer_expires_at_its_start() {
    let app = spawn_patient_app().await;
    app.clock.set(monday_morning());
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = at("2026-12-07T16:00:00Z");
    let id = booked(&app, &reader, r.researcher_id, start).await;
    assert_eq!(
        at(session(&app, &reader, id).await["expires_at"]
            .as_str()
            .unwrap()),
        start
    );
    app.clock.set(start - Duration::minutes(1));
    assert_eq!(run_jobs(&app).await.expired, 0);
    app.clock.set(start);
    assert_eq!(run_jobs(&app).await.expired, 1);
    assert_eq!(stored_status(&app, id), "expired");
}

#[tokio::test]
async fn reminders_go_out_once_a_day_before_and_once_an_hour_before() {
    let app = spawn_patient_app().await;
    app.clock.set(monday_morning());
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = at("2026-12-10T10:00:00Z");
    let id = accepted(&app, &reader, &r, start).await;
    // A request that was never accepted gets no reminders (it expires).
    let unanswered = booked(&app, &reader, r.researcher_id, start + Duration::hours(3)).await;

    app.clock.set(start - Duration::hours(25));
    assert_eq!(run_jobs(&app).await, report(1, 0, 0));
    assert_eq!(stored_status(&app, unanswered), "expired");
    app.clock
        .set(start - Duration::hours(24) + Duration::minutes(1));
    assert_eq!(run_jobs(&app).await, report(0, 1, 0));
    let day_before = mails(&app, "session_reminder");
    assert_eq!(
        recipients(&day_before),
        ["grace@yale.example", "reader@uni.example"]
    );
    assert!(day_before
        .iter()
        .all(|m| m.content.subject.contains("24 hours")));
    assert_eq!(run_jobs(&app).await, report(0, 0, 0));
    app.clock.set(start - Duration::hours(2));
    assert_eq!(run_jobs(&app).await, report(0, 0, 0));
    assert_eq!(mails(&app, "session_reminder").len(), 2);

    app.clock.set(start - Duration::minutes(59));
    assert_eq!(run_jobs(&app).await, report(0, 1, 0));
    let all = mails(&app, "session_reminder");
    assert_eq!(all.len(), 4);
    assert_eq!(
        recipients(&all[2..]),
        ["grace@yale.example", "reader@uni.example"]
    );
    assert!(all[2..]
        .iter()
        .all(|m| m.content.subject.contains("1 hour") && !m.content.subject.contains("hours")));
    assert_eq!(run_jobs(&app).await, report(0, 0, 0));
    assert_eq!(mails(&app, "session_reminder").len(), 4);
    assert_eq!(stored_status(&app, id), "accepted");
}

#[tokio::test]
async fn a_moved_session_is_reminded_again_for_its_new_time() {
    let app = spawn_patient_app().await;
    app.clock.set(monday_morning());
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = at("2026-12-10T10:00:00Z");
    let id = accepted(&app, &reader, &r, start).await;
    app.clock.set(start - Duration::hours(23));
    assert_eq!(run_jobs(&app).await.reminded, 1);

    let new = start + Duration::days(2);
    acted(
        &app,
        &reader,
        id,
        "reschedule",
        json!({"start": new.to_rfc3339()}),
    )
    .await;
    acted(&app, &r.token, id, "reschedule/accept", json!({})).await;
    assert_eq!(run_jobs(&app).await.reminded, 0);
    app.clock.set(new - Duration::hours(23));
    assert_eq!(run_jobs(&app).await.reminded, 1);
    assert_eq!(mails(&app, "session_reminder").len(), 4);
}

#[tokio::test]
async fn past_sessions_are_completed_after_the_grace_period_unless_reported_missed() {
    let app = spawn_patient_app().await;
    app.clock.set(monday_morning());
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let held = accepted(&app, &reader, &r, at("2026-12-08T10:00:00Z")).await;
    let missed = accepted(&app, &reader, &r, at("2026-12-08T12:00:00Z")).await;

    app.clock.set(at("2026-12-08T12:15:00Z"));
    acted(&app, &r.token, missed, "no-show", json!({})).await;
    // The grace period of the first session ends at 11:00 the next day.
    app.clock.set(at("2026-12-09T10:59:00Z"));
    let early = run_jobs(&app).await;
    assert_eq!(early.completed, 0);
    assert_eq!(stored_status(&app, held), "accepted");
    app.clock.set(at("2026-12-09T11:00:00Z"));
    assert_eq!(run_jobs(&app).await, report(0, 0, 1));
    assert_eq!(stored_status(&app, held), "completed");
    // Past its grace too, the reported session waits for its no-show
    // claim (open until 12:15 two days after the report).
    app.clock.set(at("2026-12-10T12:00:00Z"));
    assert_eq!(run_jobs(&app).await, report(0, 0, 0));
    assert_eq!(stored_status(&app, missed), "accepted");
    app.clock.set(at("2026-12-10T12:15:00Z"));
    colloquy::services::disputes::jobs::run(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(run_jobs(&app).await, report(0, 0, 0));
    assert_eq!(stored_status(&app, missed), "no_show");
    let s = session(&app, &reader, held).await;
    assert_eq!(s["status"], "completed");
    assert_eq!(s["actions"], json!([]));
    // The link stays visible on a completed session.
    assert!(s["meeting_url"].is_string());
}

#[tokio::test]
async fn a_session_accepted_late_gets_one_reminder_that_says_the_real_time_left() {
    let app = spawn_patient_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = day_at_ten(&app, 1);
    let id = booked(&app, &reader, r.researcher_id, start).await;
    app.clock.set(start - Duration::minutes(45));
    acted(&app, &r.token, id, "accept", json!({})).await;

    // Both the 24-hour and the 1-hour reminder are due; only one goes out.
    assert_eq!(run_jobs(&app).await, report(0, 1, 0));
    let sent = mails(&app, "session_reminder");
    assert_eq!(sent.len(), 2, "one per participant");
    assert!(
        sent.iter()
            .all(|m| m.content.subject.ends_with("starts in 45 minutes")),
        "{:?}",
        sent.iter().map(|m| &m.content.subject).collect::<Vec<_>>()
    );
    assert_eq!(run_jobs(&app).await, report(0, 0, 0));
}

#[tokio::test]
async fn a_booking_frees_the_time_of_a_request_that_ran_out_before_the_job_ran() {
    let app = spawn_patient_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let first = app.token("first@uni.example").await;
    let second = app.token("second@uni.example").await;
    let start = day_at_ten(&app, 5);
    let old = booked(&app, &first, r.researcher_id, start).await;
    app.clock.advance(Duration::hours(49));
    // The job has not run; the request is still stored as requested.
    assert_eq!(stored_status(&app, old), "requested");
    let new = booked(&app, &second, r.researcher_id, start).await;
    assert_ne!(new, old);
    assert_eq!(stored_status(&app, old), "expired");
    assert_eq!(
        recipients(&mails(&app, "session_expired")),
        ["first@uni.example"]
    );
    assert_eq!(live_sessions(&app, r.researcher_id), 1);
}
