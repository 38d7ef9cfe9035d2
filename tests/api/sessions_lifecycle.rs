//! Declining, cancelling and reporting a no-show: who may do it when, and
//! who is told. (What becomes of a no-show claim: `disputes_no_show.rs`.)

use chrono::Duration;
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app};
use crate::sessions_fixtures::*;

#[tokio::test]
async fn declining_a_request_tells_the_reader_with_the_researchers_note() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = day_at_ten(&app, 3);
    let id = booked(&app, &reader, r.researcher_id, start).await;
    assert_eq!(
        recipients(&mails(&app, "session_request")),
        ["grace@yale.example"]
    );

    let s = acted(
        &app,
        &r.token,
        id,
        "decline",
        json!({"reason": "I am travelling that week."}),
    )
    .await;
    assert_eq!(s["status"], "declined");
    assert_eq!(s["actions"], json!([]));
    let sent = mails(&app, "session_declined");
    assert_eq!(recipients(&sent), ["reader@uni.example"]);
    assert!(sent[0].content.text.contains("I am travelling that week."));
    assert!(sent[0].content.attachments.is_empty());
    let history = session(&app, &reader, id).await["events"].clone();
    assert_eq!(history[1]["event"], "declined");
    assert_eq!(history[1]["actor"], "researcher");
    // The time is free again.
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
async fn cancelling_needs_a_reason() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 3)).await;
    for body in [json!({}), json!({"reason": "   "}), json!({"reason": null})] {
        let resp = act(&app, &reader, id, "cancel", body.clone()).await;
        assert_eq!(resp.status(), 422, "{body}");
        let err: Value = resp.json().await.unwrap();
        assert!(err["error"]["fields"]["reason"].is_string(), "{err}");
    }
    assert_eq!(stored_status(&app, id), "requested");
    assert!(mails(&app, "session_cancelled").is_empty());

    let s = acted(
        &app,
        &reader,
        id,
        "cancel",
        json!({"reason": "Found the answer"}),
    )
    .await;
    assert_eq!(s["status"], "cancelled");
    assert_eq!(s["cancelled_by"], "reader");
    assert_eq!(s["cancel_reason"], "Found the answer");
    // A request that was never accepted has no calendar entry to cancel.
    let sent = mails(&app, "session_cancelled");
    assert_eq!(
        recipients(&sent),
        ["grace@yale.example", "reader@uni.example"]
    );
    assert!(sent.iter().all(|m| m.content.attachments.is_empty()));
    assert!(sent
        .iter()
        .all(|m| m.content.text.contains("Found the answer")));
}

#[tokio::test]
async fn a_reader_may_cancel_an_accepted_session_only_until_the_window_closes() {
    let app = spawn_patient_app().await;
    app.clock.set(monday_morning());
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let soon = accepted(&app, &reader, &r, at("2026-12-08T10:00:00Z")).await;
    let later = accepted(&app, &reader, &r, at("2026-12-10T10:00:00Z")).await;
    let afternoon = accepted(&app, &reader, &r, at("2026-12-08T14:00:00Z")).await;

    // 23 hours before: inside the 24-hour window.
    app.clock.set(at("2026-12-07T11:00:00Z"));
    let resp = act(&app, &reader, soon, "cancel", json!({"reason": "busy"})).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "too_late_to_cancel");
    assert_eq!(stored_status(&app, soon), "accepted");
    let view = session(&app, &reader, soon).await;
    assert!(view["actions"]
        .as_array()
        .unwrap()
        .contains(&json!("cancel")));
    // 71 hours before: fine.
    let s = acted(&app, &reader, later, "cancel", json!({"reason": "busy"})).await;
    assert_eq!(s["status"], "cancelled");

    // The researcher may cancel up to the start.
    app.clock.set(at("2026-12-08T09:55:00Z"));
    let s = acted(&app, &r.token, soon, "cancel", json!({"reason": "ill"})).await;
    assert_eq!(s["status"], "cancelled");
    assert_eq!(s["cancelled_by"], "researcher");
    // But not once it has started.
    app.clock.set(at("2026-12-08T14:05:00Z"));
    let resp = act(
        &app,
        &r.token,
        afternoon,
        "cancel",
        json!({"reason": "late"}),
    )
    .await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "already_started");
    assert_eq!(stored_status(&app, afternoon), "accepted");
}

