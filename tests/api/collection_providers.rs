//! How collection behaves when providers misbehave: polling, rate limits,
//! bad keys, quotas, server errors, timeouts, malformed answers and
//! missing keys. The fakes and fixtures come from `collection.rs`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::matchers::{any, body_partial_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::collection::{
    firecrawl_search, fixture, mount_all, mount_firecrawl_search, mount_openalex,
    mount_openalex_author, mount_openalex_search, mount_openalex_works, mount_rocketreach,
    mount_tavily, openalex_search_answer, outcomes, priem_paper, provider_calls, provider_view,
    researchers_of, rocketreach_lookup, rocketreach_profile, step, tavily_search, AFFILIATION, BIO,
    NAME, ORCID, PAGE_EMAIL, PROFILE_URL, RR_EMAIL,
};
use crate::helpers::{spawn_app, spawn_app_with, TestApp};

/// Collects the fixture paper as an admin; returns (admin, paper, job view).
async fn collect_once(app: &TestApp) -> (String, i64, Value) {
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(app, &admin).await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let job = app.job(&admin, job_id).await;
    (admin, paper, job)
}

/// `GET /person/checkStatus?ids=5244` (the fixture lookup's id).
fn check_status() -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path("/person/checkStatus"))
        .and(header("api-key", "rr-test"))
        .and(query_param("ids", "5244"))
}

#[tokio::test]
async fn rocketreach_searching_is_polled_until_the_lookup_completes() {
    let app = spawn_app().await;
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, None, 1).await;
    mount_tavily(&app, 1).await;
    rocketreach_lookup(NAME)
        .respond_with(ResponseTemplate::new(200).set_body_json(rocketreach_profile("searching")))
        .expect(1)
        .mount(&app.rocketreach)
        .await;
    check_status()
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("rocketreach/check_status_searching.json")),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.rocketreach)
        .await;
    check_status()
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([rocketreach_profile("complete")])),
        )
        .expect(1)
        .mount(&app.rocketreach)
        .await;

    let (admin, paper, job) = collect_once(&app).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(step(&job, 0, "rocketreach")["outcome"], "ok");
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["email"], RR_EMAIL);
    assert_eq!(r["email_quality"], "A- (valid)");
    assert_eq!(r["sources"]["email"]["provider"], "rocketreach");
    // The whole lookup, polls included, costs one credit.
    assert_eq!(
        provider_calls(&app, "rocketreach"),
        [("ok".to_string(), true)]
    );
}

#[tokio::test]
async fn rocketreach_still_searching_after_the_configured_wait_fails_the_step() {
    let app = spawn_app_with(|c| c.collection.rocketreach_max_wait_secs = 1).await;
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, None, 1).await;
    mount_tavily(&app, 1).await;
    rocketreach_lookup(NAME)
        .respond_with(ResponseTemplate::new(200).set_body_json(rocketreach_profile("searching")))
        .expect(1)
        .mount(&app.rocketreach)
        .await;
    check_status()
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("rocketreach/check_status_searching.json")),
        )
        .expect(1..)
        .mount(&app.rocketreach)
        .await;
    let started = Instant::now();
    let (admin, paper, job) = collect_once(&app).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(job["status"], "partial", "{job:#}");
    let rr = step(&job, 0, "rocketreach");
    assert_eq!(rr["outcome"], "failed");
    assert_eq!(rr["detail"], "still searching after 1 s");
    // Tavily still ran after it.
    assert_eq!(step(&job, 0, "tavily")["outcome"], "ok");
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert!(r.get("email").is_none() || r["email"].is_null(), "{r:#}");
    assert_eq!(r["bio"], BIO);
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_then_succeeds() {
    let app = spawn_app().await;
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    // Mounted first, so it answers the first call only.
    tavily_search(NAME)
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(fixture("tavily/error_429_rate_limited.json")),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.tavily)
        .await;
    mount_tavily(&app, 1).await;
    let started = Instant::now();
    let (admin, _paper, job) = collect_once(&app).await;
    let took = started.elapsed();
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(step(&job, 0, "tavily")["outcome"], "ok");
    // The 1 s Retry-After was honoured (the backoff alone is ~10 ms).
    assert!(took >= Duration::from_secs(1), "{took:?}");
    let tavily: Vec<_> = app.tavily.received_requests().await.unwrap();
    assert_eq!(tavily.len(), 2);
    assert_eq!(provider_calls(&app, "tavily"), [("ok".to_string(), true)]);
    let view = provider_view(&app, &admin, "tavily").await;
    assert_eq!(view["available"], true);
    assert!(view["last_error"].is_null());
}

