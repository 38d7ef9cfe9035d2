//! Data rights on a generated data set, through the real server on
//! loopback: the time to export a data subject with about 1,000 sessions
//! (`GET /api/v1/admin/data-subjects/researcher/{id}/export`, the busiest
//! researcher of the generated set, and the account's own
//! `GET /api/v1/users/me/export` for that researcher's account), then the
//! time to erase that account (`DELETE /api/v1/users/me` until the
//! background part has finished: its open sessions cancelled, its values
//! blanked, its keys destroyed).
//!
//! Payments are on, with a loopback stand-in for Stripe (`stripe_fake.rs`)
//! answering the releases and refunds of the erased account's sessions.
//!
//! Run: `cargo bench --bench data_rights` (SESSIONS=40000, RESEARCHERS=
//! 400, READERS=4000, RUNS=10).

use std::error::Error;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use colloquy::domain::Role;
use colloquy::services::demo_scale::{self, ScaleSpec};
use serde_json::Value;

#[path = "common.rs"]
mod common;
use common::*;
#[path = "stripe_fake.rs"]
mod stripe_fake;

const PASSWORD: &str = "benchmark passphrase 2026";

/// One export: its time and the document's size and row count.
async fn export(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> Result<(Duration, usize, u64), Box<dyn Error>> {
    let t = Instant::now();
    let r = client.get(url).bearer_auth(token).send().await?;
    let status = r.status();
    let body = r.bytes().await?;
    let took = t.elapsed();
    if !status.is_success() {
        return Err(format!("{url} answered {status}").into());
    }
    let doc: Value = serde_json::from_slice(&body)?;
    let rows = doc["sections"]
        .as_array()
        .map(|s| s.iter().filter_map(|x| x["rows"].as_u64()).sum())
        .unwrap_or(0);
    Ok((took, body.len(), rows))
}

fn report(what: &str, mut v: Vec<Duration>, bytes: usize, rows: u64) {
    v.sort();
    println!(
        "{what}: n={} p50 {:.1} ms, max {:.1} ms; {rows} rows, {:.1} MB of JSON",
        v.len(),
        ms(percentile(&v, 0.5)),
        ms(*v.last().unwrap_or(&Duration::ZERO)),
        bytes as f64 / 1e6
    );
}

async fn run() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    // The generated sessions hold card payments: the erasure releases and
    // refunds them through a loopback stand-in for Stripe.
    let stripe = stripe_fake::start().await;
    let (base, state) = start_server_with(dir.path(), |c| {
        c.payments.mode = colloquy::config::PaymentsMode::Stripe;
        c.stripe.secret_key = colloquy::config::Secret::new("sk_test_bench");
        c.stripe.webhook_secret = colloquy::config::Secret::new("whsec_bench");
        c.stripe.api_base_url = stripe.uri();
    })
    .await?;
    let spec = ScaleSpec {
        sessions: env_usize("SESSIONS", 40_000),
        researchers: env_usize("RESEARCHERS", 400),
        readers: env_usize("READERS", 4_000),
        ..ScaleSpec::default()
    };
    let t = Instant::now();
    let made = demo_scale::generate(&state, &spec, |line| eprintln!("{line}")).await?;
    println!("set-up: {made:?} in {:.1} s", t.elapsed().as_secs_f64());
    for (email, name, role) in [
        ("admin@uni.example", "Bench Admin", Role::Admin),
        ("busy@uni.example", "Busy Researcher", Role::Researcher),
    ] {
        operator_account(&state, email, name, PASSWORD, role).await?;
    }
    // The busiest researcher's profile goes to the new account.
    let (researcher, sessions): (i64, i64) = state
        .db
        .write(|tx| {
            let busiest: (i64, i64) = tx.query_row(
                "SELECT researcher_id, count(*) FROM consulting_sessions GROUP BY researcher_id
                  ORDER BY count(*) DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            tx.execute(
                "UPDATE researchers SET user_id = (SELECT id FROM users WHERE name = 'Busy Researcher') WHERE id = ?1",
                [busiest.0],
            )?;
            Ok(busiest)
        })
        .await?;
    println!("subject: researcher {researcher} with {sessions} sessions");
    let client = reqwest::Client::new();
    let admin = token(&client, &base, PASSWORD, "admin@uni.example").await?;
    let busy = token(&client, &base, PASSWORD, "busy@uni.example").await?;
    let runs = env_usize("RUNS", 10);
    for (what, url, who) in [
        (
            "admin export of the subject",
            format!("{base}/api/v1/admin/data-subjects/researcher/{researcher}/export"),
            &admin,
        ),
        (
            "the subject's own export",
            format!("{base}/api/v1/users/me/export"),
            &busy,
        ),
    ] {
        export(&client, &url, who).await?; // warm the page cache once
        let (mut times, mut size, mut rows) = (Vec::new(), 0, 0);
        for _ in 0..runs {
            let (took, bytes, n) = export(&client, &url, who).await?;
            times.push(took);
            (size, rows) = (bytes, n);
        }
        report(what, times, size, rows);
    }
    erase(&client, &base, &state, &busy, &stripe).await
}

/// Erases the busy researcher's account and reports how long it took.
async fn erase(
    client: &reqwest::Client,
    base: &str,
    state: &colloquy::state::AppState,
    token: &str,
    stripe: &wiremock::MockServer,
) -> Result<(), Box<dyn Error>> {
    let open: i64 = state
        .db
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM consulting_sessions s JOIN researchers r ON r.id = s.researcher_id
                  JOIN users u ON u.id = r.user_id
                  WHERE u.name = 'Busy Researcher' AND s.status IN ('requested', 'accepted')
                    AND s.start_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                [],
                |r| r.get(0),
            )?)
        })
        .await?;
    let t = Instant::now();
    let r = client
        .delete(format!("{base}/api/v1/users/me"))
        .bearer_auth(token)
        .json(&serde_json::json!({"password": PASSWORD}))
        .send()
        .await?;
    if r.status() != 202 {
        return Err(format!("erasure answered {}", r.status()).into());
    }
    let accepted = t.elapsed();
    loop {
        let done: bool = state
            .db
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM audit_log WHERE action = 'user.erased'",
                    [],
                    |r| r.get::<_, i64>(0),
                )? > 0)
            })
            .await?;
        if done {
            break;
        }
        if t.elapsed() > Duration::from_secs(300) {
            return Err("the erasure did not finish in 5 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let detail: String = state
        .db
        .read(|c| {
            Ok(c.query_row(
                "SELECT detail FROM audit_log WHERE action = 'user.erased'",
                [],
                |r| r.get(0),
            )?)
        })
        .await?;
    let stripe_calls = stripe.received_requests().await.map_or(0, |r| r.len());
    println!(
        "erasure of the subject: answered 202 in {:.1} ms, finished in {:.1} ms ({open} open sessions, {stripe_calls} Stripe calls); {detail}",
        ms(accepted),
        ms(t.elapsed())
    );
    Ok(())
}

fn main() -> Result<ExitCode, Box<dyn Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run())?;
    Ok(ExitCode::SUCCESS)
}
