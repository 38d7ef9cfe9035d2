//! Collection throughput: 1,000 authors against local fakes of OpenAlex,
//! Firecrawl, RocketReach and Tavily that answer in 100–300 ms, with the
//! default `[providers.*]` and `[collection]` settings. Reports researchers
//! per second and paid calls per provider per author, then collects the
//! same authors again within the cache TTL (expect zero provider calls).
//!
//! Run: `cargo bench --bench collect` (AUTHORS=1000 by default; RPM=60000
//! raises the providers' rate limits to show Colloquy's own ceiling).

use std::sync::Arc;
use std::time::{Duration, Instant};

use colloquy::clock::SystemClock;
use colloquy::config::{Config, Secret};
use colloquy::domain::Role;
use colloquy::services::accounts::{self, Principal};
use colloquy::services::collection::{self, runner, CollectRequest};
use colloquy::state::AppState;
use rand::Rng;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Answers built from the request, after a random 100–300 ms delay.
struct Fake(fn(&Request) -> Value);

impl Respond for Fake {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let delay = Duration::from_millis(rand::thread_rng().gen_range(100..=300));
        ResponseTemplate::new(200)
            .set_body_json((self.0)(req))
            .set_delay(delay)
    }
}

fn query(req: &Request, key: &str) -> String {
    req.url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn body(req: &Request) -> Value {
    serde_json::from_slice(&req.body).unwrap_or(Value::Null)
}

fn slug(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(".")
        .to_lowercase()
}

fn openalex_search(req: &Request) -> Value {
    let name = query(req, "search");
    let n: u64 = name
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0);
    json!({"meta": {"count": 1}, "results": [{
        "id": format!("https://openalex.org/A{}", 9_000_000 + n),
        "display_name": name,
        "orcid": null,
        "works_count": 40, "cited_by_count": 900,
        "summary_stats": {"h_index": 12},
        "last_known_institutions": [{"display_name": "Bench University"}],
        "topics": [{"display_name": "Benchmarking"}]
    }]})
}

fn openalex_works(_: &Request) -> Value {
    json!({"meta": {"count": 1}, "results": [{"display_name": "A recent paper", "publication_year": 2026, "doi": null}]})
}

fn firecrawl_search(req: &Request) -> Value {
    let q = body(req)["query"].as_str().unwrap_or_default().to_string();
    json!({"success": true, "data": [{
        "url": format!("https://bench.example/people/{}", slug(&q)),
        "json": {"bio": format!("Profile of {q}"), "publications": ["One", "Two"]},
        "metadata": {"statusCode": 200}
    }]})
}

fn rocketreach_lookup(req: &Request) -> Value {
    let name = query(req, "name");
    json!({"id": 1, "status": "complete", "name": name,
        "emails": [{"email": format!("{}@bench.example", slug(&name)), "smtp_valid": "valid", "type": "professional", "grade": "A"}]})
}

fn tavily_search(req: &Request) -> Value {
    let q = body(req)["query"].as_str().unwrap_or_default().to_string();
    let family = q
        .trim_matches('"')
        .split('"')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string();
    json!({"query": q, "results": [{"title": format!("{family} wins the Bench Prize"), "url": "https://bench.example/prize", "content": "Awarded.", "score": 0.9}],
        "images": [], "answer": null, "response_time": 0.2})
}

async fn fake(route: (&str, &str), f: fn(&Request) -> Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(route.0))
        .and(path(route.1))
        .respond_with(Fake(f))
        .mount(&server)
        .await;
    server
}

