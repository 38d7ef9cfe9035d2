//! `GET /api/v1/users/me/export` and "Download my data": an account with
//! a row in every exported table gets every one of them back, field by
//! field, decrypted; another account's rows never appear; each export is
//! audited.

use serde_json::{json, Value};

use colloquy::db::personal_data::{Treatment, PERSONAL_TABLES};

use crate::data_rights_fixtures::{exported, insert, seed, V};
use crate::helpers::spawn_app;

#[tokio::test]
async fn every_exported_table_comes_back_field_by_field_and_only_the_accounts_own() {
    let app = spawn_app().await;
    let token = app.token("reader@uni.example").await;
    app.token("other@uni.example").await;
    let id = |email: &'static str| {
        let bidx = app.state.keys.blind_index("email", email);
        app.db()
            .query_row("SELECT id FROM users WHERE email_bidx = ?1", [bidx], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
    };
    let (u, o) = (id("reader@uni.example"), id("other@uni.example"));
    let bidx = app.state.keys.blind_index("email", "reader@uni.example");
    let (mine, others) = seed(u, o);
    insert(&app, mine.clone(), bidx.clone()).await;
    insert(&app, others.clone(), bidx).await;

    let r = app.get("/api/v1/users/me/export", Some(&token)).await;
    assert_eq!(r.status(), 200);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"colloquy-data-"),
        "{disposition}"
    );
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["format"], "colloquy-export/1");
    assert_eq!(doc["subject"], json!({"user_id": u, "researcher_id": 50}));
    assert_eq!(doc["undecryptable"], 0);

    // Every exported table has the account's rows.
    for t in PERSONAL_TABLES {
        if let Treatment::Exported { .. } = t.treatment {
            let rows = doc["data"][t.table]
                .as_array()
                .unwrap_or_else(|| panic!("{} missing", t.table));
            assert!(!rows.is_empty(), "{} is empty", t.table);
        }
    }
    // Each seeded row is there, every field equal (encrypted ones in
    // clear, under the name without `_enc`).
    for (table, cols) in &mine {
        if cols
            .iter()
            .any(|(_, v)| matches!(v, V::T(t) if t.starts_with("other")))
        {
            continue;
        }
        let rows = doc["data"][*table].as_array().unwrap();
        let found = rows.iter().any(|row| {
            cols.iter().all(|(c, v)| match c {
                &"email_bidx" | &"recipient_bidx" => row.get(*c).is_none(),
                c => row[c.trim_end_matches("_enc")] == exported(v),
            })
        });
        assert!(
            found,
            "{table}: no exported row equals {:?} in {rows:#?}",
            cols.iter()
                .map(|(c, v)| (c, exported(v)))
                .collect::<Vec<_>>()
        );
    }
    // The account row, its credentials left out with a reason.
    let account = &doc["data"]["users"][0];
    assert_eq!(account["email"], "reader@uni.example");
    assert!(account.get("password_hash").is_none() && account.get("email_bidx").is_none());
    assert!(doc["data"]["auth_sessions"][0].get("token_hash").is_none());
    let users = doc["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["table"] == "users")
        .unwrap();
    assert!(users["withheld"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("password"));
    // The audit rows about the account: its log-in, with the address.
    let audit = doc["data"]["audit_log"].as_array().unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a["action"] == "auth.login" && a["ip"] == "127.0.0.1"),
        "{audit:#?}"
    );
    assert!(doc["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["table"] == "idempotency_keys"));

    // Nothing of the other account's own.
    let text = doc.to_string();
    for needle in [
        "other topic",
        "other question",
        "\"percent\":99",
        "2026-11-05T10",
    ] {
        assert!(!text.contains(needle), "{needle} leaked");
    }
    // Both sides of session 701 see it: the account is its researcher.
    assert!(doc["data"]["consulting_sessions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == 701));

    // Audited, by the account itself.
    assert!(app.audit_actions().iter().any(|a| a == "data.exported"));
    // Signed out: 401.
    assert_eq!(app.get("/api/v1/users/me/export", None).await.status(), 401);
}

#[tokio::test]
async fn the_account_page_offers_the_same_file() {
    let app = spawn_app().await;
    let (web, _) = crate::pages::signed_in_browser(&app, "pagereader@uni.example").await;
    let page = crate::pages::page_text(&web, &app, "/account").await;
    assert!(page.contains("href=\"/account/export\"") && page.contains("Download my data"));
    let r = web.get(app.url("/account/export")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["data"]["users"][0]["email"], "pagereader@uni.example");
    // Signed out: to the log-in page, not a file.
    let r = crate::pages::browser()
        .get(app.url("/account/export"))
        .send()
        .await
        .unwrap();
    assert!(r.url().path().starts_with("/login"), "{}", r.url());
}
