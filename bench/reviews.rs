//! Reviews: reading a much-reviewed researcher's reviews, and a paper's
//! researcher list with ratings, against the real server on loopback.
//!
//! One researcher with 10,000 published reviews (each of its own completed
//! session, a third with a comment and a tenth with an answer, all
//! encrypted), plus a paper whose 12 authors are rated researchers (one of
//! them the one above). Sequential keep-alive requests from one client:
//! - `GET /api/v1/consulting/researchers/{id}/reviews` (the first page of
//!   20, with the summary);
//! - the same with `cursor` one page further (keyset pagination);
//! - `GET /api/v1/consulting/researchers/{paper_id}` (the paper's list
//!   with each author's rating), in author order and with `sort=rating`.
//!
//! Target: the first page of reviews p99 < 5 ms.
//!
//! Run: `cargo bench --bench reviews` (REVIEWS=10000, ITERATIONS=2000).

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Duration as Span;
use colloquy::clock::SystemClock;
use colloquy::config::Config;
use colloquy::db::repos::consulting_sessions::{self, NewSession};
use colloquy::db::repos::researchers;
use colloquy::db::repos::reviews::{self, NewReview, Side};
use colloquy::domain::{PaperId, ResearcherId, ReviewStatus, Role};
use colloquy::services::accounts;
use colloquy::startup::Application;
use serde_json::Value;

#[path = "common.rs"]
mod common;
use common::*;

const PASSWORD: &str = "benchmark passphrase 2026";
const AUTHORS: usize = 12;
const TARGET_P99: Duration = Duration::from_millis(5);

async fn timed(
    client: &reqwest::Client,
    url: &str,
    iterations: usize,
    check: impl Fn(&Value) -> bool,
) -> Result<Vec<Duration>, Box<dyn Error>> {
    // Warm the caches and the connection first.
    for _ in 0..50 {
        client.get(url).send().await?.bytes().await?;
    }
    let mut lat = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        let r = client.get(url).send().await?;
        let status = r.status();
        let body = r.bytes().await?;
        lat.push(t.elapsed());
        if !status.is_success() {
            return Err(format!("{url}: {status}").into());
        }
        let v: Value = serde_json::from_slice(&body)?;
        if !check(&v) {
            return Err(format!("{url}: unexpected answer {v}").into());
        }
    }
    lat.sort();
    Ok(lat)
}

fn report(label: &str, lat: &[Duration]) -> Duration {
    let p99 = percentile(lat, 0.99);
    println!(
        "{label:<46} n={n} p50 {p50:.3} ms | p90 {p90:.3} ms | p99 {p99:.3} ms | max {max:.3} ms",
        n = lat.len(),
        p50 = ms(percentile(lat, 0.5)),
        p90 = ms(percentile(lat, 0.9)),
        p99 = ms(p99),
        max = ms(lat.last().copied().unwrap_or_default()),
    );
    p99
}

