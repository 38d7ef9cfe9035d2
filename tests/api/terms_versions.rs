//! Versioned terms and privacy notice: a version bump in config makes
//! every account accept again at its next request (403
//! `terms_not_accepted` on the API, the acceptance page on pages), and
//! each version stays readable as it was published.

use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, spawn_app_with, TestApp, PASSWORD};
use crate::pages::{csrf_of, signed_in_browser};

const OLD: &str = "2026-11-01";
const NEW: &str = "2027-03-01";

async fn bumped(app: TestApp) -> TestApp {
    app.restart_with(|c| c.institution.terms_version = NEW.into())
        .await
}

#[tokio::test]
async fn a_terms_bump_answers_403_until_the_new_version_is_accepted_on_the_api() {
    let app = spawn_app().await;
    let token = app.token("ada@uni.example").await;
    assert_eq!(
        app.get("/api/v1/users/me", Some(&token)).await.status(),
        200
    );

    let app = bumped(app).await;
    let r = app.get("/api/v1/users/me", Some(&token)).await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "terms_not_accepted");
    assert_eq!(
        body["error"]["current_versions"],
        json!({"terms": NEW}),
        "only the terms changed"
    );
    let r = app.get("/api/v1/consulting/sessions", Some(&token)).await;
    assert_eq!(
        error_code(r).await,
        "terms_not_accepted",
        "every signed-in route"
    );

    // What works without accepting: reading the terms, the consents, log-out
    // and refresh, and public routes without a token.
    let terms: Value = app.get("/api/v1/terms", None).await.json().await.unwrap();
    assert_eq!(terms["version"], NEW);
    let r = app.get("/api/v1/users/me/consents", Some(&token)).await;
    assert_eq!(r.status(), 200);
    let c: Value = r.json().await.unwrap();
    let t = c["current"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "terms")
        .unwrap()
        .clone();
    assert_eq!(
        (t["version"].clone(), t["current_version"].clone()),
        (json!(OLD), json!(NEW))
    );
    assert_eq!(app.get("/api/v1/papers?q=x", None).await.status(), 200);
    let login: Value = app
        .login("ada@uni.example", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let refresh = login["refresh_token"].as_str().unwrap();
    let r = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.get("/healthz", None).await.status(), 200);

    // The old version, or another, is refused; the current one lets it through.
    for wrong in [OLD, "tomorrow"] {
        let r = app
            .post_json(
                "/api/v1/users/me/terms",
                Some(&token),
                &json!({"version": wrong}),
            )
            .await;
        assert_eq!(r.status(), 422, "{wrong}");
        let b: Value = r.json().await.unwrap();
        assert!(b["error"]["fields"]["version"]
            .as_str()
            .unwrap()
            .contains(NEW));
    }
    let r = app
        .post_json(
            "/api/v1/users/me/terms",
            Some(&token),
            &json!({"version": NEW}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&token)).await.status(),
        200,
        "at once"
    );
    let rows: i64 = app
        .db()
        .query_row(
            "SELECT count(*) FROM consents WHERE kind = 'terms' AND version = ?1",
            [NEW],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn a_privacy_bump_asks_for_the_notice_and_an_operators_account_asks_for_both() {
    let app = spawn_app().await;
    let token = app.token("ada@uni.example").await;
    let app = app
        .restart_with(|c| c.institution.privacy_version = "p2".into())
        .await;
    let r = app.get("/api/v1/users/me", Some(&token)).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["current_versions"],
        json!({"privacy_notice": "p2"})
    );
    let r = app
        .post_json(
            "/api/v1/users/me/terms",
            Some(&token),
            &json!({"version": "p2", "document": "privacy_notice"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&token)).await.status(),
        200
    );

    colloquy::services::accounts::create_user_admin_cli(
        &app.state,
        "op@uni.example",
        "Op",
        PASSWORD,
        colloquy::domain::Role::User,
    )
    .await
    .unwrap();
    let login: Value = app
        .login("op@uni.example", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let op = login["access_token"].as_str().unwrap();
    let body: Value = app
        .get("/api/v1/users/me", Some(op))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["error"]["current_versions"],
        json!({"terms": OLD, "privacy_notice": "p2"})
    );
}

