//! Exports: 200,000 sessions as CSV, streamed by the real server on
//! loopback to one admin client.
//!
//! Generates 2,000 researchers, 20,000 readers and 200,000 sessions over
//! two years with `colloquy demo --scale`'s generator (`services::demo_scale`:
//! topics encrypted as usual, with payments, reviews and analytics), then
//! downloads `GET /api/v1/exports/sessions?format=csv` and reads the body
//! chunk by chunk, counting rows. The server runs in this process, so the
//! process's resident memory (VmRSS, sampled after every chunk) is the
//! server's: its peak growth over the value before the download is what
//! streaming must keep flat.
//!
//! Targets (issue 14): ≥ 100,000 rows/s, peak RSS growth < 20 MB.
//!
//! Run: `cargo bench --bench exports` (SESSIONS=200000).

use std::error::Error;
use std::process::ExitCode;
use std::time::Instant;

use colloquy::domain::Role;
use colloquy::services::demo_scale::{self, ScaleSpec};
use serde_json::Value;

// Only some of the shared helpers are used here.
#[allow(dead_code)]
#[path = "common.rs"]
mod common;
use common::*;

const PASSWORD: &str = "benchmark passphrase 2026";

/// This process's resident memory in kB (Linux).
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

async fn run(sessions: usize) -> Result<bool, Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let (base, state) = start_server(dir.path()).await?;

    let setup = Instant::now();
    operator_account(
        &state,
        "admin@uni.example",
        "Bench Admin",
        PASSWORD,
        Role::Admin,
    )
    .await?;
    let spec = ScaleSpec {
        sessions,
        ..ScaleSpec::default()
    };
    let made = demo_scale::generate(&state, &spec, |line| eprintln!("  {line}")).await?;
    println!(
        "set-up: {} researchers, {} readers, {} sessions with {} ledger rows and {} reviews (colloquy demo --scale) in {:.1} s",
        made.researchers,
        made.readers,
        made.sessions,
        made.ledger_rows,
        made.reviews,
        setup.elapsed().as_secs_f64()
    );

    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "admin@uni.example", "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let before = rss_kb();
    let mut peak = before;
    let t = Instant::now();
    let mut resp = client
        .get(format!("{base}/api/v1/exports/sessions?format=csv"))
        .bearer_auth(&token)
        .send()
        .await?;
    let first_byte = t.elapsed();
    if !resp.status().is_success() {
        return Err(format!("export answered {}", resp.status()).into());
    }
    let (mut bytes, mut lines) = (0usize, 0usize);
    while let Some(chunk) = resp.chunk().await? {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        peak = peak.max(rss_kb());
    }
    let took = t.elapsed();
    let rows = lines.saturating_sub(1);
    let per_sec = rows as f64 / took.as_secs_f64();
    let growth_mb = (peak.saturating_sub(before)) as f64 / 1024.0;
    println!(
        "export: {rows} rows, {:.1} MB in {:.2} s ({per_sec:.0} rows/s), first byte after {:.1} ms",
        bytes as f64 / 1e6,
        took.as_secs_f64(),
        ms(first_byte)
    );
    println!(
        "memory: RSS {:.1} MB before, peak {:.1} MB during: growth {growth_mb:.1} MB",
        before as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    let ok = rows == sessions && per_sec >= 100_000.0 && growth_mb < 20.0;
    println!(
        "targets: rows complete {}, >= 100,000 rows/s {}, RSS growth < 20 MB {}",
        rows == sessions,
        per_sec >= 100_000.0,
        growth_mb < 20.0
    );
    Ok(ok)
}

fn main() -> Result<ExitCode, Box<dyn Error>> {
    let sessions = env_usize("SESSIONS", 200_000).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let ok = rt.block_on(run(sessions))?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
