//! Who sees and acts on which session: participants only (strangers cannot
//! even learn a session exists), researcher-only answers, lists scoped to
//! the caller, and admins.

use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, TestApp};
use crate::sessions_fixtures::*;

/// `GET /api/v1/consulting/sessions?{query}` (asserting 200): the ids listed.
async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<i64> {
    let resp = app
        .get(&format!("/api/v1/consulting/sessions?{query}"), Some(token))
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let page: Value = resp.json().await.unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_stranger_cannot_tell_someone_elses_session_from_a_missing_one() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let stranger = app.token("stranger@uni.example").await;
    let id = accepted(&app, &reader, &r, day_at_ten(&app, 3)).await;
    let missing = id + 1000;

    for target in [id, missing] {
        let resp = get_session(&app, &stranger, target).await;
        assert_eq!(resp.status(), 404);
        assert_eq!(error_code(resp).await, "not_found");
        let resp = app
            .get(
                &format!("/api/v1/consulting/sessions/{target}/ics"),
                Some(&stranger),
            )
            .await;
        assert_eq!(resp.status(), 404);
        for (action, body) in [
            ("accept", json!({})),
            ("decline", json!({})),
            ("cancel", json!({"reason": "mischief"})),
            (
                "reschedule",
                json!({"start": day_at_ten(&app, 4).to_rfc3339()}),
            ),
            ("reschedule/accept", json!({})),
            ("reschedule/reject", json!({})),
            ("no-show", json!({})),
        ] {
            let resp = act(&app, &stranger, target, action, body).await;
            assert_eq!(resp.status(), 404, "{action} on {target}");
            assert_eq!(error_code(resp).await, "not_found");
        }
    }
    assert_eq!(stored_status(&app, id), "accepted");
    assert!(session(&app, &reader, id).await["proposed_start"].is_null());
    // Without a token, nothing at all.
    assert_eq!(
        app.get(&format!("/api/v1/consulting/sessions/{id}"), None)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn only_the_researcher_answers_a_request() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let admin = app.admin_token("admin@uni.example").await;
    let id = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 3)).await;
    let view = session(&app, &reader, id).await;
    assert_eq!(view["your_role"], "reader");
    assert_eq!(view["actions"], json!(["cancel"]));
    for token in [&reader, &admin] {
        for action in ["accept", "decline"] {
            let resp = act(&app, token, id, action, json!({})).await;
            assert_eq!(resp.status(), 403, "{action}");
            assert_eq!(error_code(resp).await, "forbidden");
        }
    }
    assert_eq!(stored_status(&app, id), "requested");
    assert!(mails(&app, "session_accepted").is_empty());
    let view = session(&app, &r.token, id).await;
    assert_eq!(view["your_role"], "researcher");
    assert_eq!(view["actions"], json!(["accept", "decline", "cancel"]));
}

#[tokio::test]
async fn lists_show_only_my_sessions_as_reader_or_researcher() {
    let app = spawn_app().await;
    let grace = bookable_researcher(&app, "grace@yale.example").await;
    let ada = bookable_researcher(&app, "ada@cam.example").await;
    let alice = app.token("alice@uni.example").await;
    let bob = app.token("bob@uni.example").await;
    let stranger = app.token("stranger@uni.example").await;
    let a1 = booked(&app, &alice, grace.researcher_id, day_at_ten(&app, 3)).await;
    let b1 = accepted(&app, &bob, &grace, day_at_ten(&app, 4)).await;
    let a2 = booked(&app, &alice, ada.researcher_id, day_at_ten(&app, 3)).await;
    // Ada, a researcher, books Grace as a reader.
    let d1 = booked(&app, &ada.token, grace.researcher_id, day_at_ten(&app, 5)).await;

    assert_eq!(listed(&app, &alice, "").await, [a2, a1]);
    assert_eq!(listed(&app, &bob, "").await, [b1]);
    assert_eq!(listed(&app, &grace.token, "").await, [d1, b1, a1]);
    assert_eq!(listed(&app, &ada.token, "").await, [d1, a2]);
    assert_eq!(
        session(&app, &grace.token, d1).await["reader_id"],
        ada.user_id
    );
    assert!(listed(&app, &stranger, "").await.is_empty());
    assert_eq!(listed(&app, &grace.token, "status=accepted").await, [b1]);
    assert_eq!(
        listed(&app, &alice, "status=accepted").await,
        Vec::<i64>::new()
    );
    // `from` keeps sessions ending after it, `to` those starting before it.
    let half_past = (day_at_ten(&app, 4) + chrono::Duration::minutes(30))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert_eq!(
        listed(&app, &grace.token, &format!("from={half_past}")).await,
        [d1, b1]
    );
    assert_eq!(
        listed(&app, &grace.token, &format!("to={half_past}")).await,
        [b1, a1]
    );

    // Each list entry says which part the caller plays.
    let resp = app
        .get("/api/v1/consulting/sessions", Some(&ada.token))
        .await;
    let page: Value = resp.json().await.unwrap();
    let roles: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["your_role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["reader", "researcher"]);

    // Paging walks the same list.
    let resp = app
        .get("/api/v1/consulting/sessions?limit=1", Some(&alice))
        .await;
    let page: Value = resp.json().await.unwrap();
    assert_eq!(page["items"][0]["id"], a2);
    let cursor = page["next_cursor"].as_str().unwrap();
    assert_eq!(
        listed(&app, &alice, &format!("limit=1&cursor={cursor}")).await,
        [a1]
    );
    let resp = app
        .get("/api/v1/consulting/sessions?status=maybe", Some(&alice))
        .await;
    assert_eq!(resp.status(), 422);
}

#[tokio::test]
async fn everyone_elses_sessions_are_for_admins_only() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let admin = app.admin_token("admin@uni.example").await;
    let one = booked(&app, &reader, r.researcher_id, day_at_ten(&app, 3)).await;
    let two = accepted(&app, &reader, &r, day_at_ten(&app, 4)).await;

    for token in [&reader, &r.token] {
        let resp = app
            .get("/api/v1/consulting/sessions?all=true", Some(token))
            .await;
        assert_eq!(resp.status(), 403);
        assert_eq!(error_code(resp).await, "forbidden");
    }
    assert_eq!(listed(&app, &admin, "all=true").await, [two, one]);
    assert!(listed(&app, &admin, "").await.is_empty(), "not theirs");

    let view = session(&app, &admin, two).await;
    assert_eq!(view["your_role"], "admin");
    assert_eq!(view["topic"], "Your 1952 compiler paper");
    assert_eq!(view["actions"], json!(["cancel"]));
    let resp = app
        .get(
            &format!("/api/v1/consulting/sessions/{two}/ics"),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // Admins cannot move a session on someone's behalf, but can cancel it.
    let resp = act(
        &app,
        &admin,
        two,
        "reschedule",
        json!({"start": day_at_ten(&app, 5).to_rfc3339()}),
    )
    .await;
    assert_eq!(resp.status(), 403);
    let s = acted(&app, &admin, two, "cancel", json!({"reason": "Policy"})).await;
    assert_eq!(s["cancelled_by"], "admin");
}