#[tokio::test]
async fn a_terms_bump_shows_the_acceptance_page_and_accepting_continues_where_one_was() {
    let app = spawn_app().await;
    let (web, _) = signed_in_browser(&app, "ada@uni.example").await;
    let app = bumped(app).await;
    // The cookie client follows redirects: it lands on the acceptance page.
    let r = web
        .get(app.url("/papers?q=attention"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.url().path(), "/terms/accept");
    assert_eq!(r.url().query(), Some("next=%2Fpapers%3Fq%3Dattention"));
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!("Terms of use, version {NEW}")),
        "{page}"
    );
    assert!(
        !page.contains("Privacy notice, version"),
        "only what changed"
    );
    let csrf = csrf_of(&page);

    // Without the box ticked: the page again, with the problem.
    let r = web
        .post(app.url("/terms/accept"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("next", "/papers?q=attention"),
            ("terms_version", NEW),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains(r#"id="accept-error""#));
    // Other pages stay behind it meanwhile.
    let r = web.get(app.url("/account")).send().await.unwrap();
    assert_eq!(r.url().path(), "/terms/accept");
    // Accepting goes on to the page asked for.
    let r = web
        .post(app.url("/terms/accept"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("next", "/papers?q=attention"),
            ("terms_version", NEW),
            ("accept", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.url().path(), "/papers");
    let r = web.get(app.url("/account")).send().await.unwrap();
    assert_eq!(r.url().path(), "/account");
    assert!(r.text().await.unwrap().contains(NEW));
}

#[tokio::test]
async fn each_version_stays_readable_as_it_was_published_and_unknown_ones_are_404() {
    let app = spawn_app_with(|c| c.institution.name = "Uni Alpha".into()).await;
    let html = |app: &TestApp, path: &str| {
        let url = app.url(path);
        let client = app.client.clone();
        async move {
            let r = client.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, page) = html(&app, "/terms").await;
    assert_eq!(status, 200);
    assert!(page.contains("Uni Alpha runs this service") && page.contains(OLD));

    // A new name and a new version: the old text stays under the old one.
    let app = app
        .restart_with(|c| {
            c.institution.name = "Uni Beta".into();
            c.institution.terms_version = NEW.into();
            c.institution.privacy_version = "p2".into();
        })
        .await;
    let (_, page) = html(&app, "/terms").await;
    assert!(page.contains("Uni Beta runs this service") && page.contains(NEW));
    assert!(
        page.contains(&format!(r#"href="/terms/{OLD}""#)),
        "links the earlier version"
    );
    let (status, page) = html(&app, &format!("/terms/{OLD}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Uni Alpha runs this service"), "{page}");
    assert!(!page.contains("Uni Beta runs"));
    assert!(page.contains("an earlier version"));
    let (status, page) = html(&app, &format!("/privacy/{OLD}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Uni Alpha is the controller"));
    let (_, page) = html(&app, "/privacy/p2").await;
    assert!(page.contains("Uni Beta is the controller"));
    assert_eq!(html(&app, "/terms/1999-01-01").await.0, 404);
    assert_eq!(html(&app, "/privacy/nope").await.0, 404);

    // Editing the config without a new version does not rewrite the text.
    let app = app
        .restart_with(|c| c.institution.name = "Uni Gamma".into())
        .await;
    let (_, page) = html(&app, "/terms").await;
    assert!(page.contains("Uni Beta runs this service") && !page.contains("Gamma runs"));
    let api: Value = app.get("/api/v1/terms", None).await.json().await.unwrap();
    assert!(api["paragraphs"][0].as_str().unwrap().contains("Uni Beta"));
}

#[tokio::test]
async fn a_version_that_cannot_be_a_path_is_refused_by_config_check() {
    let mut c = colloquy::config::Config::default();
    c.institution.terms_version = "v1/../2".into();
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("institution.terms_version"), "{e}");
}
