//! Admins find a data subject by e-mail address (blind index) or name,
//! including a researcher who never signed up, and download their copy
//! with the provenance of every profile field. Readers may not.

use serde_json::Value;

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn an_admin_finds_a_collected_researcher_by_address_and_exports_the_profile() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    let reader = app.token("reader@uni.example").await;
    let keys = app.state.keys.clone();
    let (enc, bidx) = (
        keys.encrypt("researchers.email", "grace@lab.example"),
        keys.blind_index("email", "grace@lab.example"),
    );
    app.state
        .db
        .write(move |tx| {
            tx.execute(
                "INSERT INTO researchers (id, name, orcid, email_enc, email_bidx, created_at, updated_at)
                 VALUES (70, 'Grace Collected', '0000-0002-1825-0097', ?1, ?2, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
                [enc, bidx],
            )?;
            tx.execute_batch(
                "INSERT INTO researcher_field_sources (researcher_id, field, provider, source_url, recorded_at)
                 VALUES (70, 'email', 'rocketreach', 'https://rocketreach.example/p/1', '2026-01-01T00:00:00.000000Z');
                 INSERT INTO researchers (id, name, created_at, updated_at)
                 VALUES (71, 'Someone Else', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');",
            )?;
            Ok(())
        })
        .await
        .unwrap();

    let found: Value = app
        .get(
            "/api/v1/admin/data-subjects?q=Grace@Lab.example",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["kind"], "researcher");
    assert_eq!(found[0]["id"], 70);
    assert_eq!(found[0]["owner_user_id"], Value::Null);
    let by_name: Value = app
        .get("/api/v1/admin/data-subjects?q=grace", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_name[0]["id"], 70);

    let url = found[0]["export_url"].as_str().unwrap().to_string();
    let r = app.get(&url, Some(&admin)).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("colloquy-data-researcher-70-"));
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["subject"]["user_id"], Value::Null);
    assert_eq!(doc["subject"]["researcher_id"], 70);
    let profile = &doc["data"]["researchers"][0];
    assert_eq!(profile["email"], "grace@lab.example");
    assert_eq!(profile["orcid"], "0000-0002-1825-0097");
    assert_eq!(doc["data"]["researchers"].as_array().unwrap().len(), 1);
    let sources = &doc["data"]["researcher_field_sources"][0];
    assert_eq!(sources["provider"], "rocketreach");
    assert_eq!(sources["source_url"], "https://rocketreach.example/p/1");
    // No account: nothing of any account comes with it.
    assert_eq!(doc["data"]["users"], serde_json::json!([]));
    assert_eq!(doc["data"]["audit_log"], serde_json::json!([]));
    let audit = app.db().query_row(
        "SELECT target, detail FROM audit_log WHERE action = 'data.exported'",
        [],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
    );
    let (target, detail) = audit.unwrap();
    assert_eq!(target, "researcher:70");
    assert!(detail.contains("\"by\":\"admin\""), "{detail}");

    // Readers may not search or export; bad input is explained.
    let r = app
        .get("/api/v1/admin/data-subjects?q=grace", Some(&reader))
        .await;
    assert_eq!(r.status(), 403);
    let r = app.get(&url, Some(&reader)).await;
    assert_eq!(r.status(), 403);
    let r = app
        .get("/api/v1/admin/data-subjects?q=g", Some(&admin))
        .await;
    assert_eq!(r.status(), 422);
    // Wildcards are matched as themselves, not as "everyone".
    for q in ["%25%25", "__", "%25_"] {
        let r = app
            .get(&format!("/api/v1/admin/data-subjects?q={q}"), Some(&admin))
            .await;
        assert_eq!(r.status(), 200, "{q}");
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            serde_json::json!([]),
            "{q}"
        );
    }
    for q in ["", "%00%00", "%20%20x"] {
        let r = app
            .get(&format!("/api/v1/admin/data-subjects?q={q}"), Some(&admin))
            .await;
        assert_eq!(r.status(), 422, "{q}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["fields"]["q"].is_string(), "{q}: {body}");
    }
    let r = app.get("/api/v1/admin/data-subjects", Some(&admin)).await;
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["fields"]["q"].is_string(), "{body}");
    let r = app
        .get("/api/v1/admin/data-subjects?q=not@an@address", Some(&admin))
        .await;
    assert_eq!(r.status(), 422);
    let r = app
        .get("/api/v1/admin/data-subjects/paper/1/export", Some(&admin))
        .await;
    assert_eq!(error_code(r).await, "not_found");
    let r = app
        .get(
            "/api/v1/admin/data-subjects/researcher/9999/export",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_profile_with_an_owner_exports_the_owners_account() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.example").await;
    app.token("owner@uni.example").await;
    let owner: i64 = app
        .db()
        .query_row("SELECT max(id) FROM users WHERE role = 'user'", [], |r| {
            r.get(0)
        })
        .unwrap();
    app.state
        .db
        .write(move |tx| {
            tx.execute(
                "INSERT INTO researchers (id, name, user_id, created_at, updated_at)
                 VALUES (80, 'Owned Profile', ?1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
                [owner],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let doc: Value = app
        .get(
            "/api/v1/admin/data-subjects/researcher/80/export",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(doc["subject"]["user_id"], owner);
    assert_eq!(doc["data"]["users"][0]["email"], "owner@uni.example");
    assert_eq!(doc["data"]["researchers"][0]["id"], 80);
}

#[tokio::test]
async fn the_admin_page_finds_subjects_and_explains_a_bad_search() {
    let app = spawn_app().await;
    app.admin_token("admin@uni.example").await;
    let (web, _) = crate::pages::logged_in_browser(&app, "admin@uni.example").await;
    let page = |q: &'static str| {
        let (web, app) = (&web, &app);
        async move { crate::pages::page_text(web, app, &format!("/admin/data-subjects?q={q}")).await }
    };
    let html = page("admin%40uni.example").await;
    assert!(
        html.contains("id=\"subjects\"") && html.contains("/admin/data-subjects/user/"),
        "{html}"
    );
    assert!(html.contains("Download their data"));
    let link = html
        .split("href=\"/admin/data-subjects/user/")
        .nth(1)
        .unwrap();
    let export = format!(
        "/admin/data-subjects/user/{}",
        &link[..link.find('"').unwrap()]
    );
    let html = page("x").await;
    assert!(html.contains("aria-invalid=\"true\"") && html.contains("at least two characters"));
    let html = page("nobody%20here").await;
    assert!(html.contains("id=\"no-subjects\""));
    let r = web.get(app.url(&export)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // A reader gets no such page.
    let (reader, _) = crate::pages::signed_in_browser(&app, "curious@uni.example").await;
    let r = reader
        .get(app.url("/admin/data-subjects?q=admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}