#[tokio::test]
async fn a_retry_after_longer_than_the_allowed_wait_fails_the_step_at_once() {
    let app = spawn_app().await;
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    tavily_search(NAME)
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "3600")
                .set_body_json(fixture("tavily/error_429_rate_limited.json")),
        )
        .expect(1)
        .mount(&app.tavily)
        .await;
    let started = Instant::now();
    let (admin, _paper, job) = collect_once(&app).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(job["status"], "partial", "{job:#}");
    let s = step(&job, 0, "tavily");
    assert_eq!(s["outcome"], "failed");
    assert_eq!(s["detail"], "Tavily rate limit or quota exceeded");
    // A rate limit is not a reason to give up on the provider.
    let view = provider_view(&app, &admin, "tavily").await;
    assert_eq!(view["available"], true);
    assert_eq!(view["last_error"], "Tavily rate limit or quota exceeded");
}

#[tokio::test]
async fn a_401_marks_the_provider_unavailable_until_an_admin_enables_it() {
    let app = spawn_app().await;
    mount_openalex_search(&app, NAME, openalex_search_answer(NAME), 1).await;
    mount_openalex_works(&app, 1).await;
    mount_openalex_author(&app, 0).await;
    mount_rocketreach(&app, 1).await;
    mount_tavily(&app, 1).await;
    // Over both jobs, Firecrawl is asked once.
    firecrawl_search(NAME, AFFILIATION)
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(fixture("firecrawl/error_401_invalid_token.json")),
        )
        .expect(1)
        .mount(&app.firecrawl)
        .await;

    let (admin, paper, job) = collect_once(&app).await;
    assert_eq!(job["status"], "partial", "{job:#}");
    let fc = step(&job, 0, "firecrawl");
    assert_eq!(fc["outcome"], "failed");
    assert_eq!(fc["detail"], "Firecrawl rejected the API key");
    // The steps after it still ran, and the OpenAlex data is saved.
    assert_eq!(step(&job, 0, "rocketreach")["outcome"], "ok");
    assert_eq!(step(&job, 0, "tavily")["outcome"], "ok");
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["orcid"], ORCID);
    assert_eq!(r["email"], RR_EMAIL);
    let paper_view: Value = app
        .get(&format!("/api/v1/papers/{paper}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paper_view["collection_status"], "partial");

    let view = provider_view(&app, &admin, "firecrawl").await;
    assert_eq!(view["configured"], true);
    assert_eq!(view["available"], false);
    assert_eq!(view["unavailable_reason"], "Firecrawl rejected the API key");
    assert!(view["unavailable_since"].is_string());
    assert_eq!(view["calls_this_month"]["error"], 1);
    assert_eq!(view["credits_used_this_month"], 0);
    assert_eq!(
        provider_view(&app, &admin, "tavily").await["available"],
        true
    );

    // A second job does not call Firecrawl at all.
    let second = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let job = app.job(&admin, second).await;
    assert_eq!(job["status"], "partial", "{job:#}");
    let fc = step(&job, 0, "firecrawl");
    assert_eq!(fc["outcome"], "unavailable");
    assert_eq!(
        fc["detail"],
        "provider unavailable: Firecrawl rejected the API key"
    );
    app.firecrawl.verify().await;

    // An admin re-enables it; it is available and called again.
    let r = app
        .post_json(
            "/api/v1/admin/providers/firecrawl/enable",
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        app.post_json(
            "/api/v1/admin/providers/bogus/enable",
            Some(&admin),
            &json!({})
        )
        .await
        .status(),
        404
    );
    let view = provider_view(&app, &admin, "firecrawl").await;
    assert_eq!(view["available"], true);
    assert!(view["unavailable_reason"].is_null());
    assert!(app
        .audit_actions()
        .contains(&"provider.enabled".to_string()));
    app.firecrawl.reset().await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    let third = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let job = app.job(&admin, third).await;
    assert_eq!(step(&job, 0, "firecrawl")["outcome"], "ok", "{job:#}");
    assert_eq!(job["status"], "completed");
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["bio"], BIO);
}

