//! Dashboards and admin analytics on a university-sized data set,
//! through the real server on loopback.
//!
//! Generates the scale data set (`colloquy demo --scale`: 2,000
//! researchers, 20,000 readers, 200,000 sessions over two years with their
//! events, payments, reviews, subscriptions and engagement counters), then
//! measures, with sequential keep-alive requests from one client:
//! - `GET /api/v1/admin/analytics` for the last year by week, cold (a
//!   write through the service between requests drops the cached answer,
//!   as any real write does) and cached;
//! - `GET /api/v1/dashboard/researcher` of the busiest researcher, cold.
//!
//! Targets (issue 14): analytics cold p99 < 300 ms, cached p99 < 5 ms;
//! researcher dashboard cold p99 < 30 ms.
//!
//! Run: `cargo bench --bench dashboards` (SESSIONS=200000, COLD=40,
//! CACHED=500).

use std::error::Error;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::Days;
use colloquy::domain::Role;
use colloquy::services::demo_scale::{self, ScaleSpec};
use colloquy::state::AppState;

#[path = "common.rs"]
mod common;
use common::*;

const PASSWORD: &str = "benchmark passphrase 2026";

/// A write through the service that changes what the figures read (and
/// nothing else): the cached answers are stale afterwards.
async fn touch(state: &AppState) -> Result<(), Box<dyn Error>> {
    state
        .db
        .write(|tx| {
            tx.execute(
                "UPDATE researchers SET updated_at = updated_at WHERE id = (SELECT min(id) FROM researchers)",
                [],
            )?;
            Ok(())
        })
        .await?;
    Ok(())
}

async fn timed(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> Result<Duration, Box<dyn Error>> {
    let t = Instant::now();
    let r = client.get(url).bearer_auth(token).send().await?;
    let status = r.status();
    let body = r.bytes().await?;
    let took = t.elapsed();
    if !status.is_success() {
        return Err(format!(
            "{url} answered {status}: {}",
            String::from_utf8_lossy(&body)
        )
        .into());
    }
    Ok(took)
}

fn report(what: &str, mut v: Vec<Duration>, target: Duration) -> bool {
    v.sort();
    let (p50, p99) = (percentile(&v, 0.5), percentile(&v, 0.99));
    let ok = p99 < target;
    println!(
        "{what}: n={} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (target p99 < {} ms: {})",
        v.len(),
        ms(p50),
        ms(p99),
        ms(*v.last().unwrap_or(&Duration::ZERO)),
        target.as_millis(),
        if ok { "met" } else { "MISSED" }
    );
    ok
}

async fn run() -> Result<bool, Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let (base, state) = start_server(dir.path()).await?;

    let spec = ScaleSpec {
        sessions: env_usize("SESSIONS", 200_000),
        ..ScaleSpec::default()
    };
    let t = Instant::now();
    let report_ = demo_scale::generate(&state, &spec, |line| eprintln!("{line}")).await?;
    println!("set-up: {report_:?} in {:.1} s", t.elapsed().as_secs_f64());

    operator_account(
        &state,
        "admin@uni.example",
        "Bench Admin",
        PASSWORD,
        Role::Admin,
    )
    .await?;
    operator_account(
        &state,
        "busy@uni.example",
        "Busy Researcher",
        PASSWORD,
        Role::Researcher,
    )
    .await?;
    // The busiest researcher's profile goes to the new account.
    state
        .db
        .write(|tx| {
            tx.execute(
                "UPDATE researchers SET user_id = (SELECT id FROM users WHERE name = 'Busy Researcher')
                  WHERE id = (SELECT researcher_id FROM consulting_sessions GROUP BY researcher_id
                               ORDER BY count(*) DESC LIMIT 1)",
                [],
            )?;
            Ok(())
        })
        .await?;
    let client = reqwest::Client::new();
    let admin = token(&client, &base, PASSWORD, "admin@uni.example").await?;
    let busy = token(&client, &base, PASSWORD, "busy@uni.example").await?;

    let today = chrono::Utc::now().date_naive();
    let year = format!(
        "{base}/api/v1/admin/analytics?from={}&to={}&bucket=week",
        today - Days::new(364),
        today + Days::new(1)
    );
    let dashboard = format!("{base}/api/v1/dashboard/researcher");
    // Warm the SQLite page cache and the connections once.
    timed(&client, &year, &admin).await?;
    timed(&client, &dashboard, &busy).await?;

    let (cold_n, cached_n) = (env_usize("COLD", 40), env_usize("CACHED", 500));
    let mut cold = Vec::new();
    for _ in 0..cold_n {
        touch(&state).await?;
        cold.push(timed(&client, &year, &admin).await?);
    }
    let mut cached = Vec::new();
    for _ in 0..cached_n {
        cached.push(timed(&client, &year, &admin).await?);
    }
    let mut researcher = Vec::new();
    for _ in 0..cold_n * 5 {
        touch(&state).await?;
        researcher.push(timed(&client, &dashboard, &busy).await?);
    }
    let a = report(
        "admin analytics, 1 year by week, cold",
        cold,
        Duration::from_millis(300),
    );
    let b = report(
        "admin analytics, 1 year by week, cached",
        cached,
        Duration::from_millis(5),
    );
    let c = report(
        "researcher dashboard, cold",
        researcher,
        Duration::from_millis(30),
    );
    Ok(a && b && c)
}

fn main() -> Result<ExitCode, Box<dyn Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let ok = rt.block_on(run())?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