async fn paid_calls(state: &AppState) -> Vec<(String, i64, i64)> {
    state
        .db
        .read(|c| {
            let mut stmt = c.prepare(
                "SELECT provider, SUM(outcome = 'ok'), SUM(outcome = 'cached') FROM provider_calls GROUP BY provider ORDER BY provider",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
        .unwrap_or_default()
}

async fn collect_all(
    state: &AppState,
    admin: &Principal,
    authors: usize,
) -> Result<Duration, Box<dyn std::error::Error>> {
    for i in 0..authors {
        let req = CollectRequest::Person {
            name: format!("Bench Researcher{i}"),
            affiliation: "Bench University".into(),
            paper_id: None,
        };
        collection::request(state, admin, req, None)
            .await
            .map_err(|e| e.to_string())?;
    }
    let start = Instant::now();
    runner::run_due(state).await.map_err(|e| e.to_string())?;
    Ok(start.elapsed())
}

async fn run(authors: usize) -> Result<(), Box<dyn std::error::Error>> {
    let openalex = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/authors"))
        .respond_with(Fake(openalex_search))
        .mount(&openalex)
        .await;
    Mock::given(method("GET"))
        .and(path("/works"))
        .respond_with(Fake(openalex_works))
        .mount(&openalex)
        .await;
    let firecrawl = fake(("POST", "/v1/search"), firecrawl_search).await;
    let rocketreach = fake(("GET", "/person/lookup"), rocketreach_lookup).await;
    let tavily = fake(("POST", "/search"), tavily_search).await;

    let dir = tempfile::tempdir()?;
    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    config.providers.openalex.base_url = openalex.uri();
    let p = &mut config.providers;
    (p.firecrawl.base_url, p.firecrawl.api_key) = (firecrawl.uri(), Secret::new("fc-bench"));
    (p.rocketreach.base_url, p.rocketreach.api_key) = (rocketreach.uri(), Secret::new("rr-bench"));
    (p.tavily.base_url, p.tavily.api_key) = (tavily.uri(), Secret::new("tvly-bench"));
    // No monthly caps: the run measures throughput, not budgets (the
    // default caps would stop RocketReach after 100 authors).
    p.firecrawl.monthly_credit_budget = 0;
    p.rocketreach.monthly_credit_budget = 0;
    p.tavily.monthly_credit_budget = 0;
    // Everything else stays at its default: concurrency, rate limits, TTL.
    // RPM=<n> raises every provider's rate limit, to see Colloquy's own ceiling.
    if let Some(rpm) = std::env::var("RPM").ok().and_then(|v| v.parse().ok()) {
        config.providers.openalex.requests_per_minute = rpm;
        config.providers.firecrawl.requests_per_minute = rpm;
        config.providers.rocketreach.requests_per_minute = rpm;
        config.providers.tavily.requests_per_minute = rpm;
        println!("(rate limits raised to {rpm} requests/minute per provider)");
    }
    let state = AppState::build(config, Arc::new(SystemClock))?;
    let user = accounts::create_user_admin_cli(
        &state,
        "ops@uni.example",
        "Bench Admin",
        "benchmark passphrase 2026",
        Role::Admin,
    )
    .await
    .map_err(|e| e.to_string())?;
    let admin = Principal {
        user_id: user.id,
        role: Role::Admin,
        session_id: colloquy::domain::SessionId(0),
    };

    let first = collect_all(&state, &admin, authors).await?;
    let calls = paid_calls(&state).await;
    println!(
        "first collection: {authors} authors in {:.2} s = {:.1} researchers/s",
        first.as_secs_f64(),
        authors as f64 / first.as_secs_f64()
    );
    for (provider, ok, _) in &calls {
        let per_author = *ok as f64 / authors as f64;
        let unit = if provider == "openalex" {
            "free calls (search + works)"
        } else {
            "paid calls"
        };
        println!("  {provider:<12} {ok:>5} {unit} = {per_author:.2} per author");
    }
    let researchers: i64 = state
        .db
        .read(|c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM researchers WHERE email_enc IS NOT NULL",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap_or(0);
    println!("  researchers with an e-mail: {researchers}");

    let second = collect_all(&state, &admin, authors).await?;
    let after = paid_calls(&state).await;
    println!(
        "repeat within the TTL: {authors} authors in {:.2} s",
        second.as_secs_f64()
    );
    for ((provider, ok_before, _), (_, ok_after, cached)) in calls.iter().zip(after.iter()) {
        println!(
            "  {provider:<12} {} new provider calls, {cached} answered from cache",
            ok_after - ok_before
        );
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let authors = std::env::var("AUTHORS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(authors))
}
