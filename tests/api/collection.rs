//! Researcher collection through the API: the pipeline OpenAlex →
//! Firecrawl → RocketReach → Tavily against wiremock fakes built from the
//! vendored contract fixtures, jobs, provenance, de-duplication, restarts
//! and who may do what. Provider failure modes are in
//! `collection_providers.rs`; the fakes and fixtures used by both are here.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::spawn_app;

pub use crate::collection_fakes::*;

// ---------------------------------------------------------------------------
// The pipeline.

#[tokio::test]
async fn the_happy_path_fills_every_field_with_its_provenance() {
    let app = spawn_app().await;
    mount_all(&app, None).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let reader = app.token("reader@uni.edu").await;
    let paper = priem_paper(&app, &reader).await;

    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    let queued = app.job(&admin, job_id).await;
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["kind"], "paper");
    assert_eq!(app.run_collection().await, 1);

    let job = app.job(&admin, job_id).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    assert!(job["error"].is_null() && job["finished_at"].is_string());
    assert_eq!(
        outcomes(&job),
        [
            ("identify", "ok"),
            ("openalex", "ok"),
            ("firecrawl", "ok"),
            ("rocketreach", "ok"),
            ("tavily", "ok")
        ]
        .map(|(p, o)| (p.to_string(), o.to_string()))
    );
    let rid = job["researcher_ids"][0].as_i64().unwrap();
    assert_eq!(job["researcher_ids"], json!([rid]));
    let paper_view: Value = app
        .get(&format!("/api/v1/papers/{paper}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paper_view["collection_status"], "collected");

    let list = researchers_of(&app, paper, Some(&admin)).await;
    assert!(list["next_cursor"].is_null());
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let r = &items[0];
    assert_eq!(r["id"], rid);
    assert_eq!(r["name"], NAME);
    assert_eq!(r["affiliation"], AFFILIATION);
    assert_eq!(r["orcid"], ORCID);
    assert_eq!(r["openalex_id"], OPENALEX_ID);
    assert_eq!(r["h_index"], 45);
    assert_eq!(r["works_count"], 53);
    assert_eq!(r["cited_by_count"], 38);
    assert_eq!(r["topics"], json!(["Artificial Intelligence in Medicine"]));
    assert_eq!(
        r["recent_works"],
        json!([
            {"title": "The state of OA: a large-scale analysis of the prevalence and impact of Open Access articles",
             "year": 2018, "doi": "10.7717/peerj.4375"},
            {"title": "Altmetrics: a manifesto", "year": 2010, "doi": null}
        ])
    );
    assert_eq!(r["bio"], BIO);
    // Blank titles from the extraction are dropped.
    assert_eq!(
        r["publications"],
        json!(["Altmetrics: a manifesto", "The state of OA"])
    );
    assert_eq!(r["homepage"], PROFILE_URL);
    assert_eq!(r["email"], RR_EMAIL);
    assert_eq!(r["email_quality"], "A- (valid)");
    // Only the result that mentions the researcher is kept.
    assert_eq!(
        r["achievements"],
        json!([{
            "text": format!("{AWARD}: The award recognises his work on open scholarly metadata."),
            "source_url": "https://example.org/news/priem-open-science-award"
        }])
    );
    assert!(r["collected_at"].is_string());

    let sources = &r["sources"];
    let provider_of = |field: &str| {
        sources[field]["provider"]
            .as_str()
            .unwrap_or("-")
            .to_string()
    };
    for field in [
        "orcid",
        "openalex_id",
        "h_index",
        "works_count",
        "cited_by_count",
        "topics",
        "recent_works",
        "affiliation",
    ] {
        assert_eq!(provider_of(field), "openalex", "{field}: {sources:#}");
        assert_eq!(
            sources[field]["source_url"],
            format!("https://openalex.org/{OPENALEX_ID}")
        );
    }
    for field in ["bio", "publications", "homepage"] {
        assert_eq!(provider_of(field), "firecrawl", "{field}");
        assert_eq!(sources[field]["source_url"], PROFILE_URL);
    }
    assert_eq!(provider_of("email"), "rocketreach");
    assert_eq!(provider_of("achievements"), "tavily");
    assert_eq!(provider_of("name"), "paper");
    assert!(sources["email"]["recorded_at"].is_string());

    // Readers and anonymous visitors see the same profile without the
    // e-mail and without the provenance.
    for token in [Some(reader.as_str()), None] {
        let list = researchers_of(&app, paper, token).await;
        let r = list["items"][0].as_object().unwrap();
        assert_eq!(r["id"], rid);
        assert_eq!(r["bio"], BIO);
        assert_eq!(r["h_index"], 45);
        for hidden in ["email", "email_quality", "sources"] {
            assert!(!r.contains_key(hidden), "{hidden} shown: {r:?}");
        }
        let one: Value = app
            .get(&format!("/api/v1/researchers/{rid}"), token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(one["orcid"], ORCID);
        assert!(one.get("email").is_none() && one.get("sources").is_none());
    }
    let one: Value = app
        .get(&format!("/api/v1/researchers/{rid}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["email"], RR_EMAIL);
    assert_eq!(one["sources"]["email"]["provider"], "rocketreach");

    // Every call was paid once (OpenAlex is free) and logged.
    // (author search + recent works, free)
    assert_eq!(
        provider_calls(&app, "openalex"),
        [("ok".to_string(), false), ("ok".to_string(), false)]
    );
    for p in ["firecrawl", "rocketreach", "tavily"] {
        assert_eq!(provider_calls(&app, p), [("ok".to_string(), true)], "{p}");
        assert_eq!(
            provider_view(&app, &admin, p).await["credits_used_this_month"],
            1
        );
    }
}

#[tokio::test]
async fn an_email_on_the_profile_page_means_rocketreach_is_never_called() {
    let app = spawn_app().await;
    mount_all(&app, Some(PAGE_EMAIL)).await;
    // Belt and braces: any RocketReach request at all would fail this.
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&app.rocketreach)
        .await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;

    let job = app.job(&admin, job_id).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    let rr = step(&job, 0, "rocketreach");
    assert_eq!(rr["outcome"], "not_needed");
    assert!(rr["detail"].as_str().unwrap().contains("already known"));
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["email"], PAGE_EMAIL);
    assert_eq!(r["email_quality"], "shown on the profile page");
    assert_eq!(r["sources"]["email"]["provider"], "firecrawl");
    assert_eq!(r["sources"]["email"]["source_url"], PROFILE_URL);
    assert!(provider_calls(&app, "rocketreach").is_empty());
}

#[tokio::test]
async fn a_known_homepage_is_scraped_directly() {
    let app = spawn_app().await;
    let homepage = "https://jasonpriem.org/";
    let mut search = openalex_search_answer(NAME);
    search["results"][0]["homepage_url"] = json!(homepage);
    mount_openalex_search(&app, NAME, search, 1).await;
    mount_openalex_works(&app, 1).await;
    Mock::given(method("POST"))
        .and(path("/v1/scrape"))
        .and(header("authorization", "Bearer fc-test"))
        .and(body_partial_json(json!({
            "url": homepage,
            "formats": ["json"],
            "jsonOptions": {"schema": {"properties": {"email": {"type": "string"}}}}
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(firecrawl_scrape_answer(homepage, Some(PAGE_EMAIL))),
        )
        .expect(1)
        .mount(&app.firecrawl)
        .await;
    firecrawl_search(NAME, AFFILIATION)
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&app.firecrawl)
        .await;
    mount_tavily(&app, 1).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let job = app.job(&admin, job_id).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["homepage"], homepage);
    assert_eq!(r["email"], PAGE_EMAIL);
    assert_eq!(r["sources"]["bio"]["source_url"], homepage);
    assert_eq!(
        provider_calls(&app, "firecrawl"),
        [("ok".to_string(), true)]
    );
}

#[tokio::test]
async fn a_person_is_collected_by_name_and_affiliation_and_linked_to_the_paper() {
    let app = spawn_app().await;
    mount_all(&app, Some(PAGE_EMAIL)).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = paper_with(
        &app,
        &admin,
        json!([{"name": "Heather Piwowar", "affiliation": "OurResearch"},
               {"name": NAME, "affiliation": AFFILIATION}]),
    )
    .await;
    let job_id = app
        .collect_ok(
            &admin,
            &json!({"name": NAME, "affiliation": AFFILIATION, "paper_id": paper}),
        )
        .await;
    app.run_collection().await;
    let job = app.job(&admin, job_id).await;
    assert_eq!(job["kind"], "person");
    assert_eq!(job["name"], NAME);
    assert_eq!(job["status"], "completed", "{job:#}");
    // The person is the paper's second author (position 1).
    assert_eq!(step(&job, 1, "openalex")["outcome"], "ok");
    let list = researchers_of(&app, paper, None).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], NAME);
    assert_eq!(items[0]["orcid"], ORCID);
}

#[tokio::test]
async fn a_second_collect_within_the_ttl_makes_no_provider_calls() {
    let app = spawn_app().await;
    // Each fake allows exactly one call over both collections.
    mount_all(&app, None).await;
    mount_openalex_author(&app, 0).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let body = json!({"name": NAME, "affiliation": AFFILIATION});
    let first = app.collect_ok(&admin, &body).await;
    app.run_collection().await;
    assert_eq!(app.job(&admin, first).await["status"], "completed");

    let second = app.collect_ok(&admin, &body).await;
    assert_ne!(first, second, "a finished job is not reused");
    app.run_collection().await;
    let job = app.job(&admin, second).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(
        job["researcher_ids"],
        app.job(&admin, first).await["researcher_ids"]
    );
    for p in ["openalex", "firecrawl", "tavily"] {
        let s = step(&job, 0, p);
        assert_eq!(s["outcome"], "ok", "{p}");
        assert_eq!(s["detail"], "answered from cache", "{p}");
    }
    // RocketReach is not needed: the e-mail it found the first time is kept.
    assert_eq!(step(&job, 0, "rocketreach")["outcome"], "not_needed");

    // Paid calls: one each, the rest answered from the cache.
    for p in ["openalex", "firecrawl", "tavily"] {
        let calls = provider_calls(&app, p);
        assert!(calls.iter().any(|c| c.0 == "cached"), "{p}: {calls:?}");
        assert_eq!(
            calls.iter().filter(|c| c.0 == "ok").count(),
            if p == "openalex" { 2 } else { 1 },
            "{p}: {calls:?}"
        );
        assert!(calls.iter().filter(|c| c.0 == "cached").all(|c| !c.1));
    }
    let admin_view = provider_view(&app, &admin, "firecrawl").await;
    assert_eq!(admin_view["credits_used_this_month"], 1);
    assert_eq!(admin_view["calls_this_month"]["cached"], 1);
    let r = &researchers_of_person(&app, &admin).await;
    assert_eq!(r["email"], RR_EMAIL);
}

#[tokio::test]
async fn a_job_interrupted_by_a_restart_resumes_without_repeating_done_steps() {
    let app = spawn_app().await;
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, None, 1).await;
    mount_rocketreach(&app, 1).await;
    // The first Tavily call hangs: the process "stops" during it.
    tavily_search(NAME)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(tavily_answer())
                .set_delay(Duration::from_secs(60)),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.tavily)
        .await;
    mount_tavily(&app, 1).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;

    let st = app.state.clone();
    let run =
        tokio::spawn(async move { colloquy::services::collection::runner::run_due(&st).await });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while app.tavily.received_requests().await.unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "Tavily never called");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    run.abort();
    assert!(run.await.unwrap_err().is_cancelled());

    let job = app.job(&admin, job_id).await;
    assert_eq!(job["status"], "running");
    assert_eq!(
        outcomes(&job),
        [
            ("identify", "ok"),
            ("openalex", "ok"),
            ("firecrawl", "ok"),
            ("rocketreach", "ok")
        ]
        .map(|(p, o)| (p.to_string(), o.to_string()))
    );

    // A new process on the same data directory (empty caches).
    let fresh =
        colloquy::state::AppState::build((*app.state.config).clone(), Arc::new(app.clock.clone()))
            .unwrap();
    assert_eq!(
        colloquy::services::collection::runner::recover(&fresh)
            .await
            .unwrap(),
        1
    );
    assert_eq!(app.job(&admin, job_id).await["status"], "queued");
    assert_eq!(
        colloquy::services::collection::runner::run_due(&fresh)
            .await
            .unwrap(),
        1
    );
    let job = app.job(&admin, job_id).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(step(&job, 0, "tavily")["outcome"], "ok");
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["email"], RR_EMAIL);
    assert_eq!(r["h_index"], 45);
    assert_eq!(
        r["achievements"][0]["source_url"],
        "https://example.org/news/priem-open-science-award"
    );
    // The wiremock expectations (one call each before Tavily) are checked
    // when the fakes drop; check them now too, for a clear message.
    app.openalex.verify().await;
    app.firecrawl.verify().await;
    app.rocketreach.verify().await;
    app.tavily.verify().await;
}

