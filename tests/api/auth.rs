use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, spawn_app_with, PASSWORD};

#[tokio::test]
async fn register_login_and_me_work() {
    let app = spawn_app().await;
    let r = app.register("Marie.Curie@Sorbonne.fr", "Marie Curie").await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["email"], "marie.curie@sorbonne.fr");
    assert_eq!(created["role"], "user");

    let r = app.login("marie.curie@sorbonne.fr", PASSWORD).await;
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens["refresh_token"].as_str().unwrap().len() >= 40);

    let me: Value = app
        .get("/api/v1/users/me", tokens["access_token"].as_str())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me,
        json!({"id": created["id"], "email": "marie.curie@sorbonne.fr", "name": "Marie Curie", "role": "user", "is_subscribed": false, "timezone": "UTC", "email_verified": false, "status": "active"})
    );
}

#[tokio::test]
async fn the_accepted_terms_version_is_recorded_and_required() {
    let app = spawn_app().await;
    let r = app
        .post_json("/api/v1/auth/register", None, &json!({"email": "a@uni.edu", "password": PASSWORD, "name": "A", "accept_terms": false}))
        .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["fields"]["accept_terms"].is_string());

    app.register("b@uni.edu", "B").await;
    let terms: Value = app.get("/api/v1/terms", None).await.json().await.unwrap();
    let conn = crate::helpers::rusqlite_conn(&app.db_path());
    let (version, at): (String, Option<String>) = conn
        .query_row(
            "SELECT terms_version, terms_accepted_at FROM users",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(version, terms["version"].as_str().unwrap());
    assert!(at.is_some());
}

#[tokio::test]
async fn weak_passwords_are_refused() {
    let app = spawn_app().await;
    for (password, why) in [
        ("short pass", "length"),
        ("password1234", "common"),
        ("x".repeat(129).as_str(), "length"),
        ("grace.hopper rocks!", "email"),
    ] {
        let r = app
            .post_json("/api/v1/auth/register", None, &json!({"email": "grace.hopper@navy.mil", "password": password, "name": "Grace", "accept_terms": true}))
            .await;
        assert_eq!(r.status(), 422, "{why}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"]["fields"]["password"].is_string(),
            "{why}: {body}"
        );
    }
}

#[tokio::test]
async fn a_taken_email_is_a_conflict() {
    let app = spawn_app().await;
    assert_eq!(app.register("dup@uni.edu", "One").await.status(), 201);
    let r = app.register("DUP@uni.edu", "Two").await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "email_taken");
}

#[tokio::test]
async fn failed_logins_do_not_reveal_whether_the_account_exists() {
    let app = spawn_app().await;
    app.register("known@uni.edu", "Known").await;
    let wrong = app.login("known@uni.edu", "not the password at all").await;
    let unknown = app
        .login("unknown@uni.edu", "not the password at all")
        .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let a: Value = wrong.json().await.unwrap();
    let b: Value = unknown.json().await.unwrap();
    assert_eq!(a, b);
}

