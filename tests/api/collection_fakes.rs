//! Wiremock fakes for the four collection providers, built from the
//! vendored contract fixtures, and small helpers the collection tests share.

use serde_json::{json, Value};
use wiremock::matchers::{
    body_partial_json, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::TestApp;

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

/// The one researcher, through the admin search.
pub async fn researchers_of_person(app: &TestApp, admin: &str) -> Value {
    let r = app
        .get("/api/v1/admin/researchers?q=priem", Some(admin))
        .await;
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list:#}");
    list["items"][0].clone()
}