#[tokio::test]
async fn fields_the_researcher_edited_are_never_overwritten_by_collection() {
    let app = spawn_app().await;
    mount_openalex_search(&app, NAME, openalex_search_answer(NAME), 1).await;
    mount_openalex_works(&app, 2).await;
    mount_openalex_author(&app, 1).await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    mount_tavily(&app, 2).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let rid = researchers_of(&app, paper, None).await["items"][0]["id"]
        .as_i64()
        .unwrap();
    // The researcher corrected their bio (the claim flow stores this).
    app.db()
        .execute(
            "UPDATE researchers SET bio = 'My own words.', edited_fields = '[\"bio\"]' WHERE id = ?1",
            [rid],
        )
        .unwrap();

    // A later refresh (cached answers expired) finds a new page.
    app.state.provider_cache.0.invalidate_all();
    let mut page = firecrawl_scrape_answer(PROFILE_URL, Some(PAGE_EMAIL));
    page["data"]["json"]["bio"] = json!("A bio the page shows now.");
    page["data"]["json"]["publications"] = json!(["A newer paper"]);
    Mock::given(method("POST"))
        .and(path("/v1/scrape"))
        .and(header("authorization", "Bearer fc-test"))
        .and(body_partial_json(json!({"url": PROFILE_URL})))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .expect(1)
        .mount(&app.firecrawl)
        .await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    assert_eq!(app.job(&admin, job_id).await["status"], "completed");
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["bio"], "My own words.");
    assert_eq!(r["publications"], json!(["A newer paper"]));
}

// ---------------------------------------------------------------------------
// The API: repeats, roles, validation, retries.
