//! Who may reach a dispute: its participants and admins. Anyone else gets
//! 404 (a foreign dispute looks like a missing one), non-admins 403 on the
//! admin endpoints, and nobody anything without a token.

use serde_json::json;

use crate::disputes_fixtures::*;
use crate::helpers::error_code;
use crate::sessions_fixtures::{accepted, at, bookable_researcher};

#[tokio::test]
async fn a_stranger_gets_404_from_every_dispute_endpoint() {
    let h = happened().await;
    let app = &h.app;
    let id = opened(app, &h.reader, h.id, "quality").await;
    say(app, &h.reader, id, "Private words").await;
    let stranger = app.token("stranger@uni.example").await;
    // Another researcher, with a session of their own with the same reader.
    let now = colloquy::clock::Clock::now(&app.clock);
    app.clock.set(at("2026-12-07T08:00:00Z"));
    let other = bookable_researcher(app, "lise@kwi.example").await;
    accepted(app, &h.reader, &other, at("2026-12-08T09:00:00Z")).await;
    app.clock.set(now);

    for token in [&stranger, &other.token] {
        for target in [id, id + 1000] {
            let r = get(app, token, target).await;
            assert_eq!(r.status(), 404, "GET {target}");
            assert_eq!(error_code(r).await, "not_found");
            for (verb, body) in [
                ("messages", json!({"text": "Hello"})),
                ("withdraw", json!({})),
                ("contest", json!({"text": "No"})),
            ] {
                let r = post(app, token, target, verb, body).await;
                assert_eq!(r.status(), 404, "{verb} on {target}");
                assert_eq!(error_code(r).await, "not_found");
            }
        }
        let page = app
            .get("/api/v1/consulting/disputes", Some(token))
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap();
        assert_eq!(page["items"], json!([]));
    }
    assert_eq!(stored(app, id), "awaiting_response");
    assert_eq!(
        dispute(app, &h.reader, id).await["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(get(app, "not-a-token", id).await.status(), 401);
    let r = app
        .get(&format!("/api/v1/consulting/disputes/{id}"), None)
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn only_admins_reach_the_admin_dispute_endpoints() {
    let h = happened().await;
    let app = &h.app;
    let id = opened(app, &h.reader, h.id, "quality").await;
    let body = json!({"outcome": "no_refund", "note": "I decide"});
    for token in [&h.reader, &h.researcher.token] {
        let r = app.get("/api/v1/admin/disputes", Some(token)).await;
        assert_eq!(r.status(), 403);
        assert_eq!(error_code(r).await, "forbidden");
        for verb in ["review", "resolve"] {
            let r = as_admin(app, token, id, verb, body.clone()).await;
            assert_eq!(r.status(), 403, "{verb}");
        }
    }
    for verb in ["review", "resolve"] {
        let r = app
            .post_json(&format!("/api/v1/admin/disputes/{id}/{verb}"), None, &body)
            .await;
        assert_eq!(r.status(), 401);
    }
    assert_eq!(app.get("/api/v1/admin/disputes", None).await.status(), 401);
    assert_eq!(stored(app, id), "awaiting_response");
    // An admin reaches a missing dispute as 404.
    let admin_token = app.admin_token("admin@uni.example").await;
    let r = as_admin(app, &admin_token, id + 1000, "resolve", body).await;
    assert_eq!(r.status(), 404);
    assert_eq!(get(app, &admin_token, id + 1000).await.status(), 404);
    assert_eq!(dispute(app, &admin_token, id).await["your_role"], "admin");
}
