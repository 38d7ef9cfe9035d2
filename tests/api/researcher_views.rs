//! The cached public views (`services::researcher_views`): a paper's
//! researcher list and a researcher's view are served from the cache to
//! anyone but an admin, and a committed change to what they show is seen
//! by the very next read, whichever write path made it.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::sessions_fixtures::{bookable_first_author, bookable_researcher};

async fn list(app: &TestApp, paper: i64, token: Option<&str>) -> Value {
    get_json(
        app,
        &format!("/api/v1/consulting/researchers/{paper}"),
        token,
    )
    .await
}

async fn get_json(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    app.get(path, token).await.json().await.unwrap()
}

/// The researcher withdraws their `researcher_listing` consent.
async fn withdraw_listing(app: &TestApp, token: &str) {
    let r = app
        .post_json(
            "/api/v1/users/me/consents/researcher_listing/withdraw",
            Some(token),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_cached_list_and_view_follow_every_committed_change() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    let (paper, b) = bookable_first_author(&app, &admin, "grace@uni.example").await;
    let rid = colloquy::domain::ResearcherId(b.researcher_id);
    let first = list(&app, paper, None).await;
    assert_eq!(first["items"][0]["bookable"], true, "{first}");
    // Served again from the cache, the same.
    assert_eq!(list(&app, paper, None).await, first);
    // Admins read fresh, with the provenance nobody else sees.
    let theirs = list(&app, paper, Some(&admin)).await;
    assert!(theirs["items"][0]["sources"].is_object(), "{theirs}");
    assert!(first["items"][0]["sources"].is_null(), "{first}");

    // A write through any path (here the repository, as collection or a
    // merge would) is seen by the next read.
    app.state
        .db
        .write(move |tx| {
            tx.execute(
                "UPDATE researchers SET affiliation = 'Moved Institute' WHERE id = ?1",
                [rid],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let moved = list(&app, paper, None).await;
    assert_eq!(
        moved["items"][0]["affiliation"], "Moved Institute",
        "{moved}"
    );
    let one: Value = app
        .get(&format!("/api/v1/researchers/{}", b.researcher_id), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["affiliation"], "Moved Institute");

    // Withdrawing the listing consent hides it from the next read.
    withdraw_listing(&app, &b.token).await;
    assert_eq!(list(&app, paper, None).await["items"][0]["bookable"], false);
}

#[tokio::test]
async fn reads_for_anyone_but_an_admin_never_decrypt_the_address() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    let b = bookable_researcher(&app, "grace@uni.example").await;
    let rid = colloquy::domain::ResearcherId(b.researcher_id);
    let (keys, email) = (
        app.state.keys.clone(),
        colloquy::domain::Email::parse("grace@yale.example").unwrap(),
    );
    app.state
        .db
        .write(move |tx| {
            colloquy::db::repos::researchers::set_email_by_admin(
                tx,
                &keys,
                rid,
                &email,
                colloquy::domain::UserId(1),
                chrono::Utc::now(),
            )
        })
        .await
        .unwrap();
    let keys = app.state.keys.clone();
    let (public, full) = app
        .state
        .db
        .read(move |c| {
            Ok((
                colloquy::db::repos::researchers::find_with(c, &keys, rid, false)?,
                colloquy::db::repos::researchers::find_with(c, &keys, rid, true)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(public.unwrap().email, None);
    assert_eq!(full.unwrap().email.as_deref(), Some("grace@yale.example"));
    let seen: Value = app
        .get(
            &format!("/api/v1/researchers/{}", b.researcher_id),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["email"], "grace@yale.example");
}

async fn search(app: &TestApp, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/papers?{query}"), None).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_cached_search_follows_every_committed_change() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    let (paper, b) = bookable_first_author(&app, &admin, "grace@uni.example").await;
    let first = search(&app, "q=attention").await;
    assert_eq!(ids(&first), [paper]);
    assert_eq!(first["items"][0]["has_bookable_author"], true, "{first}");
    // Served again from the cache, the same (engagement.rs counts each).
    assert_eq!(search(&app, "q=attention").await, first);
    assert_eq!(search(&app, "q=Attention").await, first, "any case");

    // A new paper is found by the next search.
    let r = app
        .create_paper(
            &admin,
            &json!({"title": "Attention Heads Revisited", "authors": [{"name": "Ada Byron"}]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let newer = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(ids(&search(&app, "q=attention").await), [newer, paper]);

    // A write through any path (here the repository, as collection or a
    // removal at an author's request would) is seen by the next read.
    app.state
        .db
        .write(move |tx| {
            tx.execute(
                "UPDATE paper_authors SET affiliation = 'Moved Institute' WHERE paper_id = ?1 AND position = 0",
                [paper],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let moved = search(&app, "q=attention").await;
    assert_eq!(
        moved["items"][1]["authors"][0]["affiliation"], "Moved Institute",
        "{moved}"
    );

    // Withdrawing the listing consent unmarks the paper and drops it from
    // the bookable-only search at once.
    assert_eq!(
        ids(&search(&app, "q=attention&bookable=true").await),
        [paper]
    );
    withdraw_listing(&app, &b.token).await;
    let after = search(&app, "q=attention").await;
    assert_eq!(after["items"][1]["has_bookable_author"], false, "{after}");
    assert!(ids(&search(&app, "q=attention&bookable=true").await).is_empty());

    // A bad page is still a clear error, never a cached answer.
    let r = app.get("/api/v1/papers?q=attention&limit=0", None).await;
    assert_eq!(r.status(), 422);
}

/// A paper's list pages in author order: an erased profile is left out
/// without leaving a page short, a researcher at two positions shows once
/// on a page, and the cursor walks to the end.
#[tokio::test]
async fn a_paper_list_pages_in_author_order_without_erased_profiles() {
    use colloquy::clock::Clock;
    use colloquy::db::repos::researchers;
    use colloquy::domain::PaperId;
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    let paper = PaperId(app.sample_paper(&admin).await);
    let now = app.clock.now();
    let ids = app
        .state
        .db
        .write(move |tx| {
            tx.execute("DELETE FROM paper_researchers WHERE paper_id = ?1", [paper])?;
            let mut ids = Vec::new();
            for name in ["Ada Alpha", "Bo Beta", "Cy Gamma", "Di Delta"] {
                ids.push(researchers::insert(tx, name, None, None, now)?);
            }
            // Author order: Ada, Bo (erased), Cy, Ada again, Di.
            for (position, id) in [ids[0], ids[1], ids[2], ids[0], ids[3]]
                .into_iter()
                .enumerate()
            {
                researchers::link_paper(tx, paper, position as i64, id)?;
            }
            tx.execute(
                "UPDATE researchers SET erased_at = '2026-01-01T00:00:00Z' WHERE id = ?1",
                [ids[1]],
            )?;
            Ok(ids)
        })
        .await
        .unwrap();
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect()
    };
    let path = format!("/api/v1/consulting/researchers/{}", paper.0);
    let first = get_json(&app, &format!("{path}?limit=2"), None).await;
    assert_eq!(names(&first), ["Ada Alpha", "Cy Gamma"], "{first}");
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = get_json(&app, &format!("{path}?limit=2&cursor={cursor}"), None).await;
    assert_eq!(names(&second), ["Ada Alpha", "Di Delta"], "{second}");
    assert!(second["next_cursor"].is_null(), "{second}");
    // On one page, Ada shows once.
    let whole = get_json(&app, &path, None).await;
    assert_eq!(
        names(&whole),
        ["Ada Alpha", "Cy Gamma", "Di Delta"],
        "{whole}"
    );
    assert_eq!(whole["items"][0]["id"], ids[0].0, "{whole}");
    // A page past the last author is empty; only a paper that does not
    // exist is a 404.
    let beyond = colloquy::pagination::encode_cursor(99);
    let past = get_json(&app, &format!("{path}?cursor={beyond}"), None).await;
    assert_eq!(past["items"], serde_json::json!([]), "{past}");
    let missing = app.get("/api/v1/consulting/researchers/999999", None).await;
    assert_eq!(missing.status(), 404);
}
