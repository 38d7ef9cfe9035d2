//! Booking throughput against the real server on loopback.
//!
//! 50 researchers open every day 00:00–24:00 UTC (30-minute sessions, no
//! notice, no buffer, at most 48 a day, 60-day horizon) and 64 signed-in
//! readers. N booking requests (`POST /api/v1/consulting/sessions`) go out
//! over C keep-alive connections at once: most ask for distinct free slots,
//! and every tenth (after the first few rounds) asks for a slot another
//! reader already requested, so the 409 path is exercised too. Afterwards
//! the database is checked: no two live sessions of a researcher overlap,
//! and the live rows equal the 201 answers.
//!
//! Target: ≥ 1,000 bookings/s (201s per second), zero double bookings,
//! zero 5xx.
//!
//! Run: `cargo bench --bench booking` (BENCH_BOOKINGS=5000 and
//! BENCH_CONCURRENCY=64 by default; BENCH_WAL_AUTOCHECKPOINT sets
//! `storage.wal_autocheckpoint_pages` to compare backstops).

use std::error::Error;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Span, SecondsFormat, Utc};
use colloquy::clock::SystemClock;
use colloquy::config::Config;
use colloquy::db::repos::researchers;
use colloquy::domain::availability::Rule;
use colloquy::domain::{Role, SessionId, UserId};
use colloquy::services::accounts::{self, Principal};
use colloquy::services::sessions::settings::{self, AvailabilityBody, SettingsBody};
use colloquy::startup::Application;
use serde_json::Value;

#[path = "common.rs"]
mod common;
use common::*;

const PASSWORD: &str = "benchmark passphrase 2026";
const RESEARCHERS: usize = 50;
const READERS: usize = 64;
/// Days (from tomorrow) the fresh slots are spread over; within the horizon.
const DAYS: usize = 56;
const SLOTS_PER_DAY: usize = 48;
/// Every `CONFLICT_EVERY`-th request asks for a slot already requested.
const CONFLICT_EVERY: usize = 10;
const TARGET_BOOKINGS_PER_SEC: f64 = 1000.0;

/// One planned request: who books, and the JSON body.
struct Planned {
    reader: usize,
    body: String,
}

