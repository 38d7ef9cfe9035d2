use std::sync::Arc;

use colloquy::db::repos::audit::{self, Verification};
use colloquy::services::key_rotation;
use colloquy::state::AppState;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, PASSWORD};

async fn verify(state: &AppState) -> Verification {
    let keys = state.keys.clone();
    state
        .db
        .read(move |c| audit::verify(c, &keys))
        .await
        .unwrap()
}

async fn rotate(state: &AppState, drop_old: bool) -> key_rotation::RotationReport {
    let st = state.clone();
    tokio::task::spawn_blocking(move || key_rotation::rotate(&st, drop_old, &|_, _, _| {}))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_rotation_drill_reencrypts_everything_and_the_old_key_can_go() {
    let app = spawn_app().await;
    let t = app.token("drill@uni.edu").await;
    let id = app.sample_paper(&t).await;
    app.post_json(
        &format!("/api/v1/papers/{id}/queries"),
        Some(&t),
        &json!({"question": "Still readable after rotation?"}),
    )
    .await;

    let report = rotate(&app.state, false).await;
    assert_eq!(report.new_key_id, "k2");
    // The account's address, question and IP are under the account's own
    // key, which is rewrapped; what the keyring seals directly is
    // re-encrypted.
    assert!(
        report.subject_keys_rewrapped >= 1,
        "{}",
        report.subject_keys_rewrapped
    );
    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    for (table, col) in [
        ("users", "email_enc"),
        ("paper_queries", "question_enc"),
        ("audit_log", "ip_enc"),
    ] {
        let old: i64 = conn
            .query_row(&format!("SELECT COUNT(*) FROM {table} WHERE {col} IS NOT NULL AND {col} NOT LIKE 'v1:k2:%' AND {col} NOT LIKE 'v2:%'"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(old, 0, "{table}.{col} still has values under the old key");
    }

    // Drop the old key, then "restart": a fresh state from the same data dir.
    let st = app.state.clone();
    let (dropped, _) = tokio::task::spawn_blocking(move || st.keys.drop_retired())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dropped, vec!["k1".to_string()]);
    let restarted =
        AppState::build((*app.state.config).clone(), Arc::new(app.clock.clone())).unwrap();
    assert_eq!(restarted.keys.key_ids(), vec!["k2".to_string()]);
    let user =
        colloquy::services::accounts::login_api(&restarted, "drill@uni.edu", PASSWORD, None).await;
    assert!(user.is_ok());
    let me: Value = app
        .get("/api/v1/users/me", Some(&t))
        .await
        .json()
        .await
        .unwrap_or_default();
    // The old access token was signed with k1, which is gone.
    assert!(me.get("email").is_none());
    let fresh = app
        .login("drill@uni.edu", PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let me: Value = app
        .get("/api/v1/users/me", fresh["access_token"].as_str())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "drill@uni.edu");
    let qs: Value = app
        .get(
            &format!("/api/v1/papers/{id}/queries"),
            fresh["access_token"].as_str(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(qs["items"][0]["question"], "Still readable after rotation?");
    assert!(matches!(
        verify(&restarted).await,
        Verification::Intact { .. }
    ));
    assert!(app.audit_actions().contains(&"keys.rotated".to_string()));
}

#[tokio::test]
async fn rotate_with_drop_old_removes_the_retired_key() {
    let app = spawn_app().await;
    app.token("drop@uni.edu").await;
    let report = rotate(&app.state, true).await;
    assert_eq!(report.dropped, vec!["k1".to_string()]);
    assert_eq!(app.state.keys.key_ids(), vec!["k2".to_string()]);
    assert_eq!(app.login("drop@uni.edu", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn audit_verify_catches_an_edited_row() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.token(&format!("a{i}@uni.edu")).await;
    }
    let Verification::Intact { rows } = verify(&app.state).await else {
        panic!("chain broken before tampering")
    };
    assert!(rows >= 6);

    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    let err = conn
        .execute("UPDATE audit_log SET action = 'x' WHERE id = 3", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"));
    assert!(conn
        .execute("DELETE FROM audit_log WHERE id = 3", [])
        .is_err());

    // Someone with write access to the file drops the guard and edits row 3.
    conn.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = '{\"via\":\"forged\"}' WHERE id = 3;").unwrap();
    assert_eq!(
        verify(&app.state).await,
        Verification::Broken {
            row_id: 3,
            reason: "row 3 was edited (its hash does not match its contents)".into()
        }
    );
}

#[tokio::test]
async fn audit_verify_catches_missing_rows() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.token(&format!("m{i}@uni.edu")).await;
    }
    let Verification::Intact { rows } = verify(&app.state).await else {
        panic!("broken")
    };
    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    conn.execute_batch(&format!(
        "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id = {rows};"
    ))
    .unwrap();
    assert!(
        matches!(verify(&app.state).await, Verification::Broken { row_id, .. } if row_id == rows)
    );
    conn.execute("DELETE FROM audit_log WHERE id = 2", [])
        .unwrap();
    assert!(matches!(
        verify(&app.state).await,
        Verification::Broken { row_id: 2, .. }
    ));
}

/// The class: every `*_enc` column of the schema is re-encrypted by a
/// rotation, so no later table can be forgotten.
#[tokio::test]
async fn every_encrypted_column_of_the_schema_is_rotated() {
    let app = spawn_app().await;
    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    let mut found = Vec::new();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in tables {
        let cols: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        found.extend(
            cols.into_iter()
                .filter(|c| c.ends_with("_enc"))
                .map(|c| format!("{t}.{c}")),
        );
    }
    let listed: Vec<String> = colloquy::db::encrypted_columns::ENCRYPTED_COLUMNS
        .iter()
        .map(|c| format!("{}.{}", c.table, c.column))
        .collect();
    let missing: Vec<&String> = found.iter().filter(|c| !listed.contains(c)).collect();
    assert!(missing.is_empty(), "not in ENCRYPTED_COLUMNS: {missing:?}");
}

#[tokio::test]
async fn reviews_answers_and_reports_read_back_after_a_rotation() {
    let app = crate::sessions_fixtures::spawn_patient_app().await;
    let c = crate::reviews_fixtures::completed(&app, 1).await;
    let id = crate::reviews_fixtures::reviewed(
        &app,
        &c.reader,
        c.sessions[0],
        4,
        Some("Still readable?"),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    crate::reviews_fixtures::reply(&app, &c.researcher.token, id, "Yes, after rotation.").await;
    let other = app.token("other@uni.example").await;
    crate::reviews_fixtures::report(&app, &other, id, "A reason").await;
    rotate(&app.state, false).await;
    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    let old: i64 = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM reviews WHERE comment_enc NOT LIKE 'v2:u%' OR reply_enc NOT LIKE 'v2:r%')
                  + (SELECT COUNT(*) FROM review_reports WHERE reason_enc NOT LIKE 'v2:u%')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 0);
    let admin = app.admin_token("admin@uni.example").await;
    let all = crate::reviews_fixtures::queue(&app, &admin, "all").await;
    assert_eq!(all[0]["comment"], "Still readable?");
    assert_eq!(all[0]["reply"]["text"], "Yes, after rotation.");
    assert_eq!(all[0]["report_reasons"], json!(["A reason"]));
}
