//! Researcher collection through the API: the pipeline OpenAlex →
//! Firecrawl → RocketReach → Tavily against wiremock fakes built from the
//! vendored contract fixtures, jobs, provenance, de-duplication, restarts
//! and who may do what. Provider failure modes are in
//! `collection_providers.rs`; the fakes and fixtures used by both are here.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{
    body_partial_json, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{error_code, spawn_app, spawn_app_with, TestApp, PASSWORD};

// ---------------------------------------------------------------------------
// The researcher the fixtures describe (OpenAlex's contract author).

pub const NAME: &str = "Jason Priem";
pub const AFFILIATION: &str = "OurResearch";
pub const OPENALEX_ID: &str = "A5023888391";
pub const ORCID: &str = "0000-0001-6187-6610";
pub const PROFILE_URL: &str = "https://ourresearch.org/team/jason-priem";
pub const BIO: &str =
    "Jason Priem co-founded OurResearch and works on open scholarly infrastructure.";
/// Shown on the profile page (Firecrawl).
pub const PAGE_EMAIL: &str = "jason.priem@ourresearch.org";
/// Found by RocketReach (its best professional address).
pub const RR_EMAIL: &str = "jpriem@ourresearch.org";
pub const AWARD: &str = "Jason Priem receives the 2023 Open Science Award";

// ---------------------------------------------------------------------------
// Fixtures.