#[tokio::test]
async fn an_exhausted_quota_marks_the_provider_unavailable() {
    let app = spawn_app().await;
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    tavily_search(NAME)
        .respond_with(
            ResponseTemplate::new(432).set_body_json(fixture("tavily/error_432_plan_limit.json")),
        )
        .expect(1)
        .mount(&app.tavily)
        .await;
    let (admin, _paper, job) = collect_once(&app).await;
    assert_eq!(job["status"], "partial");
    assert_eq!(
        step(&job, 0, "tavily")["detail"],
        "Tavily has no credits left (quota or plan limit reached)"
    );
    let view = provider_view(&app, &admin, "tavily").await;
    assert_eq!(view["available"], false);
    assert_eq!(
        view["unavailable_reason"],
        "Tavily has no credits left (quota or plan limit reached)"
    );
}

#[tokio::test]
async fn a_persistent_500_leaves_a_partial_profile_with_the_error_recorded() {
    let app = spawn_app().await;
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    // Every attempt (collection.max_attempts = 4) fails.
    tavily_search(NAME)
        .respond_with(ResponseTemplate::new(500).set_body_json(fixture("tavily/error_500.json")))
        .expect(4)
        .mount(&app.tavily)
        .await;
    let (admin, paper, job) = collect_once(&app).await;
    assert_eq!(job["status"], "partial", "{job:#}");
    assert!(job["error"].is_null());
    let s = step(&job, 0, "tavily");
    assert_eq!(s["outcome"], "failed");
    assert_eq!(s["detail"], "Tavily answered 500");
    for p in ["identify", "openalex", "firecrawl"] {
        assert_eq!(step(&job, 0, p)["outcome"], "ok", "{p}");
    }
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["orcid"], ORCID);
    assert_eq!(r["h_index"], 45);
    assert_eq!(r["bio"], BIO);
    assert_eq!(r["email"], PAGE_EMAIL);
    assert_eq!(r["achievements"], json!([]));
    assert!(r["sources"].get("achievements").is_none());
    assert!(r["collected_at"].is_string());
    let view = provider_view(&app, &admin, "tavily").await;
    assert_eq!(view["available"], true);
    assert_eq!(view["last_error"], "Tavily answered 500");
    assert_eq!(view["credits_used_this_month"], 0);
    assert_eq!(
        provider_calls(&app, "tavily"),
        [("error".to_string(), false)]
    );
}

#[tokio::test]
async fn a_provider_that_times_out_fails_its_step_with_a_clear_detail() {
    let app = spawn_app_with(|c| {
        c.providers.tavily.timeout_secs = 1;
        c.collection.max_attempts = 2;
    })
    .await;
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    tavily_search(NAME)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(crate::collection::tavily_answer())
                .set_delay(Duration::from_secs(3)),
        )
        .expect(2)
        .mount(&app.tavily)
        .await;
    let started = Instant::now();
    let (admin, paper, job) = collect_once(&app).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(15),
        "{took:?}"
    );
    assert_eq!(job["status"], "partial", "{job:#}");
    let s = step(&job, 0, "tavily");
    assert_eq!(s["outcome"], "failed");
    assert_eq!(s["detail"], "Tavily timed out");
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["h_index"], 45);
    assert_eq!(
        provider_view(&app, &admin, "tavily").await["last_error"],
        "Tavily timed out"
    );
}

