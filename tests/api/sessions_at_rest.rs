//! What a session says stays encrypted on disk: the topic, the meeting
//! link and the cancellation reason are not in the database file or its
//! WAL, though the mails and invites that carry them are stored too.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::sessions_fixtures::*;

/// Every byte of the database, WAL included, after a checkpoint.
fn raw_database(app: &TestApp) -> Vec<u8> {
    colloquy::db::Db::open(&app.state.config.storage, &app.db_path()).unwrap();
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", app.db_path().display())) {
            bytes.extend(b);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[tokio::test]
async fn the_topic_meeting_link_and_cancel_reason_are_not_stored_in_clear() {
    let app = spawn_app().await;
    let r = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("reader@uni.example").await;
    let topic = "Unpublished zirconium lattice results";
    let resp = app
        .post_json(
            "/api/v1/consulting/sessions",
            Some(&reader),
            &json!({
                "researcher_id": r.researcher_id,
                "start": day_at_ten(&app, 3).to_rfc3339(),
                "duration_minutes": 60,
                "topic": topic
            }),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let s = acted(&app, &r.token, id, "accept", json!({})).await;
    let url = s["meeting_url"].as_str().unwrap().to_string();
    let room = url.rsplit('/').next().unwrap().to_string();
    assert!(room.len() >= 16, "{url}");
    let reason = "Confidential merger of two departments";
    acted(&app, &reader, id, "cancel", json!({"reason": reason})).await;
    // The mails about it carry all three, so they were stored somewhere.
    let cancelled = mails(&app, "session_cancelled");
    assert!(cancelled[0].content.text.contains(reason));
    assert!(mails(&app, "session_accepted")[0].content.attachments[0]
        .body
        .contains(&room));

    let raw = raw_database(&app);
    assert!(
        contains(&raw, "consulting_sessions"),
        "not the database file"
    );
    for secret in [topic, "zirconium", &url, &room, reason, "merger"] {
        assert!(!contains(&raw, secret), "`{secret}` is stored in clear");
    }
}
