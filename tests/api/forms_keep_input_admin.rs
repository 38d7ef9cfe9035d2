//! The account page's forms, the admin forms, and bodies over the limit:
//! bad values come back as typed, with every problem next to its field.

use serde_json::{json, Value};

use crate::forms_keep_input::{shows_all, submit};
use crate::helpers::{spawn_app, TestApp};
use crate::outreach::researcher;
use crate::pages::{browser, logged_in_browser, signed_in_browser};
use crate::stripe_fakes::spawn_stripe_app;

#[tokio::test]
async fn a_bad_time_zone_on_the_account_page_is_marked_next_to_the_field() {
    let app = spawn_app().await;
    let (web, _) = signed_in_browser(&app, "reader@uni.edu").await;
    let fields = [("timezone", "Mars/Olympus")];
    let (status, html) = submit(&web, &app, "/account", "/account/timezone", &fields).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &["Time zone is not an IANA time zone such as Europe/Berlin."],
    );
}

#[tokio::test]
async fn the_password_form_marks_both_fields_at_once() {
    let app = spawn_app().await;
    let (web, _) = signed_in_browser(&app, "reader@uni.edu").await;
    let fields = [
        ("current_password", "not my password"),
        ("new_password", "short"),
    ];
    let (status, html) = submit(&web, &app, "/account", "/account/password", &fields).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            "The current password is wrong.",
            "The new password must be at least",
        ],
    );
    assert!(
        !html.contains("not my password"),
        "passwords are never sent back"
    );
}

#[tokio::test]
async fn billing_details_keep_what_was_typed_and_mark_every_field() {
    let s = spawn_stripe_app(|_| {}).await;
    let app = &s.app;
    let (web, _) = signed_in_browser(app, "reader@uni.edu").await;
    let tax_id = "9".repeat(51);
    let fields = [
        ("country", "Germany"),
        ("region", "BAVARIA-NORTH-1"),
        ("name", "Ada Lovelace"),
        ("address", "1 Engine Street"),
        ("tax_id", tax_id.as_str()),
    ];
    let (status, html) = submit(&web, app, "/account", "/account/billing", &fields).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            r#"value="Germany""#,
            r#"value="BAVARIA-NORTH-1""#,
            r#"value="Ada Lovelace""#,
            "1 Engine Street</textarea>",
            &format!(r#"value="{tax_id}""#),
            "Country must be a two-letter country code such as DE.",
            "Region must be a region code such as BY or CA-ON (at most 10 letters, digits or -).",
            "The tax id must be at most 50 characters.",
        ],
    );
}

async fn admin_browser(app: &TestApp) -> reqwest::Client {
    app.admin_token("admin@uni.edu").await;
    logged_in_browser(app, "admin@uni.edu").await.0
}

#[tokio::test]
async fn the_test_message_form_keeps_the_address() {
    let app = spawn_app().await;
    let web = admin_browser(&app).await;
    let fields = [("to", "not-an-address")];
    let (status, html) = submit(&web, &app, "/admin/mail", "/admin/mail/test", &fields).await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[
            r#"value="not-an-address""#,
            "The address is not an e-mail address.",
        ],
    );
}

#[tokio::test]
async fn inviting_a_papers_authors_keeps_the_typed_number() {
    let app = spawn_app().await;
    let web = admin_browser(&app).await;
    let fields = [("paper_id", "twelve")];
    let (status, html) = submit(
        &web,
        &app,
        "/admin/outreach",
        "/admin/outreach/paper",
        &fields,
    )
    .await;
    assert_eq!(status, 422);
    shows_all(
        &html,
        &[r#"value="twelve""#, "Give the paper&#39;s number, like 12."],
    );
}

#[tokio::test]
async fn the_researcher_admin_forms_keep_what_was_typed() {
    let app = spawn_app().await;
    let reader = app.token("reader@uni.edu").await;
    let (rid, _) = researcher(&app, &reader).await;
    let web = admin_browser(&app).await;
    let here = format!("/admin/researchers/{rid}");
    let cases: [(&str, (&str, &str), &str); 3] = [
        (
            "email",
            ("email", "ada-at-home"),
            "The e-mail address is not an e-mail address.",
        ),
        (
            "link",
            ("account", "nobody@nowhere.example"),
            "The account: no account has this address.",
        ),
        (
            "merge",
            ("merge_id", "the other Ada"),
            "The profile to merge must be the number of the profile",
        ),
    ];
    for (action, (field, typed), message) in cases {
        let to = format!("{here}/{action}");
        let (status, html) = submit(&web, &app, &here, &to, &[(field, typed)]).await;
        assert_eq!(status, 422, "{action}: {html}");
        shows_all(&html, &[&format!(r#"value="{typed}""#), message]);
    }
}

#[tokio::test]
async fn inviting_by_e_mail_from_the_paper_page_keeps_the_address_on_its_card() {
    let app = spawn_app().await;
    let web = admin_browser(&app).await;
    let token = app.admin_token("admin2@uni.edu").await;
    let paper = app.sample_paper(&token).await;
    let now = chrono::Utc::now();
    let rid = app
        .state
        .db
        .write(move |tx| {
            use colloquy::repos::researchers;
            let id = researchers::insert(tx, "Alan Turing", None, None, now)?;
            researchers::link_paper(tx, colloquy::domain::PaperId(paper), 0, id)?;
            Ok(id)
        })
        .await
        .unwrap();
    let here = format!("/papers/{paper}");
    let paper_id = paper.to_string();
    let fields = [
        ("email", "alan-at-bletchley"),
        ("paper_id", paper_id.as_str()),
        ("return_to", here.as_str()),
    ];
    let to = format!("/admin/researchers/{}/invite-by-email", rid.0);
    let (status, html) = submit(&web, &app, &here, &to, &fields).await;
    assert_eq!(status, 422, "{html}");
    shows_all(
        &html,
        &[
            r#"value="alan-at-bletchley""#,
            "The e-mail address is not an e-mail address.",
        ],
    );
}

#[tokio::test]
async fn a_body_over_the_limit_gets_the_error_page_or_the_api_error() {
    let app = spawn_app().await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let web = browser();
    let html = web
        .get(app.url("/register"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::pages::csrf_of(&html);
    let r = web
        .post(app.url("/register"))
        .form(&[("csrf_token", csrf.as_str()), ("name", huge.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/html"), "{ct}");
    let html = r.text().await.unwrap();
    shows_all(
        &html,
        &["<h1>", "larger than this site accepts", "/static/app.css"],
    );

    let r = app
        .post_json("/api/v1/auth/register", None, &json!({"name": huge}))
        .await;
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
}