#[tokio::test]
async fn malformed_provider_json_gives_a_clear_step_error_and_loses_nothing() {
    let app = spawn_app().await;
    mount_openalex_search(&app, NAME, openalex_search_answer(NAME), 1).await;
    mount_openalex_works(&app, 2).await;
    mount_openalex_author(&app, 1).await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    mount_tavily(&app, 2).await;
    let (admin, paper, job) = collect_once(&app).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    let before = researchers_of(&app, paper, Some(&admin)).await["items"][0].clone();
    assert_eq!(before["bio"], BIO);

    // Later (the cached answers have expired), the profile page answers
    // garbage.
    app.state.provider_cache.0.invalidate_all();
    app.firecrawl.reset().await;
    Mock::given(method("POST"))
        .and(path("/v1/scrape"))
        .and(header("authorization", "Bearer fc-test"))
        .and(body_partial_json(
            json!({"url": PROFILE_URL, "formats": ["json"]}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string("{not json"),
        )
        .expect(1)
        .mount(&app.firecrawl)
        .await;
    let second = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let job = app.job(&admin, second).await;
    assert_eq!(job["status"], "partial", "{job:#}");
    let fc = step(&job, 0, "firecrawl");
    assert_eq!(fc["outcome"], "failed");
    let detail = fc["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("Firecrawl sent an answer that could not be read"),
        "{detail}"
    );
    assert_eq!(step(&job, 0, "openalex")["outcome"], "ok");
    assert_eq!(step(&job, 0, "tavily")["outcome"], "ok");

    // Everything stored before is still there, with its provenance.
    let after = researchers_of(&app, paper, Some(&admin)).await["items"][0].clone();
    for field in [
        "bio",
        "publications",
        "email",
        "homepage",
        "orcid",
        "h_index",
        "achievements",
    ] {
        assert_eq!(after[field], before[field], "{field}");
    }
    for field in ["bio", "publications", "email", "homepage"] {
        assert_eq!(after["sources"][field], before["sources"][field], "{field}");
    }
}

#[tokio::test]
async fn a_firecrawl_answer_without_extracted_json_is_a_clear_error() {
    let app = spawn_app().await;
    mount_openalex(&app, 1).await;
    mount_rocketreach(&app, 1).await;
    mount_tavily(&app, 1).await;
    let mut answer = crate::collection::firecrawl_search_answer(None);
    answer["data"][0].as_object_mut().unwrap().remove("json");
    firecrawl_search(NAME, AFFILIATION)
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(1)
        .mount(&app.firecrawl)
        .await;
    let (admin, paper, job) = collect_once(&app).await;
    assert_eq!(job["status"], "partial");
    assert_eq!(
        step(&job, 0, "firecrawl")["detail"],
        "Firecrawl sent an answer that could not be read: the answer has no extracted JSON"
    );
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["orcid"], ORCID);
    assert_eq!(r["email"], RR_EMAIL);
}

#[tokio::test]
async fn a_provider_without_a_key_is_skipped_and_shown_as_skipped() {
    let app = spawn_app_with(|c| c.providers.tavily.api_key = Default::default()).await;
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&app.tavily)
        .await;
    let (admin, paper, job) = collect_once(&app).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(
        outcomes(&job).last().unwrap(),
        &("tavily".to_string(), "skipped".to_string())
    );
    assert_eq!(step(&job, 0, "tavily")["detail"], "no API key configured");
    let view = provider_view(&app, &admin, "tavily").await;
    assert_eq!(view["configured"], false);
    assert_eq!(view["available"], false);
    assert_eq!(
        provider_view(&app, &admin, "firecrawl").await["configured"],
        true
    );
    assert!(provider_calls(&app, "tavily").is_empty());
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["achievements"], json!([]));
    assert_eq!(r["email"], PAGE_EMAIL);
}

