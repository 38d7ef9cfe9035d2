//! The dispute pages without a browser: the session page's "Dispute this
//! session" form, the dispute page (messages, reply, withdraw, contest),
//! my disputes, and the admins' queue with its short resolve form.

use crate::disputes_fixtures::*;
use crate::helpers::TestApp;
use crate::pages::{logged_in_browser, signed_in_browser};
use crate::sessions_fixtures::{at, stored_status};

async fn page(web: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = web.get(app.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Posts a form; answers (status, final path, page).
async fn submit(
    web: &reqwest::Client,
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let r = web.post(app.url(path)).form(fields).send().await.unwrap();
    let (status, landed) = (r.status().as_u16(), r.url().path().to_string());
    (status, landed, r.text().await.unwrap())
}

#[tokio::test]
async fn a_participant_opens_a_dispute_from_the_session_page_and_talks_it_through() {
    let h = happened().await;
    let app = &h.app;
    let (reader, csrf) = logged_in_browser(app, "reader@uni.example").await;
    let session = format!("/sessions/{}", h.id);
    let (status, html) = page(&reader, app, &session).await;
    assert_eq!(status, 200);
    assert!(html.contains("Dispute this session"), "{html}");
    assert!(html.contains(&format!(r#"action="/sessions/{}/dispute""#, h.id)));

    // A description is required; the form says so next to the field.
    let action = format!("/sessions/{}/dispute", h.id);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("kind", "quality"),
        ("description", " "),
    ];
    let (status, _, html) = submit(&reader, app, &action, &fields).await;
    assert_eq!(status, 422);
    assert!(html.contains("What happened is required."), "{html}");
    assert!(html.contains(r#"<details open id="dispute-form">"#));

    let fields = [
        ("csrf_token", csrf.as_str()),
        ("kind", "quality"),
        ("description", "We spoke for ten minutes only."),
        ("review_id", ""),
    ];
    let (status, landed, html) = submit(&reader, app, &action, &fields).await;
    assert_eq!(status, 200);
    assert!(landed.starts_with("/disputes/"), "{landed}");
    let id: i64 = landed.trim_start_matches("/disputes/").parse().unwrap();
    assert!(html.contains("Your dispute is opened"));
    assert!(html.contains("We spoke for ten minutes only."));
    assert!(html.contains("waiting for an answer"));
    // The session page links the open dispute and offers no second one.
    let (_, html) = page(&reader, app, &session).await;
    assert!(html.contains(&format!(r#"href="/disputes/{id}""#)));
    assert!(!html.contains("Dispute this session"));

    let (researcher, rcsrf) = logged_in_browser(app, "grace@yale.example").await;
    let (_, list) = page(&researcher, app, "/disputes").await;
    assert!(
        list.contains(&format!(r#"href="/disputes/{id}""#)),
        "{list}"
    );
    let reply = format!("/disputes/{id}/messages");
    let (_, _, html) = submit(
        &researcher,
        app,
        &reply,
        &[("csrf_token", rcsrf.as_str()), ("text", "")],
    )
    .await;
    assert!(html.contains("The message is required."), "{html}");
    let fields = [
        ("csrf_token", rcsrf.as_str()),
        ("text", "It was forty minutes by my clock."),
    ];
    let (status, landed, html) = submit(&researcher, app, &reply, &fields).await;
    assert_eq!(
        (status, landed.as_str()),
        (200, format!("/disputes/{id}").as_str())
    );
    assert!(html.contains("It was forty minutes by my clock."));
    assert!(html.contains("with an admin"));

    let (status, _, html) = submit(
        &reader,
        app,
        &format!("/disputes/{id}/withdraw"),
        &[("csrf_token", csrf.as_str())],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("The dispute is withdrawn."));
    assert_eq!(stored(app, id), "withdrawn");

    let (stranger, _) = signed_in_browser(app, "stranger@uni.example").await;
    assert_eq!(
        page(&stranger, app, &format!("/disputes/{id}")).await.0,
        404
    );
    assert_eq!(page(&stranger, app, "/admin/disputes").await.0, 403);
}

#[tokio::test]
async fn a_no_show_claim_is_contested_on_its_page_and_resolved_from_the_admins_queue() {
    let h = happened().await;
    let app = &h.app;
    app.admin_token("admin@uni.example").await;
    let (reader, csrf) = logged_in_browser(app, "reader@uni.example").await;
    let action = format!("/sessions/{}/action", h.id);
    let (_, _, html) = submit(
        &reader,
        app,
        &action,
        &[("csrf_token", csrf.as_str()), ("action", "no_show")],
    )
    .await;
    assert!(
        html.contains("Your report is recorded as a claim"),
        "{html}"
    );
    assert_eq!(stored_status(app, h.id), "accepted");
    let id: i64 = app
        .db()
        .query_row(
            "SELECT id FROM disputes WHERE session_id = ?1",
            [h.id],
            |r| r.get(0),
        )
        .unwrap();

    let (researcher, rcsrf) = logged_in_browser(app, "grace@yale.example").await;
    let (_, html) = page(&researcher, app, &format!("/disputes/{id}")).await;
    assert!(html.contains("contest the claim"), "{html}");
    let fields = [
        ("csrf_token", rcsrf.as_str()),
        ("text", "I was in the meeting room."),
    ];
    let (_, _, html) = submit(
        &researcher,
        app,
        &format!("/disputes/{id}/contest"),
        &fields,
    )
    .await;
    assert!(html.contains("You contested the claim."));
    assert_eq!(stored(app, id), "under_review");

    let (admin, acsrf) = logged_in_browser(app, "admin@uni.example").await;
    let (status, html) = page(&admin, app, "/admin/disputes").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!(r#"action="/admin/disputes/{id}/resolve""#)),
        "{html}"
    );
    assert!(html.contains("I was in the meeting room.") || html.contains("did not come"));
    let resolve = format!("/admin/disputes/{id}/resolve");
    let fields = [
        ("csrf_token", acsrf.as_str()),
        ("outcome", "claim_upheld"),
        ("note", ""),
        ("amount", ""),
        ("from", "list"),
    ];
    let (status, _, html) = submit(&admin, app, &resolve, &fields).await;
    assert_eq!(status, 422);
    assert!(html.contains("The note is required."), "{html}");
    let fields = [
        ("csrf_token", acsrf.as_str()),
        ("outcome", "claim_upheld"),
        ("note", "The meeting log shows only the reader."),
        ("amount", ""),
        ("from", "list"),
    ];
    let (status, landed, html) = submit(&admin, app, &resolve, &fields).await;
    assert_eq!((status, landed.as_str()), (200, "/admin/disputes"));
    assert!(html.contains("is resolved (claim upheld)"), "{html}");
    assert_eq!(stored_status(app, h.id), "no_show");
    let (_, html) = page(&reader, app, &format!("/disputes/{id}")).await;
    assert!(html.contains("The meeting log shows only the reader."));
}

#[tokio::test]
async fn an_admin_resolves_with_a_partial_refund_typed_in_major_units() {
    let s = crate::stripe_fakes::spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let p = crate::payments_fixtures::paid(app, 24, true).await;
    app.clock.set(at("2026-12-10T12:00:00Z"));
    let id = opened(app, &p.reader, p.id, "quality").await;
    app.admin_token("admin@uni.example").await;
    let (admin, csrf) = logged_in_browser(app, "admin@uni.example").await;
    let (_, html) = page(&admin, app, &format!("/disputes/{id}")).await;
    assert!(html.contains("Amount in EUR"), "{html}");
    let resolve = format!("/admin/disputes/{id}/resolve");
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("outcome", "refund_partial"),
        ("amount", "12,345"),
        ("note", "Part of it"),
        ("from", "page"),
    ];
    let (status, landed, html) = submit(&admin, app, &resolve, &fields).await;
    assert_eq!((status, landed.as_str()), (422, resolve.as_str()));
    assert!(
        html.contains("The amount must be an amount in EUR"),
        "{html}"
    );
    assert!(
        html.contains(r#"value="Part of it""#),
        "what was typed stays"
    );
    fields[2] = ("amount", "15.50");
    let (status, landed, html) = submit(&admin, app, &resolve, &fields).await;
    assert_eq!((status, landed), (200, format!("/disputes/{id}")));
    assert!(html.contains("EUR 15.50 refunded"), "{html}");
    let d = dispute(app, &p.reader, id).await;
    assert_eq!(d["refund_minor"], 1550);
}
