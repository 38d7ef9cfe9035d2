//! A full disk (simulated with `PRAGMA max_page_count` on the writer
//! connection): writes answer 503 `storage_full` in the API's error shape
//! and store nothing of themselves, reads keep working, and writes work
//! again once there is room.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// Caps the writer's database at `pages` (its current size when `None`).
async fn cap_pages(app: &TestApp, pages: Option<i64>) {
    app.state
        .db
        .write(move |tx| {
            let pages = match pages {
                Some(p) => p,
                None => tx.query_row("PRAGMA page_count", [], |r| r.get(0))?,
            };
            let _: i64 = tx.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                r.get(0)
            })?;
            Ok(())
        })
        .await
        .unwrap();
}

fn paper(i: usize) -> Value {
    json!({
        "title": format!("Storage pressure {i}: {}", "a long title word ".repeat(8)),
        "authors": [{"name": format!("Author Number {i}"), "affiliation": "Full Disk University"}],
    })
}

fn papers_stored(app: &TestApp) -> i64 {
    app.db()
        .query_row("SELECT COUNT(*) FROM papers", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_503_keeps_reads_and_recovers() {
    let app = spawn_app().await;
    let token = app.token("reader@uni.example").await;
    let first = app.sample_paper(&token).await;
    cap_pages(&app, None).await;

    let mut created = 1;
    let mut refused = None;
    for i in 0..300 {
        let r = app.create_paper(&token, &paper(i)).await;
        match r.status().as_u16() {
            201 => created += 1,
            503 => {
                assert_eq!(r.headers()["retry-after"], "60");
                refused = Some(r.json::<Value>().await.unwrap());
                break;
            }
            other => panic!(
                "a write on a full disk answered {other}: {}",
                r.text().await.unwrap()
            ),
        }
    }
    let body = refused.expect("the capped database never filled");
    assert_eq!(body["error"]["code"], "storage_full");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nothing was saved"));
    // Nothing half written: one row per 201, no paper of the refused one.
    assert_eq!(papers_stored(&app), created);

    // Reads keep working.
    let r = app
        .get(&format!("/api/v1/papers/{first}"), Some(&token))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.get("/healthz", None).await.status(), 200);

    // Room again: the same write goes through.
    cap_pages(&app, Some(1_000_000_000)).await;
    let r = app.create_paper(&token, &paper(999)).await;
    assert_eq!(r.status(), 201);
    assert_eq!(papers_stored(&app), created + 1);
}
