//! `[security] admin_allowed_ips`: the admin area answers 403 to client
//! addresses outside the list, reading `X-Forwarded-For` only from
//! `trusted_proxies`; everything else is untouched.

use serde_json::json;

use crate::helpers::{error_code, spawn_app_with, TestApp};
use crate::pages::logged_in_browser;

async fn admin_get(app: &TestApp, token: &str, forwarded: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .get(app.url("/api/v1/admin/users"))
        .bearer_auth(token);
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn the_admin_area_refuses_an_address_outside_the_list() {
    let app = spawn_app_with(|c| c.security.admin_allowed_ips = vec!["192.0.2.0/24".into()]).await;
    let admin = app.admin_token("admin@uni.example").await;

    let r = admin_get(&app, &admin, None).await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "admin_address_not_allowed");
    // Unknown admin routes too, and before any sign-in: nothing to learn.
    let r = app.get("/api/v1/admin/no-such-route", None).await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "admin_address_not_allowed");
    let r = app
        .send_json(
            reqwest::Method::DELETE,
            "/api/v1/admin/users/1",
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(error_code(r).await, "admin_address_not_allowed");

    // Pages: a readable 403 page for the admin, still signed in.
    let (web, _) = logged_in_browser(&app, "admin@uni.example").await;
    for path in ["/admin", "/admin/users/1", "/admin/mail"] {
        let r = web.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("<h1>Not allowed</h1>"), "{path}: {html}");
        assert!(html.contains("cannot be reached from this network address"));
        assert!(
            html.contains("Log out"),
            "the layout knows who is signed in"
        );
    }

    // The rest of the site, and the admin's own account, are unaffected.
    assert_eq!(
        app.get("/api/v1/users/me", Some(&admin)).await.status(),
        200
    );
    let r = web.get(app.url("/account")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(app.get("/administrators", None).await.status(), 404);
    // The Stripe webhook keeps its own allowlist ([stripe]).
    let r = app
        .post_json("/api/v1/webhooks/stripe", None, &json!({}))
        .await;
    assert_ne!(r.status(), 403);
}

#[tokio::test]
async fn an_allowed_address_forwarded_by_a_trusted_proxy_gets_through() {
    let app = spawn_app_with(|c| {
        c.security.trusted_proxies = vec!["127.0.0.1".into()];
        c.security.admin_allowed_ips = vec!["192.0.2.10".into()];
    })
    .await;
    let admin = app.admin_token("admin@uni.example").await;

    let r = admin_get(&app, &admin, Some("192.0.2.10")).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // The right-most untrusted hop is the client, as everywhere else: a
    // client cannot slip an allowed address in front of its own.
    let r = admin_get(&app, &admin, Some("192.0.2.10, 198.51.100.7")).await;
    assert_eq!(error_code(r).await, "admin_address_not_allowed");
    let r = admin_get(&app, &admin, Some("198.51.100.7")).await;
    assert_eq!(error_code(r).await, "admin_address_not_allowed");
    // The proxy itself, forwarding nothing, is not on the list.
    let r = admin_get(&app, &admin, None).await;
    assert_eq!(error_code(r).await, "admin_address_not_allowed");

    let (web, _) = logged_in_browser(&app, "admin@uni.example").await;
    let r = web
        .get(app.url("/admin"))
        .header("x-forwarded-for", "192.0.2.10")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn an_untrusted_peer_cannot_claim_an_allowed_address() {
    let app = spawn_app_with(|c| {
        c.security.trusted_proxies = vec!["10.0.0.0/8".into()];
        c.security.admin_allowed_ips = vec!["192.0.2.10".into()];
    })
    .await;
    let admin = app.admin_token("admin@uni.example").await;
    let r = admin_get(&app, &admin, Some("192.0.2.10")).await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "admin_address_not_allowed");
}

#[tokio::test]
async fn the_peer_address_itself_may_be_allowed() {
    let app = spawn_app_with(|c| c.security.admin_allowed_ips = vec!["127.0.0.0/8".into()]).await;
    let admin = app.admin_token("admin@uni.example").await;
    assert_eq!(admin_get(&app, &admin, None).await.status(), 200);
    // Without trusted proxies a forwarded header changes nothing.
    let r = admin_get(&app, &admin, Some("198.51.100.7")).await;
    assert_eq!(r.status(), 200);
}
