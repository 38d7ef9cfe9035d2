//! Moving an accepted session: one side proposes, the other accepts or
//! rejects; the proposed time is held meanwhile and calendars follow.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, TestApp};
use crate::sessions_fixtures::*;

/// Whether a 60-minute slot at `t` is offered.
async fn is_free(app: &TestApp, r: &Bookable, t: DateTime<Utc>) -> bool {
    slot_starts(app, r.researcher_id, t, t + Duration::minutes(1), 60)
        .await
        .contains(&t)
}

#[tokio::test]
async fn a_reader_proposes_a_new_time_and_the_researcher_accepts_it() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let old = day_at_ten(&app, 3);
    let new = day_at_ten(&app, 4) + Duration::hours(4);
    let id = accepted(&app, &reader, &r, old).await;
    let first = invite_of(&mails(&app, "session_accepted")[0]);
    assert!(is_free(&app, &r, new).await);

    let s = acted(
        &app,
        &reader,
        id,
        "reschedule",
        json!({"start": new.to_rfc3339()}),
    )
    .await;
    assert_eq!(s["status"], "accepted");
    assert_eq!(at(s["start"].as_str().unwrap()), old);
    assert_eq!(at(s["proposed_start"].as_str().unwrap()), new);
    assert_eq!(
        at(s["proposed_end"].as_str().unwrap()),
        new + Duration::hours(1)
    );
    assert_eq!(s["proposed_by"], "reader");
    assert!(!actions(&s).contains(&"accept_reschedule".to_string()));
    let theirs = session(&app, &r.token, id).await;
    assert!(actions(&theirs).contains(&"accept_reschedule".to_string()));
    assert_eq!(
        recipients(&mails(&app, "session_reschedule_proposed")),
        ["grace@yale.example"]
    );
    // Both times are held while the proposal is open.
    assert!(!is_free(&app, &r, new).await);
    assert!(!is_free(&app, &r, old).await);

    // The proposer cannot answer their own proposal.
    for action in ["reschedule/accept", "reschedule/reject"] {
        let resp = act(&app, &reader, id, action, json!({})).await;
        assert_eq!(resp.status(), 403, "{action}");
    }

    let s = acted(&app, &r.token, id, "reschedule/accept", json!({})).await;
    assert_eq!(at(s["start"].as_str().unwrap()), new);
    assert_eq!(at(s["end"].as_str().unwrap()), new + Duration::hours(1));
    assert_eq!(s["duration_minutes"], 60);
    assert!(s["proposed_start"].is_null() && s["proposed_by"].is_null());
    assert!(is_free(&app, &r, old).await, "the old time is free again");
    assert!(!is_free(&app, &r, new).await);

    let moved = mails(&app, "session_rescheduled");
    assert_eq!(
        recipients(&moved),
        ["grace@yale.example", "reader@uni.example"]
    );
    for m in &moved {
        let invite = invite_of(m);
        assert_eq!(invite.method, "REQUEST");
        assert_eq!(invite.one("UID"), first.one("UID"));
        assert_eq!(invite.one("SEQUENCE"), "1");
        assert_eq!(invite.one("DTSTART"), ical_utc(new));
        assert_eq!(invite.one("DTEND"), ical_utc(new + Duration::hours(1)));
    }
    let events: Vec<Value> = session(&app, &reader, id).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["event"], e["actor"]]))
        .collect();
    assert_eq!(
        events,
        vec![
            json!(["requested", "reader"]),
            json!(["accepted", "researcher"]),
            json!(["reschedule_proposed", "reader"]),
            json!(["rescheduled", "researcher"]),
        ]
    );
    // Someone else can now book the old time.
    let other = app.token("other@uni.example").await;
    booked(&app, &other, r.researcher_id, old).await;
}