#[tokio::test]
async fn failed_logins_are_limited_per_account() {
    let app = spawn_app_with(|c| c.auth.login_max_failures_per_account = 3).await;
    app.register("target@uni.edu", "Target").await;
    for _ in 0..3 {
        assert_eq!(
            app.login("target@uni.edu", "wrong password here")
                .await
                .status(),
            401
        );
    }
    // Even the right password is refused while the account is locked.
    let r = app.login("target@uni.edu", PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    // And an unknown account is limited the same way.
    for _ in 0..3 {
        app.login("ghost@uni.edu", "wrong password here").await;
    }
    assert_eq!(
        app.login("ghost@uni.edu", "wrong password here")
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn failed_logins_are_limited_per_ip() {
    let app = spawn_app_with(|c| c.auth.login_max_failures_per_ip = 4).await;
    for i in 0..4 {
        app.login(&format!("user{i}@uni.edu"), "wrong password here")
            .await;
    }
    assert_eq!(
        app.login("fresh@uni.edu", "wrong password here")
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_revokes_the_session() {
    let app = spawn_app().await;
    let first = app.signed_in("r@uni.edu").await;
    let r = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let second: Value = r.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(
        app.get("/api/v1/users/me", second["access_token"].as_str())
            .await
            .status(),
        200
    );

    // The old refresh token is replayed: the whole session ends.
    let r = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        app.get("/api/v1/users/me", second["access_token"].as_str())
            .await
            .status(),
        401
    );
    let r = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": second["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn logout_revokes_the_refresh_token_and_its_access_tokens() {
    let app = spawn_app().await;
    let t = app.signed_in("out@uni.edu").await;
    assert_eq!(
        app.get("/api/v1/users/me", t["access_token"].as_str())
            .await
            .status(),
        200
    );
    let r = app
        .post_json(
            "/api/v1/auth/logout",
            None,
            &json!({"refresh_token": t["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        app.get("/api/v1/users/me", t["access_token"].as_str())
            .await
            .status(),
        401
    );
    let r = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": t["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn changing_the_password_revokes_the_other_sessions() {
    let app = spawn_app().await;
    let phone = app.signed_in("pw@uni.edu").await;
    let laptop: Value = app
        .login("pw@uni.edu", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .post_json(
            "/api/v1/auth/password",
            laptop["access_token"].as_str(),
            &json!({"current_password": PASSWORD, "new_password": "a brand new passphrase 7"}),
        )
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        app.get("/api/v1/users/me", laptop["access_token"].as_str())
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get("/api/v1/users/me", phone["access_token"].as_str())
            .await
            .status(),
        401
    );
    assert_eq!(app.login("pw@uni.edu", PASSWORD).await.status(), 401);
    assert_eq!(
        app.login("pw@uni.edu", "a brand new passphrase 7")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_wrong_current_password_does_not_change_anything() {
    let app = spawn_app().await;
    let t = app.token("keep@uni.edu").await;
    let r = app
        .post_json("/api/v1/auth/password", Some(&t), &json!({"current_password": "not it at all", "new_password": "a brand new passphrase 7"}))
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(app.login("keep@uni.edu", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn access_tokens_expire_by_the_app_clock() {
    let app = spawn_app().await;
    let t = app.token("clock@uni.edu").await;
    assert_eq!(app.get("/api/v1/users/me", Some(&t)).await.status(), 200);
    app.clock.advance(chrono::Duration::seconds(901));
    assert_eq!(app.get("/api/v1/users/me", Some(&t)).await.status(), 401);
}

#[tokio::test]
async fn tampered_or_missing_tokens_are_401() {
    let app = spawn_app().await;
    let t = app.token("tamper@uni.edu").await;
    let mut forged = t.clone();
    forged.pop();
    forged.push(if t.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(
        app.get("/api/v1/users/me", Some(&forged)).await.status(),
        401
    );
    assert_eq!(
        app.get("/api/v1/users/me", Some("not.a.jwt"))
            .await
            .status(),
        401
    );
    let r = app.get("/api/v1/users/me", None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(r).await, "unauthorized");
}

#[tokio::test]
async fn admin_endpoints_refuse_readers_and_role_changes_are_audited() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let admin = app.admin_token("admin@uni.edu").await;
    assert_eq!(
        app.get("/api/v1/admin/users", Some(&reader)).await.status(),
        403
    );
    assert_eq!(
        app.get("/api/v1/admin/audit", Some(&reader)).await.status(),
        403
    );
    let users: Value = app
        .get("/api/v1/admin/users", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let reader_id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "reader@uni.edu")
        .unwrap()["id"]
        .as_i64()
        .unwrap();

    let r = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/users/{reader_id}/role"),
            Some(&reader),
            &json!({"role": "admin"}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/users/{reader_id}/role"),
            Some(&admin),
            &json!({"role": "researcher"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    // The new role applies at once to the existing session (the cached
    // session was dropped), without logging the user out.
    let me: Value = app
        .get("/api/v1/users/me", Some(&reader))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "researcher");
    // Promotion: the reader's cached session must not keep the old role.
    assert_eq!(
        app.get("/api/v1/admin/users", Some(&reader)).await.status(),
        403
    );
    let r = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/users/{reader_id}/role"),
            Some(&admin),
            &json!({"role": "admin"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get("/api/v1/admin/users", Some(&reader)).await.status(),
        200
    );
    app.send_json(
        reqwest::Method::PUT,
        &format!("/api/v1/admin/users/{reader_id}/role"),
        Some(&admin),
        &json!({"role": "researcher"}),
    )
    .await;
    // Setting the same role again changes nothing and is not audited twice.
    app.send_json(
        reqwest::Method::PUT,
        &format!("/api/v1/admin/users/{reader_id}/role"),
        Some(&admin),
        &json!({"role": "researcher"}),
    )
    .await;
    let audit: Value = app
        .get("/api/v1/admin/audit?action=user.role_changed", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let changes: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["detail"])
        .collect();
    assert_eq!(
        changes,
        [
            &json!({"from": "admin", "to": "researcher"}),
            &json!({"from": "researcher", "to": "admin"}),
            &json!({"from": "user", "to": "researcher"})
        ]
    );
    let r = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/admin/users/999999/role",
            Some(&admin),
            &json!({"role": "user"}),
        )
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn authentication_events_are_audited() {
    let app = spawn_app().await;
    let t = app.signed_in("audit@uni.edu").await;
    app.login("audit@uni.edu", "wrong password here").await;
    app.post_json(
        "/api/v1/auth/logout",
        None,
        &json!({"refresh_token": t["refresh_token"]}),
    )
    .await;
    let actions = app.audit_actions();
    for expected in [
        "auth.register",
        "auth.login",
        "auth.login_failed",
        "auth.logout",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_setup_link_is_made_while_no_admin_exists_and_works_once() {
    let app = spawn_app().await;
    let url = colloquy::services::accounts::ensure_setup_link(&app.state)
        .await
        .unwrap()
        .unwrap();
    let token = url.rsplit('/').next().unwrap().to_string();
    assert!(
        colloquy::services::accounts::setup_link_valid(&app.state, &token)
            .await
            .unwrap()
    );
    let reg = |email: &str| colloquy::services::accounts::Registration {
        email: email.into(),
        password: PASSWORD.into(),
        name: "First Admin".into(),
        accept_terms: true,
        timezone: None,
    };
    let admin =
        colloquy::services::accounts::complete_setup(&app.state, &token, reg("boss@uni.edu"), None)
            .await
            .unwrap();
    assert_eq!(admin.role, colloquy::domain::Role::Admin);
    assert!(colloquy::services::accounts::complete_setup(
        &app.state,
        &token,
        reg("second@uni.edu"),
        None
    )
    .await
    .is_err());
    assert!(colloquy::services::accounts::ensure_setup_link(&app.state)
        .await
        .unwrap()
        .is_none());
}