pub fn fixture_text(rel: &str) -> String {
    let p = format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

pub fn fixture(rel: &str) -> Value {
    serde_json::from_str(&fixture_text(rel)).unwrap()
}

/// `GET /authors?search=` for the fixture author, renamed when asked.
pub fn openalex_search_answer(name: &str) -> Value {
    let mut v = fixture("openalex/authors_search.json");
    v["results"][0]["display_name"] = json!(name);
    v
}

/// `GET /works?filter=author.id:…`: the list shape with two works.
pub fn openalex_works_answer() -> Value {
    let mut v = fixture("openalex/authors_search_empty.json");
    v["meta"]["count"] = json!(2);
    v["results"] = json!([
        {"id": "https://openalex.org/W2741809807", "doi": "https://doi.org/10.7717/peerj.4375",
         "display_name": "The state of OA: a large-scale analysis of the prevalence and impact of Open Access articles",
         "publication_year": 2018, "authorships": []},
        {"id": "https://openalex.org/W2100000001", "doi": null,
         "display_name": "Altmetrics: a manifesto", "publication_year": 2010}
    ]);
    v
}

/// One Firecrawl document with the JSON extraction for the profile page.
fn firecrawl_doc(url: &str, email: Option<&str>) -> Value {
    let mut doc = fixture("firecrawl/scrape_success_json.json")["data"].clone();
    let mut extracted = json!({
        "bio": BIO,
        "publications": ["Altmetrics: a manifesto", "The state of OA", "  "]
    });
    if let Some(e) = email {
        extracted["email"] = json!(e);
    }
    doc["json"] = extracted;
    doc["url"] = json!(url);
    doc["metadata"]["sourceURL"] = json!(url);
    doc["metadata"]["title"] = json!("Jason Priem | OurResearch");
    doc
}

/// `POST /v1/search` with scrape options: `{success, data: [doc]}`.
pub fn firecrawl_search_answer(email: Option<&str>) -> Value {
    json!({"success": true, "data": [firecrawl_doc(PROFILE_URL, email)]})
}

/// `POST /v1/scrape`: `{success, data: doc}`.
pub fn firecrawl_scrape_answer(url: &str, email: Option<&str>) -> Value {
    let mut v = fixture("firecrawl/scrape_success_json.json");
    v["data"] = firecrawl_doc(url, email);
    v
}

/// A RocketReach profile (lookup or one checkStatus entry) in `status`.
pub fn rocketreach_profile(status: &str) -> Value {
    if status != "complete" {
        let mut v = fixture("rocketreach/lookup_searching.json");
        v["name"] = json!(NAME);
        v["current_employer"] = json!(AFFILIATION);
        v["status"] = json!(status);
        return v;
    }
    let mut v = fixture("rocketreach/lookup_complete.json");
    v["name"] = json!(NAME);
    v["current_employer"] = json!(AFFILIATION);
    v["current_employer_domain"] = json!("ourresearch.org");
    v["current_work_email"] = json!(RR_EMAIL);
    v["recommended_email"] = json!(RR_EMAIL);
    v["recommended_professional_email"] = json!(RR_EMAIL);
    v["current_personal_email"] = json!("jason.priem.home@gmail.com");
    v["recommended_personal_email"] = json!("jason.priem.home@gmail.com");
    // A B-grade address first, the A- one second: the better grade wins.
    v["emails"][0]["email"] = json!("priem.old@ourresearch.org");
    v["emails"][0]["grade"] = json!("B");
    v["emails"][1]["email"] = json!(RR_EMAIL);
    v["emails"][2]["email"] = json!("jason.priem.home@gmail.com");
    v["emails"][3]["email"] = json!("jasonpriem@ourresearch.org");
    v
}

/// `POST /search`: one result about the researcher, one unrelated (dropped).
pub fn tavily_answer() -> Value {
    let mut v = fixture("tavily/search_success_full.json");
    let unrelated = v["results"][0].clone();
    v["query"] = json!(format!(
        "\"{NAME}\" {AFFILIATION} award OR fellowship OR grant OR prize"
    ));
    v["answer"] = Value::Null;
    v["results"] = json!([
        {"title": AWARD, "url": "https://example.org/news/priem-open-science-award",
         "content": "The award recognises his work on open scholarly metadata.", "score": 0.91,
         "raw_content": null, "favicon": null, "id": "b1"},
        unrelated
    ]);
    v
}

// ---------------------------------------------------------------------------
// Fakes: each asserts the request (path, auth, query or body).

pub async fn mount_openalex_search(app: &TestApp, name: &str, answer: Value, expect: u64) {
    Mock::given(method("GET"))
        .and(path("/authors"))
        .and(query_param("search", name))
        .and(query_param("per-page", "10"))
        .and(query_param_is_missing("api_key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(expect)
        .mount(&app.openalex)
        .await;
}

pub async fn mount_openalex_works(app: &TestApp, expect: u64) {
    Mock::given(method("GET"))
        .and(path("/works"))
        .and(query_param("filter", format!("author.id:{OPENALEX_ID}")))
        .and(query_param("sort", "publication_date:desc"))
        .and(query_param("per-page", "5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openalex_works_answer()))
        .expect(expect)
        .mount(&app.openalex)
        .await;
}

/// `GET /authors/A…`: what a collection that already knows the id asks.
pub async fn mount_openalex_author(app: &TestApp, expect: u64) {
    Mock::given(method("GET"))
        .and(path(format!("/authors/{OPENALEX_ID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("openalex/author_get.json")))
        .expect(expect)
        .mount(&app.openalex)
        .await;
}

pub async fn mount_openalex(app: &TestApp, expect: u64) {
    mount_openalex_search(app, NAME, openalex_search_answer(NAME), expect).await;
    mount_openalex_works(app, expect).await;
}

/// The Firecrawl search request for `name` at `affiliation`.
pub fn firecrawl_search(name: &str, affiliation: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/v1/search"))
        .and(header("authorization", "Bearer fc-test"))
        .and(body_partial_json(json!({
            "query": format!("{name} {affiliation} profile"),
            "limit": 1,
            "scrapeOptions": {
                "formats": ["json"],
                "jsonOptions": {"schema": {"properties": {
                    "bio": {"type": "string"},
                    "publications": {"type": "array"},
                    "email": {"type": "string"}
                }}}
            }
        })))
}

pub async fn mount_firecrawl_search(app: &TestApp, email: Option<&str>, expect: u64) {
    firecrawl_search(NAME, AFFILIATION)
        .respond_with(ResponseTemplate::new(200).set_body_json(firecrawl_search_answer(email)))
        .expect(expect)
        .mount(&app.firecrawl)
        .await;
}

pub fn rocketreach_lookup(name: &str) -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path("/person/lookup"))
        .and(header("api-key", "rr-test"))
        .and(query_param("name", name))
        .and(query_param("current_employer", AFFILIATION))
}

pub async fn mount_rocketreach(app: &TestApp, expect: u64) {
    rocketreach_lookup(NAME)
        .respond_with(ResponseTemplate::new(200).set_body_json(rocketreach_profile("complete")))
        .expect(expect)
        .mount(&app.rocketreach)
        .await;
}

pub fn tavily_search(name: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/search"))
        .and(header("authorization", "Bearer tvly-test"))
        .and(body_partial_json(json!({
            "query": format!("\"{name}\" {AFFILIATION} award OR fellowship OR grant OR prize"),
            "search_depth": "basic",
            "max_results": 8
        })))
}

pub async fn mount_tavily(app: &TestApp, expect: u64) {
    tavily_search(NAME)
        .respond_with(ResponseTemplate::new(200).set_body_json(tavily_answer()))
        .expect(expect)
        .mount(&app.tavily)
        .await;
}

/// Every provider answers once; the profile page shows `page_email`
/// (RocketReach is mounted only when it does not).
pub async fn mount_all(app: &TestApp, page_email: Option<&str>) {
    mount_openalex(app, 1).await;
    mount_firecrawl_search(app, page_email, 1).await;
    mount_rocketreach(app, u64::from(page_email.is_none())).await;
    mount_tavily(app, 1).await;
}

// ---------------------------------------------------------------------------
// Small helpers.

/// A paper with the given authors; returns its id.
pub async fn paper_with(app: &TestApp, token: &str, authors: Value) -> i64 {
    let r = app
        .create_paper(
            token,
            &json!({"title": "The state of OA", "year": 2018, "authors": authors}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// A paper whose one author is the fixture researcher.
pub async fn priem_paper(app: &TestApp, token: &str) -> i64 {
    paper_with(
        app,
        token,
        json!([{"name": NAME, "affiliation": AFFILIATION}]),
    )
    .await
}

/// The step of one author and provider in a job view.
pub fn step<'a>(job: &'a Value, author: i64, provider: &str) -> &'a Value {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["author_index"] == author && s["provider"] == provider)
        .unwrap_or_else(|| panic!("no {provider} step for author {author} in {job:#}"))
}

pub fn outcomes(job: &Value) -> Vec<(String, String)> {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["provider"].as_str().unwrap().to_string(),
                s["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub async fn researchers_of(app: &TestApp, paper: i64, token: Option<&str>) -> Value {
    let r = app
        .get(&format!("/api/v1/consulting/researchers/{paper}"), token)
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Provider-call log rows of one provider, oldest first: (outcome, paid).
pub fn provider_calls(app: &TestApp, provider: &str) -> Vec<(String, bool)> {
    let conn = app.db();
    let mut stmt = conn
        .prepare("SELECT outcome, paid FROM provider_calls WHERE provider = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([provider], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

pub async fn provider_view(app: &TestApp, admin: &str, name: &str) -> Value {
    let r = app.get("/api/v1/admin/providers", Some(admin)).await;
    assert_eq!(r.status(), 200);
    let all: Value = r.json().await.unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()
        .clone()
}

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

/// The one researcher, through the admin search.
async fn researchers_of_person(app: &TestApp, admin: &str) -> Value {
    let r = app
        .get("/api/v1/admin/researchers?q=priem", Some(admin))
        .await;
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list:#}");
    list["items"][0].clone()
}

#[tokio::test]
async fn two_authors_with_the_same_email_are_merged_with_their_provenance() {
    let app = spawn_app().await;
    let alias = "J. R. Priem";
    mount_openalex(&app, 1).await;
    // OpenAlex does not know the alias; its profile page shows the same e-mail.
    mount_openalex_search(
        &app,
        alias,
        fixture("openalex/authors_search_empty.json"),
        1,
    )
    .await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    let mut alias_page = firecrawl_search_answer(Some(&PAGE_EMAIL.to_uppercase()));
    alias_page["data"][0]["url"] = json!("https://example.edu/~jrpriem");
    alias_page["data"][0]["json"]["bio"] = Value::Null;
    firecrawl_search(alias, AFFILIATION)
        .respond_with(ResponseTemplate::new(200).set_body_json(alias_page))
        .expect(1)
        .mount(&app.firecrawl)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&app.rocketreach)
        .await;
    // The alias's Tavily search may run before or after the merge.
    Mock::given(method("POST"))
        .and(path("/search"))
        .and(header("authorization", "Bearer tvly-test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tavily_answer()))
        .mount(&app.tavily)
        .await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = paper_with(
        &app,
        &admin,
        json!([{"name": NAME, "affiliation": AFFILIATION},
               {"name": alias, "affiliation": AFFILIATION}]),
    )
    .await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;

    let job = app.job(&admin, job_id).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    let ids = job["researcher_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 1, "{job:#}");
    let kept = ids[0].as_i64().unwrap();
    assert_eq!(step(&job, 0, "tavily")["researcher_id"], kept);
    assert_eq!(step(&job, 1, "tavily")["researcher_id"], kept);

    // The paper lists one researcher for both positions.
    let list = researchers_of(&app, paper, Some(&admin)).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list:#}");
    let r = &items[0];
    assert_eq!(r["id"], kept);
    assert_eq!(r["email"], PAGE_EMAIL);
    assert_eq!(r["orcid"], ORCID);
    assert_eq!(r["bio"], BIO);
    let conn = app.db();
    let links: Vec<i64> = conn
        .prepare(
            "SELECT researcher_id FROM paper_researchers WHERE paper_id = ?1 ORDER BY position",
        )
        .unwrap()
        .query_map([paper], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(links, [kept, kept]);
    let (kept_id, merged_id, reason, merged_sources): (i64, i64, String, String) = conn
        .query_row(
            "SELECT kept_id, merged_id, reason, merged_sources FROM researcher_merges",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(kept_id, kept);
    assert_ne!(merged_id, kept);
    assert_eq!(reason, "same email");
    // The merged record's provenance is kept with the merge.
    let merged: Value = serde_json::from_str(&merged_sources).unwrap();
    assert!(
        merged
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["field"] == "name" && s["provider"] == "paper"),
        "{merged:#}"
    );
    let researchers: i64 = conn
        .query_row("SELECT COUNT(*) FROM researchers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(researchers, 1);
}

#[tokio::test]
async fn chained_merges_keep_every_merge_record_and_old_ids_resolve_to_the_keeper() {
    use colloquy::db::repos::researchers;
    let app = spawn_app().await;
    let now = chrono::Utc::now();
    let (a, b, c, resolved) = app
        .state
        .db
        .write(move |tx| {
            let c = researchers::insert(tx, "C. Priem", Some(AFFILIATION), None, now)?;
            let b = researchers::insert(tx, "B. Priem", Some(AFFILIATION), None, now)?;
            let a = researchers::insert(tx, "A. Priem", Some(AFFILIATION), None, now)?;
            researchers::merge(tx, b, a, "same orcid", now)?;
            researchers::merge(tx, c, b, "same email", now)?;
            let resolved = [a, b, c].map(|id| researchers::resolve(tx, id).unwrap());
            Ok((a, b, c, resolved))
        })
        .await
        .unwrap();
    assert_eq!(resolved, [Some(c), Some(c), Some(c)]);
    let rows: Vec<(i64, i64, String)> = app
        .db()
        .prepare("SELECT kept_id, merged_id, reason FROM researcher_merges ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        [
            (c.0, a.0, "same orcid".to_string()),
            (c.0, b.0, "same email".to_string())
        ]
    );
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

#[tokio::test]
async fn repeating_a_collect_request_while_its_job_is_queued_returns_the_same_job() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let reader = app.token("reader@uni.edu").await;
    let paper = priem_paper(&app, &reader).await;
    let first = app.collect_ok(&reader, &json!({"paper_id": paper})).await;
    assert_eq!(
        app.collect_ok(&reader, &json!({"paper_id": paper})).await,
        first
    );
    // Anyone asking for the same work gets the same job.
    assert_eq!(
        app.collect_ok(&admin, &json!({"paper_id": paper})).await,
        first
    );
    let person = json!({"name": NAME, "affiliation": AFFILIATION});
    let p1 = app.collect_ok(&admin, &person).await;
    assert_ne!(p1, first);
    // Case and spacing do not make a new request.
    assert_eq!(
        app.collect_ok(
            &admin,
            &json!({"name": " jason priem ", "affiliation": "ourresearch"})
        )
        .await,
        p1
    );
    let count: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM collection_jobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 2);
    // A running job is still the same job.
    app.db()
        .execute(
            "UPDATE collection_jobs SET status = 'running' WHERE id = ?1",
            [first],
        )
        .unwrap();
    assert_eq!(
        app.collect_ok(&admin, &json!({"paper_id": paper})).await,
        first
    );
}

#[tokio::test]
async fn roles_and_owners_limit_who_may_collect_and_see_jobs() {
    let app = spawn_app_with(|c| c.collection.reader_daily_jobs = 1).await;
    mount_all(&app, Some(PAGE_EMAIL)).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let alice = app.token("alice@uni.edu").await;
    let bob = app.token("bob@uni.edu").await;
    let paper = priem_paper(&app, &alice).await;

    // Anonymous: 401 everywhere but the public profile list.
    let r = app.collect(None, &json!({"paper_id": paper})).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        app.collect(Some("not-a-token"), &json!({"paper_id": paper}))
            .await
            .status(),
        401
    );
    // Readers may collect a paper, not a person.
    let r = app
        .collect(
            Some(&alice),
            &json!({"name": NAME, "affiliation": AFFILIATION}),
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(error_code(r).await, "forbidden");
    let r = app
        .collect(
            Some(&alice),
            &json!({"name": NAME, "affiliation": AFFILIATION, "paper_id": paper}),
        )
        .await;
    assert_eq!(r.status(), 403);
    let job_id = app.collect_ok(&alice, &json!({"paper_id": paper})).await;

    // The job: its requester and admins; others get 404, anonymous 401.
    let path = format!("/api/v1/consulting/jobs/{job_id}");
    assert_eq!(app.get(&path, Some(&alice)).await.status(), 200);
    assert_eq!(app.get(&path, Some(&admin)).await.status(), 200);
    let r = app.get(&path, Some(&bob)).await;
    assert_eq!(r.status(), 404);
    assert_eq!(error_code(r).await, "not_found");
    assert_eq!(app.get(&path, None).await.status(), 401);
    assert_eq!(
        app.get("/api/v1/consulting/jobs/999999", Some(&admin))
            .await
            .status(),
        404
    );

    app.run_collection().await;
    assert_eq!(app.job(&alice, job_id).await["status"], "completed");
    // Collected now: a reader may not collect it again (admins may).
    for t in [&alice, &bob] {
        let r = app.collect(Some(t), &json!({"paper_id": paper})).await;
        assert_eq!(r.status(), 409);
        assert_eq!(error_code(r).await, "already_collected");
    }
    let jobs: Value = app
        .get(
            "/api/v1/admin/collection/jobs?status=completed",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jobs["items"][0]["id"], job_id);
    // Nobody but admins sees the admin views and actions.
    for (m, p) in [
        ("GET", "/api/v1/admin/collection/jobs".to_string()),
        ("GET", "/api/v1/admin/providers".to_string()),
        ("GET", "/api/v1/admin/researchers".to_string()),
        (
            "POST",
            format!("/api/v1/admin/collection/jobs/{job_id}/retry"),
        ),
        (
            "POST",
            "/api/v1/admin/providers/firecrawl/enable".to_string(),
        ),
    ] {
        let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
        let r = app
            .send_json(method.clone(), &p, Some(&alice), &json!({}))
            .await;
        assert_eq!(r.status(), 403, "{m} {p}");
        let r = app.send_json(method.clone(), &p, None, &json!({})).await;
        assert_eq!(r.status(), 401, "{m} {p}");
        let r = app.send_json(method, &p, Some(&admin), &json!({})).await;
        assert!(r.status().is_success(), "{m} {p}: {}", r.status());
    }
    assert_eq!(
        app.get("/api/v1/admin/collection/jobs?bogus=1", Some(&admin))
            .await
            .status(),
        422
    );
    app.run_collection().await;
    let again = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    assert_ne!(again, job_id);

    // The daily budget (one job): alice has used it; a second paper is
    // refused; bob's budget is his own.
    let second = paper_with(
        &app,
        &alice,
        json!([{"name": "Ada Lovelace", "affiliation": "Analytical Engines"}]),
    )
    .await;
    let r = app
        .collect(Some(&alice), &json!({"paper_id": second}))
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(error_code(r).await, "rate_limited");
    let bobs = app.collect_ok(&bob, &json!({"paper_id": second})).await;
    // While bob's job is queued, alice asking for it gets that job.
    assert_eq!(
        app.collect_ok(&alice, &json!({"paper_id": second})).await,
        bobs
    );
    // A day later alice may collect again.
    app.clock.advance(chrono::Duration::hours(25));
    let alice = app
        .login("alice@uni.edu", PASSWORD)
        .await
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let third = paper_with(
        &app,
        &alice,
        json!([{"name": "Grace Hopper", "affiliation": "Yale"}]),
    )
    .await;
    app.collect_ok(&alice, &json!({"paper_id": third})).await;
}

#[tokio::test]
async fn bad_collect_requests_are_refused_with_clear_errors() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@uni.edu").await;
    let collect = |body: Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let r = app.collect(Some(&admin), &body).await;
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (status, body)
        }
    };
    let (s, b) = collect(json!({})).await;
    assert_eq!(s, 422, "{b}");
    assert!(b["error"]["fields"]["paper_id"].is_string(), "{b}");
    let (s, b) = collect(json!({"name": "x"})).await;
    assert_eq!(s, 422);
    assert!(b["error"]["fields"]["affiliation"].is_string(), "{b}");
    let (s, b) = collect(json!({"affiliation": "Somewhere"})).await;
    assert_eq!(s, 422);
    assert!(b["error"]["fields"]["name"].is_string(), "{b}");
    let (s, b) = collect(json!({"name": "   ", "affiliation": " "})).await;
    assert_eq!(s, 422);
    assert!(
        b["error"]["fields"]["name"].is_string() && b["error"]["fields"]["affiliation"].is_string(),
        "{b}"
    );
    let (s, b) = collect(json!({"name": "x".repeat(201), "affiliation": "Uni"})).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = collect(json!({"paper_id": 424242})).await;
    assert_eq!((s, b["error"]["code"].as_str()), (404, Some("not_found")));
    let (s, b) =
        collect(json!({"name": NAME, "affiliation": AFFILIATION, "paper_id": 424242})).await;
    assert_eq!(s, 404, "{b}");
    let (s, b) = collect(json!({"paper_id": 1, "priority": "high"})).await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("priority"),
        "{b}"
    );
    let (s, _) = collect(json!({"paper_id": "one"})).await;
    assert_eq!(s, 422);
    let r = app
        .client
        .post(app.url("/api/v1/consulting/researchers/collect"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let count: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM collection_jobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn the_admin_retry_reruns_only_the_failed_steps() {
    let app = spawn_app().await;
    mount_openalex(&app, 1).await;
    mount_firecrawl_search(&app, Some(PAGE_EMAIL), 1).await;
    tavily_search(NAME)
        .respond_with(ResponseTemplate::new(500).set_body_json(fixture("tavily/error_500.json")))
        .up_to_n_times(4)
        .expect(4)
        .mount(&app.tavily)
        .await;
    mount_tavily(&app, 1).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    let job = app.job(&admin, job_id).await;
    assert_eq!(job["status"], "partial", "{job:#}");
    assert_eq!(step(&job, 0, "tavily")["outcome"], "failed");

    let retry = format!("/api/v1/admin/collection/jobs/{job_id}/retry");
    let calls_before: i64 = count_calls(&app);
    let r = app.post_json(&retry, Some(&admin), &json!({})).await;
    assert_eq!(r.status(), 202);
    let queued: Value = r.json().await.unwrap();
    assert_eq!(queued["status"], "queued");
    assert!(queued["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["provider"] != "tavily"));
    // A queued job cannot be retried again.
    let r = app.post_json(&retry, Some(&admin), &json!({})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "job_not_finished");
    assert_eq!(
        app.post_json(
            "/api/v1/admin/collection/jobs/999999/retry",
            Some(&admin),
            &json!({})
        )
        .await
        .status(),
        404
    );

    app.run_collection().await;
    let job = app.job(&admin, job_id).await;
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(step(&job, 0, "tavily")["outcome"], "ok");
    assert_eq!(step(&job, 0, "tavily")["detail"], Value::Null);
    // Only Tavily was called again: no OpenAlex or Firecrawl call, not even
    // from the cache.
    let conn = app.db();
    let since: Vec<String> = conn
        .prepare("SELECT provider FROM provider_calls WHERE id > ?1")
        .unwrap()
        .query_map([calls_before], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(since, ["tavily"]);
    let r = &researchers_of(&app, paper, None).await["items"][0];
    assert_eq!(
        r["achievements"][0]["text"]
            .as_str()
            .unwrap()
            .split(':')
            .next(),
        Some(AWARD)
    );
    assert!(app
        .audit_actions()
        .contains(&"collection.retried".to_string()));

    // While another job for the same paper is queued, the old one cannot
    // be queued beside it: a conflict, not a server error.
    let newer = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    assert_ne!(newer, job_id);
    let r = app.post_json(&retry, Some(&admin), &json!({})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(app.job(&admin, job_id).await["status"], "completed");
}

fn count_calls(app: &TestApp) -> i64 {
    app.db()
        .query_row("SELECT COALESCE(MAX(id), 0) FROM provider_calls", [], |r| {
            r.get(0)
        })
        .unwrap()
}

#[tokio::test]
async fn collected_emails_are_encrypted_at_rest() {
    let app = spawn_app().await;
    mount_all(&app, None).await;
    let admin = app.admin_token("admin@uni.edu").await;
    let paper = priem_paper(&app, &admin).await;
    let job_id = app.collect_ok(&admin, &json!({"paper_id": paper})).await;
    app.run_collection().await;
    assert_eq!(app.job(&admin, job_id).await["status"], "completed");
    let r = &researchers_of(&app, paper, Some(&admin)).await["items"][0];
    assert_eq!(r["email"], RR_EMAIL);

    let mut raw = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", app.db_path().display())) {
            raw.extend(b);
        }
    }
    let contains = |needle: &str| {
        raw.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
    };
    assert!(contains(NAME), "the public name is stored in clear");
    assert!(!contains(RR_EMAIL), "the e-mail is in the database file");
    assert!(
        !contains("jpriem@"),
        "the local part is in the database file"
    );
    // The stored column is ciphertext, with a blind index beside it.
    let (enc, bidx): (String, String) = app
        .db()
        .query_row("SELECT email_enc, email_bidx FROM researchers", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(!enc.contains('@') && !bidx.contains('@'));
}