#[tokio::test]
async fn rejecting_a_proposed_time_keeps_the_session_where_it_was() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let old = day_at_ten(&app, 3);
    let new = day_at_ten(&app, 5);
    let id = accepted(&app, &reader, &r, old).await;

    let s = acted(
        &app,
        &r.token,
        id,
        "reschedule",
        json!({"start": new.to_rfc3339(), "duration_minutes": 30}),
    )
    .await;
    assert_eq!(s["proposed_by"], "researcher");
    assert_eq!(
        at(s["proposed_end"].as_str().unwrap()),
        new + Duration::minutes(30)
    );
    assert_eq!(
        recipients(&mails(&app, "session_reschedule_proposed")),
        ["reader@uni.example"]
    );
    let resp = act(&app, &r.token, id, "reschedule/accept", json!({})).await;
    assert_eq!(resp.status(), 403);

    let s = acted(&app, &reader, id, "reschedule/reject", json!({})).await;
    assert_eq!(at(s["start"].as_str().unwrap()), old);
    assert_eq!(s["duration_minutes"], 60);
    assert!(s["proposed_start"].is_null());
    assert!(
        is_free(&app, &r, new).await,
        "the proposed time is released"
    );
    assert_eq!(
        recipients(&mails(&app, "session_reschedule_rejected")),
        ["grace@yale.example"]
    );
    assert!(mails(&app, "session_rescheduled").is_empty());
    // Nothing changed for calendars.
    let ics = app
        .get(
            &format!("/api/v1/consulting/sessions/{id}/ics"),
            Some(&reader),
        )
        .await
        .text()
        .await
        .unwrap();
    let invite = parse_invite(&ics);
    assert_eq!(invite.one("SEQUENCE"), "0");
    assert_eq!(invite.one("DTSTART"), ical_utc(old));
    // With no proposal open there is nothing to answer.
    let resp = act(&app, &r.token, id, "reschedule/accept", json!({})).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "no_proposal");
}

#[tokio::test]
async fn a_new_time_must_be_free_and_different() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let other = app.token("other@uni.example").await;
    let start = day_at_ten(&app, 3);
    let id = accepted(&app, &reader, &r, start).await;
    let taken = start + Duration::hours(3);
    booked(&app, &other, r.researcher_id, taken).await;

    let cases = [
        (json!({"start": taken.to_rfc3339()}), 409),
        // Outside the researcher's hours.
        (
            json!({"start": (start - Duration::hours(5)).to_rfc3339()}),
            409,
        ),
        (json!({"start": start.to_rfc3339()}), 422),
        (json!({"start": "next tuesday"}), 422),
    ];
    for (body, status) in cases {
        let resp = act(&app, &reader, id, "reschedule", body.clone()).await;
        assert_eq!(resp.status(), status, "{body}");
    }
    let s = session(&app, &reader, id).await;
    assert!(s["proposed_start"].is_null());
    assert!(mails(&app, "session_reschedule_proposed").is_empty());
    // A half-hour move within its own time is fine: the session's own slot
    // does not count against it.
    let s = acted(
        &app,
        &reader,
        id,
        "reschedule",
        json!({"start": (start + Duration::minutes(30)).to_rfc3339()}),
    )
    .await;
    assert_eq!(
        at(s["proposed_start"].as_str().unwrap()),
        start + Duration::minutes(30)
    );
}

#[tokio::test]
async fn an_accepted_proposal_may_change_the_length_too() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = day_at_ten(&app, 3);
    let id = accepted(&app, &reader, &r, start).await;
    let new = start + Duration::hours(5);
    acted(
        &app,
        &r.token,
        id,
        "reschedule",
        json!({"start": new.to_rfc3339(), "duration_minutes": 30}),
    )
    .await;
    let s = acted(&app, &reader, id, "reschedule/accept", json!({})).await;
    assert_eq!(s["duration_minutes"], 30);
    assert_eq!(at(s["end"].as_str().unwrap()), new + Duration::minutes(30));
    let invite = invite_of(&mails(&app, "session_rescheduled")[0]);
    assert_eq!(invite.one("DTEND"), ical_utc(new + Duration::minutes(30)));
    // The half hour after it is free again.
    assert!(is_free(&app, &r, new + Duration::minutes(30)).await);
}