fn body(researcher: i64, start: DateTime<Utc>) -> String {
    format!(
        r#"{{"researcher_id":{researcher},"start":"{}","duration_minutes":30,"topic":"Questions about your benchmark paper"}}"#,
        start.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

/// Fresh slots first spread over researchers, then over days, then over
/// the half-hours of a day; conflicts repeat a slot planned well before
/// (so it is normally booked already), by a different reader.
fn plan(
    researchers: &[i64],
    base: DateTime<Utc>,
    n: usize,
    concurrency: usize,
) -> (Vec<Planned>, usize) {
    let mut fresh: Vec<(i64, DateTime<Utc>, usize)> = Vec::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    let mut conflicts = 0;
    let lag = 4 * concurrency;
    for i in 0..n {
        let reader = i % READERS;
        if i % CONFLICT_EVERY == CONFLICT_EVERY - 1 && fresh.len() > lag {
            let (r, start, first_reader) = fresh[fresh.len() - 1 - lag];
            let reader = if reader == first_reader {
                (reader + 1) % READERS
            } else {
                reader
            };
            out.push(Planned {
                reader,
                body: body(r, start),
            });
            conflicts += 1;
            continue;
        }
        let f = fresh.len();
        let r = researchers[f % researchers.len()];
        let s = f / researchers.len();
        let day = s % DAYS;
        let half_hour = s / DAYS;
        let start = base + Span::days(day as i64) + Span::minutes(30 * half_hour as i64);
        fresh.push((r, start, reader));
        out.push(Planned {
            reader,
            body: body(r, start),
        });
    }
    (out, conflicts)
}

async fn run(n: usize, concurrency: usize) -> Result<bool, Box<dyn Error>> {
    let capacity = RESEARCHERS * DAYS * SLOTS_PER_DAY;
    if n > capacity {
        return Err(format!("BENCH_BOOKINGS may be at most {capacity}").into());
    }
    let dir = tempfile::tempdir()?;
    let mut config = Config::default();
    config.server.bind = "127.0.0.1:0".into();
    config.storage.data_dir = dir.path().to_path_buf();
    config.security.rate_limit_per_ip_per_minute = u32::MAX;
    config.security.rate_limit_per_user_per_minute = u32::MAX;
    config.auth.login_max_failures_per_ip = u32::MAX;
    config.auth.access_token_ttl_secs = 3600;
    config.logging.level = "warn".into();
    if let Some(pages) = std::env::var("BENCH_WAL_AUTOCHECKPOINT")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.storage.wal_autocheckpoint_pages = pages;
    }
    let app = Application::build(config, Arc::new(SystemClock)).await?;
    let base_url = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped(false));

    // Researchers with accounts, settings and availability (every day, all day).
    let setup = Instant::now();
    let now = state.now();
    let mut researcher_ids = Vec::with_capacity(RESEARCHERS);
    for i in 0..RESEARCHERS {
        let user = accounts::create_user_admin_cli(
            &state,
            &format!("researcher{i}@uni.example"),
            &format!("Researcher {i}"),
            PASSWORD,
            Role::User,
        )
        .await?;
        let uid = user.id.0;
        let id = state
            .db
            .write(move |tx| {
                let id = researchers::insert(
                    tx,
                    &format!("Researcher {i}"),
                    Some("Bench University"),
                    None,
                    now,
                )?;
                researchers::claim(tx, id, UserId(uid), now)?;
                Ok(id)
            })
            .await?;
        let who = Principal {
            user_id: user.id,
            role: Role::User,
            session_id: SessionId(0),
        };
        settings::put_settings(
            &state,
            &who,
            id,
            SettingsBody {
                timezone: "UTC".into(),
                durations: vec![30],
                price_minor: 0,
                currency: "EUR".into(),
                min_notice_hours: 0,
                buffer_minutes: 0,
                max_per_day: SLOTS_PER_DAY as i64,
                horizon_days: 60,
                request_ttl_hours: 48,
                cancel_window_hours: 24,
            },
        )
        .await?;
        let rules = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .map(|d| Rule {
                weekday: (*d).into(),
                start: "00:00".into(),
                end: "24:00".into(),
            })
            .collect();
        settings::put_availability(
            &state,
            &who,
            id,
            AvailabilityBody {
                timezone: "UTC".into(),
                rules,
                exceptions: Vec::new(),
            },
        )
        .await?;
        researcher_ids.push(id.0);
    }

    // Readers, signed in over HTTP; their tokens are reused.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency.max(READERS))
        .build()?;
    let mut tokens = Vec::with_capacity(READERS);
    for i in 0..READERS {
        let email = format!("reader{i}@uni.example");
        operator_account(&state, &email, &format!("Reader {i}"), PASSWORD, Role::User).await?;
        let r = client
            .post(format!("{base_url}/api/v1/auth/login"))
            .json(&serde_json::json!({"email": email, "password": PASSWORD}))
            .send()
            .await?;
        if r.status() != 200 {
            return Err(format!("log-in of {email}: {}", r.status()).into());
        }
        let v: Value = r.json().await?;
        let token = v["access_token"]
            .as_str()
            .ok_or("no access_token in the log-in answer")?;
        tokens.push(format!("Bearer {token}"));
    }
    let base = (now + Span::days(1))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .ok_or("midnight")?
        .and_utc();
    let (planned, conflicts) = plan(&researcher_ids, base, n, concurrency);
    println!(
        "booking benchmark: {n} requests ({fresh} fresh slots, {conflicts} already requested), {concurrency} concurrent keep-alive clients, {RESEARCHERS} researchers, {READERS} readers, {cpus} CPUs (set-up {setup:.1} s)",
        fresh = n - conflicts,
        cpus = std::thread::available_parallelism().map_or(1, |n| n.get()),
        setup = setup.elapsed().as_secs_f64(),
    );

    let planned = Arc::new(planned);
    let tokens = Arc::new(tokens);
    let next = Arc::new(AtomicUsize::new(0));
    let url = Arc::new(format!("{base_url}/api/v1/consulting/sessions"));
    let start = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, planned, tokens, next, url) = (
            client.clone(),
            planned.clone(),
            tokens.clone(),
            next.clone(),
            url.clone(),
        );
        workers.push(tokio::spawn(async move {
            // (status, latency, completion time since the burst began)
            let mut seen: Vec<(u16, Duration, Duration)> = Vec::with_capacity(n / concurrency + 1);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = planned.get(i) else { break };
                let t = Instant::now();
                let status = match client
                    .post(url.as_str())
                    .header(reqwest::header::AUTHORIZATION, tokens[p.reader].as_str())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(p.body.clone())
                    .send()
                    .await
                {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        // Read the body so the connection is reused.
                        let _ = r.bytes().await;
                        s
                    }
                    Err(_) => 0,
                };
                seen.push((status, t.elapsed(), start.elapsed()));
            }
            seen
        }));
    }
    let mut seen = Vec::with_capacity(n);
    for w in workers {
        seen.extend(w.await?);
    }
    let wall = start.elapsed();

    let count = |f: &dyn Fn(u16) -> bool| seen.iter().filter(|(s, _, _)| f(*s)).count();
    let created = count(&|s| s == 201);
    let taken = count(&|s| s == 409);
    let other_4xx = count(&|s| (400..500).contains(&s) && s != 409);
    let server_errors = count(&|s| s >= 500);
    let transport_errors = count(&|s| s == 0);
    let mut lat: Vec<Duration> = seen.iter().map(|(_, d, _)| *d).collect();
    lat.sort();
    let secs = wall.as_secs_f64();
    let bookings_per_sec = created as f64 / secs;
    println!(
        "{n} requests in {secs:.2} s = {rps:.0} requests/s, {bookings_per_sec:.0} bookings/s (201s)",
        rps = n as f64 / secs,
    );
    println!(
        "201 created {created} | 409 conflict {taken} | other 4xx {other_4xx} | 5xx {server_errors} | transport errors {transport_errors}"
    );
    println!(
        "latency p50 {:.2} ms | p90 {:.2} ms | p99 {:.2} ms | max {:.2} ms",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.9)),
        ms(percentile(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default()),
    );

    // Throughput by quarter of the run (in completion order): a falling
    // rate means per-booking work grows with the number of sessions stored.
    let mut done: Vec<Duration> = seen.iter().map(|(_, _, at)| *at).collect();
    done.sort();
    let quarters: Vec<String> = (0..4)
        .map(|q| {
            let (lo, hi) = (q * n / 4, ((q + 1) * n / 4).max(1) - 1);
            let from = if lo == 0 {
                Duration::ZERO
            } else {
                done[lo - 1]
            };
            let span = done[hi].saturating_sub(from).as_secs_f64().max(1e-9);
            format!("{:.0}", (hi + 1 - lo) as f64 / span)
        })
        .collect();
    println!("requests/s by quarter of the run: {}", quarters.join(" → "));

    // The database: no overlapping live sessions, one live row per 201.
    let (overlaps, live, queued_mail): (i64, i64, i64) = state
        .db
        .read(|c| {
            let overlaps = c.query_row(
                "SELECT COUNT(*) FROM consulting_sessions a
                   JOIN consulting_sessions b
                     ON b.researcher_id = a.researcher_id AND b.id > a.id
                    AND b.start_at < a.end_at AND a.start_at < b.end_at
                  WHERE a.status IN ('requested', 'accepted')
                    AND b.status IN ('requested', 'accepted')",
                [],
                |r| r.get(0),
            )?;
            let live = c.query_row(
                "SELECT COUNT(*) FROM consulting_sessions WHERE status IN ('requested', 'accepted')",
                [],
                |r| r.get(0),
            )?;
            let mail = c.query_row(
                "SELECT COUNT(*) FROM mail_outbox WHERE template = 'session_request'",
                [],
                |r| r.get(0),
            )?;
            Ok((overlaps, live, mail))
        })
        .await?;
    println!(
        "database: {live} live sessions, {overlaps} overlapping pairs (double bookings), {queued_mail} request e-mails queued"
    );

    let checks = [
        (
            bookings_per_sec >= TARGET_BOOKINGS_PER_SEC,
            format!("{bookings_per_sec:.0} bookings/s (target ≥ {TARGET_BOOKINGS_PER_SEC:.0})"),
        ),
        (
            overlaps == 0,
            format!("{overlaps} double bookings (target 0)"),
        ),
        (
            live == created as i64,
            format!("{live} live rows for {created} 201s"),
        ),
        (
            server_errors == 0,
            format!("{server_errors} 5xx (target 0)"),
        ),
        (
            transport_errors == 0 && other_4xx == 0,
            format!("{other_4xx} other 4xx, {transport_errors} transport errors (expected 0)"),
        ),
    ];
    let ok = checks.iter().all(|(ok, _)| *ok);
    let detail: Vec<String> = checks
        .iter()
        .map(|(ok, what)| format!("{} {what}", if *ok { "ok" } else { "FAILED" }))
        .collect();
    println!(
        "{}: {}",
        if ok { "PASS" } else { "FAIL" },
        detail.join("; ")
    );
    Ok(ok)
}

fn main() -> Result<ExitCode, Box<dyn Error>> {
    let n = env_usize("BENCH_BOOKINGS", 5000).max(1);
    let concurrency = env_usize("BENCH_CONCURRENCY", 64).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let ok = rt.block_on(run(n, concurrency))?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
