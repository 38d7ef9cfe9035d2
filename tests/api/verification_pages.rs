//! Verified e-mail on the pages: the page after registering (the same for
//! any address, and honest while mail is held) and the banner that sends a
//! new link.

use colloquy::config::EmailVerification;
use colloquy::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, PASSWORD};
use crate::pages::{browser, csrf_of, logged_in_browser};
use crate::sessions_fixtures::{mails, recipients};
use crate::smtp_sink::SmtpSink;
use crate::verification::{
    app_with, bearer, cli_user, html, newest_link, registered, resend, submit, NEW, OTHER_PASSWORD,
    OWNER,
};

/// Verification required while no SMTP server is set: the link's mail is
/// held for an admin, and neither the API nor the pages say it was sent.
#[tokio::test]
async fn required_without_smtp_says_the_link_is_held_not_sent() {
    let app = spawn_app_with(|c| {
        c.accounts.email_verification = EmailVerification::Required;
    })
    .await;
    let r = app.register(NEW, "New Reader").await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"status": "verification_held"}));
    let token = bearer(&app, NEW, PASSWORD).await;
    let r = resend(&app, &token).await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"status": "verification_held"}));
    assert_eq!(mails(&app, "email_verification").len(), 2);

    let web = browser();
    let csrf = csrf_of(&html(&web, app.url("/register")).await);
    let form = [
        ("csrf_token", csrf.as_str()),
        ("email", "web.reader@uni.example"),
        ("name", "Web Reader"),
        ("password", OTHER_PASSWORD),
        ("accept_terms", "yes"),
    ];
    let r = submit(&web, app.url("/register"), &form).await;
    assert_eq!(r.status(), 202);
    let page = r.text().await.unwrap();
    assert!(page.contains("Your confirmation link is held"), "{page}");
    assert!(page.contains("administrator"));
    assert!(!page.contains("Check your inbox"));

    let (web, csrf) = logged_in_browser(&app, NEW).await;
    let form = [("csrf_token", csrf.as_str())];
    let r = submit(&web, app.url("/account/verify-email/resend"), &form).await;
    let account = r.text().await.unwrap();
    assert!(
        account.contains("e-mail is held on this server"),
        "{account}"
    );
    assert!(!account.contains("on its way"));
}

#[tokio::test]
async fn the_register_form_answers_check_your_inbox_for_any_address() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    cli_user(&app, OWNER, Role::User).await;
    let web = browser();
    let csrf = csrf_of(&html(&web, app.url("/register")).await);
    let mut pages = Vec::new();
    for email in [NEW, OWNER] {
        let form = [
            ("csrf_token", csrf.as_str()),
            ("email", email),
            ("name", "Web Reader"),
            ("password", OTHER_PASSWORD),
            ("accept_terms", "yes"),
        ];
        let r = submit(&web, app.url("/register"), &form).await;
        assert_eq!(r.status(), 202);
        let page = r.text().await.unwrap();
        assert!(page.contains("Check your inbox") && page.contains(email));
        pages.push(page.replace(email, "ADDRESS"));
    }
    assert_eq!(pages[0], pages[1], "the page must not tell addresses apart");
    assert_eq!(recipients(&mails(&app, "email_verification")), [NEW]);
    assert_eq!(recipients(&mails(&app, "registration_attempt")), [OWNER]);
}

#[tokio::test]
async fn a_signed_in_unverified_account_sees_the_banner_and_gets_a_new_link_from_it() {
    let sink = SmtpSink::start().await;
    let app = app_with(&sink, |_| {}).await;
    registered(&app, NEW).await;
    let (web, csrf) = logged_in_browser(&app, NEW).await;
    let home = html(&web, app.url("/")).await;
    assert!(home.contains(r#"action="/account/verify-email/resend""#));
    assert!(home.contains(r#"id="verify-banner""#));

    let form = [("csrf_token", csrf.as_str())];
    let r = submit(&web, app.url("/account/verify-email/resend"), &form).await;
    assert_eq!((r.status().as_u16(), r.url().path()), (200, "/account"));
    let account = r.text().await.unwrap();
    assert!(account.contains("A new confirmation link is on its way"));
    assert_eq!(mails(&app, "email_verification").len(), 2);

    // The link's page confirms with its button, for the signed-in browser.
    let url = app.url(&format!("/verify-email/{}", newest_link(&app)));
    let csrf = csrf_of(&html(&web, url.clone()).await);
    let r = submit(&web, url, &[("csrf_token", csrf.as_str())]).await;
    assert_eq!(r.url().path(), "/account");
    let account = r.text().await.unwrap();
    assert!(account.contains("Your e-mail address is confirmed."));
    assert!(!account.contains(r#"id="verify-banner""#));

    cli_user(&app, OWNER, Role::User).await;
    let (verified, _) = logged_in_browser(&app, OWNER).await;
    let home = html(&verified, app.url("/")).await;
    assert!(!home.contains(r#"id="verify-banner""#));
}