async fn run(count: usize, iterations: usize) -> Result<bool, Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:0".into();
    config.storage.data_dir = dir.path().to_path_buf();
    config.security.rate_limit_per_ip_per_minute = u32::MAX;
    config.security.rate_limit_per_user_per_minute = u32::MAX;
    config.logging.level = "warn".into();
    let app = Application::build(config, Arc::new(SystemClock)).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped(false));

    let setup = Instant::now();
    let reader = accounts::create_user_admin_cli(
        &state,
        "reader@uni.example",
        "Ada Lovelace",
        PASSWORD,
        Role::User,
    )
    .await?;
    let adder = reader.id;
    let paper = state
        .db
        .write(move |tx| {
            tx.execute(
                "INSERT INTO papers (title, created_by, created_at, updated_at)
                 VALUES ('A much-reviewed paper', ?1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                [adder],
            )?;
            Ok(PaperId(tx.last_insert_rowid()))
        })
        .await?;
    let (st, reader_id) = (state.clone(), reader.id);
    let researcher = state
        .db
        .write(move |tx| {
            let now = st.now();
            let mut ids = Vec::with_capacity(AUTHORS);
            for a in 0..AUTHORS {
                let id = researchers::insert(
                    tx,
                    &format!("Author {a}"),
                    Some("Bench University"),
                    None,
                    now,
                )?;
                researchers::link_paper(tx, paper, a as i64, id)?;
                ids.push(id);
            }
            // Every author but the first gets a few reviews; the first all.
            let per_author = |a: usize| if a == 0 { count } else { 3 + a * 7 };
            for (a, id) in ids.iter().enumerate() {
                for i in 0..per_author(a) {
                    let start = now - Span::days(40) - Span::minutes(i as i64 * 90);
                    let s = consulting_sessions::insert(
                        tx,
                        &st.keys,
                        &NewSession {
                            researcher: *id,
                            reader: reader_id,
                            paper: None,
                            query: None,
                            topic: "A question about section 3",
                            start,
                            duration_minutes: 60,
                            price_minor: 0,
                            currency: "EUR",
                            expires_at: start,
                        },
                        now,
                    )?;
                    tx.execute(
                        "UPDATE consulting_sessions SET status = 'completed' WHERE id = ?1",
                        [s],
                    )?;
                    let stars = [5u8, 4, 5, 3, 5, 4, 2, 5, 4, 1][i % 10];
                    let comment = (i % 3 == 0)
                        .then_some("Clear, patient answers about the proofs and their history.");
                    let review = reviews::insert(
                        tx,
                        &st.keys,
                        &NewReview {
                            session_id: s,
                            side: Side::Reader,
                            author_id: reader_id,
                            researcher_id: *id,
                            reader_id,
                            rating: stars,
                            comment,
                            status: ReviewStatus::Published,
                            held_rule: None,
                        },
                        now,
                    )?;
                    reviews::count_rating(tx, *id, stars, 1)?;
                    if i % 10 == 0 {
                        reviews::set_reply(
                            tx,
                            &st.keys,
                            review,
                            "Thank you!",
                            ReviewStatus::Published,
                            None,
                            now,
                        )?;
                    }
                }
            }
            Ok(ids[0])
        })
        .await?;
    println!(
        "set-up: {count} reviews of one researcher, {AUTHORS} rated authors, in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let client = reqwest::Client::new();
    let ResearcherId(rid) = researcher;
    let list = format!("{base}/api/v1/consulting/researchers/{rid}/reviews");
    let lat = timed(&client, &list, iterations, |v| {
        v["items"].as_array().is_some_and(|a| a.len() == 20)
            && v["summary"]["count"] == count as i64
    })
    .await?;
    let first_p99 = report("reviews, first page (20)", &lat);
    let first: Value = client.get(&list).send().await?.json().await?;
    let cursor = first["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let lat = timed(
        &client,
        &format!("{list}?cursor={cursor}"),
        iterations,
        |v| v["items"].as_array().is_some_and(|a| a.len() == 20),
    )
    .await?;
    report("reviews, second page (cursor)", &lat);
    let PaperId(pid) = paper;
    for (label, query) in [
        ("paper's researchers with ratings", ""),
        ("the same, sort=rating", "?sort=rating"),
    ] {
        let url = format!("{base}/api/v1/consulting/researchers/{pid}{query}");
        let lat = timed(&client, &url, iterations, |v| {
            v["items"].as_array().is_some_and(|a| {
                a.len() == AUTHORS
                    && a.iter()
                        .all(|r| r["rating"]["count"].as_i64().unwrap_or(0) > 0)
            })
        })
        .await?;
        report(label, &lat);
    }
    let ok = first_p99 < TARGET_P99;
    println!(
        "target: first page p99 < {} ms: {}",
        TARGET_P99.as_millis(),
        if ok { "met" } else { "NOT met" }
    );
    Ok(ok)
}

fn main() -> Result<ExitCode, Box<dyn Error>> {
    let count = env_usize("REVIEWS", 10_000).max(40);
    let iterations = env_usize("ITERATIONS", 2000).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let ok = rt.block_on(run(count, iterations))?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
