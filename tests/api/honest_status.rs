//! Honest status: "on its way" only when mail is really sent; held mail
//! readable with clickable links; words people use instead of internal
//! names on every page.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::pages::{csrf_of, logged_in_browser, signed_in_browser};
use colloquy::clock::Clock;
use colloquy::config::Config;
use colloquy::db::repos::researchers;
use colloquy::domain::{PaperId, ResearcherId};

/// A profile with an address (set by the admin), author 0 of `paper`.
pub(crate) async fn invitable(app: &TestApp, admin: &str, paper: i64, email: &str) -> ResearcherId {
    let now = app.clock.now();
    let id = app
        .state
        .db
        .write(move |tx| {
            let id = researchers::insert(tx, "Niki Parmar", None, None, now)?;
            researchers::link_paper(tx, PaperId(paper), 0, id)?;
            Ok(id)
        })
        .await
        .unwrap();
    let r = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/admin/researchers/{id}"),
            Some(admin),
            &json!({"email": email}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    id
}

/// Presses a form's button: posts `fields` (with the CSRF token) to `to`.
pub(crate) async fn post(
    web: &reqwest::Client,
    app: &TestApp,
    to: &str,
    fields: &[(&str, String)],
) -> String {
    let page = web
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut form = vec![("csrf_token", csrf_of(&page))];
    form.extend(fields.iter().cloned());
    let r = web.post(app.url(to)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 200, "{to}");
    r.text().await.unwrap()
}

async fn another_paper(app: &TestApp, admin: &str) -> i64 {
    crate::collection::paper_with(app, admin, json!([{"name": "Niki Parmar"}])).await
}

pub(crate) async fn html(web: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let r = web.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// What a page says: its text without tags, attributes or scripts.
fn visible(html: &str) -> String {
    let re = regex::Regex::new(r"(?s)<[^>]*>").unwrap();
    re.replace_all(html, " ").to_string()
}

fn without_verification(c: &mut Config) {
    c.accounts.email_verification = colloquy::config::EmailVerification::Off;
}

#[tokio::test]
async fn an_invitation_is_on_its_way_only_when_mail_is_really_sent() {
    // No mail server: held, and said so.
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = app.sample_paper(&admin).await;
    let id = invitable(&app, &admin, paper, "niki@uni.example").await;
    let (reader, _) = signed_in_browser(&app, "reader@uni.edu").await;
    let page = post(
        &reader,
        &app,
        &format!("/researchers/{id}/invite"),
        &[("paper_id", paper.to_string())],
    )
    .await;
    assert!(
        page.contains("The invitation is held: an admin must send it."),
        "{page}"
    );
    assert!(
        !page.contains("on its way") && !page.contains("/admin/mail"),
        "readers get no mailbox link"
    );

    let other = invitable(
        &app,
        &admin,
        another_paper(&app, &admin).await,
        "other@uni.example",
    )
    .await;
    let r = app
        .post_json(
            "/api/v1/consulting/outreach",
            Some(&admin),
            &json!({"researcher_id": other}),
        )
        .await;
    assert!(r.status().is_success());
    assert_eq!(r.json::<Value>().await.unwrap()["mail"], "held");

    let (admin_web, _) = logged_in_browser(&app, "admin@uni.edu").await;
    let third = invitable(
        &app,
        &admin,
        another_paper(&app, &admin).await,
        "third@uni.example",
    )
    .await;
    let page = post(
        &admin_web,
        &app,
        &format!("/researchers/{third}/invite"),
        &[("return_to", "/admin/outreach".into())],
    )
    .await;
    assert!(page.contains("held: an admin must send it"), "{page}");
    assert!(
        page.contains(r#"<a href="/admin/mail?status=held">Open the held mail</a>"#),
        "admins are told where"
    );

    // A mail server is set: now it is on its way.
    let app = spawn_app_with(|c| {
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = 9;
        without_verification(c);
    })
    .await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = app.sample_paper(&admin).await;
    let id = invitable(&app, &admin, paper, "niki@uni.example").await;
    let (reader, _) = signed_in_browser(&app, "reader@uni.edu").await;
    let page = post(
        &reader,
        &app,
        &format!("/researchers/{id}/invite"),
        &[("paper_id", paper.to_string())],
    )
    .await;
    assert!(
        page.contains("We have invited this author") && !page.contains("held"),
        "{page}"
    );
    let other = invitable(
        &app,
        &admin,
        another_paper(&app, &admin).await,
        "other@uni.example",
    )
    .await;
    let r = app
        .post_json(
            "/api/v1/consulting/outreach",
            Some(&admin),
            &json!({"researcher_id": other}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["mail"], "sending");
}

#[tokio::test]
async fn held_mail_says_what_it_is_and_shows_its_links_as_links() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = app.sample_paper(&admin).await;
    let id = invitable(&app, &admin, paper, "niki@uni.example").await;
    let r = app
        .post_json(
            "/api/v1/consulting/outreach",
            Some(&admin),
            &json!({"researcher_id": id}),
        )
        .await;
    assert!(r.status().is_success());
    let (web, _) = logged_in_browser(&app, "admin@uni.edu").await;

    let mailbox = html(&web, &app, "/admin/mail").await;
    let text = visible(&mailbox);
    assert!(
        text.contains("Invitation to a researcher") && text.contains("held: an admin must send it")
    );
    assert!(
        !text.contains("outreach_request") && !text.contains("Template"),
        "{text}"
    );
    let re = regex::Regex::new(r#"href="/admin/mail/(\d+)""#).unwrap();
    let mail_id = re.captures(&mailbox).expect("a message link")[1].to_string();

    let message = html(&web, &app, &format!("/admin/mail/{mail_id}")).await;
    let link = regex::Regex::new(
        r#"<a href="(http://[^"]+/invite/[^"]+)" rel="noopener noreferrer">([^<]+)</a>"#,
    )
    .unwrap();
    let found = link
        .captures(&message)
        .expect("the registration link is a link");
    assert_eq!(&found[1], &found[2]);
    assert!(
        message.contains(r#"<dd class="mail-header"><code>&#60;http"#)
            || message.contains(r#"<dd class="mail-header"><code>&lt;http"#),
        "headers are shown to wrap: {message}"
    );
    assert!(message.contains(r#"id="held-note""#));
    let css = app.get("/static/app.css", None).await.text().await.unwrap();
    assert!(css.contains("pre.mail-text { white-space: pre-wrap; overflow-wrap: anywhere;"));
    assert!(css.contains(".mail-header code { overflow-wrap: anywhere;"));
}

#[tokio::test]
async fn no_page_shows_internal_names() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = app.sample_paper(&admin).await;
    let id = invitable(&app, &admin, paper, "niki@uni.example").await;
    app.post_json(
        "/api/v1/consulting/outreach",
        Some(&admin),
        &json!({"researcher_id": id}),
    )
    .await;
    app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    let (web, _) = logged_in_browser(&app, "admin@uni.edu").await;
    let mailbox = html(&web, &app, "/admin/mail").await;
    let re = regex::Regex::new(r#"href="/admin/mail/(\d+)""#).unwrap();
    let mail = re.captures(&mailbox).expect("a message")[1].to_string();
    let pages = [
        "/admin".to_string(),
        "/admin/settings".into(),
        "/admin/users/1".into(),
        "/admin/mail".into(),
        format!("/admin/mail/{mail}"),
        "/admin/outreach".into(),
        "/admin/jobs".into(),
        "/admin/providers".into(),
        format!("/admin/researchers/{id}"),
        format!("/papers/{paper}"),
        "/account".into(),
        "/sessions".into(),
    ];
    let internal = [
        "interest_notice",
        "outreach_request",
        "queued",
        "Paper number",
        "not_collected",
        "opted_out",
        "no_show",
        "Template",
        "openalex_id",
        "rocketreach",
    ];
    for path in pages {
        let text = visible(&html(&web, &app, &path).await);
        for word in internal {
            assert!(!text.contains(word), "{path} shows {word:?}: {text}");
        }
    }
}
