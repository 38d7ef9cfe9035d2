//! Calendar invites, read with an independent iCalendar parser: mailed on
//! acceptance, changes and cancellation, and downloadable from the API,
//! always one event (same UID) with a rising SEQUENCE.

use chrono::Duration;
use serde_json::json;

use crate::helpers::{error_code, spawn_app, TestApp};
use crate::sessions_fixtures::*;

/// `GET /api/v1/consulting/sessions/{id}/ics`.
async fn get_ics(app: &TestApp, token: &str, id: i64) -> reqwest::Response {
    app.get(
        &format!("/api/v1/consulting/sessions/{id}/ics"),
        Some(token),
    )
    .await
}

/// The downloaded calendar file, checked as a download and parsed.
async fn downloaded(app: &TestApp, token: &str, id: i64) -> Invite {
    let resp = get_ics(app, token, id).await;
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("session-{id}.ics")));
    parse_invite(&resp.text().await.unwrap())
}

#[tokio::test]
async fn accepting_mails_both_participants_an_invite_for_the_sessions_time() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = day_at_ten(&app, 3);
    let id = booked(&app, &reader, r.researcher_id, start).await;
    assert!(mails(&app, "session_request")[0]
        .content
        .attachments
        .is_empty());
    let s = acted(&app, &r.token, id, "accept", json!({})).await;
    let url = s["meeting_url"].as_str().unwrap().to_string();

    let sent = mails(&app, "session_accepted");
    assert_eq!(
        recipients(&sent),
        ["grace@yale.example", "reader@uni.example"]
    );
    let mut uids = Vec::new();
    for m in &sent {
        let a = &m.content.attachments[0];
        assert_eq!(a.filename, "invite.ics");
        assert!(
            a.content_type.starts_with("text/calendar; method=REQUEST"),
            "{}",
            a.content_type
        );
        assert!(m.content.text.contains(&url));
        let invite = invite_of(m);
        assert_eq!(invite.method, "REQUEST");
        assert!(
            invite
                .one("UID")
                .starts_with(&format!("colloquy-session-{id}@")),
            "{}",
            invite.one("UID")
        );
        assert_eq!(invite.one("SEQUENCE"), "0");
        assert_eq!(invite.one("DTSTART"), ical_utc(start));
        assert_eq!(invite.one("DTEND"), ical_utc(start + Duration::hours(1)));
        assert_eq!(invite.one("STATUS"), "CONFIRMED");
        assert_eq!(invite.one("LOCATION"), url);
        let attendees = &invite.event["ATTENDEE"];
        assert_eq!(
            attendees,
            &vec![
                "mailto:grace@yale.example".to_string(),
                "mailto:reader@uni.example".to_string()
            ]
        );
        assert!(invite.one("ORGANIZER").starts_with("mailto:"));
        uids.push(invite.one("UID").to_string());
    }
    assert_eq!(uids[0], uids[1]);
}

#[tokio::test]
async fn the_calendar_file_is_downloadable_by_participants_and_follows_every_change() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let start = day_at_ten(&app, 3);
    let id = booked(&app, &reader, r.researcher_id, start).await;
    let resp = get_ics(&app, &reader, id).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "not_scheduled");

    acted(&app, &r.token, id, "accept", json!({})).await;
    let mailed = invite_of(&mails(&app, "session_accepted")[0]);
    let uid = mailed.one("UID").to_string();
    for token in [&reader, &r.token] {
        let invite = downloaded(&app, token, id).await;
        assert_eq!(invite.method, "REQUEST");
        assert_eq!(invite.one("UID"), uid);
        assert_eq!(invite.one("SEQUENCE"), "0");
        assert_eq!(invite.one("DTSTART"), ical_utc(start));
        assert_eq!(invite.one("DTEND"), ical_utc(start + Duration::hours(1)));
    }

    let new = start + Duration::days(1);
    acted(
        &app,
        &r.token,
        id,
        "reschedule",
        json!({"start": new.to_rfc3339()}),
    )
    .await;
    // A proposal alone does not change the calendar.
    assert_eq!(downloaded(&app, &reader, id).await.one("SEQUENCE"), "0");
    acted(&app, &reader, id, "reschedule/accept", json!({})).await;
    let invite = downloaded(&app, &reader, id).await;
    assert_eq!(invite.method, "REQUEST");
    assert_eq!(invite.one("UID"), uid);
    assert_eq!(invite.one("SEQUENCE"), "1");
    assert_eq!(invite.one("DTSTART"), ical_utc(new));

    acted(
        &app,
        &reader,
        id,
        "cancel",
        json!({"reason": "Plans changed"}),
    )
    .await;
    let invite = downloaded(&app, &r.token, id).await;
    assert_eq!(invite.method, "CANCEL");
    assert_eq!(invite.one("UID"), uid);
    assert_eq!(invite.one("SEQUENCE"), "2");
    assert_eq!(invite.one("STATUS"), "CANCELLED");

    // The mailed invites rose the same way.
    let sequences: Vec<String> = [
        "session_accepted",
        "session_rescheduled",
        "session_cancelled",
    ]
    .iter()
    .flat_map(|t| mails(&app, t))
    .map(|m| {
        let i = invite_of(&m);
        assert_eq!(i.one("UID"), uid);
        i.one("SEQUENCE").to_string()
    })
    .collect();
    assert_eq!(sequences, ["0", "0", "1", "1", "2", "2"]);
}

/// Found by API fuzzing: once the researcher's account was deleted, the
/// session's calendar file answered 500 ("the researcher has no account").
/// It is the session's event still, with the attendees that remain.
#[tokio::test]
async fn the_calendar_file_outlives_a_deleted_participant_account() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let id = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 3)).await;
    // An account with live sessions cannot be deleted: the session ends first.
    acted(
        &app,
        &reader,
        id,
        "cancel",
        json!({"reason": "plans changed"}),
    )
    .await;
    let gone = app
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/users/{}", r.user_id),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert!(gone.status().is_success(), "{}", gone.status());

    for token in [&reader, &admin] {
        let invite = downloaded(&app, token, id).await;
        let attendees = invite.event.get("ATTENDEE").cloned().unwrap_or_default();
        assert!(
            attendees.iter().all(|a| !a.contains("grace@yale.example")),
            "{attendees:?}"
        );
    }
}
