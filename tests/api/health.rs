use crate::helpers::spawn_app;

#[tokio::test]
async fn health_ready_and_metrics_answer() {
    let app = spawn_app().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(app.get("/readyz", None).await.status(), 200);
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("colloquy_http_requests_total{class=\"2xx\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn unknown_api_routes_and_methods_answer_in_the_error_shape() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/nope", None).await;
    assert_eq!(r.status(), 404);
    assert_eq!(crate::helpers::error_code(r).await, "no_such_route");
    let r = app
        .client
        .patch(app.url("/api/v1/users/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(crate::helpers::error_code(r).await, "method_not_allowed");
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.security.cors_origins = vec!["https://app.example.org".into()]
    })
    .await;
    let allowed = app
        .client
        .get(app.url("/api/v1/papers"))
        .header("origin", "https://app.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    let other = app
        .client
        .get(app.url("/api/v1/papers"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn without_allowed_origins_a_cross_origin_call_gets_no_cors_grant() {
    let app = crate::helpers::spawn_app().await;
    let simple = app
        .client
        .get(app.url("/api/v1/papers"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(simple.status(), 200);
    assert!(!simple.headers().contains_key("access-control-allow-origin"));
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/papers"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 405);
    assert!(!preflight
        .headers()
        .keys()
        .any(|k| k.as_str().starts_with("access-control-")));
    assert_eq!(
        crate::helpers::error_code(preflight).await,
        "method_not_allowed"
    );
}

#[tokio::test]
async fn the_per_ip_rate_limit_answers_429_with_retry_after() {
    let app = crate::helpers::spawn_app_with(|c| c.security.rate_limit_per_ip_per_minute = 5).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.get("/api/v1/papers", None).await);
    }
    let last = statuses.pop().unwrap();
    assert_eq!(last.status(), 429);
    assert!(last.headers().contains_key("retry-after"));
    assert_eq!(crate::helpers::error_code(last).await, "rate_limited");
}

#[tokio::test]
async fn metrics_count_bookings_by_outcome_and_the_mail_outbox_by_status() {
    use crate::sessions_fixtures::{book, bookable_researcher, day_at_ten};
    let app = crate::helpers::spawn_app().await;
    let b = bookable_researcher(&app, "grace@yale.example").await;
    let reader = app.token("rosalind@uni.example").await;
    let start = day_at_ten(&app, 3);
    assert_eq!(
        book(&app, &reader, b.researcher_id, start, 60)
            .await
            .status(),
        201
    );
    assert_eq!(
        book(&app, &reader, b.researcher_id, start, 60)
            .await
            .status(),
        409
    );
    let text = app.get("/metrics", None).await.text().await.unwrap();
    for needle in [
        "colloquy_bookings_total{outcome=\"created\"} 1",
        "colloquy_bookings_total{outcome=\"slot_unavailable\"} 1",
        "colloquy_mail_outbox{status=\"held\"} 1",
        "colloquy_mail_outbox{status=\"sent\"} 0",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}