#[tokio::test]
async fn every_collection_provider_request_carries_its_key() {
    // The happy path with all fakes mounted strictly (auth headers are part
    // of every matcher): anything unmatched would 404 and fail a step.
    let app = spawn_app().await;
    mount_all(&app, None).await;
    let (_admin, _paper, job) = collect_once(&app).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    for (server, key, value) in [
        (&app.firecrawl, "authorization", "Bearer fc-test"),
        (&app.rocketreach, "api-key", "rr-test"),
        (&app.tavily, "authorization", "Bearer tvly-test"),
    ] {
        let reqs = server.received_requests().await.unwrap();
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].headers.get(key).unwrap(), value);
    }
    // OpenAlex gets no key of another provider.
    for req in app.openalex.received_requests().await.unwrap() {
        assert!(req.headers.get("authorization").is_none());
        assert!(req.headers.get("api-key").is_none());
    }
}

#[tokio::test]
async fn a_spent_monthly_budget_stops_paid_calls() {
    let app = spawn_app_with(|c| c.providers.firecrawl.monthly_credit_budget = 1).await;
    mount_all(&app, Some(PAGE_EMAIL)).await;
    let (admin, _paper, job) = collect_once(&app).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    // Another author: Firecrawl's one credit is spent, so it is not asked.
    mount_openalex_search(
        &app,
        "Heather Piwowar",
        fixture("openalex/authors_search_empty.json"),
        1,
    )
    .await;
    let other = crate::collection::paper_with(
        &app,
        &admin,
        json!([{"name": "Heather Piwowar", "affiliation": AFFILIATION}]),
    )
    .await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": other})).await;
    app.run_collection().await;
    let job = app.job(&admin, job_id).await;
    assert_eq!(job["status"], "partial", "{job:#}");
    let fc = step(&job, 0, "firecrawl");
    assert_eq!(fc["outcome"], "unavailable");
    assert_eq!(fc["detail"], "monthly budget of 1 credits is spent");
    let view = provider_view(&app, &admin, "firecrawl").await;
    assert_eq!(view["credits_used_this_month"], 1);
    assert_eq!(view["monthly_credit_budget"], 1);
    app.firecrawl.verify().await;
}

#[tokio::test]
async fn parallel_authors_never_overshoot_the_monthly_budget() {
    let app = spawn_app_with(|c| {
        c.providers.firecrawl.monthly_credit_budget = 2;
        c.providers.rocketreach.api_key = Default::default();
        c.providers.tavily.api_key = Default::default();
        c.collection.max_parallel_authors = 6;
    })
    .await;
    Mock::given(method("GET"))
        .and(path("/authors"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("openalex/authors_search_empty.json")),
        )
        .mount(&app.openalex)
        .await;
    // Slow answers, so every author is in flight at the same time.
    Mock::given(method("POST"))
        .and(path("/v1/search"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": true, "data": [{"url": "https://uni.example/p", "json": {"bio": "A researcher."}}]}))
                .set_delay(Duration::from_millis(300)),
        )
        .expect(2)
        .mount(&app.firecrawl)
        .await;
    let admin = app.admin_token("admin@uni.edu").await;
    let authors: Vec<Value> = (0..6)
        .map(|i| json!({"name": format!("Parallel Author{i}"), "affiliation": "Uni"}))
        .collect();
    let paper = crate::collection::paper_with(&app, &admin, json!(authors)).await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let job = app.job(&admin, job_id).await;
    let outcomes: Vec<&str> = (0..6)
        .map(|i| step(&job, i, "firecrawl")["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "ok").count(),
        2,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == "unavailable").count(),
        4,
        "{outcomes:?}"
    );
    assert_eq!(
        provider_view(&app, &admin, "firecrawl").await["credits_used_this_month"],
        2
    );
    app.firecrawl.verify().await;
}
