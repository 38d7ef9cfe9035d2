//! Log-in throughput with argon2id (m=19456 KiB, t=2, p=1) against the real
//! server on loopback, and the latency of other requests during the burst.
//!
//! Run: `cargo bench --bench login` (optionally LOGINS=400 CONCURRENCY=32).

use std::sync::Arc;
use std::time::{Duration, Instant};

use colloquy::clock::SystemClock;
use colloquy::config::Config;
use colloquy::startup::Application;

#[path = "common.rs"]
mod common;
use common::*;

const PASSWORD: &str = "benchmark passphrase 2026";

async fn run(
    hash_concurrency: usize,
    logins: usize,
    concurrency: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:0".into();
    config.storage.data_dir = dir.path().to_path_buf();
    config.auth.password_hash_concurrency = hash_concurrency;
    config.auth.login_max_failures_per_ip = u32::MAX;
    config.security.rate_limit_per_ip_per_minute = u32::MAX;
    config.logging.level = "warn".into();
    let app = Application::build(config, Arc::new(SystemClock)).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(false));
    let client = reqwest::Client::new();
    let users = concurrency.max(1);
    for i in 0..users {
        let body = serde_json::json!({"email": format!("bench{i}@uni.example"), "password": PASSWORD, "name": "Bench", "accept_terms": true});
        let r = client
            .post(format!("{base}/api/v1/auth/register"))
            .json(&body)
            .send()
            .await?;
        assert_eq!(r.status(), 201);
    }

    // Probe: /healthz every 20 ms during the burst.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probe = {
        let (client, base, stop) = (client.clone(), base.clone(), stop.clone());
        tokio::spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                if client
                    .get(format!("{base}/api/v1/papers"))
                    .send()
                    .await
                    .is_ok()
                {
                    lat.push(t.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            lat
        })
    };

    let start = Instant::now();
    let per_worker = logins / concurrency;
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (client, base) = (client.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_worker);
            for _ in 0..per_worker {
                let body = serde_json::json!({"email": format!("bench{}@uni.example", w % users), "password": PASSWORD});
                let t = Instant::now();
                let r = client.post(format!("{base}/api/v1/auth/login")).json(&body).send().await;
                if matches!(r, Ok(ref r) if r.status() == 200) {
                    lat.push(t.elapsed());
                }
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await?);
    }
    let elapsed = start.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut probe_lat = probe.await?;
    lat.sort();
    probe_lat.sort();
    println!(
        "hash pool {hash_concurrency:>2} | {ok}/{total} log-ins in {secs:.2} s = {rate:.1} log-ins/s | log-in p50 {p50:?} p99 {p99:?} | other requests during burst: p50 {o50:?} p99 {o99:?} (n={n})",
        ok = lat.len(),
        total = per_worker * concurrency,
        secs = elapsed.as_secs_f64(),
        rate = lat.len() as f64 / elapsed.as_secs_f64(),
        p50 = percentile(&lat, 0.5),
        p99 = percentile(&lat, 0.99),
        o50 = percentile(&probe_lat, 0.5),
        o99 = percentile(&probe_lat, 0.99),
        n = probe_lat.len(),
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let logins = env_usize("LOGINS", 200);
    let concurrency = env_usize("CONCURRENCY", 16);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("log-in benchmark: {logins} log-ins, {concurrency} concurrent clients, {cpus} CPUs, argon2id m=19456 KiB t=2 p=1");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // 0 = the default (CPUs - 1); then every core hashing, for comparison.
    for pool in [0, cpus] {
        rt.block_on(run(pool, logins, concurrency))?;
    }
    Ok(())
}
