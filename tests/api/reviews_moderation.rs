//! Moderation: the queue, decisions and their refusals, the author's
//! e-mail, the audit trail, figures, and the stored rating that always
//! equals a fresh count.

use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app_with};
use crate::reviews_fixtures::*;
use crate::sessions_fixtures::{mails, recipients, spawn_patient_app};
use colloquy::clock::Clock;
use colloquy::domain::ResearcherId;

#[tokio::test]
async fn an_admin_publishes_a_held_review_and_its_author_is_told_why() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 3).await;
    let rid = c.researcher.researcher_id;
    let held = reviewed(&app, &c.reader, c.sessions[0], 1, None).await["id"]
        .as_i64()
        .unwrap();
    let admin = app.admin_token("admin@uni.example").await;

    // Not for readers or the researcher.
    assert_eq!(
        moderate(&app, &c.reader, held, "publish", "x")
            .await
            .status(),
        403
    );
    assert_eq!(
        moderate(&app, &c.researcher.token, held, "publish", "x")
            .await
            .status(),
        403
    );
    let r = app
        .get("/api/v1/admin/reviews?status=held", Some(&c.reader))
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        moderate(&app, &admin, held, "publish", " ").await.status(),
        422
    );
    let r = app
        .get("/api/v1/admin/reviews?status=weird", Some(&admin))
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        moderate(&app, &admin, 999_999, "publish", "x")
            .await
            .status(),
        404
    );

    let r = moderate(&app, &admin, held, "publish", "A short rating is fair.").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        profile_rating(&app, rid).await,
        json!({"average": 1.0, "count": 1})
    );
    let told = mails(&app, "review_approved");
    assert_eq!(recipients(&told), ["reader@uni.example"]);
    assert!(told[0].content.text.contains("A short rating is fair."));
    assert_eq!(
        recipients(&mails(&app, "review_published")),
        ["grace@yale.example"]
    );
    assert!(app
        .audit_actions()
        .contains(&"review.moderated".to_string()));

    // Hidden, then removed: out of the rating; removed is final.
    assert_eq!(
        moderate(&app, &admin, held, "hide", "Reported as unfair.")
            .await
            .status(),
        200
    );
    assert_eq!(profile_rating(&app, rid).await, Value::Null);
    let r = moderate(&app, &admin, held, "hide", "Again").await;
    assert_eq!(
        (r.status().as_u16(), error_code(r).await.as_str()),
        (409, "illegal_moderation")
    );
    assert_eq!(
        moderate(&app, &admin, held, "remove", "Abusive.")
            .await
            .status(),
        200
    );
    for action in ["publish", "hide", "remove"] {
        let r = moderate(&app, &admin, held, action, "x").await;
        assert_eq!(r.status(), 409, "{action} after remove");
    }
    assert_eq!(queue(&app, &admin, "removed").await.len(), 1);
    // Publishing it again after hiding is no news for the researcher.
    let other_held = reviewed(&app, &c.reader, c.sessions[1], 1, None).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        moderate(&app, &admin, other_held, "hide", "Not now.")
            .await
            .status(),
        200
    );
    assert_eq!(
        moderate(&app, &admin, other_held, "publish", "Fine after all.")
            .await
            .status(),
        200
    );
    assert_eq!(
        mails(&app, "review_published").len(),
        1,
        "once, for the first publication only"
    );
    assert_eq!(
        moderate(&app, &admin, other_held, "remove", "Tidy.")
            .await
            .status(),
        200
    );
    // Removing a published (never held) review does not mail its author.
    let other = reviewed(&app, &c.reader, c.sessions[2], 5, Some("Great.")).await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        moderate(&app, &admin, other, "remove", "Duplicate.")
            .await
            .status(),
        200
    );
    assert!(mails(&app, "review_removed").is_empty());
    // The author sees what became of it.
    let r = app
        .get(
            &format!("/api/v1/consulting/reviews/{held}"),
            Some(&c.reader),
        )
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["status_label"],
        "removed by a moderator"
    );
}

