//! A dispute about a review: the admin's `remove_review` removes it through
//! the reviews service, in the resolution's transaction.

use serde_json::{json, Value};

use crate::disputes_fixtures::*;
use crate::reviews_fixtures::{completed, reviewed};
use crate::sessions_fixtures::spawn_patient_app;

#[tokio::test]
async fn resolving_a_review_dispute_with_remove_review_removes_the_review() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 1).await;
    let session = c.sessions[0];
    let review = reviewed(
        &app,
        &c.reader,
        session,
        1,
        Some("He talked about his other paper."),
    )
    .await;
    let rid = review["id"].as_i64().unwrap();
    let admin_token = app.admin_token("admin@uni.example").await;
    let body = json!({"session_id": session, "kind": "review", "review_id": rid,
                      "description": "The session covered exactly the paper asked about."});
    let r = open_with(&app, &c.researcher.token, &body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let d = dispute(&app, &admin_token, id).await;
    assert_eq!(d["review_id"], rid);

    let d = resolved(
        &app,
        &admin_token,
        id,
        json!({"outcome": "remove_review", "note": "The review describes another session."}),
    )
    .await;
    assert_eq!(d["outcome"], "remove_review");
    let status: String = app
        .db()
        .query_row("SELECT status FROM reviews WHERE id = ?1", [rid], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(status, "removed");
    let audit = app.audit_actions();
    for a in ["review.moderated", "dispute.resolved"] {
        assert!(audit.contains(&a.to_string()), "{a}: {audit:?}");
    }

    // A review already removed cannot be removed again; the dispute stays open.
    let again = open_with(&app, &c.researcher.token, &body).await;
    let again = again.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = as_admin(
        &app,
        &admin_token,
        again,
        "resolve",
        json!({"outcome": "remove_review", "note": "Again"}),
    )
    .await;
    refused(r, "illegal_moderation").await;
    assert_eq!(stored(&app, again), "awaiting_response");
    // remove_review fits only a dispute about a review.
    let other = json!({"session_id": session, "kind": "quality", "description": "Too short"});
    post(&app, &c.researcher.token, again, "withdraw", json!({})).await;
    let r = open_with(&app, &c.reader, &other).await;
    let quality = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = as_admin(
        &app,
        &admin_token,
        quality,
        "resolve",
        json!({"outcome": "remove_review", "note": "x"}),
    )
    .await;
    assert_eq!(r.status(), 422);
}