#[tokio::test]
async fn cancelling_an_accepted_session_cancels_the_same_calendar_event() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = day_at_ten(&app, 3);
    let id = accepted(&app, &reader, &r, start).await;
    let invite = invite_of(&mails(&app, "session_accepted")[0]);
    assert_eq!(invite.one("SEQUENCE"), "0");
    let uid = invite.one("UID").to_string();

    acted(
        &app,
        &r.token,
        id,
        "cancel",
        json!({"reason": "I fell ill"}),
    )
    .await;
    let sent = mails(&app, "session_cancelled");
    assert_eq!(
        recipients(&sent),
        ["grace@yale.example", "reader@uni.example"]
    );
    for m in &sent {
        let a = &m.content.attachments[0];
        assert_eq!(a.filename, "cancel.ics");
        assert!(a.content_type.starts_with("text/calendar; method=CANCEL"));
        let cancel = invite_of(m);
        assert_eq!(cancel.method, "CANCEL");
        assert_eq!(cancel.one("UID"), uid);
        assert_eq!(cancel.one("SEQUENCE"), "1");
        assert_eq!(cancel.one("STATUS"), "CANCELLED");
        assert_eq!(cancel.one("DTSTART"), ical_utc(start));
        assert!(m.content.text.contains("I fell ill"));
    }
    // The meeting link is no longer shown.
    assert!(session(&app, &reader, id).await["meeting_url"].is_null());
}

#[tokio::test]
async fn a_no_show_can_be_reported_from_ten_minutes_after_the_start_until_the_grace_period_ends() {
    let app = spawn_patient_app().await;
    app.clock.set(monday_morning());
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let morning = accepted(&app, &reader, &r, at("2026-12-08T10:00:00Z")).await;
    let noon = accepted(&app, &reader, &r, at("2026-12-08T12:00:00Z")).await;
    let afternoon = accepted(&app, &reader, &r, at("2026-12-08T14:00:00Z")).await;

    for early in ["2026-12-08T09:59:00Z", "2026-12-08T10:09:59Z"] {
        app.clock.set(at(early));
        let resp = act(&app, &reader, morning, "no-show", json!({})).await;
        assert_eq!(resp.status(), 409, "{early}");
        assert_eq!(error_code(resp).await, "too_early_for_no_show");
        assert!(!session(&app, &reader, morning).await["actions"]
            .as_array()
            .unwrap()
            .contains(&json!("no_show")));
    }

    app.clock.set(at("2026-12-08T10:10:00Z"));
    // Participants report the other side, not themselves.
    let resp = act(
        &app,
        &reader,
        morning,
        "no-show",
        json!({"party": "reader"}),
    )
    .await;
    assert_eq!(resp.status(), 422);
    // A report is a claim: the session stays accepted, the researcher is
    // told and may contest it.
    let s = acted(&app, &reader, morning, "no-show", json!({})).await;
    assert_eq!(s["status"], "accepted");
    assert!(s["dispute_id"].is_i64(), "{s}");
    assert!(s["no_show_party"].is_null());
    assert_eq!(
        recipients(&mails(&app, "dispute_opened")),
        ["grace@yale.example"]
    );
    assert!(mails(&app, "session_no_show").is_empty());

    // One minute before the noon session's grace ends (13:00 + 24 h).
    app.clock.set(at("2026-12-09T12:59:00Z"));
    let s = acted(&app, &r.token, noon, "no-show", json!({"party": "reader"})).await;
    assert_eq!(s["status"], "accepted");
    assert!(s["dispute_id"].is_i64());
    // One minute after the afternoon session's grace ended (15:00 + 24 h).
    app.clock.set(at("2026-12-09T15:01:00Z"));
    let resp = act(&app, &r.token, afternoon, "no-show", json!({})).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "outside_no_show_window");
    assert_eq!(stored_status(&app, afternoon), "accepted");
}