#[tokio::test]
async fn a_removed_held_review_tells_its_author_the_reason() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 1).await;
    let id = reviewed(
        &app,
        &c.reader,
        c.sessions[0],
        5,
        Some("mail me a@b.example"),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let admin = app.admin_token("admin@uni.example").await;
    assert_eq!(
        moderate(
            &app,
            &admin,
            id,
            "remove",
            "Contact details are not allowed."
        )
        .await
        .status(),
        200
    );
    let told = mails(&app, "review_removed");
    assert_eq!(recipients(&told), ["reader@uni.example"]);
    assert!(told[0]
        .content
        .text
        .contains("Contact details are not allowed."));
}

#[tokio::test]
async fn figures_are_for_the_researcher_and_admins() {
    let app = spawn_patient_app().await;
    let c = completed(&app, 3).await;
    let rid = c.researcher.researcher_id;
    let a = reviewed(&app, &c.reader, c.sessions[0], 5, Some("Great.")).await["id"]
        .as_i64()
        .unwrap();
    reviewed(&app, &c.reader, c.sessions[1], 3, None).await;
    reviewed(&app, &c.reader, c.sessions[2], 1, None).await;
    reply(&app, &c.researcher.token, a, "Thanks!").await;

    let path = format!("/api/v1/consulting/researchers/{rid}/reviews/analytics");
    let stranger = app.token("mallory@uni.example").await;
    assert_eq!(app.get(&path, Some(&stranger)).await.status(), 403);
    assert_eq!(app.get(&path, None).await.status(), 401);
    let r = app.get(&path, Some(&c.researcher.token)).await;
    assert_eq!(r.status(), 200);
    let f: Value = r.json().await.unwrap();
    assert_eq!(f["summary"]["count"], 2);
    assert_eq!(f["summary"]["distribution"]["5"], 1);
    assert_eq!(f["written"], 3);
    assert_eq!(f["answer_rate"], 0.5);
    assert_eq!(
        f["by_month"],
        json!([{"month": "2026-12", "average": 4.0, "count": 2}])
    );
    let one_star = f["held_by_rule"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "one_star_without_comment")
        .unwrap()
        .clone();
    assert_eq!(one_star["held"], 1);

    let admin = app.admin_token("admin@uni.example").await;
    assert_eq!(
        app.get("/api/v1/admin/reviews/analytics", Some(&c.reader))
            .await
            .status(),
        403
    );
    let all: Value = app
        .get("/api/v1/admin/reviews/analytics", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["written"], 3);
}

/// Whether every researcher's stored tally equals a fresh count.
fn in_step(app: &crate::helpers::TestApp, ids: &[i64]) -> bool {
    let conn = app.db();
    ids.iter()
        .all(|id| colloquy::services::reviews::ratings::in_step(&conn, ResearcherId(*id)).unwrap())
}

