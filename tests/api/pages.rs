//! The web UI over HTTP with a cookie jar: forms, CSRF, flash, errors.

use crate::helpers::{spawn_app, PASSWORD};

pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .unwrap()
}

/// Registers through the API, then logs in through the form; returns the
/// cookie-holding client and its CSRF token.
pub(crate) async fn signed_in_browser(
    app: &crate::helpers::TestApp,
    email: &str,
) -> (reqwest::Client, String) {
    app.register(email, "Ui User").await;
    logged_in_browser(app, email).await
}

/// Logs an existing account in through the form.
pub(crate) async fn logged_in_browser(
    app: &crate::helpers::TestApp,
    email: &str,
) -> (reqwest::Client, String) {
    let web = browser();
    let page = web
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let r = web
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert_eq!(status, 200, "{}", r.text().await.unwrap());
    (web, csrf)
}

pub(crate) fn csrf_of(html: &str) -> String {
    let re = regex::Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap();
    re.captures(html).expect("a csrf field")[1].to_string()
}

#[tokio::test]
async fn a_visitor_registers_logs_out_and_logs_in_through_the_forms() {
    let app = spawn_app().await;
    let web = browser();
    let page = web
        .get(app.url("/register"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("I accept the"));
    let csrf = csrf_of(&page);
    let r = web
        .post(app.url("/register"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "web@uni.edu"),
            ("name", "Web Reader"),
            ("password", PASSWORD),
            ("accept_terms", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let home = r.text().await.unwrap();
    assert!(home.contains("Your account is ready"), "flash missing");
    assert!(home.contains("Web Reader"), "nav shows the user");

    let account = web
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(account.contains("web@uni.edu"));

    let r = web
        .post(app.url("/logout"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("You are logged out"));
    let r = web.get(app.url("/account")).send().await.unwrap();
    assert!(
        r.url().path().starts_with("/login"),
        "account needs a log-in"
    );

    let r = web
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "web@uni.edu"),
            ("password", PASSWORD),
            ("next", "/account"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.url().path(), "/account");
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let web = browser();
    web.get(app.url("/login")).send().await.unwrap();
    let r = web
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", "forged"),
            ("email", "a@b.org"),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("This form has expired"));
}

#[tokio::test]
async fn registration_errors_are_shown_on_the_form() {
    let app = spawn_app().await;
    let web = browser();
    let csrf = csrf_of(
        &web.get(app.url("/register"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let r = web
        .post(app.url("/register"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "not-an-email"),
            ("name", "X"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Please correct the marked fields"));
    assert!(html.contains("E-mail is not an e-mail address"));
    assert!(html.contains("you must accept the terms"));
}

#[tokio::test]
async fn error_pages_show_no_internals_and_admin_pages_need_an_admin() {
    let app = spawn_app().await;
    let web = browser();
    let r = web.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("Page not found"));
    let r = web.get(app.url("/papers/999999")).send().await.unwrap();
    assert_eq!(r.status(), 404);

    let (web, csrf) = signed_in_browser(&app, "plain@uni.edu").await;
    let r = web.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Not allowed"));
    let r = web
        .post(app.url("/admin/users/1/role"))
        .form(&[("csrf_token", csrf.as_str()), ("role", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn pages_carry_security_headers_and_cookies_are_httponly() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/login")).send().await.unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

#[tokio::test]
async fn a_signed_in_user_adds_a_paper_and_saves_progress_through_the_ui() {
    let app = spawn_app().await;
    let (web, csrf) = signed_in_browser(&app, "ui@uni.edu").await;
    let r = web
        .post(app.url("/papers/new"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("title", "On Computable Numbers"),
            ("doi", "10.1112/plms/s2-42.1.230"),
            ("year", "1937"),
            ("venue", "Proceedings of the London Mathematical Society"),
            ("abstract", ""),
            ("authors", "Alan Turing; University of Cambridge"),
        ])
        .send()
        .await
        .unwrap();
    let url = r.url().clone();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("The paper was added") && html.contains("Alan Turing"),
        "{html}"
    );
    let r = web
        .post(format!("{url}/progress"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("percent", "40"),
            ("wants_consultation", "yes"),
        ])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("Your progress is saved") && html.contains("value=\"40\""));

    let r = web
        .post(app.url("/papers/new"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("title", ""),
            ("doi", ""),
            ("year", "soon"),
            ("venue", ""),
            ("abstract", ""),
            ("authors", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("must be a number"));
}

#[tokio::test]
async fn htmx_search_gets_only_the_result_list() {
    let app = spawn_app().await;
    let t = app.token("h@uni.edu").await;
    app.sample_paper(&t).await;
    let full = app
        .client
        .get(app.url("/papers?q=attention"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(full.contains("<html") && full.contains("Attention Is All You Need"));
    let partial = app
        .client
        .get(app.url("/papers?q=attention"))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!partial.contains("<html") && partial.contains("Attention Is All You Need"));
}

/// The HTML a browser gets for `path`.
pub(crate) async fn page_text(
    web: &reqwest::Client,
    app: &crate::helpers::TestApp,
    path: &str,
) -> String {
    web.get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