#[tokio::test]
async fn the_stored_rating_always_equals_a_fresh_count_after_random_actions() {
    let seed: u64 = std::env::var("REVIEWS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("reviews property seed: {seed} (REVIEWS_SEED={seed} repeats it)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let app = spawn_app_with(|c| {
        c.auth.access_token_ttl_secs = 400 * 86_400;
        c.reviews.edit_hours = 720;
    })
    .await;
    let c = completed(&app, 8).await;
    let rid = c.researcher.researcher_id;
    let admin = app.admin_token("admin@uni.example").await;
    let reporters = [
        app.token("r1@uni.example").await,
        app.token("r2@uni.example").await,
        app.token("r3@uni.example").await,
    ];
    let mut ids: Vec<i64> = Vec::new();
    let comments = [
        None,
        Some("Good."),
        Some("see www.example.org"),
        Some("Fine work."),
    ];
    for step in 0..60 {
        let action = rng.gen_range(0..5);
        match action {
            0 if ids.len() < c.sessions.len() => {
                let comment = comments[rng.gen_range(0..comments.len())];
                let id = reviewed(
                    &app,
                    &c.reader,
                    c.sessions[ids.len()],
                    rng.gen_range(1..=5),
                    comment,
                )
                .await;
                ids.push(id["id"].as_i64().unwrap());
            }
            1 if !ids.is_empty() => {
                let id = ids[rng.gen_range(0..ids.len())];
                let comment = comments[rng.gen_range(0..comments.len())].unwrap_or("");
                patch(
                    &app,
                    &c.reader,
                    id,
                    json!({"rating": rng.gen_range(1..=5), "comment": comment}),
                )
                .await;
            }
            2 if !ids.is_empty() => {
                let id = ids[rng.gen_range(0..ids.len())];
                let action = ["publish", "hide", "remove"][rng.gen_range(0..3)];
                moderate(&app, &admin, id, action, "random").await;
            }
            3 if !ids.is_empty() => {
                let id = ids[rng.gen_range(0..ids.len())];
                report(&app, &reporters[rng.gen_range(0..3)], id, "random").await;
            }
            _ => {}
        }
        assert!(
            in_step(&app, &[rid]),
            "step {step} (action {action}), seed {seed}"
        );
    }
    let fresh: (i64, i64) = app
        .db()
        .query_row(
            "SELECT count(*), coalesce(sum(rating), 0) FROM reviews WHERE researcher_id = ?1 AND status = 'published'",
            [rid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let shown = profile_rating(&app, rid).await;
    if fresh.0 == 0 {
        assert_eq!(shown, Value::Null);
    } else {
        assert_eq!(shown["count"], fresh.0);
    }
}

/// Sets a researcher's stored rating straight away: `count` reviews
/// summing to `total` stars.
fn rated(app: &crate::helpers::TestApp, researcher: i64, count: i64, total: i64) {
    app.db()
        .execute(
            "INSERT INTO researcher_ratings (researcher_id, count, total) VALUES (?1, ?2, ?3)",
            [researcher, count, total],
        )
        .unwrap();
}

#[tokio::test]
async fn a_papers_researchers_by_rating_put_fifty_at_four_point_eight_before_one_five_star() {
    let app = crate::helpers::spawn_app().await;
    let token = app.token("adder@uni.example").await;
    let paper = app.sample_paper(&token).await;
    let now = app.clock.now();
    app.state
        .db
        .write(move |tx| {
            use colloquy::db::repos::researchers;
            for (i, name) in ["Ann Alpha", "Ben Beta", "Cy Gamma"]
                .into_iter()
                .enumerate()
            {
                let id = researchers::insert(tx, name, None, None, now)?;
                researchers::link_paper(tx, colloquy::domain::PaperId(paper), i as i64, id)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let path = format!("/api/v1/consulting/researchers/{paper}");
    let authors: Value = app.get(&path, None).await.json().await.unwrap();
    let ids: Vec<i64> = authors["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    // The first author has one 5-star review, the second fifty averaging 4.8.
    rated(&app, ids[0], 1, 5);
    rated(&app, ids[1], 50, 240);

    let by_rating: Value = app
        .get(&format!("{path}?sort=rating"), None)
        .await
        .json()
        .await
        .unwrap();
    let order: Vec<i64> = by_rating["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(&order[..2], &[ids[1], ids[0]]);
    assert_eq!(order.len(), ids.len());
    assert_eq!(
        by_rating["items"][0]["rating"],
        json!({"average": 4.8, "count": 50})
    );
    // Pages continue in the same order.
    let first: Value = app
        .get(&format!("{path}?sort=rating&limit=1"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"][0]["id"], ids[1]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get(&format!("{path}?sort=rating&limit=1&cursor={cursor}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"][0]["id"], ids[0]);
    let r = app.get(&format!("{path}?sort=stars"), None).await;
    assert_eq!(
        (r.status().as_u16(), error_code(r).await.as_str()),
        (422, "validation_failed")
    );

    // Search results and the paper page carry the authors' stars.
    let hits: Value = app
        .get("/api/v1/papers?limit=100", None)
        .await
        .json()
        .await
        .unwrap();
    let hit = hits["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == paper)
        .unwrap()
        .clone();
    assert_eq!(hit["authors_rating"], json!({"average": 4.8, "count": 51}));
    let page = app.get("/papers", None).await.text().await.unwrap();
    assert!(
        page.contains("4.8 of 5 (51 reviews)"),
        "search results page"
    );
}
